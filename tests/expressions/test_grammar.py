"""Table tests of the expression grammar: precedence, associativity and every form."""

from __future__ import annotations

import pytest

from maidit_jupyter.expressions import Literal, parse_expression
from tests.expressions.sexpr import parse_sexpr

P = pytest.param


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        P("a + b * c", "(+ a (* b c))", id="mul-over-add"),
        P("a * b + c", "(+ (* a b) c)", id="mul-over-add-left"),
        P("a - b - c", "(- (- a b) c)", id="sub-left-assoc"),
        P("a / b % c * d", "(* (% (/ a b) c) d)", id="mul-level-left-assoc"),
        P("a + b - c + d", "(+ (- (+ a b) c) d)", id="add-level-left-assoc"),
        P("a ?? b || c", "(|| (?? a b) c)", id="nullish-or-same-level"),
        P("a || b ?? c", "(?? (|| a b) c)", id="or-nullish-same-level"),
        P("a || b && c", "(|| a (&& b c))", id="and-over-or"),
        P("a && b || c && d", "(|| (&& a b) (&& c d))", id="and-or-and"),
        P("a ?? b && c", "(?? a (&& b c))", id="and-over-nullish"),
        P("a == b && c != d", "(&& (== a b) (!= c d))", id="equality-over-and"),
        P("a === b !== c", "(!== (=== a b) c)", id="strict-equality-left"),
        P("a == b < c", "(== a (< b c))", id="relational-over-equality"),
        P("a < b + c", "(< a (+ b c))", id="additive-over-relational"),
        P("a <= b >= c", "(>= (<= a b) c)", id="relational-left"),
        P("a > b", "(> a b)", id="greater"),
        P("2 ** 3 ** 2", "(** 2 (** 3 2))", id="power-right-assoc"),
        P("2 * 3 ** 2", "(* 2 (** 3 2))", id="power-over-mul"),
        P("2 ** 3 * 2", "(* (** 2 3) 2)", id="power-then-mul"),
        P("(-2) ** 2", "(** (- 2) 2)", id="power-parenthesised-unary"),
        P("2 ** -2", "(** 2 (- 2))", id="power-unary-right"),
        P("(a + b) * c", "(* (+ a b) c)", id="parentheses"),
        P("((a))", "a", id="double-parentheses"),
    ],
)
def test_binary_precedence(source: str, expected: str) -> None:
    """Binary and logical operators follow the JavaScript precedence table."""
    assert parse_sexpr(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        P("!a", "(! a)", id="not"),
        P("-a", "(- a)", id="negate"),
        P("+a", "(+ a)", id="plus"),
        P("~a", "(~ a)", id="tilde-parses"),
        P("!!a", "(! (! a))", id="double-not"),
        P("- -a", "(- (- a))", id="double-negate"),
        P("--a", "(- (- a))", id="no-decrement-operator"),
        P("-a.b", "(- (. a b))", id="unary-after-member"),
        P("-f(x)", "(- (call f x))", id="unary-after-call"),
        P("!a && b", "(&& (! a) b)", id="unary-over-and"),
        P("-a * b", "(* (- a) b)", id="unary-over-mul"),
        P("a - -b", "(- a (- b))", id="minus-negative"),
        P("a+-+b", "(+ a (- (+ b)))", id="packed-signs"),
    ],
)
def test_unary(source: str, expected: str) -> None:
    """Prefix operators bind tighter than binary ones and looser than postfix ones."""
    assert parse_sexpr(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        P("a ? b : c", "(? a b c)", id="simple"),
        P("a ? b : c ? d : e", "(? a b (? c d e))", id="nested-in-alternate"),
        P("a ? b ? c : d : e", "(? a (? b c d) e)", id="nested-in-consequent"),
        P("a || b ? c : d", "(? (|| a b) c d)", id="test-is-logical"),
        P("a ? b || c : d && e", "(? a (|| b c) (&& d e))", id="branches-logical"),
        P("a ? b : c, d", "(, (? a b c) d)", id="sequence-after"),
        P("a ? x => x : y => y", "(? a (=> (x) x) (=> (y) y))", id="arrow-branches"),
        P("a?.5:1", "(? a 0.5 1)", id="question-dot-digit"),
    ],
)
def test_conditional(source: str, expected: str) -> None:
    """The ternary is right-associative and binds looser than every binary operator."""
    assert parse_sexpr(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        P("a.b.c", "(. (. a b) c)", id="dot-chain"),
        P("a[0]", "([] a 0)", id="index"),
        P("a['x'].y", '(. ([] a "x") y)', id="string-index-then-dot"),
        P("a[b + 1]", "([] a (+ b 1))", id="computed-expression"),
        P("a?.b", "(?. a b)", id="optional-dot"),
        P("a?.[0]", "(?[] a 0)", id="optional-index"),
        P("a?.b.c", "(. (?. a b) c)", id="optional-then-dot"),
        P("a.true.null.if", "(. (. (. a true) null) if)", id="keyword-properties"),
        P("a.typeof", "(. a typeof)", id="typeof-as-property"),
        P("f(x).y", "(. (call f x) y)", id="member-of-call"),
        P("f(x)[0]", "([] (call f x) 0)", id="index-of-call"),
        P('"abc".length', '(. "abc" length)', id="member-of-string"),
        P("[1][0]", "([] (array 1) 0)", id="index-of-array"),
        P("1..x", "(. 1.0 x)", id="member-of-number"),
        P("a\n.\nb", "(. a b)", id="whitespace-around-dot"),
        P("$item.price", "(. $item price)", id="dollar-name"),
    ],
)
def test_member(source: str, expected: str) -> None:
    """Member access, computed access and optional chaining."""
    assert parse_sexpr(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        P("f()", "(call f)", id="no-args"),
        P("f(a, b)", "(call f a b)", id="two-args"),
        P("f(...a, b)", "(call f (... a) b)", id="spread-arg"),
        P("f(a,)", "(call f a)", id="trailing-comma"),
        P("f(g(x))", "(call f (call g x))", id="nested"),
        P("(f)(x)", "(call f x)", id="parenthesised-name"),
        P("typeof(x)", "(call typeof x)", id="typeof-function"),
        P("f(a, b) + 1", "(+ (call f a b) 1)", id="call-in-binary"),
        P("fn (x)", "(call fn x)", id="space-before-parenthesis"),
        P("f((a, b))", "(call f (, a b))", id="sequence-argument"),
    ],
)
def test_call(source: str, expected: str) -> None:
    """Calls of bare names, with spread and trailing commas."""
    assert parse_sexpr(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        P("[]", "(array)", id="empty"),
        P("[1, 2]", "(array 1 2)", id="two"),
        P("[1,,2]", "(array 1 <hole> 2)", id="hole"),
        P("[,]", "(array <hole>)", id="only-hole"),
        P("[1,]", "(array 1)", id="trailing-comma"),
        P("[1,,]", "(array 1 <hole>)", id="trailing-hole"),
        P("[...a, b]", "(array (... a) b)", id="spread"),
        P("[[1], [2, [3]]]", "(array (array 1) (array 2 (array 3)))", id="nested"),
        P("[a, b][1]", "([] (array a b) 1)", id="indexed"),
    ],
)
def test_array(source: str, expected: str) -> None:
    """Array literals: holes, spread and trailing commas as in JavaScript."""
    assert parse_sexpr(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        P("{}", "(object)", id="empty"),
        P("{a: 1}", '(object ("a": 1))', id="name-key"),
        P('{"b c": x}', '(object ("b c": x))', id="string-key"),
        P("{'k': x}", '(object ("k": x))', id="single-quoted-key"),
        P("{3: y}", '(object ("3": y))', id="number-key"),
        P(
            "{1.50: y, 1e3: z}",
            '(object ("1.5": y) ("1000": z))',
            id="number-keys-spelt",
        ),
        P("{[k]: v}", "(object ([k]: v))", id="computed-key"),
        P("{...rest}", "(object (... rest))", id="spread"),
        P("{short}", "(object (short))", id="shorthand"),
        P("{a: 1,}", '(object ("a": 1))', id="trailing-comma"),
        P("{if: 1, true: 2}", '(object ("if": 1) ("true": 2))', id="keyword-keys"),
        P(
            '{a: 1, "b": x, 3: y, [k]: v, ...rest, short}',
            '(object ("a": 1) ("b": x) ("3": y) ([k]: v) (... rest) (short))',
            id="everything",
        ),
        P("{a: {b: [1]}}", '(object ("a": (object ("b": (array 1)))))', id="nested"),
        P("{a: 1}.a", '(. (object ("a": 1)) a)', id="member-of-object"),
        P("{a: x ? 1 : 2}", '(object ("a": (? x 1 2)))', id="conditional-value"),
        P("{a: b, c}", '(object ("a": b) (c))', id="shorthand-after-pair"),
    ],
)
def test_object(source: str, expected: str) -> None:
    """Object literals: every key form, spread, shorthand and trailing commas."""
    assert parse_sexpr(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        P("x => x", "(=> (x) x)", id="single-param"),
        P("(x) => x", "(=> (x) x)", id="parenthesised-param"),
        P("(acc, x) => acc + x", "(=> (acc x) (+ acc x))", id="two-params"),
        P("() => 1", "(=> () 1)", id="no-params"),
        P("x => ({...x})", "(=> (x) (object (... x)))", id="object-body-in-parens"),
        P("x => {a: 1}", '(=> (x) (object ("a": 1)))', id="braces-body-is-object"),
        P("x => y => x + y", "(=> (x) (=> (y) (+ x y)))", id="curried"),
        P("x => a ? b : c", "(=> (x) (? a b c))", id="conditional-body"),
        P("f(x => x * 2, 1)", "(call f (=> (x) (* x 2)) 1)", id="argument"),
        P("x => x, 1", "(, (=> (x) x) 1)", id="sequence-ends-body"),
        P("(x => x)", "(=> (x) x)", id="parenthesised"),
        P("((a, b) => a)", "(=> (a b) a)", id="parenthesised-two-params"),
        P("(a, b)", "(, a b)", id="group-is-not-arrow"),
        P("$acc => $acc", "(=> ($acc) $acc)", id="dollar-param"),
    ],
)
def test_arrow(source: str, expected: str) -> None:
    """Arrow functions; a braced body is read as an object literal."""
    assert parse_sexpr(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        P("a, b", "(, a b)", id="two"),
        P("a, b, c", "(, a b c)", id="three"),
        P("(a, b), c", "(, (, a b) c)", id="nested-group"),
        P("f(a), [b, c]", "(, (call f a) (array b c))", id="commas-inside-brackets"),
    ],
)
def test_sequence(source: str, expected: str) -> None:
    """Top-level and parenthesised commas make a sequence."""
    assert parse_sexpr(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        P("1", "1", id="int"),
        P("1.5", "1.5", id="float"),
        P(".5", "0.5", id="leading-dot"),
        P("1.", "1.0", id="trailing-dot"),
        P("1e3", "1000.0", id="exponent"),
        P("1E-3", "0.001", id="negative-exponent"),
        P("1.5e+2", "150.0", id="signed-exponent"),
        P("007", "7", id="leading-zeros"),
        P("9007199254740993", "9007199254740992.0", id="beyond-safe-integer"),
        P("1e999", "Infinity", id="overflow"),
        P("true", "true", id="true"),
        P("false", "false", id="false"),
        P("null", "null", id="null"),
        P("undefined", "undefined", id="undefined-is-a-name"),
        P("this", "this", id="this-is-a-name"),
        P("_x", "_x", id="underscore-name"),
        P("$config", "$config", id="dollar-name"),
        P("café", "café", id="non-ascii-name"),
        P("a1_$", "a1_$", id="name-with-digits"),
        P("  a  ", "a", id="surrounding-whitespace"),
    ],
)
def test_atoms(source: str, expected: str) -> None:
    """Numbers, keywords and names."""
    assert parse_sexpr(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        P(r'"a\nb"', "a\nb", id="newline"),
        P(r"'\t\r\b\f\v\0'", "\t\r\b\f\v\0", id="controls"),
        P(r'"\x41\u0042\u{43}"', "ABC", id="hex-escapes"),
        P(r'"\u{1F600}"', "\U0001f600", id="braced-astral"),
        P(r'"\uD83D\uDE00"', "\U0001f600", id="surrogate-pair"),
        P(r'"\uD800"', "\ud800", id="lone-surrogate"),
        P(r'"\q\"\'\\"', "q\"'\\", id="unknown-escape-is-the-char"),
        P(r"'it\'s'", "it's", id="escaped-quote"),
        P('"a\\\nb"', "ab", id="line-continuation"),
        P("'say \"hi\"'", 'say "hi"', id="other-quote-inside"),
        P('""', "", id="empty"),
        P('"}}"', "}}", id="braces"),
    ],
)
def test_string_escapes(source: str, expected: str) -> None:
    """Strings decode JavaScript escapes; an unknown escape is the character itself."""
    expr = parse_expression(source)
    assert isinstance(expr, Literal)
    assert expr.value == expected


