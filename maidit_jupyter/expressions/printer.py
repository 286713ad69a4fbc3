"""Print an AST back as expression text, with only the parentheses it needs.

``parse_expression(to_source(e))`` gives ``e`` again, apart from offsets (dashed node
ids need the same ``node_ids``). Useful for messages, and for the round-trip tests.
"""

from __future__ import annotations

import json
import re

from maidit_jupyter.expressions.nodes import (
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
    Spread,
    Unary,
)
from maidit_jupyter.expressions.operators import BINARY_POWER

__all__ = ["to_source"]

# Precedence levels: a node printed where at least ``level`` is needed gets parentheses
# when its own level is lower. Binary operators sit at their binding power + 1.
_SEQUENCE = 0
_ASSIGN = 1
_LOGICAL_OR = BINARY_POWER["||"] + 1
_UNARY = 13
_POSTFIX = 14
_PRIMARY = 15
_PLAIN_NAME_RE = re.compile(
    r"[A-Za-z$_\u0080-\U0010ffff][0-9A-Za-z$_\u0080-\U0010ffff]*"
)


def to_source(expr: Expr) -> str:
    """Return expression text that parses back to ``expr``.

    Args:
        expr: an AST produced by the parser (its depth is bounded by the parser's
            ``max_depth``, so the recursion here is too).

    Returns:
        The text, spaced like ``a + f(b, [1, 2])``.
    """
    return _print(expr, _SEQUENCE)


def _print(expr: Expr, min_level: int) -> str:
    """Print ``expr`` inside a context that needs at least ``min_level``."""
    text, level = _format(expr)
    return f"({text})" if level < min_level else text


def _format(expr: Expr) -> tuple[str, int]:
    """Return the text of ``expr`` and its precedence level."""
    if isinstance(expr, Literal):
        return _literal(expr.value), _PRIMARY
    if isinstance(expr, Identifier):
        return expr.name, _PRIMARY
    if isinstance(expr, Member):
        obj = expr.object
        value = obj.value if isinstance(obj, Literal) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            target = f"({_literal(value)})"
        else:
            target = _print(obj, _POSTFIX)
        if expr.computed is not None:
            optional = "?." if expr.optional else ""
            return f"{target}{optional}[{_print(expr.computed, _ASSIGN)}]", _POSTFIX
        dot = "?." if expr.optional else "."
        return f"{target}{dot}{expr.property}", _POSTFIX
    if isinstance(expr, Call):
        args = ", ".join(_element(arg) for arg in expr.args)
        return f"{expr.callee}({args})", _POSTFIX
    if isinstance(expr, ArrayLiteral):
        items = ", ".join(
            "" if item is None else _element(item) for item in expr.elements
        )
        trailing = "," if expr.elements and expr.elements[-1] is None else ""
        return f"[{items}{trailing}]", _PRIMARY
    if isinstance(expr, ObjectLiteral):
        return "{" + ", ".join(
            _entry(entry) for entry in expr.properties
        ) + "}", _PRIMARY
    if isinstance(expr, Unary):
        operand = _print(expr.operand, _UNARY)
        space = " " if expr.op in "+-" and operand.startswith(expr.op) else ""
        return f"{expr.op}{space}{operand}", _UNARY
    if isinstance(expr, Binary | Logical):
        return _binary(expr)
    if isinstance(expr, Conditional):
        test = _print(expr.test, _LOGICAL_OR)
        consequent = _print(expr.consequent, _ASSIGN)
        alternate = _print(expr.alternate, _ASSIGN)
        return f"{test} ? {consequent} : {alternate}", _ASSIGN
    if isinstance(expr, Arrow):
        params = (
            expr.params[0] if len(expr.params) == 1 else f"({', '.join(expr.params)})"
        )
        body = _print(expr.body, _ASSIGN)
        if isinstance(expr.body, ObjectLiteral):
            body = f"({body})"
        return f"{params} => {body}", _ASSIGN
    return ", ".join(_print(item, _ASSIGN) for item in expr.expressions), _SEQUENCE


def _binary(expr: Binary | Logical) -> tuple[str, int]:
    """Print an operator with the parentheses its operands need."""
    level = BINARY_POWER[expr.op] + 1
    if expr.op == "**":
        # Right-associative, and a unary operand on the left needs parentheses.
        left, right = _print(expr.left, _POSTFIX), _print(expr.right, level)
    else:
        left, right = _print(expr.left, level), _print(expr.right, level + 1)
    return f"{left} {expr.op} {right}", level


def _element(item: Expr | Spread) -> str:
    """Print an array element or a call argument."""
    if isinstance(item, Spread):
        return "..." + _print(item.argument, _ASSIGN)
    return _print(item, _ASSIGN)


def _entry(entry: Property | Spread) -> str:
    """Print one entry of an object literal."""
    if isinstance(entry, Spread):
        return _element(entry)
    value = _print(entry.value, _ASSIGN)
    if entry.computed is not None:
        return f"[{_print(entry.computed, _ASSIGN)}]: {value}"
    key = entry.key or ""
    if entry.shorthand:
        return key
    if not _PLAIN_NAME_RE.fullmatch(key):
        key = json.dumps(key, ensure_ascii=False)
    return f"{key}: {value}"


def _literal(value: str | float | bool | None) -> str:
    """Print a literal value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value == float("inf"):
        return "1e999"
    return repr(value)
