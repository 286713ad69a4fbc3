"""Math built-ins: ``min max sum avg round floor ceil abs sqrt sign trunc pow random
random_int clamp mod percent``.

They follow the original engine's JavaScript, which coerces most arguments with
``Number(x) || 0`` and computes in IEEE doubles. Results are JavaScript numbers in their
Python form (see :func:`js_number`): an ``int`` when the value is integral and below
2**53 in magnitude, a ``float`` otherwise (NaN and the infinities included).

The conversion helpers here (:func:`to_float`, :func:`to_integer`, :func:`js_number`,
:func:`js_pow`, :func:`js_divide`) are shared with the other built-in modules.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from maidit_jupyter.errors import ExpressionTypeError
from maidit_jupyter.expressions.builtins.base import CallContext, FunctionTable, arg
from maidit_jupyter.expressions.values import (
    UNDEFINED,
    Value,
    add,
    is_array,
    js_typeof,
    to_number,
    truthy,
)

__all__ = [
    "TABLE",
    "js_divide",
    "js_number",
    "js_pow",
    "to_float",
    "to_integer",
]

TABLE = FunctionTable()

_SAFE = 2**53


def _int_to_float(number: int) -> float:
    """An int as a double; ints too large for one become an infinity."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def to_float(value: Value) -> float:
    """JavaScript ``Number(value)`` as a Python float (NaN when not a number)."""
    number = to_number(value)
    if isinstance(number, int):
        return _int_to_float(number)
    return float(number)


def _number_or_zero(value: Value) -> float:
    """JavaScript ``Number(value) || 0``: NaN and -0 become 0."""
    number = to_float(value)
    return number if truthy(number) else 0.0


def js_number(number: float) -> int | float:
    """The Python form of a JavaScript number.

    Args:
        number: an int or float computed with JavaScript semantics.

    Returns:
        An ``int`` when ``number`` is integral and ``|number| < 2**53``, else a
        ``float``.
    """
    if isinstance(number, int):
        return int(number) if abs(number) < _SAFE else _int_to_float(number)
    if math.isfinite(number) and number.is_integer() and abs(number) < _SAFE:
        return int(number)
    return number


def to_integer(value: Value) -> int | float:
    """JavaScript ``ToIntegerOrInfinity``: NaN → 0, toward zero, ±Infinity kept.

    Returns:
        An ``int``, or a float infinity.
    """
    number = to_number(value)
    if isinstance(number, int):
        return number
    if math.isnan(number):
        return 0
    if math.isinf(number):
        return number
    return int(number)


def js_divide(dividend: float, divisor: float) -> float:
    """JavaScript ``a / b`` on doubles (division by zero gives ±Infinity or NaN)."""
    if divisor == 0:
        if dividend == 0 or math.isnan(dividend):
            return math.nan
        return math.copysign(math.inf, dividend) * math.copysign(1.0, divisor)
    return dividend / divisor


def _odd_integer(number: float) -> bool:
    return math.isfinite(number) and number.is_integer() and int(number) % 2 == 1


def js_pow(base: float, exponent: float) -> float:
    """JavaScript ``Math.pow`` (and ``**``) on doubles; never raises."""
    if math.isnan(exponent):
        return math.nan
    if exponent == 0:
        return 1.0
    if math.isnan(base) or (abs(base) == 1 and math.isinf(exponent)):
        return math.nan
    try:
        return math.pow(base, exponent)
    except OverflowError:
        negative = base < 0 and _odd_integer(exponent)
        return -math.inf if negative else math.inf
    except (ValueError, ZeroDivisionError):
        if base == 0:  # 0 to a negative power
            negative = math.copysign(1.0, base) < 0 and _odd_integer(exponent)
            return -math.inf if negative else math.inf
        return math.nan  # a negative base to a non-integer power


def _js_round(number: float) -> float:
    """JavaScript ``Math.round``: nearest integer, halves toward +Infinity."""
    if not math.isfinite(number):
        return number
    floor = math.floor(number)
    return float(floor + 1 if number - floor >= 0.5 else floor)


