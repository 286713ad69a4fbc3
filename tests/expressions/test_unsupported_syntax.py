"""Syntax the language rejects on purpose.

These tests break when a feature is added: update them together with the grammar.
Each case checks the start of the message and the offending text.
"""

from __future__ import annotations

import pytest

from maidit_jupyter.errors import ExpressionSyntaxError
from maidit_jupyter.expressions import parse_expression

P = pytest.param


@pytest.mark.parametrize(
    ("source", "message", "offending"),
    [
        P("typeof a", "the 'typeof' operator is not supported", "typeof", id="typeof"),
        P(
            "x + typeof a.b",
            "the 'typeof' operator is not supported",
            "typeof",
            id="typeof-in-operand",
        ),
        P("a in b", "the 'in' operator is not supported", "in", id="in"),
        P("f(a in b)", "the 'in' operator is not supported", "in", id="in-argument"),
        P(
            "a instanceof B",
            "the 'instanceof' operator is not supported",
            "instanceof",
            id="instanceof",
        ),
        P("new X()", "'new' is not supported", "new", id="new"),
        P("void 0", "the 'void' operator is not supported", "void", id="void"),
        P(
            "delete a.b",
            "the 'delete' operator is not supported",
            "delete",
            id="delete",
        ),
        P("await x", "'await' is not supported", "await", id="await"),
        P(
            "a = 1",
            "assignment ('=') is not supported; use '==' or '==='",
            "=",
            id="assignment",
        ),
        P("a += 1", "assignment ('=') is not supported", "=", id="compound-assignment"),
        P("a | b", "bitwise operator '|' is not supported", "|", id="bitwise-or"),
        P("a & b", "bitwise operator '&' is not supported", "&", id="bitwise-and"),
        P("a ^ b", "bitwise operator '^' is not supported", "^", id="bitwise-xor"),
        P("a << 1", "bitwise operator '<<' is not supported", "<<", id="shift-left"),
        P("a >> 1", "bitwise operator '>>' is not supported", ">>", id="shift-right"),
        P(
            "a >>> 1",
            "bitwise operator '>>>' is not supported",
            ">>>",
            id="unsigned-shift",
        ),
        P("x | upper", "bitwise operator '|' is not supported", "|", id="pipe-filter"),
        P(
            "`a${b}`",
            "template literals (backticks) are not supported",
            "`",
            id="backticks",
        ),
        P("/ab+c/", "regular expression literals are not supported", "/", id="regex"),
        P(
            "test(s, /x/)",
            "regular expression literals are not supported",
            "/",
            id="regex-argument",
        ),
        P(
            "{{ a }}",
            "templates ('{{ }}') are not allowed inside expressions",
            "{{",
            id="template-braces",
        ),
        P(
            "f({{a}})",
            "templates ('{{ }}') are not allowed inside expressions",
            "{{",
            id="template-braces-inside",
        ),
        P(
            "a b",
            "unexpected identifier 'b'; expected an operator or the end",
            "b",
            id="juxtaposed-names",
        ),
        P(
            "1 2",
            "unexpected number 2; expected an operator",
            "2",
            id="juxtaposed-numbers",
        ),
        P(
            "'a' 'b'",
            "unexpected string 'b'; expected an operator",
            "'b'",
            id="juxtaposed-strings",
        ),
        P("a [1] b", "unexpected identifier 'b'", "b", id="juxtaposed-after-index"),
        P(
            "obj.method(x)",
            "only direct function calls are allowed (e.g. fn(x), not obj.method(x))",
            "obj.method",
            id="method-call",
        ),
        P(
            "a.b.c()",
            "only direct function calls are allowed",
            "a.b.c",
            id="nested-method-call",
        ),
        P(
            "a?.b(1)",
            "only direct function calls are allowed",
            "a?.b",
            id="optional-method-call",
        ),
        P(
            "a[0](1)",
            "only direct function calls are allowed",
            "a[0]",
            id="computed-method-call",
        ),
        P("f(x)(y)", "only a function name can be called", "f(x)", id="call-result"),
        P(
            "(x => x)(1)",
            "only a function name can be called",
            "x => x",
            id="immediate-arrow",
        ),
        P(
            "a?.(1)",
            "optional calls ('?.(') are not supported",
            "?.(",
            id="optional-call",
        ),
        P("a // comment", "comments are not supported", "//", id="line-comment"),
        P("a /* c */", "comments are not supported", "/*", id="block-comment"),
        P("a; b", "unexpected ';'", ";", id="statements"),
        P("0x1F", "invalid number '0x1F'; only decimal numbers", "0x1F", id="hex"),
        P("1_000", "invalid number '1_000'; '_' separators", "1_000", id="separators"),
        P(
            "a++",
            "unexpected end of the expression; expected an expression",
            "",
            id="increment",
        ),
        P(
            "(...a) => a",
            "unexpected '...'; expected an expression",
            "...",
            id="rest-parameter",
        ),
        P("a.#b", "unexpected character '#'", "#", id="private-name"),
        P(
            "-2 ** 2",
            "unary '-' cannot be the left operand of '**'",
            "**",
            id="unary-before-power",
        ),
        P(
            "-(2) ** 2",
            "unary '-' cannot be the left operand of '**'",
            "**",
            id="unary-with-group-before-power",
        ),
    ],
)
def test_unsupported_syntax(source: str, message: str, offending: str) -> None:
    """Unsupported JavaScript syntax is a clear syntax error at the right token."""
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression(source)
    error = info.value
    assert error.message.startswith(message)
    assert source[error.start : error.end] == offending
