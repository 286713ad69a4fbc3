"""Array built-ins: ``length first last slice flatten unique reverse contains index_of
sort compact count at every some find take skip range array_concat``.

They follow the original engine's JavaScript, which calls the array method on
``arr ?? []``: null and undefined count as an empty array, and the methods strings share
with arrays (``slice``, ``at``, ``includes``, ``indexOf``, ``.length``) work on strings,
counting UTF-16 code units. Where JavaScript would throw a ``TypeError`` (a method that
the value does not have, a predicate that is not a function) these raise
:class:`~maidit_jupyter.errors.ExpressionTypeError`.

The helpers :func:`get_property`, :func:`as_array`, :func:`require_function`,
:func:`js_compare` and :func:`sort_pairs` are shared with :mod:`.higher_order`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

from maidit_jupyter.errors import ExpressionTypeError
from maidit_jupyter.expressions.builtins.base import CallContext, FunctionTable, arg
from maidit_jupyter.expressions.builtins.numeric import js_number, to_float, to_integer
from maidit_jupyter.expressions.builtins.text import (
    from_units,
    slice_bounds,
    to_units,
    utf16_length,
)
from maidit_jupyter.expressions.values import (
    UNDEFINED,
    Value,
    is_array,
    is_object,
    js_typeof,
    less_than,
    number_to_string,
    same_value_zero,
    strict_equals,
    to_string,
    truthy,
)

__all__ = [
    "TABLE",
    "as_array",
    "get_property",
    "js_compare",
    "require_function",
    "sort_pairs",
]

TABLE = FunctionTable()


def _nullish(value: Value) -> bool:
    return value is None or value is UNDEFINED


def _kind(value: Value) -> str:
    """A value's kind for messages: ``typeof``, but ``null`` and ``array`` named."""
    if value is None:
        return "null"
    return "array" if is_array(value) else js_typeof(value)


def _index(key: str) -> int | None:
    """The array index a property key names (``"0"``, ``"12"``), if it names one."""
    if key.isascii() and key.isdigit() and (key == "0" or key[0] != "0"):
        return int(key)
    return None


def get_property(value: Value, key: Value) -> Value:
    """JavaScript ``value?.[key]`` for expression values.

    Objects give their entry, arrays and strings their ``length`` and their items (code
    units for strings); anything else, or a missing entry, gives UNDEFINED.
    """
    name = key if isinstance(key, str) else to_string(key)
    if is_object(value):
        return value.get(name, UNDEFINED)
    if isinstance(value, str):
        if name == "length":
            return utf16_length(value)
        value = to_units(value)
    elif not is_array(value):
        return UNDEFINED
    if name == "length":
        return len(value)
    index = _index(name)
    return value[index] if index is not None and index < len(value) else UNDEFINED


def as_array(value: Value, name: str) -> Sequence[Value]:
    """``value ?? []`` for a function that needs an array.

    Raises:
        ExpressionTypeError: ``value`` is neither an array nor null/undefined.
    """
    if _nullish(value):
        return []
    if is_array(value):
        return value  # type: ignore[no-any-return]
    raise ExpressionTypeError(f"{name}() expects an array, got {_kind(value)}")


def _spread(value: Value, name: str) -> list[Value]:
    """JavaScript ``[...(value ?? [])]``: a string spreads into its characters."""
    if isinstance(value, str):
        return list(value)
    if is_array(value) or _nullish(value):
        return list(as_array(value, name))
    raise ExpressionTypeError(f"{name}() expects an array, got {_kind(value)}")


def require_function(ctx: CallContext, value: Value, name: str) -> None:
    """Raise ExpressionTypeError unless ``value`` is an arrow function."""
    if not ctx.is_function(value):
        raise ExpressionTypeError(
            f"{name}() expects an arrow function (such as x => x.done), "
            f"got {_kind(value)}"
        )


def js_compare(a: Value, b: Value) -> int:
    """The original ``sort`` comparator: equal 0, null/undefined last, else ``<``."""
    if strict_equals(a, b):
        return 0
    if _nullish(a):
        return 1
    if _nullish(b):
        return -1
    return -1 if less_than(a, b) else 1


def sort_pairs(
    pairs: Sequence[tuple[Value, Value]], compare: Callable[[Value, Value], int]
) -> list[Value]:
    """Stably sort ``(key, item)`` pairs by key with ``compare``; return the items."""

    def by_key(x: tuple[Value, Value], y: tuple[Value, Value]) -> int:
        return compare(x[0], y[0])

    return [item for _, item in sorted(pairs, key=functools.cmp_to_key(by_key))]