def _is_number(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numbers(args: Sequence[Value]) -> list[float]:
    return [to_float(value) for value in args if _is_number(value)]


def _array(value: Value, name: str) -> Sequence[Value]:
    """``value ?? []`` for functions that call an array method on it."""
    if value is None or value is UNDEFINED:
        return []
    if is_array(value):
        return value  # type: ignore[no-any-return]
    raise ExpressionTypeError(f"{name}() expects an array, got {js_typeof(value)}")


def _js_min(numbers: Sequence[float]) -> float:
    """JavaScript ``Math.min``: NaN if any is NaN, +Infinity when empty."""
    if any(math.isnan(n) for n in numbers):
        return math.nan
    return min(numbers, default=math.inf)


def _js_max(numbers: Sequence[float]) -> float:
    """JavaScript ``Math.max``: NaN if any is NaN, -Infinity when empty."""
    if any(math.isnan(n) for n in numbers):
        return math.nan
    return max(numbers, default=-math.inf)


@TABLE.register("min")
def _min(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The smallest number argument (others are ignored); Infinity when none."""
    ctx.step(len(args))
    return js_number(_js_min(_numbers(args)))


@TABLE.register("max")
def _max(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The largest number argument (others are ignored); -Infinity when none."""
    ctx.step(len(args))
    return js_number(_js_max(_numbers(args)))


@TABLE.register("sum")
def _sum(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The sum of ``Number(x) || 0`` over the items of an array."""
    items = _array(arg(args, 0), "sum")
    ctx.step(len(items))
    total = 0.0
    for item in items:
        total += _number_or_zero(item)
    return js_number(total)


@TABLE.register("avg")
def _avg(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The mean of the number items of an array; 0 when there are none."""
    items = _array(arg(args, 0), "avg")
    ctx.step(len(items))
    numbers = _numbers(items)
    if not numbers:
        return 0
    total = 0.0
    for number in numbers:
        total += number
    return js_number(total / len(numbers))


@TABLE.register("round")
def _round(ctx: CallContext, args: Sequence[Value]) -> Value:
    """``Math.round(n * 10**d) / 10**d`` with ``d`` defaulting to 0."""
    digits = arg(args, 1)
    factor = 1.0 if digits is UNDEFINED else js_pow(10.0, to_float(digits))
    rounded = _js_round(_number_or_zero(arg(args, 0)) * factor)
    return js_number(js_divide(rounded, factor))


def _unary(name: str, operation: Callable[[float], float]) -> None:
    """Register ``name(x)`` as ``operation(Number(x) || 0)``."""

    def builtin(ctx: CallContext, args: Sequence[Value]) -> Value:
        return js_number(operation(_number_or_zero(arg(args, 0))))

    builtin.__doc__ = f"JavaScript Math.{name} of Number(x) || 0."
    builtin.__name__ = f"_{name}"
    TABLE.register(name)(builtin)


def _floor(number: float) -> float:
    return float(math.floor(number)) if math.isfinite(number) else number


def _ceil(number: float) -> float:
    return float(math.ceil(number)) if math.isfinite(number) else number


def _trunc(number: float) -> float:
    return float(math.trunc(number)) if math.isfinite(number) else number


def _sqrt(number: float) -> float:
    return math.sqrt(number) if number >= 0 else math.nan


def _sign(number: float) -> float:
    if math.isnan(number) or number == 0:
        return number
    return 1.0 if number > 0 else -1.0


_unary("floor", _floor)
_unary("ceil", _ceil)
_unary("abs", abs)
_unary("sqrt", _sqrt)
_unary("sign", _sign)
_unary("trunc", _trunc)


@TABLE.register("pow")
def _pow(ctx: CallContext, args: Sequence[Value]) -> Value:
    """``Math.pow(Number(b) || 0, Number(e) || 0)``."""
    base = _number_or_zero(arg(args, 0))
    return js_number(js_pow(base, _number_or_zero(arg(args, 1))))


@TABLE.register("random")
def _random(ctx: CallContext, args: Sequence[Value]) -> Value:
    """A random float in [0, 1) from the evaluation's generator."""
    return js_number(ctx.rng.random())


@TABLE.register("random_int")
def _random_int(ctx: CallContext, args: Sequence[Value]) -> Value:
    """A random integer between ``min`` and ``max``, both included.

    As in the original, ``Math.floor(Math.random() * (max - min + 1)) + min``.
    """
    low, high = arg(args, 0), arg(args, 1)
    span = to_float(high) - to_float(low) + 1
    offset = _floor(ctx.rng.random() * span)
    return _normalize(add(js_number(offset), low))


@TABLE.register("clamp")
def _clamp(ctx: CallContext, args: Sequence[Value]) -> Value:
    """``Math.min(Math.max(Number(n) || 0, min), max)``."""
    number = _number_or_zero(arg(args, 0))
    low, high = to_float(arg(args, 1)), to_float(arg(args, 2))
    return js_number(_js_min([_js_max([number, low]), high]))


@TABLE.register("mod")
def _mod(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The JavaScript remainder ``n % d``: it takes the sign of the dividend."""
    dividend = _number_or_zero(arg(args, 0))
    divisor = to_float(arg(args, 1))
    if math.isnan(divisor) or math.isinf(dividend) or divisor == 0:
        return math.nan
    if math.isinf(divisor) or dividend == 0:
        return js_number(dividend)
    return js_number(math.fmod(dividend, divisor))


@TABLE.register("percent")
def _percent(ctx: CallContext, args: Sequence[Value]) -> Value:
    """``value / total * 100`` to ``d`` decimals (default 2); 0 if total is falsy."""
    total = arg(args, 1)
    if not truthy(total):
        return 0
    digits = arg(args, 2)
    factor = js_pow(10.0, 2.0 if digits is UNDEFINED else to_float(digits))
    ratio = js_divide(to_float(arg(args, 0)), to_float(total)) * 100
    return js_number(js_divide(_js_round(ratio * factor), factor))


def _normalize(value: Value) -> Value:
    """Numbers in their Python form; anything else (a concatenated string) as is."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return js_number(value)
    return value
