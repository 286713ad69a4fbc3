"""Math built-ins: JavaScript arithmetic, and ints for integral results."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from maidit_jupyter.errors import ExpressionTypeError
from maidit_jupyter.expressions.values import UNDEFINED
from tests.expressions.builtins.context import (
    TestContext,
    call,
    expect as run,
    same as check,
)

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((3, 1, 2), 1, id="min"),
        pytest.param((1.5, 2), 1.5, id="min-float"),
        pytest.param((2.0, 3), 2, id="min-integral-float-is-int"),
        pytest.param((), INF, id="min-empty"),
        pytest.param(("1", 5), 5, id="min-ignores-strings"),
        pytest.param(([1], True, None, 7), 7, id="min-ignores-non-numbers"),
        pytest.param((1, NAN), NAN, id="min-nan"),
        pytest.param((-INF, 0), -INF, id="min-infinity"),
    ],
)
def test_min(args: tuple[Any, ...], expected: Any) -> None:
    """min is Math.min of the number arguments."""
    run("min", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((3, 1, 2), 3, id="max"),
        pytest.param((), -INF, id="max-empty"),
        pytest.param(("9", 1), 1, id="max-ignores-strings"),
        pytest.param((NAN, 1), NAN, id="max-nan"),
        pytest.param((2**60, 1), float(2**60), id="max-big-int-is-float"),
    ],
)
def test_max(args: tuple[Any, ...], expected: Any) -> None:
    """max is Math.max of the number arguments."""
    run("max", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2, 3],), 6, id="ints"),
        pytest.param(([0.1, 0.2],), 0.30000000000000004, id="floats"),
        pytest.param(([1, "2", "x", None, True],), 4, id="coerces"),
        pytest.param(([NAN, 1],), 1, id="nan-is-zero"),
        pytest.param(([],), 0, id="empty"),
        pytest.param((None,), 0, id="null"),
        pytest.param(([1.5, 1.5],), 3, id="integral-float-sum-is-int"),
        pytest.param(([INF, 1],), INF, id="infinity"),
        pytest.param(([[5], [1, 2]],), 5, id="arrays-coerce"),
        pytest.param(([2**53, 1],), 9007199254740992.0, id="loses-precision-like-js"),
    ],
)
def test_sum(args: tuple[Any, ...], expected: Any) -> None:
    """sum adds Number(x) || 0."""
    check(call("sum", *args), expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2, 3, 4],), 2.5, id="mean"),
        pytest.param(([2, 4],), 3, id="integral-is-int"),
        pytest.param(([1, "5", None, 3],), 2, id="numbers-only"),
        pytest.param((["1"],), 0, id="no-numbers"),
        pytest.param(([],), 0, id="empty"),
        pytest.param((UNDEFINED,), 0, id="undefined"),
        pytest.param(([NAN, 1],), NAN, id="nan-is-a-number"),
        pytest.param(([True, 3],), 3, id="booleans-ignored"),
    ],
)
def test_avg(args: tuple[Any, ...], expected: Any) -> None:
    """avg averages the number items."""
    check(call("avg", *args), expected)


@pytest.mark.parametrize("name", ["sum", "avg"])
@pytest.mark.parametrize("value", ["abc", {"a": 1}, 5])
def test_sum_avg_need_arrays(name: str, value: Any) -> None:
    """sum/avg of a non-array is a type error, as (x ?? []).reduce would be."""
    with pytest.raises(ExpressionTypeError):
        call(name, value)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((2.5,), 3, id="half-up"),
        pytest.param((-2.5,), -2, id="negative-half-toward-infinity"),
        pytest.param((2.4,), 2, id="down"),
        pytest.param((-2.6,), -3, id="negative-down"),
        pytest.param((0.49999999999999994,), 0, id="just-below-half"),
        pytest.param((1.2345, 2), 1.23, id="decimals"),
        pytest.param((1.005, 2), 1, id="float-representation"),
        pytest.param((1234.5, -2), 1200, id="negative-decimals"),
        pytest.param(("2.5",), 3, id="string"),
        pytest.param(("x",), 0, id="nan-is-zero"),
        pytest.param((None,), 0, id="null"),
        pytest.param((2.5, None), 3, id="null-decimals-is-zero"),
        pytest.param((2.567, "1"), 2.6, id="string-decimals"),
        pytest.param((INF,), INF, id="infinity"),
        pytest.param((1.5, 400), NAN, id="huge-decimals"),
        pytest.param((2**60 + 0.0,), float(2**60), id="big"),
    ],
)
def test_round(args: tuple[Any, ...], expected: Any) -> None:
    """round is Math.round(n * 10^d) / 10^d."""
    check(call("round", *args), expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((2.7,), 2, id="floor"),
        pytest.param((-2.1,), -3, id="floor-negative"),
        pytest.param(("x",), 0, id="floor-nan-is-zero"),
        pytest.param((INF,), INF, id="floor-infinity"),
    ],
)
def test_floor(args: tuple[Any, ...], expected: Any) -> None:
    """floor is Math.floor(Number(x) || 0)."""
    run("floor", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((2.1,), 3, id="ceil"),
        pytest.param((-2.9,), -2, id="ceil-negative"),
        pytest.param((None,), 0, id="ceil-null"),
    ],
)
def test_ceil(args: tuple[Any, ...], expected: Any) -> None:
    """ceil is Math.ceil(Number(x) || 0)."""
    run("ceil", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((-3,), 3, id="abs"),
        pytest.param((-1.5,), 1.5, id="abs-float"),
        pytest.param(("-4",), 4, id="abs-string"),
        pytest.param((-INF,), INF, id="abs-infinity"),
    ],
)
def test_abs(args: tuple[Any, ...], expected: Any) -> None:
    """abs is Math.abs(Number(x) || 0)."""
    run("abs", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((9,), 3, id="sqrt"),
        pytest.param((2,), math.sqrt(2), id="sqrt-irrational"),
        pytest.param((-1,), NAN, id="sqrt-negative"),
        pytest.param((INF,), INF, id="sqrt-infinity"),
    ],
)
def test_sqrt(args: tuple[Any, ...], expected: Any) -> None:
    """sqrt is Math.sqrt(Number(x) || 0): NaN for negatives."""
    run("sqrt", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((-3,), -1, id="sign-negative"),
        pytest.param((0.5,), 1, id="sign-positive"),
        pytest.param((0,), 0, id="sign-zero"),
        pytest.param(("x",), 0, id="sign-nan-is-zero"),
    ],
)
def test_sign(args: tuple[Any, ...], expected: Any) -> None:
    """sign is Math.sign(Number(x) || 0)."""
    run("sign", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((-2.7,), -2, id="trunc-negative"),
        pytest.param((2.7,), 2, id="trunc"),
        pytest.param(([3.5],), 3, id="trunc-array"),
        pytest.param((-INF,), -INF, id="trunc-infinity"),
        pytest.param((), 0, id="trunc-missing"),
    ],
)
def test_trunc(args: tuple[Any, ...], expected: Any) -> None:
    """trunc is Math.trunc(Number(x) || 0)."""
    run("trunc", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((2, 10), 1024, id="ints"),
        pytest.param((2, 0.5), math.sqrt(2), id="root"),
        pytest.param((2, -1), 0.5, id="negative-exponent"),
        pytest.param((-8, 1 / 3), NAN, id="negative-base-fraction"),
        pytest.param((0, -1), INF, id="zero-negative-power"),
        pytest.param((10, 400), INF, id="overflow"),
        pytest.param((-10, 401), -INF, id="overflow-negative"),
        pytest.param((1, INF), NAN, id="one-to-infinity"),
        pytest.param(("x", 0), 1, id="nan-base-is-zero-then-one"),
        pytest.param((3,), 1, id="missing-exponent"),
        pytest.param(("2", "3"), 8, id="strings"),
        pytest.param((3, 40), 1.2157665459056929e19, id="big-is-float"),
        pytest.param((2**2000, 2), INF, id="huge-int-base"),
    ],
)
def test_pow(args: tuple[Any, ...], expected: Any) -> None:
    """pow is Math.pow(Number(b) || 0, Number(e) || 0)."""
    check(call("pow", *args), expected)


def test_random() -> None:
    """random uses the evaluation's generator: [0, 1), reproducible."""
    context = TestContext()
    values = [call("random", context=context) for _ in range(50)]
    expected = random.Random(7)
    assert values == [expected.random() for _ in range(50)]
    assert all(isinstance(v, float) and 0 <= v < 1 for v in values)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        pytest.param(1, 6, id="die"),
        pytest.param(-3, 3, id="negative"),
        pytest.param(5, 5, id="single"),
        pytest.param("1", 3, id="string-low-concatenates"),
    ],
)
def test_random_int(low: Any, high: Any) -> None:
    """random_int is floor(random() * (max - min + 1)) + min: inclusive."""
    context = TestContext()
    seen = {call("random_int", low, high, context=context) for _ in range(300)}
    if isinstance(low, str):  # JavaScript's + concatenates: "01", "11", "21"
        assert seen == {"01", "11", "21"}
        return
    assert seen == set(range(low, high + 1))
    assert all(type(v) is int for v in seen)


