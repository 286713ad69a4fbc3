"""The names of the built-in functions, and "did you mean" suggestions for typos.

The names are the original engine's 118 built-ins, plus the higher-order functions
that take an arrow function (some of which, like ``count``, are built-ins too).
"""

from __future__ import annotations

import difflib
import re

__all__ = [
    "ALL_FUNCTION_NAMES",
    "BUILTIN_FUNCTION_NAMES",
    "HIGHER_ORDER_FUNCTION_NAMES",
    "suggest_function",
]

_STRING = """
    upper lower trim replace split join truncate concat includes starts_with ends_with
    substring pad_start pad_end repeat char_at len
"""
_ARRAY = """
    length first last slice flatten unique reverse contains index_of sort compact count
    at every some find take skip range array_concat
"""
_MATH = """
    min max sum avg round floor ceil abs sqrt sign trunc pow random random_int clamp mod
    percent
"""
_TIME = """
    now date time parse_date format_date add_time subtract_time diff timestamp
    from_timestamp start_of end_of get_part is_before is_after relative duration
"""
_OBJECT = """
    keys values entries from_entries get has merge pick omit size set delete equals clone
"""
_TYPE = """
    typeof is_null is_array is_object is_string is_number is_boolean is_empty to_string
    to_number to_boolean to_array coalesce default if_else is_finite is_integer is_nan
    is_truthy is_falsy switch
"""
_UTILITY = """
    json_encode json_decode base64_encode base64_decode url_encode url_decode uuid match
    test match_all hash pretty
"""

#: The original engine's built-in functions (118 names).
BUILTIN_FUNCTION_NAMES: frozenset[str] = frozenset(
    (_STRING + _ARRAY + _MATH + _TIME + _OBJECT + _TYPE + _UTILITY).split()
)

#: Functions that take an arrow function, such as ``map(items, x => x.price)``.
HIGHER_ORDER_FUNCTION_NAMES: frozenset[str] = frozenset(
    {"map", "filter", "reduce", "find", "every", "some", "count", "sort_by", "group_by"}
)

#: Every function an expression may call.
ALL_FUNCTION_NAMES: frozenset[str] = (
    BUILTIN_FUNCTION_NAMES | HIGHER_ORDER_FUNCTION_NAMES
)

_SORTED_NAMES = sorted(ALL_FUNCTION_NAMES)
_CAMEL_HUMP_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def suggest_function(name: str) -> str | None:
    """Return the known function name closest to an unknown ``name``, if any is close.

    ``startsWith`` and ``UPPER`` find ``starts_with`` and ``upper``; other names are
    matched with :func:`difflib.get_close_matches` (cutoff 0.7).

    Args:
        name: the name that was called.

    Returns:
        The suggestion, or ``None`` when nothing is close or ``name`` is itself known.
    """
    if name in ALL_FUNCTION_NAMES:
        return None
    snake = _CAMEL_HUMP_RE.sub("_", name).lower()
    if snake in ALL_FUNCTION_NAMES:
        return snake
    matches = difflib.get_close_matches(snake, _SORTED_NAMES, n=1, cutoff=0.7)
    return matches[0] if matches else None
