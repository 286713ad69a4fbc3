"""The values expressions compute with, and JavaScript's rules for converting them.

Values are plain data: ``None`` (JavaScript ``null``), :data:`UNDEFINED`, ``bool``,
``int``/``float`` (both are JavaScript numbers), ``str``, ``list``/``tuple`` (arrays),
``dict``/``Mapping`` (objects), and :class:`~maidit_jupyter.expressions.evaluator.Function`
(an arrow, callable only by built-in functions). Nothing else ever reaches an
expression, so no Python attribute or method is reachable from one.

The conversions follow ECMAScript: ``String(x)``, ``Number(x)``, truthiness, ``==`` and
``===``, the abstract relational comparison and ``+``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "UNDEFINED",
    "FunctionValue",
    "Undefined",
    "Value",
    "add",
    "is_array",
    "is_object",
    "js_typeof",
    "less_than",
    "loose_equals",
    "number_to_string",
    "same_value_zero",
    "strict_equals",
    "to_display",
    "to_json",
    "to_number",
    "to_string",
    "truthy",
]

Value = Any


class Undefined:
    """JavaScript's ``undefined``: what a missing variable, property or argument is.

    There is one instance, :data:`UNDEFINED`; compare with ``is``.
    """

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "undefined"

    def __reduce__(self) -> str:
        return "UNDEFINED"

    def __copy__(self) -> Undefined:
        return self

    def __deepcopy__(self, memo: object) -> Undefined:
        return self


UNDEFINED: Final = Undefined()


class FunctionValue:
    """Base class of function values (arrows); they are values, never Python callables."""

    __slots__ = ()


def is_array(value: Value) -> bool:
    """Whether ``value`` is an array (a list or tuple)."""
    return isinstance(value, list | tuple)


def is_object(value: Value) -> bool:
    """Whether ``value`` is a plain object (a mapping)."""
    return isinstance(value, Mapping)


def _is_number(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_SURROGATE = re.compile("[\ud800-\udfff]")
_REPR = re.compile(r"(\d+)(?:\.(\d*))?(?:e([+-]?\d+))?")


def number_to_string(number: float) -> str:
    """Format a number as JavaScript's ``String(n)`` does.

    ``1.0`` → ``"1"``, ``0.1 + 0.2`` → ``"0.30000000000000004"``, ``1e21`` → ``"1e+21"``,
    ``1e-7`` → ``"1e-7"``, ``-0`` → ``"0"``.
    """
    if isinstance(number, int):
        if abs(number) < 10**21:
            return str(number)
        try:
            number = float(number)
        except OverflowError:  # more digits than a double holds: Infinity in JS
            return "Infinity" if number > 0 else "-Infinity"
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    # repr gives the shortest digits that round-trip, which is what JavaScript prints.
    match = _REPR.fullmatch(repr(abs(number)))
    assert match is not None
    whole, fraction, exponent = match.group(1), match.group(2) or "", match.group(3)
    every_digit = whole + fraction
    point = len(whole) + int(exponent or 0)  # the decimal point, counted in digits
    significant = every_digit.lstrip("0")
    point -= len(every_digit) - len(significant)
    digits = significant.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    e = point - 1
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{head}e{'+' if e >= 0 else '-'}{abs(e)}"


def to_string(value: Value) -> str:
    """JavaScript ``String(value)``."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if _is_number(value):
        return number_to_string(value)
    if is_array(value):
        return ",".join(
            "" if item is None or item is UNDEFINED else to_string(item)
            for item in value
        )
    if is_object(value):
        return "[object Object]"
    return "function"


def to_display(value: Value) -> str:
    """How a template renders a value: ``""`` for null/undefined, JSON for containers."""
    if value is None or value is UNDEFINED:
        return ""
    if is_array(value) or is_object(value):
        return to_json(value)
    return to_string(value)


def to_json(value: Value, indent: int | None = None) -> str:
    """JavaScript ``JSON.stringify``: undefined and functions vanish from objects and
    become ``null`` in arrays; NaN and infinities become ``null``."""
    text = json.dumps(
        _jsonable(value),
        ensure_ascii=False,
        indent=indent,
        separators=None if indent else (",", ":"),
    )
    # JSON.stringify escapes lone surrogates (which UTF-8 cannot hold) as \uXXXX.
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _jsonable(value: Value) -> Any:
    if value is UNDEFINED or isinstance(value, FunctionValue):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if is_array(value):
        return [_jsonable(item) for item in value]
    if is_object(value):
        return {
            str(key): _jsonable(item)
            for key, item in value.items()
            if item is not UNDEFINED and not _is_function(item)
        }
    return value


def _is_function(value: Value) -> bool:
    return isinstance(value, FunctionValue)


