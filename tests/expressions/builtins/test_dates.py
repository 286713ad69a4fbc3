"""The date built-ins against what Luxon 3 prints, under TZ=UTC and the fixed test clock.

The clock reads 2026-02-07T15:47:17.900Z (a Saturday, ISO week 6, day 38 of the year).
Expected values were checked against Luxon 3.7 in Node with the same clock and zone.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from maidit_jupyter.errors import ExpressionLimitError, ExpressionTypeError
from maidit_jupyter.expressions.limits import EvaluationLimits
from maidit_jupyter.expressions.values import UNDEFINED
from tests.expressions.builtins.context import (
    Arrow,
    TestContext,
    call,
    expect as check,
)

NOW = "2026-02-07T15:47:17.900+00:00"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((), NOW, id="iso-with-milliseconds-and-offset"),
        pytest.param(("ignored",), NOW, id="arguments-ignored"),
    ],
)
def test_now(args: tuple[Any, ...], expected: Any) -> None:
    check("now", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((), "2026-02-07", id="iso-date"),
        pytest.param(("yyyy-MM-dd HH:mm",), "2026-02-07 15:47", id="luxon-tokens"),
        pytest.param(("dd/MM/yy",), "07/02/26", id="two-digit-year"),
        pytest.param(("EEEE, MMMM d",), "Saturday, February 7", id="names"),
        pytest.param(("EEE MMM MMMMM EEEEE",), "Sat Feb F S", id="short-and-narrow"),
        pytest.param(("h:mm a",), "3:47 PM", id="twelve-hour"),
        pytest.param(("hh 'o''clock'",), "03 oclock", id="adjacent-quoted-literals"),
        pytest.param(("'' HH",), "' 15", id="doubled-quote-is-a-quote"),
        pytest.param(("'at' HH:mm",), "at 15:47", id="quoted-word"),
        pytest.param(("o ooo q W WW kkkk",), "38 038 1 6 06 2026", id="ordinal-week"),
        pytest.param(("Z ZZ ZZZ",), "+0 +00:00 +0000", id="offsets"),
        pytest.param(
            ("ZZZZ|ZZZZZ",), "UTC|Coordinated Universal Time", id="zone-names"
        ),
        pytest.param(("X x",), "1770479237 1770479237900", id="epoch"),
        pytest.param(("S SSS u s ss",), "900 900 900 17 17", id="seconds"),
        pytest.param(("G GG",), "AD Anno Domini", id="era"),
        pytest.param(("YYYY-DD",), "YYYY-Feb 7, 2026", id="unknown-letters-kept"),
        pytest.param(
            ("D|DD|t|T|F",),
            "2/7/2026|Feb 7, 2026|3:47 PM|15:47|2/7/2026, 3:47:17 PM",
            id="macros",
        ),
        pytest.param(("",), "2026-02-07", id="empty-format-is-iso"),
        pytest.param((None,), "2026-02-07", id="null-format-is-iso"),
    ],
)
def test_date(args: tuple[Any, ...], expected: Any) -> None:
    check("date", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((), "15:47:17.900+00:00", id="iso-time-with-offset"),
        pytest.param(("HH:mm",), "15:47", id="formatted"),
        pytest.param(("hh:mm:ss a",), "03:47:17 PM", id="twelve-hour"),
        pytest.param((0,), "15:47:17.900+00:00", id="falsy-format-is-iso"),
    ],
)
def test_time(args: tuple[Any, ...], expected: Any) -> None:
    check("time", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("2026-02-07T15:47:17.900Z",), NOW, id="utc"),
        pytest.param(("2026-02-07",), "2026-02-07T00:00:00.000+00:00", id="date-only"),
        pytest.param(("2026",), "2026-01-01T00:00:00.000+00:00", id="year-only"),
        pytest.param(
            ("202602",), "2026-02-01T00:00:00.000+00:00", id="basic-year-month"
        ),
        pytest.param(
            ("20260207T154717",), "2026-02-07T15:47:17.000+00:00", id="basic-format"
        ),
        pytest.param(("2026-W06-6",), "2026-02-07T00:00:00.000+00:00", id="week-date"),
        pytest.param(("2026-038",), "2026-02-07T00:00:00.000+00:00", id="ordinal-date"),
        pytest.param(("15:47",), "2026-02-07T15:47:00.000+00:00", id="time-is-today"),
        pytest.param(
            ("2026-02-07T24:00",), "2026-02-08T00:00:00.000+00:00", id="hour-24"
        ),
        pytest.param(
            ("2026-02-07T15:47:17+02:00",),
            "2026-02-07T13:47:17.000+00:00",
            id="offset-converted-to-local",
        ),
        pytest.param(
            ("2026-02-07T10:00[Europe/Paris]",),
            "2026-02-07T09:00:00.000+00:00",
            id="iana-zone",
        ),
        pytest.param(
            ("2026-02-07T15:47:17.123456Z",),
            "2026-02-07T15:47:17.123+00:00",
            id="fraction-truncated-to-ms",
        ),
        pytest.param(("2026-02-07 10:00",), None, id="space-is-not-iso"),
        pytest.param(("2026-02-30",), None, id="no-such-day"),
        pytest.param(("2026-02-07T24:01",), None, id="hour-24-with-minutes"),
        pytest.param(("2026-02-07T10:00[Mars/Base]",), None, id="unknown-zone"),
        pytest.param(("nonsense",), None, id="nonsense"),
        pytest.param(("",), None, id="empty"),
        pytest.param((None,), None, id="null"),
        pytest.param((2026,), "2026-01-01T00:00:00.000+00:00", id="number-coerced"),
        pytest.param(
            ("07/02/2026", "dd/MM/yyyy"), "2026-02-07T00:00:00.000+00:00", id="format"
        ),
        pytest.param(
            ("3:30 pm", "h:mm a"), "2026-02-07T15:30:00.000+00:00", id="meridiem"
        ),
        pytest.param(
            ("12:05 AM", "hh:mm a"), "2026-02-07T00:05:00.000+00:00", id="midnight"
        ),
        pytest.param(("7/2/99", "d/M/yy"), "1999-02-07T00:00:00.000+00:00", id="yy"),
        pytest.param(
            ("feb 7 2026", "MMM d yyyy"),
            "2026-02-07T00:00:00.000+00:00",
            id="month-name-any-case",
        ),
        pytest.param(
            ("Fri, 7 Feb 2026", "EEE, d MMM yyyy"), None, id="mismatched-weekday"
        ),
        pytest.param(
            ("2026-02-07 10:00 +0530", "yyyy-MM-dd HH:mm ZZZ"),
            "2026-02-07T04:30:00.000+00:00",
            id="parsed-offset",
        ),
        pytest.param(
            ("2026-W06", "kkkk-'W'WW"),
            "2026-02-02T00:00:00.000+00:00",
            id="week-year",
        ),
        pytest.param(
            ("2026 Q2", "yyyy 'Q'q"), "2026-04-01T00:00:00.000+00:00", id="quarter"
        ),
        pytest.param(("13/2026", "MM/yyyy"), None, id="month-out-of-range"),
        pytest.param(("2026-2-7", "yyyy-MM-dd"), None, id="two-digit-fields"),
        pytest.param((" 2026", "yyyy"), None, id="whole-input-must-match"),
        pytest.param(("x", "'x'"), None, id="nothing-parsed"),
        pytest.param(("15 PM", "H a"), None, id="meridiem-with-24-hour"),
        pytest.param(("1", "d " * 21), ExpressionLimitError, id="too-many-fields"),
    ],
)
def test_parse_date(args: tuple[Any, ...], expected: Any) -> None:
    check("parse_date", args, expected)


def test_parse_date_refuses_long_text() -> None:
    context = TestContext(EvaluationLimits(max_regex_input=8))
    with pytest.raises(ExpressionLimitError):
        call("parse_date", "2026-02-07 10", "yyyy-MM-dd HH", context=context)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((NOW, "yyyy-MM-dd"), "2026-02-07", id="date"),
        pytest.param(
            ("2021-01-03T23:59:59.999", "kkkk-'W'WW E o"),
            "2020-W53 7 3",
            id="iso-week-of-previous-year",
        ),
        pytest.param(
            ("2026-01-01T00:05:09.007", "h:m:s.S a"), "12:5:9.7 AM", id="unpadded"
        ),
        pytest.param(
            ("2026-07-04T20:00", "cccc LLLL q"), "Saturday July 3", id="standalone"
        ),
        pytest.param(("0099-06-15", "y yy yyyy"), "99 99 0099", id="small-year"),
        pytest.param(("2026-02-07", "'unterminated"), "unterminated", id="open-quote"),
        pytest.param(("2026-02-07", ""), "", id="empty-format"),
        pytest.param(("bad", "yyyy"), None, id="invalid-date"),
        pytest.param((None, "yyyy"), None, id="null-date"),
        pytest.param((NOW,), ExpressionTypeError, id="missing-format"),
        pytest.param((NOW, None), ExpressionTypeError, id="null-format"),
    ],
)
def test_format_date(args: tuple[Any, ...], expected: Any) -> None:
    check("format_date", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((NOW, "P1D"), "2026-02-08T15:47:17.900+00:00", id="a-day"),
        pytest.param((NOW, "PT1H30M"), "2026-02-07T17:17:17.900+00:00", id="time"),
        pytest.param(
            ("2026-01-31T10:00", "P1M"),
            "2026-02-28T10:00:00.000+00:00",
            id="month-end-clamped",
        ),
        pytest.param(
            ("2024-02-29", "P1Y"), "2025-02-28T00:00:00.000+00:00", id="leap-day"
        ),
        pytest.param((NOW, "P1.5D"), "2026-02-09T03:47:17.900+00:00", id="fraction"),
        pytest.param((NOW, "-P1W"), "2026-01-31T15:47:17.900+00:00", id="negative"),
        pytest.param((NOW, "PT0.5S"), "2026-02-07T15:47:18.400+00:00", id="seconds"),
        pytest.param((NOW, "P"), NOW, id="empty-duration"),
        pytest.param(
            (NOW, {"days": 1, "hours": 2}),
            "2026-02-08T17:47:17.900+00:00",
            id="object",
        ),
        pytest.param(
            (NOW, {"Month": 1, "quarters": 1}),
            "2026-06-07T15:47:17.900+00:00",
            id="object-units-normalized",
        ),
        pytest.param(
            (NOW, {"hours": "2", "days": None}),
            "2026-02-07T17:47:17.900+00:00",
            id="object-values-coerced",
        ),
        pytest.param((NOW, "bad"), None, id="invalid-duration"),
        pytest.param((NOW, "p1d"), None, id="lowercase-p"),
        pytest.param((NOW, {"fortnights": 1}), None, id="unknown-unit"),
        pytest.param((NOW, {"days": True}), None, id="boolean-amount"),
        pytest.param((NOW, {"days": "x"}), None, id="nan-amount"),
        pytest.param((NOW, 5), None, id="number-duration"),
        pytest.param((NOW, None), None, id="null-duration"),
        pytest.param(("nope", "P1D"), None, id="invalid-date"),
        pytest.param(("", "P1D"), None, id="empty-date"),
        pytest.param(("9999-12-31", "P1Y"), None, id="past-year-9999"),
    ],
)
def test_add_time(args: tuple[Any, ...], expected: Any) -> None:
    check("add_time", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((NOW, "P1D"), "2026-02-06T15:47:17.900+00:00", id="a-day"),
        pytest.param(
            ("2026-03-31", "P1M"), "2026-02-28T00:00:00.000+00:00", id="clamped"
        ),
        pytest.param((NOW, "-PT1H"), "2026-02-07T16:47:17.900+00:00", id="negative"),
        pytest.param(
            (NOW, {"milliseconds": 900}), "2026-02-07T15:47:17.000+00:00", id="object"
        ),
        pytest.param((NOW, "PT1,5S"), "2026-02-07T15:47:16.400+00:00", id="comma"),
        pytest.param((NOW, []), None, id="array-duration"),
        pytest.param((None, "P1D"), None, id="null-date"),
    ],
)
def test_subtract_time(args: tuple[Any, ...], expected: Any) -> None:
    check("subtract_time", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("2026-02-10", "2026-02-07T12:00"), 2.5, id="fractional-days"),
        pytest.param(("2026-02-10", "2026-02-07"), 3, id="whole-days-are-int"),
        pytest.param(("2026-02-07", "2026-02-10"), -3, id="negative"),
        pytest.param(
            ("2026-03-10", "2026-02-07T12:00", "months"),
            1.0806451612903225,
            id="months",
        ),
        pytest.param(("2026-03-10", "2026-02-07T12:00", "hours"), 732, id="hours"),
        pytest.param(
            ("2026-03-10", "2026-02-07T12:00", "weeks"), 4.357142857142857, id="weeks"
        ),
        pytest.param(
            ("2026-02-07", "2026-03-10T12:00", "years"),
            -0.0863013698630137,
            id="years",
        ),
        pytest.param(
            ("2026-02-07", "2026-03-10T12:00", "quarters"),
            -0.3539325842696629,
            id="quarters",
        ),
        pytest.param(("2026-02-28", "2026-01-31", "months"), 1, id="month-end"),
        pytest.param(("2026-02-07", "2026-02-07"), 0, id="same"),
        pytest.param(
            ("2026-02-07T00:00:01", "2026-02-07", "second"), 1, id="singular-unit"
        ),
        pytest.param(("2026-02-07", "2026-02-06", "DAYS"), 1, id="unit-any-case"),
        pytest.param(("2026-02-07", "2026-02-06", "ms"), ExpressionTypeError, id="bad"),
        pytest.param(
            ("2026-02-07", "2026-02-06", None), ExpressionTypeError, id="null"
        ),
        pytest.param(("bad", "2026-02-06", "ms"), None, id="invalid-date-first"),
        pytest.param(("2026-02-07", None), None, id="missing-date"),
    ],
)
def test_diff(args: tuple[Any, ...], expected: Any) -> None:
    check("diff", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((), 1770479237900, id="epoch-milliseconds"),
        pytest.param((1,), 1770479237900, id="arguments-ignored"),
    ],
)
def test_timestamp(args: tuple[Any, ...], expected: Any) -> None:
    check("timestamp", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((1770479237900,), NOW, id="now"),
        pytest.param((0,), "1970-01-01T00:00:00.000+00:00", id="epoch"),
        pytest.param((1.5,), "1970-01-01T00:00:00.001+00:00", id="fraction-truncated"),
        pytest.param((-1.5,), "1969-12-31T23:59:59.999+00:00", id="negative-fraction"),
        pytest.param((253402300799999,), "9999-12-31T23:59:59.999+00:00", id="last"),
        pytest.param((253402300800000,), None, id="past-year-9999"),
        pytest.param((8.64e15 + 1,), None, id="past-javascript-range"),
        pytest.param((math.nan,), None, id="nan"),
        pytest.param((10**400,), None, id="int-beyond-float"),
        pytest.param(("123",), ExpressionTypeError, id="string"),
        pytest.param((True,), ExpressionTypeError, id="boolean"),
        pytest.param((), ExpressionTypeError, id="missing"),
    ],
)
def test_from_timestamp(args: tuple[Any, ...], expected: Any) -> None:
    check("from_timestamp", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((NOW, "year"), "2026-01-01T00:00:00.000+00:00", id="year"),
        pytest.param(
            ("2026-05-17T10:11:12.131", "quarter"),
            "2026-04-01T00:00:00.000+00:00",
            id="quarter",
        ),
        pytest.param((NOW, "months"), "2026-02-01T00:00:00.000+00:00", id="month"),
        pytest.param((NOW, "week"), "2026-02-02T00:00:00.000+00:00", id="iso-week"),
        pytest.param((NOW, "day"), "2026-02-07T00:00:00.000+00:00", id="day"),
        pytest.param((NOW, "Hour"), "2026-02-07T15:00:00.000+00:00", id="hour"),
        pytest.param((NOW, "minute"), "2026-02-07T15:47:00.000+00:00", id="minute"),
        pytest.param((NOW, "second"), "2026-02-07T15:47:17.000+00:00", id="second"),
        pytest.param((NOW, "millisecond"), NOW, id="millisecond"),
        pytest.param((NOW, "decade"), ExpressionTypeError, id="unknown-unit"),
        pytest.param((NOW, None), ExpressionTypeError, id="missing-unit"),
        pytest.param(("bad", "decade"), None, id="invalid-date-first"),
    ],
)
def test_start_of(args: tuple[Any, ...], expected: Any) -> None:
    check("start_of", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((NOW, "year"), "2026-12-31T23:59:59.999+00:00", id="year"),
        pytest.param((NOW, "quarter"), "2026-03-31T23:59:59.999+00:00", id="quarter"),
        pytest.param(
            ("2024-02-10", "month"), "2024-02-29T23:59:59.999+00:00", id="leap-month"
        ),
        pytest.param((NOW, "week"), "2026-02-08T23:59:59.999+00:00", id="week"),
        pytest.param((NOW, "day"), "2026-02-07T23:59:59.999+00:00", id="day"),
        pytest.param((NOW, "minutes"), "2026-02-07T15:47:59.999+00:00", id="minute"),
        pytest.param((NOW, "millisecond"), NOW, id="millisecond"),
        pytest.param((NOW, 5), ExpressionTypeError, id="number-unit"),
        pytest.param((None, "day"), None, id="null-date"),
    ],
)
def test_end_of(args: tuple[Any, ...], expected: Any) -> None:
    check("end_of", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((NOW, "year"), 2026, id="year"),
        pytest.param((NOW, "month"), 2, id="month"),
        pytest.param((NOW, "day"), 7, id="day"),
        pytest.param((NOW, "hour"), 15, id="hour"),
        pytest.param((NOW, "minute"), 47, id="minute"),
        pytest.param((NOW, "second"), 17, id="second"),
        pytest.param((NOW, "millisecond"), 900, id="millisecond"),
        pytest.param((NOW, "weekday"), 6, id="weekday-saturday"),
        pytest.param(("2026-02-08", "weekday"), 7, id="weekday-sunday"),
        pytest.param((NOW, "ordinal"), 38, id="ordinal"),
        pytest.param((NOW, "weekNumber"), 6, id="week-number"),
        pytest.param(("2021-01-03", "weekYear"), 2020, id="week-year"),
        pytest.param((NOW, "quarter"), 1, id="quarter"),
        pytest.param((NOW, "daysInMonth"), 28, id="days-in-month"),
        pytest.param(("2024-06-01", "daysInYear"), 366, id="days-in-year"),
        pytest.param(("2024-06-01", "isInLeapYear"), True, id="leap-year"),
        pytest.param((NOW, "isWeekend"), True, id="weekend"),
        pytest.param((NOW, "offset"), 0, id="offset"),
        pytest.param((NOW, "ts"), 1770479237900, id="ts"),
        pytest.param((NOW, "monthLong"), "February", id="month-name"),
        pytest.param((NOW, "weekdayShort"), "Sat", id="weekday-name"),
        pytest.param((NOW, "offsetNameShort"), "UTC", id="offset-name"),
        pytest.param((NOW, "Year"), UNDEFINED, id="getters-are-case-sensitive"),
        pytest.param((NOW, "toISO"), UNDEFINED, id="not-a-getter"),
        pytest.param((NOW, 1), UNDEFINED, id="number-part"),
        pytest.param(("2026-13-01", "year"), None, id="invalid-date"),
    ],
)
def test_get_part(args: tuple[Any, ...], expected: Any) -> None:
    check("get_part", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("2026-02-06", NOW), True, id="before"),
        pytest.param((NOW, "2026-02-06"), False, id="after"),
        pytest.param((NOW, NOW), False, id="same"),
        pytest.param(
            ("2026-02-07T15:00:00+01:00", "2026-02-07T14:30:00Z"), True, id="offsets"
        ),
        pytest.param(("bad", NOW), False, id="invalid"),
        pytest.param((NOW, None), False, id="missing"),
    ],
)
def test_is_before(args: tuple[Any, ...], expected: Any) -> None:
    check("is_before", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((NOW, "2026-02-06"), True, id="after"),
        pytest.param(("2026-02-06", NOW), False, id="before"),
        pytest.param((NOW, NOW), False, id="same"),
        pytest.param((NOW, "2026-02-31"), False, id="invalid"),
        pytest.param((0, NOW), False, id="falsy"),
    ],
)
def test_is_after(args: tuple[Any, ...], expected: Any) -> None:
    check("is_after", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("2026-02-10T00:00",), "in 2 days", id="in-days"),
        pytest.param(("2026-02-07T12:00",), "3 hours ago", id="hours-ago"),
        pytest.param(("2026-02-08T15:47:17.900Z",), "in 1 day", id="singular"),
        pytest.param(("2025-02-07",), "1 year ago", id="year-ago"),
        pytest.param(("2026-01-07T15:47:17.900",), "1 month ago", id="month-ago"),
        pytest.param(("2026-02-07T15:46:30",), "47 seconds ago", id="seconds"),
        pytest.param(("2999-02-07",), "in 972 years", id="far"),
        pytest.param(("3026-03-07",), "in 1,000 years", id="grouped"),
        pytest.param((NOW,), "in 0 seconds", id="now"),
        pytest.param(("2026-02-07T15:47:17",), "0 seconds ago", id="just-before"),
        pytest.param(("bad",), None, id="invalid"),
        pytest.param((None,), None, id="null"),
    ],
)
def test_relative(args: tuple[Any, ...], expected: Any) -> None:
    check("relative", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("1h30m",), 5_400_000, id="units"),
        pytest.param(("500ms",), 500, id="milliseconds"),
        pytest.param(("1.5s",), 1500, id="fraction"),
        pytest.param(("PT1M30S",), 90_000, id="iso"),
        pytest.param(("P1D",), 86_400_000, id="iso-day"),
        pytest.param(("5000",), 5000, id="digits"),
        pytest.param((250,), 250, id="number"),
        pytest.param((0.5,), 0.5, id="fractional-number"),
        pytest.param(("5sfoo",), None, id="trailing-text"),
        pytest.param((10**400,), None, id="int-beyond-float"),
        pytest.param(("",), None, id="empty"),
        pytest.param((None,), None, id="null"),
        pytest.param((True,), None, id="boolean"),
        pytest.param(([1],), None, id="array"),
        pytest.param((Arrow(lambda: 1),), None, id="function"),
    ],
)
def test_duration(args: tuple[Any, ...], expected: Any) -> None:
    check("duration", args, expected)


@pytest.fixture
def local_zone() -> Iterator[None]:
    """Let a test switch the process's zone (TZ) and restore it afterwards."""
    saved = os.environ.get("TZ")
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset")
@pytest.mark.parametrize(
    ("zone", "name", "args", "expected"),
    [
        pytest.param(
            "Europe/Paris", "now", (), "2026-02-07T16:47:17.900+01:00", id="paris-now"
        ),
        pytest.param(
            "Europe/Paris",
            "parse_date",
            ("2026-03-29T02:30",),
            "2026-03-29T03:30:00.000+02:00",
            id="skipped-hour-moves-forward",
        ),
        pytest.param(
            "Europe/Paris",
            "add_time",
            ("2026-03-28T02:30", "P1D"),
            "2026-03-29T03:30:00.000+02:00",
            id="add-into-skipped-hour",
        ),
        pytest.param(
            "Europe/Paris", "diff", ("2026-03-30", "2026-03-29", "hours"), 23, id="dst"
        ),
        pytest.param(
            "Europe/Paris",
            "start_of",
            ("2026-03-29T12:00", "day"),
            "2026-03-29T00:00:00.000+01:00",
            id="start-of-dst-day",
        ),
        pytest.param(
            "America/New_York",
            "parse_date",
            ("2026-11-01T01:30",),
            "2026-11-01T01:30:00.000-05:00",
            id="repeated-hour-takes-current-offset",
        ),
        pytest.param(
            "America/New_York", "format_date", (NOW, "Z ZZZZ"), "-5 EST", id="est"
        ),
        pytest.param(
            "Asia/Kolkata", "time", (), "21:17:17.900+05:30", id="half-hour-offset"
        ),
    ],
)
def test_dates_use_the_local_zone(
    local_zone: None, zone: str, name: str, args: tuple[Any, ...], expected: Any
) -> None:
    os.environ["TZ"] = zone
    time.tzset()
    check(name, args, expected)