def test_number_types() -> None:
    """Integral literals are ints and the others floats."""
    values = [parse_expression(s) for s in ("1", "1.0", "1e3", "2.5")]
    assert all(isinstance(v, Literal) for v in values)
    kinds = [type(v.value) for v in values if isinstance(v, Literal)]
    assert kinds == [int, float, float, float]


IDS = frozenset({"fetch-data", "step-1", "a-b", "a-b-c", "solo"})


@pytest.mark.parametrize(
    ("source", "node_ids", "expected"),
    [
        P("fetch-data.output", IDS, "(. fetch-data output)", id="dashed-id"),
        P("fetch-data.output", frozenset(), "(- fetch (. data output))", id="no-ids"),
        P("fetch - data", IDS, "(- fetch data)", id="spaces-mean-minus"),
        P("fetch-data-x", IDS, "(- fetch-data x)", id="longest-id-then-minus"),
        P("a-b-c", IDS, "a-b-c", id="longest-prefix-wins"),
        P("a-b-d", IDS, "(- a-b d)", id="shorter-prefix"),
        P("a-bc", IDS, "(- a bc)", id="prefix-must-end-at-dash"),
        P("step-1.output", IDS, "(. step-1 output)", id="digit-part"),
        P("step-10", IDS, "(- step 10)", id="digit-part-longer"),
        P("x.fetch-data", IDS, "(- (. x fetch) data)", id="not-after-dot"),
        P("x?.fetch-data", IDS, "(- (?. x fetch) data)", id="not-after-optional-dot"),
        P("{fetch-data}", IDS, "(object (fetch-data))", id="shorthand"),
        P("f(fetch-data)", IDS, "(call f fetch-data)", id="argument"),
        P("fetch-data-fetch-data", IDS, "(- fetch-data fetch-data)", id="twice"),
        P("solo-1", IDS, "(- solo 1)", id="undashed-id"),
        P("a--b", IDS, "(- a (- b))", id="double-dash"),
    ],
)
def test_dashed_node_ids(source: str, node_ids: frozenset[str], expected: str) -> None:
    """A dashed run is one identifier only when it is a node id; otherwise minus."""
    assert parse_sexpr(source, node_ids) == expected
