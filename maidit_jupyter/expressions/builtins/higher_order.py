"""Higher-order built-ins of the dialect: ``map filter reduce sort_by group_by``.

They take an arrow function (``x => x.price``, ``(acc, x) => acc + x``), called through
:meth:`~.base.CallContext.call` as JavaScript's array methods call their callbacks:
``(item, index, array)``, and ``(acc, item, index, array)`` for ``reduce``. ``sort_by``
and ``group_by`` also take a property name instead of an arrow. ``find``, ``every``,
``some`` and ``count`` live in :mod:`.arrays` with the original built-ins.

A null or undefined array counts as ``[]``; any other non-array, or a missing arrow,
raises :class:`~maidit_jupyter.errors.ExpressionTypeError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from maidit_jupyter.errors import ExpressionTypeError
from maidit_jupyter.expressions.builtins.arrays import (
    as_array,
    get_property,
    require_function,
    sort_pairs,
)
from maidit_jupyter.expressions.builtins.base import CallContext, FunctionTable, arg
from maidit_jupyter.expressions.values import (
    UNDEFINED,
    Value,
    js_typeof,
    less_than,
    to_string,
    truthy,
)

__all__ = ["TABLE"]

TABLE = FunctionTable()

KeyFunction = Callable[[Value, int], Value]


def _key_function(
    ctx: CallContext,
    by: Value,
    items: Sequence[Value],
    name: str,
    *,
    optional: bool = False,
) -> KeyFunction:
    """How to compute an item's key from an arrow or a property name.

    Args:
        ctx: the call context (to call the arrow).
        by: an arrow, a property name (a string or number), or, when ``optional``,
            null/undefined for "the item itself".
        items: the array (passed to the arrow as its third argument).
        name: the built-in's name, for messages.
        optional: whether ``by`` may be left out.

    Raises:
        ExpressionTypeError: ``by`` is none of these.
    """
    if ctx.is_function(by):
        return lambda item, index: ctx.call(by, [item, index, items])
    if isinstance(by, str) or js_typeof(by) == "number":
        return lambda item, index: get_property(item, by)
    if optional and (by is None or by is UNDEFINED):
        return lambda item, index: item
    raise ExpressionTypeError(
        f"{name}() expects an arrow function such as x => x.name, or a property name, "
        f"got {'null' if by is None else js_typeof(by)}"
    )


@TABLE.register("map")
def _map(ctx: CallContext, args: Sequence[Value]) -> Value:
    """A new array of ``fn(item, index, array)`` for every item."""
    items, function = as_array(arg(args, 0), "map"), arg(args, 1)
    require_function(ctx, function, "map")
    mapped: list[Value] = []
    for index, item in enumerate(items):
        ctx.step()
        mapped.append(ctx.call(function, [item, index, items]))
    return mapped


@TABLE.register("filter")
def _filter(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The items for which ``fn(item, index, array)`` is truthy."""
    items, function = as_array(arg(args, 0), "filter"), arg(args, 1)
    require_function(ctx, function, "filter")
    kept: list[Value] = []
    for index, item in enumerate(items):
        ctx.step()
        if truthy(ctx.call(function, [item, index, items])):
            kept.append(item)
    return kept


@TABLE.register("reduce")
def _reduce(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The accumulator after ``acc = fn(acc, item, index, array)`` for every item.

    Without an initial value the first item starts the accumulator (and an empty array
    is an error), as in JavaScript.
    """
    items, function = as_array(arg(args, 0), "reduce"), arg(args, 1)
    require_function(ctx, function, "reduce")
    if len(args) >= 3:
        accumulator, start = args[2], 0
    elif items:
        accumulator, start = items[0], 1
    else:
        raise ExpressionTypeError(
            "reduce() of an empty array needs an initial value: reduce(a, fn, initial)"
        )
    for index in range(start, len(items)):
        ctx.step()
        accumulator = ctx.call(function, [accumulator, items[index], index, items])
    return accumulator


def _ascending(a: Value, b: Value) -> int:
    """Null/undefined last, else ``<``; incomparable values tie (keep their order)."""
    a_missing, b_missing = a is None or a is UNDEFINED, b is None or b is UNDEFINED
    if a_missing or b_missing:
        return int(a_missing) - int(b_missing)
    if less_than(a, b):
        return -1
    return 1 if less_than(b, a) else 0


def _descending(a: Value, b: Value) -> int:
    """Like :func:`_ascending` reversed, but null/undefined still last."""
    if a is None or a is UNDEFINED or b is None or b is UNDEFINED:
        return _ascending(a, b)
    return _ascending(b, a)


@TABLE.register("sort_by")
def _sort_by(ctx: CallContext, args: Sequence[Value]) -> Value:
    """A stably sorted copy, by an arrow's result or a property (``'asc'``/``'desc'``).

    Items with a null/undefined key come last in both directions; items with equal (or
    incomparable) keys keep their order.
    """
    items, by, direction = as_array(arg(args, 0), "sort_by"), arg(args, 1), arg(args, 2)
    if direction not in (UNDEFINED, "asc", "desc"):
        raise ExpressionTypeError(
            f"sort_by() direction must be 'asc' or 'desc', got {to_string(direction)!r}"
        )
    key_of = _key_function(ctx, by, items, "sort_by", optional=True)
    pairs: list[tuple[Value, Value]] = []
    for index, item in enumerate(items):
        ctx.step()
        pairs.append((key_of(item, index), item))
    return sort_pairs(pairs, _descending if direction == "desc" else _ascending)


@TABLE.register("group_by")
def _group_by(ctx: CallContext, args: Sequence[Value]) -> Value:
    """An object of ``String(key)`` → the items with that key, in first-seen order."""
    items, by = as_array(arg(args, 0), "group_by"), arg(args, 1)
    key_of = _key_function(ctx, by, items, "group_by")
    groups: dict[str, list[Value]] = {}
    for index, item in enumerate(items):
        ctx.step()
        groups.setdefault(to_string(key_of(item, index)), []).append(item)
    return groups
