"""The AST helpers: children and walk."""

from __future__ import annotations

from maidit_jupyter.expressions import (
    Expr,
    Identifier,
    Unary,
    children,
    parse_expression,
    walk,
)
from tests.expressions.sexpr import sexpr


def test_walk_is_preorder_in_source_order() -> None:
    """walk yields the node first, then its descendants left to right."""
    expr = parse_expression("f(a, [b, , ...c], {d: e, [g]: h}) ? x => y : z")
    names = [node.name for node in walk(expr) if isinstance(node, Identifier)]
    assert names == ["a", "b", "c", "e", "g", "h", "y", "z"]


def test_children_skips_holes() -> None:
    """Array holes are not children."""
    expr = parse_expression("[a, , b]")
    assert [sexpr(child) for child in children(expr)] == ["a", "b"]


def test_walk_handles_any_depth() -> None:
    """walk is iterative: a tree deeper than Python's recursion limit is fine."""
    expr: Expr = Identifier(name="x", start=0, end=1)
    for _ in range(5_000):
        expr = Unary(op="!", operand=expr, start=0, end=1)
    assert sum(1 for _ in walk(expr)) == 5_001
