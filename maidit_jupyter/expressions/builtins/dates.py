"""Date and time built-ins, as the original engine computed them with Luxon 3.

Dates travel as ISO strings. Every result is in the process's **local** zone and printed
the way Luxon's ``toISO()`` prints a date in the system zone: milliseconds and a numeric
offset, ``2026-02-07T15:47:17.900+00:00`` (Luxon writes ``Z`` only for a fixed UTC zone,
never for the system zone, even when that zone is UTC). Inputs are read like Luxon's
``fromISO`` (calendar, week and ordinal dates, an optional time, ``Z``/offset/``[Zone]``)
and converted to the local zone. An unreadable date gives ``null`` (``false`` for the
comparisons); a unit Luxon does not know raises ExpressionTypeError, as Luxon throws.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo

from maidit_jupyter.durations import parse_duration_ms
from maidit_jupyter.errors import ExpressionLimitError, ExpressionTypeError
from maidit_jupyter.expressions.builtins import _luxon as lx
from maidit_jupyter.expressions.builtins.base import CallContext, FunctionTable, arg
from maidit_jupyter.expressions.values import (
    UNDEFINED,
    Value,
    is_object,
    to_number,
    to_string,
    truthy,
)

__all__ = ["TABLE"]

TABLE = FunctionTable()

# Luxon's ISO 8601 grammar: a date (calendar, week or ordinal) with an optional time,
# or a time alone; then an optional offset and an optional [IANA zone].
_ZONE = r"(?:(?:([Zz])|([+-]\d\d)(?::?(\d\d))?)?(?:\[([A-Za-z_+-]{1,256}"
_ZONE += r"(?::?/[A-Za-z0-9_+-]{1,256}(?:/[A-Za-z0-9_+-]{1,256})?)?)\])?)?"
_TIME = r"(\d\d)(?::?(\d\d)(?::?(\d\d)(?:[.,](\d{1,30}))?)?)?" + _ZONE
_ISO_FORMS = {
    ("year", "month", "day"): r"([+-]\d{6}|\d{4})(?:-?(\d\d)(?:-?(\d\d))?)?",
    ("weekYear", "weekNumber", "weekday"): r"(\d{4})-?W(\d\d)(?:-?(\d))?",
    ("year", "ordinal"): r"(\d{4})-?(\d{3})",
}
_ISO_PATTERNS = [
    (re.compile(rf"{date}(?:[Tt]{_TIME})?", re.ASCII), keys)
    for keys, date in _ISO_FORMS.items()
]
_ISO_PATTERNS.append((re.compile(_TIME, re.ASCII), ()))
_N = r"(-?\d{1,20}(?:\.\d{1,20})?)"
_ISO_DURATION = re.compile(
    rf"-?P(?:(?:{_N}Y)?(?:{_N}M)?(?:{_N}W)?(?:{_N}D)?"
    rf"(?:T(?:{_N}H)?(?:{_N}M)?(?:(-?\d{{1,20}})(?:[.,](-?\d{{1,20}}))?S)?)?)",
    re.ASCII,
)
_UNITS: tuple[str, ...] = ("years", "quarters", "months", "weeks", "days", "hours")
_UNITS += ("minutes", "seconds", "milliseconds")
_UNIT_MS = {"hours": 3_600_000, "minutes": 60_000, "seconds": 1000, "milliseconds": 1}
# Luxon's "casual" conversion of calendar units when they are fractional.
_CASUAL_MS = _UNIT_MS | {"days": 86_400_000, "weeks": 7 * 86_400_000}
_CASUAL_MS |= {"months": 30 * 86_400_000, "quarters": 91 * 86_400_000}
_CASUAL_MS |= {"years": 365 * 86_400_000}
_RELATIVE_UNITS = ("years", "months", "days", "hours", "minutes", "seconds")

Duration = dict[str, float]


# -- reading and writing dates ----------------------------------------------------------


def _now(ctx: CallContext) -> datetime:
    moment = ctx.now().astimezone()
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _to_iso(moment: datetime) -> str:
    return f"{_iso_date(moment)}T{_iso_time(moment)}"


def _iso_date(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"


def _iso_time(moment: datetime) -> str:
    offset = lx.format_offset(lx.offset_minutes(moment), "short")
    return f"{moment:%H:%M:%S}.{moment.microsecond // 1000:03d}{offset}"


def _from_iso(text: str, now: datetime) -> datetime | None:
    """Luxon ``DateTime.fromISO(text)`` converted to the local zone, or None."""
    for pattern, keys in _ISO_PATTERNS:
        match = pattern.fullmatch(text)
        if match is not None:
            return _iso_fields(match.groups(), keys, now)
    return None


def _iso_fields(
    groups: tuple[str | None, ...], keys: tuple[str, ...], now: datetime
) -> datetime | None:
    fields = {key: int(g) for key, g in zip(keys, groups, strict=False) if g}
    if keys and keys[1] == "month":
        fields = {"month": 1, "day": 1} | fields
    hour, minute, second, fraction, utc, sign, minutes, zone_text = groups[len(keys) :]
    if hour is not None:
        fields |= {"hour": int(hour), "minute": int(minute or 0)}
        fields |= {"second": int(second or 0)}
        if fraction:
            fields["millisecond"] = int(float("0." + fraction) * 1000)
    zone: tzinfo | None = None
    if utc or sign:
        offset = abs(int(sign or 0)) * 60 + int(minutes or 0)
        negative = (sign or "").startswith("-")
        zone = timezone(timedelta(minutes=-offset if negative else offset))
    if zone_text:
        zone = lx.iana_zone(zone_text)
        if zone is None:
            return None
    return lx.from_fields(fields, zone, now)


def _read(ctx: CallContext, value: Value) -> datetime | None:
    """The date an argument names: falsy or unreadable → None (as ``!iso`` tests)."""
    if not truthy(value):
        return None
    return _from_iso(to_string(value), _now(ctx))


def _from_ms(millis: int) -> datetime | None:
    try:
        return lx.from_ms(millis)
    except (OverflowError, ValueError):
        return None


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else _to_iso(moment)


def _format(moment: datetime, fmt: Value) -> str:
    try:
        return lx.format_datetime(moment, to_string(fmt))
    except ValueError:  # week numbers of years 1 and 9999 reach outside Python's range
        raise ExpressionTypeError("the date is too far out to format") from None


# -- units, durations and arithmetic ----------------------------------------------------


def _unit(value: Value) -> str:
    """Luxon ``Duration.normalizeUnit``: singular or plural, any case."""
    if isinstance(value, str):
        lowered = value.lower()
        for unit in _UNITS:
            if lowered in (unit, unit[:-1]):
                return unit
    raise ExpressionTypeError(f"Invalid unit {to_string(value)}")


def _duration(value: Value) -> Duration | None:
    """An ISO duration string or a ``{days: 1, hours: 2}`` object; None if invalid."""
    if isinstance(value, str):
        return _iso_duration(value)
    if not is_object(value):
        return None
    result: Duration = {}
    for key, amount in value.items():
        if amount is None or amount is UNDEFINED:
            continue
        try:
            unit = _unit(key)
        except ExpressionTypeError:
            return None
        number = to_number(amount)
        if isinstance(amount, bool) or amount == "" or not abs(number) < math.inf:
            return None
        result[unit] = number
    return result


def _iso_duration(text: str) -> Duration | None:
    match = _ISO_DURATION.fullmatch(text)
    if match is None:
        return None
    negative = text.startswith("-")
    names = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
    result: Duration = {}
    for name, group in zip(names, match.groups(), strict=False):
        if group is not None:
            amount = float(group)
            result[name] = -amount if negative and amount else amount
    seconds, fraction = match.group(7), match.group(8)
    if fraction is not None:
        millis = (
            0 if fraction.startswith("-") else math.floor(float("0." + fraction) * 1000)
        )
        negate = (seconds or "").startswith("-") or (negative and millis)
        result["milliseconds"] = -millis if negate else millis
    return result


def _plus(moment: datetime, duration: Duration, sign: int = 1) -> datetime | None:
    """Luxon ``plus``: calendar units move the wall clock, the rest are milliseconds."""
    amounts = {unit: sign * duration.get(unit, 0.0) for unit in _UNITS}
    whole = {unit: math.trunc(amounts[unit]) for unit in _UNITS[:5]}
    month = moment.month + whole["months"] + whole["quarters"] * 3
    year = moment.year + whole["years"] + (month - 1) // 12
    month = (month - 1) % 12 + 1
    extra = sum((amounts[u] - whole.get(u, 0)) * _CASUAL_MS[u] for u in _UNITS)
    try:
        first = date(year, month, 1)
        last = ((first + timedelta(days=31)).replace(day=1) - first).days
        day = min(moment.day, last) + whole["days"] + whole["weeks"] * 7
        wall = datetime.combine(first + timedelta(days=day - 1), moment.time())
        shifted = lx.from_wall(wall, lx.offset_minutes(moment))
        if not extra:
            return shifted
        return _from_ms(math.trunc(lx.epoch_ms(shifted) + extra))
    except (OverflowError, ValueError):
        return None


def _start_of(moment: datetime, unit: str) -> datetime | None:
    if unit == "milliseconds":
        return moment
    cleared = ("microsecond", "second", "minute", "hour")[
        : len(_UNITS) - 1 - _UNITS.index(unit)
    ]
    wall = moment.replace(tzinfo=None, **dict.fromkeys(cleared, 0))
    if unit in ("months", "quarters", "years"):
        month = {"months": wall.month, "quarters": (wall.month - 1) // 3 * 3 + 1}
        wall = wall.replace(month=month.get(unit, 1), day=1)
    try:
        if unit == "weeks":
            wall -= timedelta(days=wall.weekday())
        return lx.from_wall(wall, lx.offset_minutes(moment))
    except (OverflowError, ValueError):  # before year 1
        return None


def _end_of(moment: datetime, unit: str) -> datetime | None:
    following = _plus(moment, {unit: 1})
    start = None if following is None else _start_of(following, unit)
    return None if start is None else _from_ms(lx.epoch_ms(start) - 1)


def _calendar_count(unit: str, a: datetime, b: datetime) -> int:
    if unit == "years":
        return b.year - a.year
    if unit == "quarters":
        return (b.month - 1) // 3 - (a.month - 1) // 3 + (b.year - a.year) * 4
    if unit == "months":
        return b.month - a.month + (b.year - a.year) * 12
    days = (b.date() - a.date()).days
    return int(days / 7) if unit == "weeks" else days


def _diff(a: datetime, b: datetime, unit: str) -> float | None:
    """Luxon ``a.diff(b, unit).get(unit)``: ``a − b``, fractional in calendar units."""
    later_other = lx.epoch_ms(b) > lx.epoch_ms(a)
    earlier, later = (a, b) if later_other else (b, a)
    if unit in _UNIT_MS:
        result = (lx.epoch_ms(later) - lx.epoch_ms(earlier)) / _UNIT_MS[unit]
    else:
        count = _calendar_count(unit, earlier, later)
        high = _plus(earlier, {unit: count})
        cursor, moved = high, False
        if high is not None and high > later:
            count, moved = count - 1, True
            cursor = _plus(earlier, {unit: count})
            if cursor is not None and cursor > later:
                high, count = cursor, count - 1
                cursor = _plus(earlier, {unit: count})
        if cursor is None or high is None:
            return None
        remaining = lx.epoch_ms(later) - lx.epoch_ms(cursor)
        if high < later:
            high, moved = _plus(cursor, {unit: 1}), True
            if high is None:
                return None
        span = lx.epoch_ms(high) - lx.epoch_ms(cursor)
        result = count + remaining / span if moved and span else count
    return -result if later_other else result


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def _relative(moment: datetime, now: datetime) -> str | None:
    """Luxon ``toRelative()`` in en-US: ``in 2 days``, ``3 hours ago``."""
    count: float = -0.0 if now > moment else 0.0
    unit = "seconds"
    for unit in _RELATIVE_UNITS:
        amount = _diff(moment, now, unit)
        if amount is None:
            return None
        if abs(amount) >= 1:
            count = float(math.trunc(amount))
            break
    size = int(abs(count))
    name = unit[:-1] if size == 1 else unit
    if math.copysign(1.0, count) < 0:
        return f"{size:,} {name} ago"
    return f"in {size:,} {name}"


# -- the built-ins ----------------------------------------------------------------------


@TABLE.register("now")
def now(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The current time as an ISO string."""
    return _to_iso(_now(ctx))