def _array_or_string(value: Value, name: str) -> Sequence[Value] | str:
    """``value ?? []`` for the methods arrays and strings share (strings as units)."""
    if isinstance(value, str):
        return to_units(value)
    if is_array(value) or _nullish(value):
        return as_array(value, name)
    raise ExpressionTypeError(
        f"{name}() expects an array or a string, got {_kind(value)}"
    )


def _slice(value: Value, start: Value, end: Value, name: str) -> Value:
    items = _array_or_string(value, name)
    first, last = slice_bounds(start, end, len(items))
    if isinstance(items, str):
        return from_units(items[first:last])
    return list(items[first:last])


@TABLE.register("length")
def _length(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The length of an array or string (code units); undefined for anything else."""
    value = arg(args, 0)
    return 0 if _nullish(value) else get_property(value, "length")


@TABLE.register("first")
def _first(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The first item (or code unit), or undefined."""
    return get_property(arg(args, 0), "0")


@TABLE.register("last")
def _last(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The last item (or code unit), or undefined."""
    value = arg(args, 0)
    if _nullish(value):
        return UNDEFINED
    index = to_float(get_property(value, "length")) - 1
    return get_property(value, number_to_string(index))


@TABLE.register("slice")
def _slice_builtin(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Items (or code units) from ``start`` to ``end``; negatives count from the end."""
    return _slice(arg(args, 0), arg(args, 1), arg(args, 2), "slice")


@TABLE.register("take")
def _take(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The first ``n`` items (or code units)."""
    return _slice(arg(args, 0), 0, arg(args, 1), "take")


@TABLE.register("skip")
def _skip(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Everything after the first ``n`` items (or code units)."""
    return _slice(arg(args, 0), arg(args, 1), UNDEFINED, "skip")


@TABLE.register("flatten")
def _flatten(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The array with nested arrays spread one level."""
    items = as_array(arg(args, 0), "flatten")
    ctx.step(len(items))
    ctx.check_items(sum(len(x) if is_array(x) else 1 for x in items), "flatten")
    flat: list[Value] = []
    for item in items:
        if is_array(item):
            flat.extend(item)
        else:
            flat.append(item)
    return flat


def _identity_key(value: Value) -> tuple[str, object]:
    """A hashable key under which SameValueZero-equal values coincide."""
    if value is None or value is UNDEFINED or isinstance(value, bool | str):
        return (type(value).__name__, value)
    if isinstance(value, int | float):
        return ("number", "NaN" if math.isnan(value) else value)
    return ("object", id(value))


@TABLE.register("unique")
def _unique(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The items without repeats (SameValueZero; objects by identity), in order."""
    items = _spread(arg(args, 0), "unique")
    ctx.step(len(items))
    seen: set[tuple[str, object]] = set()
    kept: list[Value] = []
    for item in items:
        key = _identity_key(item)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


@TABLE.register("reverse")
def _reverse(ctx: CallContext, args: Sequence[Value]) -> Value:
    """A reversed copy of the array."""
    items = _spread(arg(args, 0), "reverse")
    ctx.step(len(items))
    return items[::-1]


@TABLE.register("contains")
def _contains(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the array holds ``x`` (SameValueZero), or the string contains str(x)."""
    items, wanted = _array_or_string(arg(args, 0), "contains"), arg(args, 1)
    if isinstance(items, str):
        return to_units(to_string(wanted)) in items
    ctx.step(len(items))
    return any(same_value_zero(item, wanted) for item in items)


@TABLE.register("index_of")
def _index_of(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The first index of ``x`` (``===``), or of str(x) in a string; -1 if none."""
    items, wanted = _array_or_string(arg(args, 0), "index_of"), arg(args, 1)
    if isinstance(items, str):
        return items.find(to_units(to_string(wanted)))
    ctx.step(len(items))
    return next((i for i, item in enumerate(items) if strict_equals(item, wanted)), -1)


@TABLE.register("sort")
def _sort(ctx: CallContext, args: Sequence[Value]) -> Value:
    """A stably sorted copy, by ``item[key]`` if a key is given; ``'desc'`` reverses.

    Null/undefined values sort last (first once reversed); the rest compare with ``<``.
    """
    items = _spread(arg(args, 0), "sort")
    key, direction = arg(args, 1), arg(args, 2)
    ctx.step(len(items))
    present = [item for item in items if item is not UNDEFINED]
    keyed = [(get_property(i, key) if truthy(key) else i, i) for i in present]
    ordered = sort_pairs(keyed, js_compare)
    ordered += [UNDEFINED] * (len(items) - len(present))
    return ordered[::-1] if direction == "desc" else ordered


@TABLE.register("compact")
def _compact(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The array without its null and undefined items."""
    items = as_array(arg(args, 0), "compact")
    ctx.step(len(items))
    return [item for item in items if not _nullish(item)]


def _first_match(
    ctx: CallContext, items: Sequence[Value], function: Value, wanted: bool
) -> int:
    """The index of the first item whose predicate result is ``wanted``; -1 if none."""
    for index, item in enumerate(items):
        ctx.step()
        if truthy(ctx.call(function, [item, index, items])) is wanted:
            return index
    return -1


@TABLE.register("count")
def _count(ctx: CallContext, args: Sequence[Value]) -> Value:
    """How many items satisfy the predicate; without one, the length."""
    value, predicate = arg(args, 0), arg(args, 1)
    if not truthy(predicate):
        return _length(ctx, [value])
    items = as_array(value, "count")
    require_function(ctx, predicate, "count")
    passed = 0
    for index, item in enumerate(items):
        ctx.step()
        passed += truthy(ctx.call(predicate, [item, index, items]))
    return passed


@TABLE.register("every")
def _every(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the predicate is truthy for every item (true for an empty array)."""
    items, predicate = as_array(arg(args, 0), "every"), arg(args, 1)
    require_function(ctx, predicate, "every")
    return _first_match(ctx, items, predicate, wanted=False) == -1


@TABLE.register("some")
def _some(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the predicate is truthy for at least one item."""
    items, predicate = as_array(arg(args, 0), "some"), arg(args, 1)
    require_function(ctx, predicate, "some")
    return _first_match(ctx, items, predicate, wanted=True) != -1


@TABLE.register("find")
def _find(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The first item for which the predicate is truthy, or undefined."""
    items, predicate = as_array(arg(args, 0), "find"), arg(args, 1)
    require_function(ctx, predicate, "find")
    index = _first_match(ctx, items, predicate, wanted=True)
    return UNDEFINED if index == -1 else items[index]


@TABLE.register("at")
def _at(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The item (or code unit) at index ``i``; negative counts from the end."""
    items = _array_or_string(arg(args, 0), "at")
    index = to_integer(arg(args, 1))
    if index < 0:
        index += len(items)
    return items[int(index)] if 0 <= index < len(items) else UNDEFINED


@TABLE.register("array_concat")
def _array_concat(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The arrays joined into one (null counts as [], other values as one item)."""
    parts = [[] if _nullish(v) else v if is_array(v) else [v] for v in args]
    size = sum(map(len, parts))
    ctx.check_items(size, "array_concat")
    ctx.step(size)
    joined: list[Value] = []
    for part in parts:
        joined.extend(part)
    return joined


#: integers up to this size are exact in a float (and ``js_number`` keeps them ints).
_SAFE = 2.0**53


def _whole(number: float) -> bool:
    return number.is_integer() and abs(number) < _SAFE


@TABLE.register("range")
def _range(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Numbers from ``start`` up to (not including) ``end`` by ``step`` (default 1).

    A negative step counts down. A step of 0 is an error (the original looped forever).
    """
    start, end = to_float(arg(args, 0)), to_float(arg(args, 1))
    step = arg(args, 2)
    stride = 1.0 if step is UNDEFINED else to_float(step)
    if stride == 0:
        raise ExpressionTypeError("range() step cannot be 0")
    if math.isnan(stride):  # as in JavaScript: one item if counting down would start
        return [js_number(start)] if start > end else []

    def going(value: float) -> bool:
        return value < end if stride > 0 else value > end

    if not going(start):
        return []
    span = (end - start) / stride
    estimate = math.ceil(span) if math.isfinite(span) else ctx.limits.max_items + 1
    ctx.check_items(estimate, "range")
    ctx.step(estimate)
    if _whole(start) and _whole(stride) and abs(end) < _SAFE:
        # whole numbers only: the same items as the loop below, built in C
        stop = math.ceil(end) if stride > 0 else math.floor(end)
        return list(range(int(start), stop, int(stride)))
    numbers: list[Value] = []
    current = start
    while going(current):
        numbers.append(js_number(current))
        following = current + stride
        if following == current:
            raise ExpressionTypeError(
                f"range() step {number_to_string(stride)} is too small to advance "
                f"from {number_to_string(current)}"
            )
        current = following
        if len(numbers) > estimate:  # rounding gave more items than estimated
            ctx.check_items(len(numbers), "range")
    return numbers