def test_random_int_without_bounds() -> None:
    """Missing bounds give NaN, as in JavaScript."""
    check(call("random_int"), NAN)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((15, 0, 10), 10, id="above"),
        pytest.param((-5, 0, 10), 0, id="below"),
        pytest.param((5, 0, 10), 5, id="inside"),
        pytest.param((5.5, 0, 10), 5.5, id="float"),
        pytest.param(("x", 1, 10), 1, id="nan-is-zero"),
        pytest.param((5, "2", "3"), 3, id="string-bounds"),
        pytest.param((5, UNDEFINED, 10), NAN, id="missing-min"),
        pytest.param((5, 0), NAN, id="missing-max"),
        pytest.param((5, 10, 0), 0, id="crossed-bounds"),
    ],
)
def test_clamp(args: tuple[Any, ...], expected: Any) -> None:
    """clamp is Math.min(Math.max(Number(n) || 0, min), max)."""
    check(call("clamp", *args), expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((7, 3), 1, id="positive"),
        pytest.param((-7, 3), -1, id="dividend-sign"),
        pytest.param((7, -3), 1, id="divisor-sign-ignored"),
        pytest.param((5.5, 2), 1.5, id="float"),
        pytest.param((5, 0), NAN, id="by-zero"),
        pytest.param((5, INF), 5, id="by-infinity"),
        pytest.param((INF, 2), NAN, id="infinite-dividend"),
        pytest.param((5, "x"), NAN, id="nan-divisor"),
        pytest.param(("x", 3), 0, id="nan-dividend-is-zero"),
        pytest.param((5,), NAN, id="missing-divisor"),
        pytest.param(("8", "3"), 2, id="strings"),
    ],
)
def test_mod(args: tuple[Any, ...], expected: Any) -> None:
    """mod is the JavaScript remainder."""
    check(call("mod", *args), expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((1, 4), 25, id="quarter"),
        pytest.param((1, 3), 33.33, id="two-decimals"),
        pytest.param((1, 3, 0), 33, id="no-decimals"),
        pytest.param((2, 3, 1), 66.7, id="one-decimal"),
        pytest.param((1, 0), 0, id="zero-total"),
        pytest.param((1, None), 0, id="null-total"),
        pytest.param((1, ""), 0, id="empty-total"),
        pytest.param((1, "0"), INF, id="string-zero-total-is-truthy"),
        pytest.param((UNDEFINED, 4), NAN, id="missing-value"),
        pytest.param(("1", "8"), 12.5, id="strings"),
        pytest.param((1, 3, None), 33, id="null-decimals"),
    ],
)
def test_percent(args: tuple[Any, ...], expected: Any) -> None:
    """percent is value / total * 100 rounded to d decimals, 0 for a falsy total."""
    check(call("percent", *args), expected)