@TABLE.register("date")
def date_(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Today as ``yyyy-MM-dd``, or the current time in a Luxon format."""
    fmt = arg(args, 0)
    return _format(_now(ctx), fmt) if truthy(fmt) else _iso_date(_now(ctx))


@TABLE.register("time")
def time_(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The current time as ``HH:mm:ss.SSS±hh:mm``, or in a Luxon format."""
    fmt = arg(args, 0)
    return _format(_now(ctx), fmt) if truthy(fmt) else _iso_time(_now(ctx))


@TABLE.register("parse_date")
def parse_date(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Read an ISO date, or a date in a Luxon format; the ISO string or null."""
    text, fmt = arg(args, 0), arg(args, 1)
    if not truthy(text):
        return None
    if not truthy(fmt):
        return _iso_or_none(_from_iso(to_string(text), _now(ctx)))
    source = to_string(text)
    if len(source) > ctx.limits.max_regex_input:
        raise ExpressionLimitError("parse_date: the text is too long to parse")
    try:
        moment = lx.parse_with_format(source, to_string(fmt), _now(ctx))
    except ValueError as error:
        raise ExpressionLimitError(f"parse_date: {error}") from None
    return _iso_or_none(moment)


@TABLE.register("format_date")
def format_date(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Format an ISO date with Luxon tokens (``yyyy-MM-dd HH:mm``); null if invalid."""
    moment = _read(ctx, arg(args, 0))
    if moment is None:
        return None
    fmt = arg(args, 1)
    if fmt is None or fmt is UNDEFINED:
        raise ExpressionTypeError("format_date: the format is missing")
    return _format(moment, fmt)


def _shift(ctx: CallContext, args: Sequence[Value], sign: int) -> Value:
    moment = _read(ctx, arg(args, 0))
    duration = _duration(arg(args, 1))
    if moment is None or duration is None:
        return None
    return _iso_or_none(_plus(moment, duration, sign))


@TABLE.register("add_time")
def add_time(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Add an ISO duration (``P1D``) or a ``{days: 1}`` object to a date."""
    return _shift(ctx, args, 1)


@TABLE.register("subtract_time")
def subtract_time(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Subtract an ISO duration or a duration object from a date."""
    return _shift(ctx, args, -1)


@TABLE.register("diff")
def diff(ctx: CallContext, args: Sequence[Value]) -> Value:
    """``a − b`` in a unit (default days), fractional; null if a date is invalid."""
    a, b = _read(ctx, arg(args, 0)), _read(ctx, arg(args, 1))
    if a is None or b is None:
        return None
    unit = arg(args, 2)
    result = _diff(a, b, _unit("days" if unit is UNDEFINED else unit))
    return None if result is None else _number(result)


@TABLE.register("timestamp")
def timestamp(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The current time in milliseconds since the epoch."""
    return lx.epoch_ms(_now(ctx))


@TABLE.register("from_timestamp")
def from_timestamp(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The ISO string of a time in epoch milliseconds (null when out of range)."""
    millis = arg(args, 0)
    if isinstance(millis, bool) or not isinstance(millis, int | float):
        raise ExpressionTypeError(
            f"from_timestamp: {to_string(millis)} is not a number"
        )
    if not abs(millis) <= 8.64e15:  # NaN and infinities too
        return None
    moment = _from_ms(math.trunc(millis))
    if moment is None or millis == int(millis):
        return _iso_or_none(moment)
    offset = lx.offset_minutes(moment) * 60_000  # Luxon truncates the local time
    return _iso_or_none(_from_ms(math.trunc(millis + offset) - offset))


def _unit_of(ctx: CallContext, args: Sequence[Value]) -> tuple[datetime, str] | None:
    moment = _read(ctx, arg(args, 0))
    return None if moment is None else (moment, _unit(arg(args, 1)))


@TABLE.register("start_of")
def start_of(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The first millisecond of the year/quarter/month/week/day/hour/... of a date."""
    found = _unit_of(ctx, args)
    return None if found is None else _iso_or_none(_start_of(*found))


@TABLE.register("end_of")
def end_of(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The last millisecond of the unit a date is in."""
    found = _unit_of(ctx, args)
    return None if found is None else _iso_or_none(_end_of(*found))


def _parts(moment: datetime) -> Mapping[str, Value]:
    week_year, week, weekday = lx.week_data(moment.date())
    leap = calendar.isleap(moment.year)
    names = ("year", "month", "day", "hour", "minute", "second")
    return {name: getattr(moment, name) for name in names} | {
        "quarter": (moment.month + 2) // 3,
        "millisecond": moment.microsecond // 1000,
        "weekday": weekday,
        "ordinal": moment.timetuple().tm_yday,
        "weekNumber": week,
        "weekYear": week_year,
        "daysInMonth": calendar.monthrange(moment.year, moment.month)[1],
        "daysInYear": 366 if leap else 365,
        "isInLeapYear": leap,
        "isWeekend": weekday >= 6,
        "offset": lx.offset_minutes(moment),
        "ts": lx.epoch_ms(moment),
        "monthShort": lx.MONTHS[moment.month - 1][:3],
        "monthLong": lx.MONTHS[moment.month - 1],
        "weekdayShort": lx.WEEKDAYS[weekday - 1][:3],
        "weekdayLong": lx.WEEKDAYS[weekday - 1],
        "zoneName": lx.zone_name(moment),
        "offsetNameShort": lx.zone_short_name(moment),
    }


@TABLE.register("get_part")
def get_part(ctx: CallContext, args: Sequence[Value]) -> Value:
    """A Luxon getter of a date (``year``, ``weekday`` 1=Mon…7=Sun, ``weekNumber``...)."""
    moment = _read(ctx, arg(args, 0))
    if moment is None:
        return None
    part = arg(args, 1)
    return _parts(moment).get(part, UNDEFINED) if isinstance(part, str) else UNDEFINED


def _compare(ctx: CallContext, args: Sequence[Value]) -> int | None:
    a, b = _read(ctx, arg(args, 0)), _read(ctx, arg(args, 1))
    if a is None or b is None:
        return None
    return (lx.epoch_ms(a) > lx.epoch_ms(b)) - (lx.epoch_ms(a) < lx.epoch_ms(b))


@TABLE.register("is_before")
def is_before(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether date a is before date b (false if either is invalid)."""
    return _compare(ctx, args) == -1


@TABLE.register("is_after")
def is_after(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether date a is after date b (false if either is invalid)."""
    return _compare(ctx, args) == 1


@TABLE.register("relative")
def relative(ctx: CallContext, args: Sequence[Value]) -> Value:
    """How far a date is from now, in words: ``in 2 days``, ``3 hours ago``."""
    moment = _read(ctx, arg(args, 0))
    return None if moment is None else _relative(moment, _now(ctx))


@TABLE.register("duration")
def duration(ctx: CallContext, args: Sequence[Value]) -> Value:
    """A duration (``1h30m``, ``PT5S``, ``500``) in milliseconds, or null."""
    try:
        millis = parse_duration_ms(arg(args, 0))
    except OverflowError:  # an int beyond any float
        return None
    return None if millis is None else _number(millis)
