"""JavaScript value semantics: String(), Number(), truthiness, ==, ===, <, +."""

from __future__ import annotations

import math

import pytest

from maidit_jupyter.expressions.values import (
    UNDEFINED,
    add,
    js_typeof,
    less_than,
    loose_equals,
    number_to_string,
    strict_equals,
    to_display,
    to_json,
    to_number,
    to_string,
    truthy,
)


@pytest.mark.parametrize(
    ("number", "text"),
    [
        pytest.param(1.0, "1", id="integral-float"),
        pytest.param(0.1 + 0.2, "0.30000000000000004", id="point-three"),
        pytest.param(1e21, "1e+21", id="large-exponent"),
        pytest.param(1e20, "100000000000000000000", id="below-exponent"),
        pytest.param(1e-7, "1e-7", id="small-exponent"),
        pytest.param(1e-6, "0.000001", id="above-small-exponent"),
        pytest.param(1.5e-7, "1.5e-7", id="small-with-digits"),
        pytest.param(-0.0, "0", id="negative-zero"),
        pytest.param(math.nan, "NaN", id="nan"),
        pytest.param(math.inf, "Infinity", id="infinity"),
        pytest.param(-math.inf, "-Infinity", id="minus-infinity"),
        pytest.param(123.456, "123.456", id="decimal"),
        pytest.param(-5.5, "-5.5", id="negative"),
        pytest.param(2**53, "9007199254740992", id="max-safe"),
        pytest.param(1.2345678901234567e19, "12345678901234567000", id="large-digits"),
        pytest.param(10**22, "1e+22", id="huge-int"),
    ],
)
def test_number_to_string(number: float, text: str) -> None:
    """Numbers print exactly as JavaScript's String(n)."""
    assert number_to_string(number) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(None, "null", id="null"),
        pytest.param(UNDEFINED, "undefined", id="undefined"),
        pytest.param(True, "true", id="true"),
        pytest.param([1, [2, None], UNDEFINED], "1,2,,", id="array"),
        pytest.param({"a": 1}, "[object Object]", id="object"),
        pytest.param(3.0, "3", id="number"),
    ],
)
def test_to_string(value: object, text: str) -> None:
    """String(x) of every kind of value."""
    assert to_string(value) == text


def test_template_display_and_json() -> None:
    """Templates show null/undefined as empty and containers as compact JSON."""
    assert to_display(None) == to_display(UNDEFINED) == ""
    assert to_display({"a": [1, 2.0, None]}) == '{"a":[1,2,null]}'
    assert to_json([UNDEFINED, math.nan, {"x": UNDEFINED}]) == "[null,null,{}]"


@pytest.mark.parametrize(
    ("value", "number"),
    [
        pytest.param("", 0, id="empty-string"),
        pytest.param("  12  ", 12, id="padded"),
        pytest.param("1e3", 1000.0, id="exponent"),
        pytest.param("0x1F", 31, id="hex"),
        pytest.param("12px", math.nan, id="trailing-text"),
        pytest.param(None, 0, id="null"),
        pytest.param(UNDEFINED, math.nan, id="undefined"),
        pytest.param(True, 1, id="true"),
        pytest.param([], 0, id="empty-array"),
        pytest.param([7], 7, id="one-item-array"),
        pytest.param([1, 2], math.nan, id="two-item-array"),
        pytest.param({}, math.nan, id="object"),
        pytest.param("Infinity", math.inf, id="infinity"),
    ],
)
def test_to_number(value: object, number: float) -> None:
    """Number(x) coercion."""
    result = to_number(value)
    assert (math.isnan(result) and math.isnan(number)) or result == number


@pytest.mark.parametrize(
    "value",
    [False, 0, -0.0, math.nan, "", None, UNDEFINED],
)
def test_falsy_values(value: object) -> None:
    """Exactly these seven values are falsy."""
    assert truthy(value) is False


@pytest.mark.parametrize("value", [[], {}, "0", "false", 1, -1, math.inf, " "])
def test_truthy_values(value: object) -> None:
    """Empty containers and non-empty strings are truthy."""
    assert truthy(value) is True


@pytest.mark.parametrize(
    ("a", "b", "loose", "strict"),
    [
        pytest.param(1, "1", True, False, id="number-string"),
        pytest.param(None, UNDEFINED, True, False, id="null-undefined"),
        pytest.param(0, "", True, False, id="zero-empty"),
        pytest.param(0, False, True, False, id="zero-false"),
        pytest.param("1", True, True, False, id="string-true"),
        pytest.param(None, 0, False, False, id="null-zero"),
        pytest.param(math.nan, math.nan, False, False, id="nan"),
        pytest.param([1, 2], "1,2", True, False, id="array-string"),
        pytest.param(1, 1.0, True, True, id="int-float"),
        pytest.param("a", "a", True, True, id="strings"),
    ],
)
def test_equality(a: object, b: object, loose: bool, strict: bool) -> None:
    """== coerces as JavaScript does; === compares type and value."""
    assert loose_equals(a, b) is loose
    assert loose_equals(b, a) is loose
    assert strict_equals(a, b) is strict


def test_containers_are_equal_only_to_themselves() -> None:
    """Objects and arrays compare by identity under ===."""
    items = [1]
    assert strict_equals(items, items)
    assert not strict_equals([1], [1])


@pytest.mark.parametrize(
    ("a", "b", "result"),
    [
        pytest.param("a", "b", True, id="strings"),
        pytest.param("10", "9", True, id="string-order"),
        pytest.param("10", 9, False, id="string-number"),
        pytest.param(UNDEFINED, 1, None, id="undefined-is-nan"),
        pytest.param(None, 1, True, id="null-is-zero"),
    ],
)
def test_less_than(a: object, b: object, result: bool | None) -> None:
    """The abstract relational comparison."""
    assert less_than(a, b) is result


@pytest.mark.parametrize(
    ("a", "b", "result"),
    [
        pytest.param(1, 2, 3, id="numbers"),
        pytest.param("a", 1, "a1", id="string-number"),
        pytest.param(1, "2", "12", id="number-string"),
        pytest.param([1, 2], "", "1,2", id="array"),
        pytest.param(True, 1, 2, id="boolean"),
        pytest.param(None, 1, 1, id="null"),
        pytest.param({}, "", "[object Object]", id="object"),
    ],
)
def test_add(a: object, b: object, result: object) -> None:
    """+ concatenates when either side is a string, otherwise adds numbers."""
    assert add(a, b) == result


def test_typeof() -> None:
    """typeof: object for null and arrays, as in JavaScript."""
    values: list[object] = [None, [], {}, "", 1, True, UNDEFINED]
    assert [js_typeof(v) for v in values] == [
        "object",
        "object",
        "object",
        "string",
        "number",
        "boolean",
        "undefined",
    ]
