"""Property tests: the parser only ever raises syntax errors, and printing round-trips."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings, strategies as st

from maidit_jupyter.errors import ExpressionSyntaxError
from maidit_jupyter.expressions import (
    ArrayLiteral,
    Arrow,
    Binary,
    Call,
    Conditional,
    Expr,
    Identifier,
    Literal,
    Logical,
    Member,
    ObjectLiteral,
    Property,
    Sequence,
    Spread,
    Unary,
    children,
    parse_expression,
    parse_template,
    segment_template,
    to_source,
    walk,
)
from tests.expressions.sexpr import without_offsets

IDS = frozenset({"fetch-data", "step-1", "a-b", "a-b-c"})

TOKENS = [
    *"()[]{}.,?:!~+-*/%<>=|&^`;#@\\\"'",
    *("=>", "...", "?.", "??", "||", "&&", "==", "===", "!=", "!==", "<=", ">="),
    *("**", ">>", "<<", ">>>", "{{", "}}", "\\{{", "//", "/*"),
    *("a", "b", "$item", "_x", "café", "fetch", "data", "fetch-data", "step-1"),
    *("a-b-c", "true", "false", "null", "undefined", "typeof", "in", "new"),
    *("0", "1", "1.5", ".5", "1e3", "1e", "0x1F", "9" * 30),
    *('"s"', "'t'", '"\\n"', '"\\u{1F600}"', '"\\x4"', '"\\', "'\\u{110000}'"),
    *(" ", "\n", "\t", "\u00a0", "\x00"),
]
SETTINGS = settings(max_examples=500, deadline=None)


def _check_tree(source: str, expr: Expr) -> None:
    """Spans are inside the text and nested, and printing round-trips."""
    for node in walk(expr):
        assert 0 <= node.start <= node.end <= len(source)
        for child in children(node):
            assert node.start <= child.start <= child.end <= node.end
    printed = to_source(expr)
    assert without_offsets(parse_expression(printed, node_ids=IDS)) == without_offsets(
        expr
    )


def _parse(source: str) -> Expr | ExpressionSyntaxError:
    """Parse ``source``, returning the syntax error instead of raising it."""
    try:
        return parse_expression(source, node_ids=IDS)
    except ExpressionSyntaxError as err:
        return err


def _parse_or_syntax_error(source: str) -> None:
    """Parse ``source``; only syntax errors (with sane offsets) may escape."""
    result = _parse(source)
    if isinstance(result, ExpressionSyntaxError):
        assert 0 <= result.start <= result.end <= len(source)
        assert result.message
        assert result.message[0].islower() or not result.message[0].isalpha()
    else:
        _check_tree(source, result)


@SETTINGS
@given(st.text())
def test_arbitrary_text(source: str) -> None:
    """Any text either parses or raises ExpressionSyntaxError."""
    _parse_or_syntax_error(source)


token_soup = st.lists(
    st.tuples(st.sampled_from(TOKENS), st.sampled_from(["", "", " "])), max_size=30
).map(lambda pairs: "".join(token + sep for token, sep in pairs))


@SETTINGS
@given(token_soup)
def test_token_soup(source: str) -> None:
    """Mixtures of the language's tokens either parse or raise ExpressionSyntaxError."""
    _parse_or_syntax_error(source)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.sampled_from(["(", "[", "{a:", "f(", "!", "-", "x => ", "a ? b : "]),
        min_size=1,
        max_size=5,
    ),
    st.integers(min_value=100, max_value=10_000),
)
def test_deep_nesting(openers: list[str], depth: int) -> None:
    """Very deep nesting raises a syntax error, never RecursionError."""
    source = "".join(openers) * (depth // len(openers)) + "a"
    _parse_or_syntax_error(source)


@SETTINGS
@given(st.one_of(st.text(), token_soup))
def test_segment_template_never_raises(template: str) -> None:
    """Segmentation accepts any text, and its segments tile the template."""
    segments = segment_template(template)
    position = 0
    for segment in segments:
        assert segment.start == position
        position = segment.end
    assert position == len(template)
    error: ExpressionSyntaxError | None = None
    try:
        parse_template(template, node_ids=IDS)
    except ExpressionSyntaxError as err:
        error = err
    if error is not None:
        assert 0 <= error.start <= error.end <= len(template)


# -- generated ASTs ----------------------------------------------------------------------

NAMES = ["a", "b", "$item", "_x", "café", "undefined", "typeof", "in", "x1"]
PROPERTY_NAMES = ["b", "true", "if", "length", "$x", "in"]


def _literal(value: Any) -> Literal:
    """A literal without offsets."""
    return Literal(value=value, start=0, end=0)


def _name(name: str) -> Identifier:
    """An identifier without offsets."""
    return Identifier(name=name, start=0, end=0)


literals = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=0, max_value=2**53),
    st.floats(min_value=0.0, allow_nan=False).map(abs),
    st.text(max_size=6),
).map(_literal)
identifiers = st.sampled_from([*NAMES, "fetch-data", "step-1", "a-b-c"]).map(_name)


