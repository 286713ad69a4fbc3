"""Offsets of nodes and of syntax errors."""

from __future__ import annotations

import pytest

from maidit_jupyter.errors import ExpressionSyntaxError
from maidit_jupyter.expressions import (
    Arrow,
    Binary,
    Call,
    Member,
    ObjectLiteral,
    Property,
    Spread,
    Unary,
    children,
    parse_expression,
    walk,
)

P = pytest.param


def _spans(source: str) -> list[tuple[str, str]]:
    """Return (node kind, covered text) for every node, in walk order."""
    return [
        (type(node).__name__, source[node.start : node.end])
        for node in walk(parse_expression(source))
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        P(
            "a + b * c",
            [
                ("Binary", "a + b * c"),
                ("Identifier", "a"),
                ("Binary", "b * c"),
                ("Identifier", "b"),
                ("Identifier", "c"),
            ],
            id="binary",
        ),
        P(
            "(a) + (b)",
            [("Binary", "(a) + (b)"), ("Identifier", "a"), ("Identifier", "b")],
            id="parenthesised-operands-belong-to-parent",
        ),
        P(
            "-(2)",
            [("Unary", "-(2)"), ("Literal", "2")],
            id="unary-with-group",
        ),
        P(
            "a.b[c]",
            [
                ("Member", "a.b[c]"),
                ("Member", "a.b"),
                ("Identifier", "a"),
                ("Identifier", "c"),
            ],
            id="member-chain",
        ),
        P(
            "f(...xs)",
            [("Call", "f(...xs)"), ("Spread", "...xs"), ("Identifier", "xs")],
            id="call-with-spread",
        ),
        P(
            "{k: 'v', s}",
            [
                ("ObjectLiteral", "{k: 'v', s}"),
                ("Property", "k: 'v'"),
                ("Literal", "'v'"),
                ("Property", "s"),
                ("Identifier", "s"),
            ],
            id="object",
        ),
        P(
            "(a, b) => a",
            [("Arrow", "(a, b) => a"), ("Identifier", "a")],
            id="arrow",
        ),
        P(
            "a ? b : c",
            [
                ("Conditional", "a ? b : c"),
                ("Identifier", "a"),
                ("Identifier", "b"),
                ("Identifier", "c"),
            ],
            id="conditional",
        ),
        P(
            "x, y",
            [("Sequence", "x, y"), ("Identifier", "x"), ("Identifier", "y")],
            id="sequence",
        ),
        P(
            "[1, , 'two']",
            [("ArrayLiteral", "[1, , 'two']"), ("Literal", "1"), ("Literal", "'two'")],
            id="array-with-hole",
        ),
    ],
)
def test_node_spans(source: str, expected: list[tuple[str, str]]) -> None:
    """Each node spans exactly the tokens it was parsed from."""
    assert _spans(source) == expected


def test_call_callee_span() -> None:
    """A call records where its function name is."""
    expr = parse_expression("  upper( x )")
    assert isinstance(expr, Call)
    assert (expr.callee_start, expr.callee_end) == (2, 7)
    assert (expr.start, expr.end) == (2, 12)


def test_dashed_identifier_span() -> None:
    """A dashed node id spans the whole dashed name."""
    expr = parse_expression("x + fetch-data", node_ids=frozenset({"fetch-data"}))
    assert isinstance(expr, Binary)
    assert (expr.right.start, expr.right.end) == (4, 14)


def test_spans_are_nested() -> None:
    """Every child's span lies inside its parent's span."""
    source = "map(xs, (x, i) => {...x, n: (-x.a) ** 2 > 1 ? [i] : f(x?.[0])}.n)"
    kinds: set[type] = set()
    for node in walk(parse_expression(source)):
        kinds.add(type(node))
        for child in children(node):
            assert node.start <= child.start <= child.end <= node.end
    assert {Arrow, Member, ObjectLiteral, Property, Spread, Unary} <= kinds


@pytest.mark.parametrize(
    ("source", "start", "end"),
    [
        P("a b", 2, 3, id="juxtaposed-name"),
        P("a +", 3, 3, id="end-after-operator"),
        P("f(a, b c)", 7, 8, id="inside-call"),
        P("x\n  y", 4, 5, id="after-newline"),
        P("[1, 2", 5, 5, id="unclosed-array"),
        P("'abc", 0, 4, id="unterminated-string-from-its-start"),
        P("a = b", 2, 3, id="assignment"),
        P("a >>> b", 2, 5, id="shift"),
        P("a.method(x)", 0, 8, id="method-call-covers-callee"),
        P("1 +\n  2 3", 8, 9, id="multi-line"),
        P('"\\x4" + 1', 1, 3, id="bad-escape"),
    ],
)
def test_error_spans(source: str, start: int, end: int) -> None:
    """Errors point at the offending token."""
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression(source)
    assert (info.value.start, info.value.end) == (start, end)
    assert info.value.expression == source


def test_property_span_of_shorthand() -> None:
    """A shorthand property spans its name, and its value is that identifier."""
    expr = parse_expression("{ab}")
    assert isinstance(expr, ObjectLiteral)
    prop = expr.properties[0]
    assert isinstance(prop, Property)
    assert (prop.start, prop.end, prop.value.start, prop.value.end) == (1, 3, 1, 3)
