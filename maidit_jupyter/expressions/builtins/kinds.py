"""Type and logic built-ins: type tests, conversions, defaults and choices.

They follow the original JavaScript functions: ``typeof`` with ``'null'`` and
``'array'`` split out, ``Number(x)`` and ``Boolean(x)`` conversions, and ``==``-free
null tests (null and undefined count as missing, nothing else does). Arrow functions
are values for which ``ctx.is_function`` is true.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from maidit_jupyter.expressions.builtins.base import CallContext, FunctionTable, arg
from maidit_jupyter.expressions.builtins.utility import json_text
from maidit_jupyter.expressions.values import (
    UNDEFINED,
    Value,
    is_array,
    is_object,
    js_typeof,
    to_number,
    to_string,
    truthy,
)

__all__ = ["TABLE"]

TABLE = FunctionTable()


def _missing(value: Value) -> bool:
    return value is None or value is UNDEFINED


def _is_number(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _float(value: float) -> float:
    """A number as a float; an int too large for one is an infinity, as in JavaScript."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


@TABLE.register("typeof")
def typeof(ctx: CallContext, args: Sequence[Value]) -> Value:
    """'null', 'undefined', 'array', 'string', 'number', 'boolean', 'object', 'function'."""
    value = arg(args, 0)
    if value is None:
        return "null"
    if is_array(value):
        return "array"
    if ctx.is_function(value):
        return "function"
    return js_typeof(value)


@TABLE.register("is_null")
def is_null(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the value is null or undefined."""
    return _missing(arg(args, 0))


@TABLE.register("is_array")
def is_array_(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the value is an array."""
    return is_array(arg(args, 0))


@TABLE.register("is_object")
def is_object_(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the value is an object (not null, not an array, not a function)."""
    value = arg(args, 0)
    return is_object(value) and not ctx.is_function(value)


@TABLE.register("is_string")
def is_string(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the value is a string."""
    return isinstance(arg(args, 0), str)


@TABLE.register("is_number")
def is_number(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the value is a number other than NaN (infinities count)."""
    value = arg(args, 0)
    return _is_number(value) and not math.isnan(_float(value))


@TABLE.register("is_boolean")
def is_boolean(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the value is true or false."""
    return isinstance(arg(args, 0), bool)


@TABLE.register("is_empty")
def is_empty(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the value is null, undefined, ``""``, ``[]`` or ``{}``."""
    value = arg(args, 0)
    if _missing(value):
        return True
    if isinstance(value, str) or is_array(value) or is_object(value):
        return len(value) == 0
    return False


@TABLE.register("to_string")
def to_string_(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Text of a value: ``""`` for null, JSON for arrays and objects, else ``String``."""
    value = arg(args, 0)
    if _missing(value):
        return ""
    if is_array(value) or is_object(value):
        return json_text(ctx, value) or ""
    return to_string(value)


@TABLE.register("to_number")
def to_number_(ctx: CallContext, args: Sequence[Value]) -> Value:
    """JavaScript ``Number(x)``, with NaN turned into 0."""
    value = arg(args, 0)
    number = math.nan if ctx.is_function(value) else to_number(value)
    if isinstance(number, int) and abs(number) >= 2**53:
        return _float(number)  # beyond exact integers, a JavaScript number is a float
    return 0 if math.isnan(number) else number


@TABLE.register("to_boolean")
def to_boolean(ctx: CallContext, args: Sequence[Value]) -> Value:
    """JavaScript ``Boolean(x)``: false for false, 0, NaN, "", null, undefined."""
    return truthy(arg(args, 0))


@TABLE.register("to_array")
def to_array(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The array itself, ``[]`` for null or undefined, else ``[value]``."""
    value = arg(args, 0)
    if is_array(value):
        return list(value)
    return [] if _missing(value) else [value]


@TABLE.register("coalesce")
def coalesce(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The first argument that is not null or undefined (undefined if none is)."""
    return next((value for value in args if not _missing(value)), UNDEFINED)


@TABLE.register("default")
def default(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The value, or the fallback when it is null or undefined."""
    value = arg(args, 0)
    return arg(args, 1) if _missing(value) else value


@TABLE.register("if_else")
def if_else(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The second argument if the first is truthy, else the third."""
    return arg(args, 1) if truthy(arg(args, 0)) else arg(args, 2)


@TABLE.register("is_finite")
def is_finite(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the value is a finite number (``Number.isFinite``: no coercion)."""
    value = arg(args, 0)
    return _is_number(value) and math.isfinite(_float(value))


@TABLE.register("is_integer")
def is_integer(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the value is a whole number (``Number.isInteger``)."""
    value = arg(args, 0)
    return (
        _is_number(value)
        and math.isfinite(_float(value))
        and _float(value).is_integer()
    )


@TABLE.register("is_nan")
def is_nan(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the value is the number NaN (``Number.isNaN``: no coercion)."""
    value = arg(args, 0)
    return _is_number(value) and math.isnan(_float(value))


@TABLE.register("is_truthy")
def is_truthy(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the value is truthy."""
    return truthy(arg(args, 0))


@TABLE.register("is_falsy")
def is_falsy(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the value is falsy (false, 0, NaN, "", null, undefined)."""
    return not truthy(arg(args, 0))


@TABLE.register("switch")
def switch(ctx: CallContext, args: Sequence[Value]) -> Value:
    """``cases[String(value)]`` when the cases object has that key, else the default."""
    value, cases, fallback = arg(args, 0), arg(args, 1), arg(args, 2)
    if not is_object(cases) or ctx.is_function(cases):
        return None if _missing(fallback) else fallback
    key = to_string(value)
    if key in cases:
        return cases[key]
    return None if _missing(fallback) else fallback