def _extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    """Build compound nodes from smaller ones."""
    spread = inner.map(lambda e: Spread(argument=e, start=0, end=0))
    element = st.one_of(inner, spread)
    prop = st.one_of(
        st.builds(
            lambda k, v: Property(
                key=k, computed=None, value=v, shorthand=False, start=0, end=0
            ),
            st.one_of(st.sampled_from(PROPERTY_NAMES), st.text(max_size=4)),
            inner,
        ),
        st.builds(
            lambda k, v: Property(
                key=None, computed=k, value=v, shorthand=False, start=0, end=0
            ),
            inner,
            inner,
        ),
        st.sampled_from([*NAMES, "fetch-data"]).map(
            lambda n: Property(
                key=n, computed=None, value=_name(n), shorthand=True, start=0, end=0
            )
        ),
        spread,
    )
    params = st.lists(st.sampled_from(NAMES), unique=True, max_size=3).map(tuple)
    return st.one_of(
        st.builds(
            lambda o, p, opt: Member(
                object=o, property=p, computed=None, optional=opt, start=0, end=0
            ),
            inner,
            st.sampled_from(PROPERTY_NAMES),
            st.booleans(),
        ),
        st.builds(
            lambda o, k, opt: Member(
                object=o, property=None, computed=k, optional=opt, start=0, end=0
            ),
            inner,
            inner,
            st.booleans(),
        ),
        st.builds(
            lambda f, a: Call(
                callee=f, callee_start=0, callee_end=0, args=tuple(a), start=0, end=0
            ),
            st.sampled_from(["f", "upper", "fetch-data", "typeof"]),
            st.lists(element, max_size=3),
        ),
        st.lists(st.one_of(element, st.none()), max_size=4).map(
            lambda e: ArrayLiteral(elements=tuple(e), start=0, end=0)
        ),
        st.lists(prop, max_size=3).map(
            lambda p: ObjectLiteral(properties=tuple(p), start=0, end=0)
        ),
        st.builds(
            lambda op, e: Unary(op=op, operand=e, start=0, end=0),
            st.sampled_from("!-+~"),
            inner,
        ),
        st.builds(
            lambda op, l, r: Binary(op=op, left=l, right=r, start=0, end=0),
            st.sampled_from(
                [
                    "==",
                    "!=",
                    "===",
                    "!==",
                    "<",
                    ">",
                    "<=",
                    ">=",
                    "+",
                    "-",
                    "*",
                    "/",
                    "%",
                    "**",
                ]
            ),
            inner,
            inner,
        ),
        st.builds(
            lambda op, l, r: Logical(op=op, left=l, right=r, start=0, end=0),
            st.sampled_from(["&&", "||", "??"]),
            inner,
            inner,
        ),
        st.builds(
            lambda t, c, a: Conditional(
                test=t, consequent=c, alternate=a, start=0, end=0
            ),
            inner,
            inner,
            inner,
        ),
        st.builds(lambda p, b: Arrow(params=p, body=b, start=0, end=0), params, inner),
        st.lists(inner, min_size=2, max_size=3).map(
            lambda e: Sequence(expressions=tuple(e), start=0, end=0)
        ),
    )


expressions = st.recursive(st.one_of(literals, identifiers), _extend, max_leaves=20)


@settings(max_examples=800, deadline=None)
@given(expressions)
def test_print_then_parse_round_trips(expr: Expr) -> None:
    """parse(to_source(e)) == e (offsets aside), and printing is then stable."""
    printed = to_source(expr)
    parsed = parse_expression(printed, node_ids=IDS)
    assert without_offsets(parsed) == expr
    assert to_source(parsed) == printed
    _check_tree(printed, parsed)