def to_number(value: Value) -> float | int:
    """JavaScript ``Number(value)`` (NaN when it is not a number)."""
    if isinstance(value, bool):
        return int(value)
    if _is_number(value):
        return value  # type: ignore[no-any-return]
    if value is None:
        return 0
    if isinstance(value, str):
        text = value.strip(" \t\n\r\v\f\u00a0\ufeff\u2028\u2029")
        if not text:
            return 0
        lowered = text.lower()
        if lowered.startswith(("0x", "0o", "0b")) and len(text) > 2:
            base = {"x": 16, "o": 8, "b": 2}[lowered[1]]
            try:
                number = int(text[2:], base)
            except ValueError:
                return math.nan
            if abs(number) <= 2**53:
                return number
            try:
                return float(number)  # JavaScript numbers are doubles
            except OverflowError:
                return math.inf
        if text in ("Infinity", "+Infinity"):
            return math.inf
        if text == "-Infinity":
            return -math.inf
        if not all(c in "0123456789+-.eE" for c in text):
            return math.nan
        try:
            parsed = float(text)
        except ValueError:
            return math.nan
        exact = "." not in text and "e" not in lowered
        if exact and parsed.is_integer() and abs(parsed) < 2**53:
            return int(parsed)
        return parsed
    if is_array(value):
        if not value:
            return 0
        if len(value) == 1:
            return to_number(to_string(value))
        return math.nan
    return math.nan


def truthy(value: Value) -> bool:
    """JavaScript truthiness: false, 0, -0, NaN, "", null and undefined are falsy."""
    if value is None or value is UNDEFINED or value is False:
        return False
    if isinstance(value, int):
        return value != 0
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def js_typeof(value: Value) -> str:
    """The JavaScript ``typeof`` of a value (``"object"`` for null and arrays)."""
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if _is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if _is_function(value):
        return "function"
    return "object"


def strict_equals(a: Value, b: Value) -> bool:
    """JavaScript ``===``: same type and value; objects by identity; NaN is unequal."""
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if type(a) is not type(b) and not (isinstance(a, str) and isinstance(b, str)):
        return False
    if isinstance(a, list | tuple | Mapping) or _is_function(a):
        return a is b
    return bool(a == b)


def same_value_zero(a: Value, b: Value) -> bool:
    """JavaScript SameValueZero (``includes``): like ``===`` but NaN equals NaN."""
    if (
        isinstance(a, float)
        and isinstance(b, float)
        and math.isnan(a)
        and math.isnan(b)
    ):
        return True
    return strict_equals(a, b)


def _to_primitive(value: Value) -> Value:
    if is_array(value) or is_object(value) or _is_function(value):
        return to_string(value)
    return value


def loose_equals(a: Value, b: Value) -> bool:
    """JavaScript ``==``: null equals undefined; numbers, strings and booleans coerce."""
    if (a is None or a is UNDEFINED) or (b is None or b is UNDEFINED):
        return (a is None or a is UNDEFINED) and (b is None or b is UNDEFINED)
    if type(a) is type(b) or (_is_number(a) and _is_number(b)):
        return strict_equals(a, b)
    if isinstance(a, bool):
        return loose_equals(int(a), b)
    if isinstance(b, bool):
        return loose_equals(a, int(b))
    if _is_number(a) and isinstance(b, str):
        return bool(a == to_number(b))
    if isinstance(a, str) and _is_number(b):
        return bool(to_number(a) == b)
    a_container = is_array(a) or is_object(a)
    b_container = is_array(b) or is_object(b)
    if a_container and not b_container:
        return loose_equals(_to_primitive(a), b)
    if b_container and not a_container:
        return loose_equals(a, _to_primitive(b))
    return False


def less_than(a: Value, b: Value) -> bool | None:
    """JavaScript's abstract relational comparison ``a < b`` (``None``: undefined, i.e. NaN)."""
    a, b = _to_primitive(a), _to_primitive(b)
    if isinstance(a, str) and isinstance(b, str):
        return _utf16(a) < _utf16(b)
    x, y = to_number(a), to_number(b)
    if math.isnan(x) or math.isnan(y):
        return None
    return bool(x < y)


def _utf16(text: str) -> bytes:
    """Strings compare by UTF-16 code units in JavaScript."""
    return text.encode("utf-16-be", "surrogatepass")


def add(a: Value, b: Value) -> Value:
    """JavaScript ``a + b``: concatenation if either side is (or becomes) a string."""
    if _is_number(a) and _is_number(b):
        return a + b
    a, b = _to_primitive(a), _to_primitive(b)
    if isinstance(a, str) or isinstance(b, str):
        left, right = to_string(a), to_string(b)
        if (
            left
            and right
            and "\ud800" <= left[-1] <= "\udbff"
            and "\udc00" <= right[0] <= "\udfff"
        ):
            # two halves of one UTF-16 pair meet: make them one character again
            pair = (
                (left[-1] + right[0])
                .encode("utf-16-le", "surrogatepass")
                .decode("utf-16-le")
            )
            return left[:-1] + pair + right[1:]
        return left + right
    return to_number(a) + to_number(b)
