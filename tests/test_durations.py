"""Tests of parse_duration_ms: the duration syntax of delays, timeouts and duration()."""

from __future__ import annotations

import pytest

from maidit_jupyter.durations import parse_duration_ms


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        pytest.param(0, 0.0, id="zero"),
        pytest.param(1500, 1500.0, id="int"),
        pytest.param(2.5, 2.5, id="float"),
        pytest.param("5000", 5000.0, id="digits"),
        pytest.param(" 5000 ", 5000.0, id="digits-with-blanks"),
        pytest.param("0", 0.0, id="digit-zero"),
        pytest.param("500ms", 500.0, id="milliseconds"),
        pytest.param("30s", 30_000.0, id="seconds"),
        pytest.param("1.5s", 1500.0, id="decimal-seconds"),
        pytest.param("1m", 60_000.0, id="minutes"),
        pytest.param("1h30m", 5_400_000.0, id="hours-minutes"),
        pytest.param("2d", 172_800_000.0, id="days"),
        pytest.param("1m30s", 90_000.0, id="minutes-seconds"),
        pytest.param("1d2h3m4s5ms", 93_784_005.0, id="every-unit"),
        pytest.param("PT1M30S", 90_000.0, id="iso-time"),
        pytest.param("P1D", 86_400_000.0, id="iso-day"),
        pytest.param("PT1H30M", 5_400_000.0, id="iso-hours-minutes"),
        pytest.param("PT1.5S", 1500.0, id="iso-decimal"),
        pytest.param("pt5m", 300_000.0, id="iso-lower-case"),
        pytest.param("P1W", 604_800_000.0, id="iso-week"),
        pytest.param("P1M", 30 * 86_400_000.0, id="iso-month-is-30-days"),
        pytest.param("P1Y", 365 * 86_400_000.0, id="iso-year-is-365-days"),
    ],
)
def test_valid_durations(value: object, ms: float) -> None:
    """Numbers are milliseconds; unit strings and ISO-8601 durations are converted."""
    result = parse_duration_ms(value)
    assert result == ms
    assert isinstance(result, float)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("5sfoo", id="trailing-text"),
        pytest.param("1h 30m", id="space-between-parts"),
        pytest.param("30s1m", id="units-out-of-order"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("P", id="iso-without-parts"),
        pytest.param("PT", id="iso-time-without-parts"),
        pytest.param("P1DT", id="iso-dangling-t"),
        pytest.param("abc", id="word"),
        pytest.param("1.5", id="decimal-without-unit"),
        pytest.param("-5s", id="negative"),
        pytest.param("5S", id="upper-case-unit"),
        pytest.param("5 s", id="space-before-unit"),
        pytest.param("1e3", id="exponent"),
        pytest.param(".5s", id="leading-dot"),
        pytest.param("²", id="superscript-digit"),
        pytest.param("١٢٣", id="non-ascii-digits"),
        pytest.param(True, id="true"),
        pytest.param(False, id="false"),
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="infinity"),
        pytest.param(None, id="none"),
        pytest.param([1], id="list"),
    ],
)
def test_invalid_durations(value: object) -> None:
    """Anything else is None (never an exception), trailing text included."""
    assert parse_duration_ms(value) is None
