"""Messages of ordinary syntax errors, limits, and the exception contract."""

from __future__ import annotations

import pytest

from maidit_jupyter.errors import ExpressionSyntaxError
from maidit_jupyter.expressions import parse_expression

P = pytest.param


def _message(source: str, *, max_depth: int = 100, max_length: int = 100_000) -> str:
    """Return the syntax error message for ``source``."""
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression(source, max_depth=max_depth, max_length=max_length)
    return info.value.message


@pytest.mark.parametrize(
    ("source", "message"),
    [
        P("", "empty expression", id="empty"),
        P("  \n\t", "empty expression", id="blank"),
        P(
            "(a",
            "unexpected end of the expression; expected an operator or ')'",
            id="unclosed-parenthesis",
        ),
        P(
            "a)",
            "unmatched ')'; expected an operator or the end of the expression",
            id="unmatched-parenthesis",
        ),
        P(
            "a]",
            "unmatched ']'; expected an operator or the end of the expression",
            id="unmatched-bracket",
        ),
        P(
            "[1, 2",
            "unexpected end of the expression; expected an operator, ',' or ']'",
            id="unclosed-array",
        ),
        P(
            "f(1",
            "unexpected end of the expression; expected an operator, ',' or ')'",
            id="unclosed-call",
        ),
        P(
            "{a: 1",
            "unexpected end of the expression; expected an operator, ',' or '}'",
            id="unclosed-object",
        ),
        P(
            "a[1",
            "unexpected end of the expression; expected an operator or ']'",
            id="unclosed-index",
        ),
        P("(a]", "unexpected ']'; expected an operator or ')'", id="mismatched"),
        P(
            "a +",
            "unexpected end of the expression; expected an expression",
            id="trailing-operator",
        ),
        P("* a", "unexpected '*'; expected an expression", id="leading-operator"),
        P("()", "unexpected ')'; expected an expression", id="empty-parentheses"),
        P(
            "a,",
            "unexpected end of the expression; expected an expression",
            id="trailing-comma",
        ),
        P("f(,)", "unexpected ','; expected an expression", id="argument-hole"),
        P(
            "a ? b",
            "unexpected end of the expression; expected an operator or ':'",
            id="conditional-without-colon",
        ),
        P(
            "a.",
            "unexpected end of the expression; expected a property name after '.'",
            id="dot-without-name",
        ),
        P(
            "a.1",
            "unexpected number .1; expected an operator or the end of the expression",
            id="dot-number",
        ),
        P(
            "a?.",
            "unexpected end of the expression; expected a property name after '?.'",
            id="optional-without-name",
        ),
        P(
            "{a 1}",
            "unexpected number 1; expected ':' after the property key",
            id="object-missing-colon",
        ),
        P("{a: }", "unexpected '}'; expected an expression", id="object-missing-value"),
        P(
            "{(a): 1}",
            "unexpected '('; expected a property name, '[', '...' or '}'",
            id="object-bad-key",
        ),
        P(
            "{true}",
            "'true' cannot be a shorthand property; write 'true: value'",
            id="keyword-shorthand",
        ),
        P("true => 1", "'true' cannot be a parameter name", id="keyword-parameter"),
        P("(a, a) => 1", "duplicate parameter name 'a'", id="duplicate-parameter"),
        P(
            "a + b => 1",
            "unexpected '=>'; arrow function parameters must be a name",
            id="arrow-after-operator",
        ),
        P(
            "'abc",
            "unterminated string; expected a closing '",
            id="unterminated-single",
        ),
        P(
            '"abc\\"',
            'unterminated string; expected a closing "',
            id="unterminated-escaped-quote",
        ),
        P(r'"\u12"', "invalid escape sequence '\\u' in a string", id="short-unicode"),
        P(r'"\xZ1"', "invalid escape sequence '\\x' in a string", id="bad-hex"),
        P(
            r'"\u{110000}"',
            "invalid escape sequence '\\u{110000}' in a string",
            id="code-point-too-large",
        ),
        P(
            "1e",
            "invalid number '1e'; a number cannot be followed by a letter",
            id="incomplete-exponent",
        ),
        P("1.toString", "invalid number '1.toString'", id="number-then-name"),
        P("a @ b", "unexpected character '@'", id="unknown-character"),
        P("a \x00 b", "unexpected character U+0000", id="control-character"),
        P(
            "a " + "x" * 100,
            "unexpected identifier 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxx…'",
            id="long-name-shortened",
        ),
    ],
)
def test_syntax_error_messages(source: str, message: str) -> None:
    """Syntax errors say what was found and what was expected."""
    assert _message(source).startswith(message)


def test_first_error_wins() -> None:
    """Errors are reported left to right, even when a later token is bad."""
    assert _message("a b = c").startswith("unexpected identifier 'b'")


def test_too_long() -> None:
    """Text over max_length is rejected before lexing, pointing past the limit."""
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression("a" * 11, max_length=10)
    assert (
        info.value.message == "expression is too long (11 characters; the limit is 10)"
    )
    assert (info.value.start, info.value.end) == (10, 11)


@pytest.mark.parametrize(
    "source",
    [
        P("(" * 10_000 + "a" + ")" * 10_000, id="parentheses"),
        P("[" * 10_000, id="brackets"),
        P("{a:" * 10_000, id="objects"),
        P("f(" * 10_000, id="calls"),
        P("!" * 10_000 + "a", id="prefix-operators"),
        P("- " * 10_000 + "a", id="spaced-signs"),
        P("a ** " * 10_000 + "a", id="power-chain"),
        P("a ? b : " * 10_000 + "c", id="conditional-chain"),
        P("x => " * 10_000 + "x", id="arrow-chain"),
        P("a[" * 10_000, id="index-chain"),
        P(" + ".join(["a"] * 10_000), id="long-left-chain"),
        P("a" + ".b" * 10_000, id="member-chain"),
        P("[" * 50 + "(" * 50 + "{a:" * 50 + "a", id="mixed"),
    ],
)
def test_depth_limit(source: str) -> None:
    """Deep nesting, or a tree deeper than max_depth, is a syntax error."""
    assert _message(source).startswith("expression is nested too deeply; the limit")


def test_depth_limit_is_configurable() -> None:
    """max_depth bounds both nesting and tree height."""
    chain = " + ".join(["a"] * 20)
    parse_expression(chain)
    assert _message(chain, max_depth=10).startswith("expression is nested too deeply")
    parse_expression("(" * 40 + "a" + ")" * 40)
    assert _message("(" * 40 + "a" + ")" * 40, max_depth=30).startswith(
        "expression is nested too deeply"
    )


def test_huge_depth_limit_still_raises_syntax_error() -> None:
    """Even when max_depth exceeds what Python's stack allows, only syntax errors escape."""
    source = "(" * 20_000 + "a" + ")" * 20_000
    message = _message(source, max_depth=1_000_000, max_length=1_000_000)
    assert message.startswith("expression is nested too deeply")
