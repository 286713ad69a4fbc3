"""Duration syntax shared by the parser, the runtimes and the ``duration()`` function.

Accepted forms (as in the original engine, but a whole string must match):

* a number, or a string of digits: milliseconds (``"5000"``);
* unit parts in the order days, hours, minutes, seconds, milliseconds, each a decimal
  number and its unit, no spaces: ``"2d"``, ``"1h30m"``, ``"1.5s"``, ``"500ms"``;
* an ISO-8601 duration: ``"PT1M30S"``, ``"P1D"`` (a month counts 30 days, a year 365,
  as Luxon does).

Where the original silently ignored trailing text (``"5sfoo"`` meant five seconds), we
reject the string, so a typo is reported instead of misread.
"""

from __future__ import annotations

import email.utils
import math
import re
from datetime import UTC, datetime

__all__ = ["parse_duration_ms", "parse_retry_after_ms"]

_UNITS = re.compile(
    r"(?:(?P<d>\d+(?:\.\d+)?)d)?"
    r"(?:(?P<h>\d+(?:\.\d+)?)h)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)m(?!s))?"
    r"(?:(?P<s>\d+(?:\.\d+)?)s)?"
    r"(?:(?P<ms>\d+(?:\.\d+)?)ms)?"
)
_ISO = re.compile(
    r"P(?:(?P<Y>\d+(?:\.\d+)?)Y)?(?:(?P<M>\d+(?:\.\d+)?)M)?(?:(?P<W>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<D>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<TH>\d+(?:\.\d+)?)H)?(?:(?P<TM>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<TS>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)
_MS = {
    "d": 86_400_000.0,
    "h": 3_600_000.0,
    "m": 60_000.0,
    "s": 1000.0,
    "ms": 1.0,
    "Y": 365 * 86_400_000.0,
    "M": 30 * 86_400_000.0,
    "W": 7 * 86_400_000.0,
    "D": 86_400_000.0,
    "TH": 3_600_000.0,
    "TM": 60_000.0,
    "TS": 1000.0,
}


def parse_duration_ms(value: object) -> float | None:
    """Return the duration in milliseconds, or ``None`` when ``value`` is not one.

    Args:
        value: a number (milliseconds) or a duration string.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():  # not '²' or other Unicode digits
        return float(text)
    pattern = _ISO if text[0] in "Pp" else _UNITS
    match = pattern.fullmatch(text)
    if match is None or not any(match.groupdict().values()):
        return None
    if text[0] in "Pp" and text.upper().endswith("T"):
        return None
    return sum(
        float(amount) * _MS[unit]
        for unit, amount in match.groupdict().items()
        if amount
    )


def parse_retry_after_ms(header: str | None) -> float | None:
    """The wait an HTTP ``Retry-After`` header asks for, in milliseconds.

    The header holds seconds (``"120"``, ``"0.5"``) or an HTTP date; a date in the past
    and a negative number mean no wait. None when there is no header or it is neither.
    """
    text = (header or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds) * 1000.0
