"""Operator tables shared by the parser and the printer."""

from __future__ import annotations

__all__ = ["BINARY_POWER", "LOGICAL_OPERATORS", "PREFIX_OPERATORS"]

#: Binding power of each binary operator, low to high as in JavaScript. Operators of
#: one level associate left to right (so ``a ?? b || c`` is ``(a ?? b) || c``), except
#: ``**``, which is right-associative.
BINARY_POWER: dict[str, int] = {
    op: power
    for power, ops in (
        (1, "|| ??"),
        (2, "&&"),
        (6, "== != === !=="),
        (7, "< > <= >="),
        (9, "+ -"),
        (10, "* / %"),
        (11, "**"),
    )
    for op in ops.split()
}

#: The short-circuit operators, parsed as :class:`~.nodes.Logical` nodes.
LOGICAL_OPERATORS = frozenset({"&&", "||", "??"})

#: The prefix operators; ``~`` parses but evaluation rejects it.
PREFIX_OPERATORS = frozenset({"!", "-", "+", "~"})
