"""Test helpers: print an AST as a compact S-expression, ignoring offsets.

``(+ a (* b c))`` reads better in a table than nested dataclasses, and comparing
S-expressions compares shapes without offsets.
"""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass, replace
from typing import Any

from maidit_jupyter.expressions import (
    ArrayLiteral,
    Arrow,
    Binary,
    Call,
    Conditional,
    Identifier,
    Literal,
    Logical,
    Member,
    Node,
    ObjectLiteral,
    Property,
    Sequence,
    Spread,
    Unary,
    parse_expression,
)


def sexpr(node: Node | None) -> str:
    """Return the S-expression of ``node``; ``None`` (an array hole) is ``<hole>``."""
    if node is None:
        return "<hole>"
    if isinstance(node, Literal):
        return json.dumps(node.value, ensure_ascii=False)
    if isinstance(node, Identifier):
        return node.name
    if isinstance(node, Member):
        opt = "?" if node.optional else ""
        if node.computed is not None:
            return f"({opt}[] {sexpr(node.object)} {sexpr(node.computed)})"
        return f"({opt}. {sexpr(node.object)} {node.property})"
    if isinstance(node, Call):
        return "(call " + " ".join([node.callee, *map(sexpr, node.args)]) + ")"
    if isinstance(node, ArrayLiteral):
        return "(array" + "".join(" " + sexpr(e) for e in node.elements) + ")"
    if isinstance(node, ObjectLiteral):
        return "(object" + "".join(" " + sexpr(p) for p in node.properties) + ")"
    if isinstance(node, Property):
        if node.shorthand:
            return f"({node.key})"
        if node.computed is not None:
            return f"([{sexpr(node.computed)}]: {sexpr(node.value)})"
        return f"({json.dumps(node.key)}: {sexpr(node.value)})"
    if isinstance(node, Spread):
        return f"(... {sexpr(node.argument)})"
    if isinstance(node, Unary):
        return f"({node.op} {sexpr(node.operand)})"
    if isinstance(node, Binary | Logical):
        return f"({node.op} {sexpr(node.left)} {sexpr(node.right)})"
    if isinstance(node, Conditional):
        parts = (node.test, node.consequent, node.alternate)
        return "(? " + " ".join(map(sexpr, parts)) + ")"
    if isinstance(node, Arrow):
        return f"(=> ({' '.join(node.params)}) {sexpr(node.body)})"
    assert isinstance(node, Sequence)
    return "(, " + " ".join(map(sexpr, node.expressions)) + ")"


def parse_sexpr(text: str, node_ids: frozenset[str] = frozenset()) -> str:
    """Parse ``text`` and return its S-expression."""
    return sexpr(parse_expression(text, node_ids=node_ids))


_OFFSET_FIELDS = frozenset({"start", "end", "callee_start", "callee_end"})


def without_offsets(node: Any) -> Any:
    """Return a copy of an AST with every offset set to 0, for shape comparisons."""
    if not is_dataclass(node) or isinstance(node, type):
        return node
    values: dict[str, Any] = {}
    for field in fields(node):
        value = getattr(node, field.name)
        if field.name in _OFFSET_FIELDS:
            value = 0
        elif isinstance(value, tuple):
            value = tuple(without_offsets(item) for item in value)
        else:
            value = without_offsets(value)
        values[field.name] = value
    return replace(node, **values)
