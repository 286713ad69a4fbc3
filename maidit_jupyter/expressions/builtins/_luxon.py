"""Luxon 3 emulation for the date built-ins: format tokens, format parsing, fields.

For aware :class:`~datetime.datetime` values in the local zone, millisecond precision,
English locale: ``toFormat`` (:func:`format_datetime`: tokens, quoted literals, unknown
letters kept, the ``D``/``t``/``f`` macros as en-US prints them), ``fromFormat``
(:func:`parse_with_format`) and ``fromObject`` (:func:`from_fields`: missing larger
units from "now", smaller ones at their start, out-of-range fields invalid). Invalid
dates are ``None``, and so are dates outside years 1–9999 (Python's range).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

__all__ = [
    "MAX_PARSE_FIELDS",
    "MONTHS",
    "WEEKDAYS",
    "epoch_ms",
    "format_datetime",
    "format_offset",
    "from_fields",
    "from_ms",
    "from_wall",
    "iana_zone",
    "offset_minutes",
    "parse_with_format",
    "split_format",
    "week_data",
    "zone_name",
    "zone_short_name",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
MONTHS: tuple[str, ...] = ("January", "February", "March", "April", "May", "June")
MONTHS += ("July", "August", "September", "October", "November", "December")
WEEKDAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday")
WEEKDAYS += ("Friday", "Saturday", "Sunday")
_US_REGIONS = {"E": "Eastern", "C": "Central", "M": "Mountain", "P": "Pacific"}
_US_REGIONS |= {"AK": "Alaska", "H": "Hawaii-Aleutian"}
_US_ZONES = {
    f"{key}{kind[0]}T": f"{region} {kind} Time"
    for key, region in _US_REGIONS.items()
    for kind in ("Standard", "Daylight")
}
#: most fields a parse format may have (adjacent variable-width fields backtrack).
MAX_PARSE_FIELDS = 20


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def offset_minutes(moment: datetime) -> int:
    """The UTC offset of ``moment`` in whole minutes."""
    offset = moment.utcoffset() or timedelta(0)
    return int(offset.total_seconds() / 60)


def format_offset(minutes: int, style: str) -> str:
    """Luxon's offset formats: ``narrow`` +5:30, ``short`` +05:30, ``techie`` +0530."""
    hours, mins = divmod(abs(minutes), 60)
    sign = "+" if minutes >= 0 else "-"
    if style == "narrow":
        return f"{sign}{hours}" + (f":{mins}" if mins else "")
    if style == "techie":
        return f"{sign}{hours:02d}{mins:02d}"
    return f"{sign}{hours:02d}:{mins:02d}"


def zone_short_name(moment: datetime) -> str:
    """What Intl (en-US) calls the zone briefly: ``UTC``, ``EST``, ``GMT+1``."""
    name = moment.tzname() or ""
    minutes = offset_minutes(moment)
    if name in _US_ZONES:
        return name
    if minutes == 0:
        return "UTC" if name in ("UTC", "UCT", "Universal", "Zulu") else "GMT"
    return "GMT" + format_offset(minutes, "narrow")


def _zone_long_name(moment: datetime) -> str:
    short = zone_short_name(moment)
    if short == "UTC":
        return "Coordinated Universal Time"
    if short in _US_ZONES:
        return _US_ZONES[short]
    return "GMT" + format_offset(offset_minutes(moment), "short")


def zone_name(moment: datetime) -> str:
    """The local zone's IANA name where it can be found (``TZ``, /etc/localtime)."""
    configured = os.environ.get("TZ", "").lstrip(":")
    if "/" in configured or configured == "UTC":
        return configured
    try:
        link = os.readlink("/etc/localtime")
    except OSError:
        link = ""
    if "zoneinfo/" in link:
        return link.split("zoneinfo/", 1)[1]
    return moment.tzname() or "UTC"


def from_ms(millis: int) -> datetime:
    """The local time ``millis`` after the epoch (OverflowError out of range)."""
    return (EPOCH + timedelta(milliseconds=millis)).astimezone()


def from_wall(wall: datetime, guess: int, zone: tzinfo | None = None) -> datetime:
    """Luxon's ``fixOffset``: the local time of a wall-clock time in ``zone``.

    ``guess`` is the offset (minutes) tried first, which decides the repeated hour when
    clocks go back; a time skipped when clocks go forward moves forward.

    Raises:
        OverflowError: out of range.
    """
    local = (wall - _NAIVE_EPOCH) // timedelta(milliseconds=1)

    def offset_at(millis: int) -> int:  # milliseconds: old zones have odd seconds
        moment = (EPOCH + timedelta(milliseconds=millis)).astimezone(zone)
        return (moment.utcoffset() or timedelta(0)) // timedelta(milliseconds=1)

    first = guess * 60_000
    utc = local - first
    second = offset_at(utc)
    if second != first:
        utc -= second - first
        third = offset_at(utc)
        if third != second:
            utc = local - min(second, third)
    return from_ms(utc)


def iana_zone(name: str) -> tzinfo | None:
    """The zone called ``name``, or None when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return None


def _week_offset(year: int, min_days: int, start: int) -> int:
    first = (date(year, 1, min_days).isoweekday() - start + 7) % 7 + 1
    return -first + min_days - 1


def _weeks_in_year(year: int, min_days: int, start: int) -> int:
    days = 366 if date(year, 12, 31).timetuple().tm_yday == 366 else 365
    following = _week_offset(year + 1, min_days, start) if year < 9999 else 0
    return (days - _week_offset(year, min_days, start) + following) // 7


def week_data(day: date, min_days: int = 4, start: int = 1) -> tuple[int, int, int]:
    """(week year, week number, weekday) as Luxon computes them; ISO by default."""
    ordinal = day.timetuple().tm_yday
    weekday = (day.isoweekday() - start + 7) % 7 + 1
    number = (ordinal - weekday + 14 - min_days) // 7
    if number < 1:
        return day.year - 1, _weeks_in_year(day.year - 1, min_days, start), weekday
    if number > _weeks_in_year(day.year, min_days, start):
        return day.year + 1, 1, weekday
    return day.year, number, weekday


def _num(value: int, pad: int = 0) -> str:
    return f"-{-value:0{pad}d}" if value < 0 else f"{value:0{pad}d}"


_NUMBERS: dict[str, Callable[[datetime], int]] = {
    "S": lambda m: m.microsecond // 1000,
    "s": lambda m: m.second,
    "m": lambda m: m.minute,
    "h": lambda m: m.hour % 12 or 12,
    "H": lambda m: m.hour,
    "d": lambda m: m.day,
    "E": lambda m: m.isoweekday(),
    "M": lambda m: m.month,
    "y": lambda m: m.year,
    "o": lambda m: m.timetuple().tm_yday,
    "q": lambda m: (m.month + 2) // 3,
    "k": lambda m: week_data(m.date())[0],
    "W": lambda m: week_data(m.date())[1],
    "i": lambda m: week_data(m.date(), 1, 7)[0],  # en-US weeks start on Sunday
    "n": lambda m: week_data(m.date(), 1, 7)[1],
}
_NUMBERS |= {"c": _NUMBERS["E"], "L": _NUMBERS["M"], "u": _NUMBERS["S"]}
# token: (field letter, zero padding); a padding of -2 keeps the last two digits.
_PADS = {letter: (letter, 0) for letter in "SsmhHdcELMyoqWn"}
_PADS |= {letter * 2: (letter, 2) for letter in "smhHdLMqWn"}
_PADS |= {"SSS": ("S", 3), "u": ("S", 3), "ooo": ("o", 3), "yyyyyy": ("y", 6)}
_PADS |= {a * 2: (a, -2) for a in "yki"} | {a * 4: (a, 4) for a in "yki"}
_TEXT: dict[str, Callable[[datetime], str]] = {
    "uu": lambda m: _num(m.microsecond // 10000, 2),
    "uuu": lambda m: _num(m.microsecond // 100000),
    "Z": lambda m: format_offset(offset_minutes(m), "narrow"),
    "ZZ": lambda m: format_offset(offset_minutes(m), "short"),
    "ZZZ": lambda m: format_offset(offset_minutes(m), "techie"),
    "ZZZZ": zone_short_name,
    "ZZZZZ": _zone_long_name,
    "z": zone_name,
    "a": lambda m: "AM" if m.hour < 12 else "PM",
    "G": lambda m: "AD",
    "GG": lambda m: "Anno Domini",
    "GGGGG": lambda m: "A",
    "X": lambda m: _num(epoch_ms(m) // 1000),
    "x": lambda m: _num(epoch_ms(m)),
}


def _field(moment: datetime, token: str) -> str | None:
    """One format token, or None if Luxon does not know it."""
    if token in _TEXT:
        return _TEXT[token](moment)
    if token in _PADS:
        letter, pad = _PADS[token]
        value = _NUMBERS[letter](moment)
        return _num(int(str(value)[-2:]), 2) if pad == -2 else _num(value, pad)
    if token[0] in "EcML" and 3 <= len(token) <= 5:
        words = WEEKDAYS if token[0] in "Ec" else MONTHS
        word = words[moment.weekday() if token[0] in "Ec" else moment.month - 1]
        return {3: word[:3], 4: word, 5: word[0]}[len(token)]
    return None


# Luxon's locale macros, written out as they print in en-US.
_DATES = ("M/d/y", "MMM d, y", "MMMM d, y", "EEEE, MMMM d, y")
_TIMES = ("h:mm a", "h:mm:ss a", "h:mm:ss a ZZZZ", "h:mm:ss a ZZZZZ")
_TIMES_24 = ("HH:mm", "HH:mm:ss", "HH:mm:ss ZZZZ", "HH:mm:ss ZZZZZ")
_MACROS: dict[str, str] = {}
for _size in range(1, 5):
    _joint = ", " if _size < 3 else " 'at' "
    _MACROS["D" * _size] = _DATES[_size - 1]
    _MACROS["t" * _size] = _TIMES[_size - 1]
    _MACROS["T" * _size] = _TIMES_24[_size - 1]
    _MACROS["f" * _size] = (
        _DATES[_size - 1] + _joint + _TIMES[0] + " ZZZZ" * (_size == 3)
    )
    _MACROS["F" * _size] = (
        _DATES[_size - 1] + _joint + _TIMES[1] + " ZZZZ" * (_size == 3)
    )
_MACROS["ffff"] += " ZZZZZ"
_MACROS["FFFF"] += " ZZZZZ"


def split_format(fmt: str) -> list[tuple[bool, str]]:
    """Luxon's ``parseFormat``: runs of one letter, quoted literals, whitespace runs.

    Returns ``(is_literal, text)`` pairs; ``''`` is a literal quote.
    """
    splits: list[tuple[bool, str]] = []
    current, run, quoted = "", "", False
    for char in fmt:
        if char == "'":
            if run or quoted:
                splits.append((quoted or run.isspace(), run or "'"))
            current, run, quoted = "", "", not quoted
        elif quoted or char == current:
            run += char
        else:
            if run:
                splits.append((run.isspace(), run))
            current = run = char
    if run:
        splits.append((quoted or run.isspace(), run))
    return splits


def format_datetime(moment: datetime, fmt: str) -> str:
    """Luxon ``DateTime.toFormat(fmt)`` in the English locale."""
    out: list[str] = []
    for literal, token in split_format(fmt):
        text = None if literal else _field(moment, token)
        if text is None and not literal and token in _MACROS:
            text = format_datetime(moment, _MACROS[token])
        out.append(token if text is None else text)
    return "".join(out)


class _Unit(NamedTuple):
    regex: str
    groups: int  # capturing groups inside ``regex``
    read: Callable[[tuple[str | None, ...]], Any]


def _int_unit(digits: str, post: Callable[[int], int]) -> _Unit:
    return _Unit(f"[0-9]{digits}", 0, lambda g: post(int(g[0] or 0)))


_FRACTIONS = {"u": "{1,9}", "uu": "{1,2}", "uuu": ""}  # kept as text: fractions


def _untruncate(year: int) -> int:
    return year if year > 99 else (1900 + year if year > 60 else 2000 + year)


def _names(names: tuple[str, ...], start: int) -> _Unit:
    lowered = [name.lower() for name in names]
    regex = "|".join(re.escape(name).replace(r"\ ", "[ \u00a0]") for name in names)
    return _Unit(
        regex,
        0,
        lambda g: lowered.index((g[0] or "").replace("\u00a0", " ").lower()) + start,
    )


def _offset(g: tuple[str | None, ...]) -> int:
    hours_text, minutes = g[1] or "+0", int(g[2] or 0)
    hours = int(hours_text)
    return hours * 60 + (-minutes if hours_text.startswith("-") else minutes)


# token:digits for the numeric tokens ("yy" and "kk" also untruncate the year).
_DIGITS = "y:1,6 yy:2,4 yyyy:4 yyyyy:4,6 yyyyyy:6 o:1,3 ooo:3 S:1,3 SSS:3 kkkk:4 kk:2,4"
_DIGITS += " E:1 c:1" + "".join(f" {t}:1,2 {t}{t}:2" for t in "MLdHhmqsW")
_PARSERS = {
    token: _int_unit("{" + digits + "}", _untruncate if token in ("yy", "kk") else int)
    for token, digits in (spec.split(":") for spec in _DIGITS.split())
}
_PARSERS |= {t: _Unit(f"[0-9]{d}", 0, lambda g: g[0]) for t, d in _FRACTIONS.items()}
for _letters, _words in (("ML", MONTHS), ("Ec", WEEKDAYS)):
    for _letter in _letters:
        _PARSERS[_letter * 3] = _names(tuple(word[:3] for word in _words), 1)
        _PARSERS[_letter * 4] = _names(_words, 1)
_PARSERS |= {"G": _names(("BC", "AD"), 0), "a": _names(("AM", "PM"), 0)}
_PARSERS["GG"] = _names(("Before Christ", "Anno Domini"), 0)
_PARSERS["Z"] = _PARSERS["ZZ"] = _Unit(r"([+-][0-9]{1,2})(?::([0-9]{2}))?", 2, _offset)
_PARSERS["ZZZ"] = _Unit(r"([+-][0-9]{1,2})([0-9]{2})?", 2, _offset)
_PARSERS["z"] = _Unit(r"[a-z_+-/]{1,256}?", 0, lambda g: g[0])
_FIELDS = {"S": "millisecond", "s": "second", "m": "minute", "h": "hour", "H": "hour"}
_FIELDS |= {"d": "day", "o": "ordinal", "L": "month", "M": "month", "y": "year"}
_FIELDS |= {"E": "weekday", "c": "weekday", "W": "weekNumber", "k": "weekYear"}
_FIELDS |= {"q": "quarter"}


def parse_with_format(text: str, fmt: str, now: datetime) -> datetime | None:
    """Luxon ``DateTime.fromFormat(text, fmt)``: the local date, or None if invalid.

    Raises:
        ValueError: the format has more than :data:`MAX_PARSE_FIELDS` fields.
    """
    tokens = split_format(fmt)
    units = [None if literal else _PARSERS.get(token) for literal, token in tokens]
    if sum(unit is not None for unit in units) > MAX_PARSE_FIELDS:
        raise ValueError(f"a date format may have at most {MAX_PARSE_FIELDS} fields")
    regex = "".join(
        f"({re.escape(token) if unit is None else unit.regex})"
        for (_, token), unit in zip(tokens, units, strict=True)
    )
    match = re.fullmatch(regex, text, re.IGNORECASE)
    if match is None:
        return None
    found: dict[str, Any] = {}
    groups, index = match.groups(), 0
    for (_, token), unit in zip(tokens, units, strict=True):
        if unit is not None:  # None: a literal
            found[token[0]] = unit.read(groups[index : index + unit.groups + 1])
        index += 1 + (unit.groups if unit is not None else 0)
    return _from_matches(found, now)


def _from_matches(found: dict[str, Any], now: datetime) -> datetime | None:
    zone: tzinfo | None = None
    if "z" in found:
        zone = iana_zone(found["z"])
        if zone is None:
            return None
    if "Z" in found and zone is None:
        zone = timezone(timedelta(minutes=found["Z"]))
    if "q" in found:
        found["M"] = (found["q"] - 1) * 3 + 1
    if "h" in found:
        if found["h"] < 12 and found.get("a") == 1:
            found["h"] += 12
        elif found["h"] == 12 and found.get("a") == 0:
            found["h"] = 0
    if found.get("G") == 0 and found.get("y"):
        found["y"] = -found["y"]
    if "u" in found:
        found["S"] = int(float("0." + found["u"]) * 1000)
    if "a" in found and "H" in found:
        return None  # Luxon: "Can't include meridiem when specifying 24-hour format"
    fields = {_FIELDS[key]: value for key, value in found.items() if key in _FIELDS}
    if not fields and zone is None:
        return None
    return from_fields(fields, zone, now)


_TIME_UNITS = ("hour", "minute", "second", "millisecond")


def _clock(moment: datetime) -> tuple[int, int, int, int]:
    return moment.hour, moment.minute, moment.second, moment.microsecond // 1000


_TIME_DEFAULTS = dict.fromkeys(_TIME_UNITS, 0)


def from_fields(
    fields: Mapping[str, int], zone: tzinfo | None, now: datetime
) -> datetime | None:
    """Luxon ``DateTime.fromObject``: a local date from calendar fields, or None.

    Args:
        fields: any of year month day ordinal weekYear weekNumber weekday hour minute
            second millisecond.
        zone: the zone the fields are in (None: the local zone).
        now: the current time, for the larger units that are missing.
    """
    here = now.astimezone(zone) if zone is not None else now.astimezone()
    has_ordinal = "ordinal" in fields
    gregorian = any(key in fields for key in ("year", "month", "day"))
    week_def = bool(fields.get("weekYear") or fields.get("weekNumber"))
    if (week_def and (gregorian or has_ordinal)) or (
        has_ordinal and ("month" in fields or "day" in fields)
    ):
        return None  # Luxon throws ConflictingSpecificationError
    now_values = dict(zip(_TIME_UNITS, _clock(here), strict=True))
    if week_def or (fields.get("weekday") and not gregorian):
        year, number, weekday = week_data(here.date())
        now_values |= {"weekYear": year, "weekNumber": number, "weekday": weekday}
        defaults = {"weekNumber": 1, "weekday": 1}
        units: tuple[str, ...] = ("weekYear", "weekNumber", "weekday")
    elif has_ordinal:
        now_values |= {"year": here.year, "ordinal": here.timetuple().tm_yday}
        defaults, units = {"ordinal": 1}, ("year", "ordinal")
    else:
        now_values |= {"year": here.year, "month": here.month, "day": here.day}
        defaults, units = {"month": 1, "day": 1}, ("year", "month", "day")
    values, found_first = dict(fields), False
    for unit in units + _TIME_UNITS:
        if unit in fields:
            found_first = True
        else:
            values[unit] = (
                (defaults | _TIME_DEFAULTS)[unit] if found_first else now_values[unit]
            )
    try:
        moment = _compute(values, units, zone, offset_minutes(here))
    except (ValueError, OverflowError):
        return None
    weekday = fields.get("weekday", 0)
    if moment is not None and weekday and gregorian:
        wall = moment.astimezone(zone) if zone is not None else moment
        if weekday != wall.isoweekday():
            return None  # "mismatched weekday"
    return moment


def _compute(
    values: dict[str, int], units: tuple[str, ...], zone: tzinfo | None, guess: int
) -> datetime | None:
    if units[0] == "weekYear":
        year, number, weekday = (values[unit] for unit in units)
        if not 1 <= number <= _weeks_in_year(year, 4, 1) or not 1 <= weekday <= 7:
            return None
        day = date.fromisocalendar(year, number, weekday)
    elif units[1] == "ordinal":
        first = date(values["year"], 1, 1)
        day = first + timedelta(days=values["ordinal"] - 1)
        if not values["ordinal"] >= 1 or day.year != first.year:
            return None
    else:
        day = date(values["year"], values["month"], values["day"])
    hour, minute, second, millis = (values[unit] for unit in _TIME_UNITS)
    if hour == 24 and minute == second == millis == 0:
        wall = datetime.combine(day, time()) + timedelta(days=1)
    else:
        wall = datetime.combine(day, time(hour, minute, second, millis * 1000))
    return from_wall(wall, guess, zone)
