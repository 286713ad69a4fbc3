"""Higher-order built-ins: map, filter, reduce, sort_by and group_by with arrows."""

from __future__ import annotations

from typing import Any

import pytest

from maidit_jupyter.errors import ExpressionLimitError, ExpressionTypeError
from maidit_jupyter.expressions.limits import EvaluationLimits
from maidit_jupyter.expressions.values import UNDEFINED
from tests.expressions.builtins.context import (
    Arrow,
    TestContext,
    call,
    expect as run,
)

DOUBLE = Arrow(lambda item, index, array: item * 2)
IS_ODD = Arrow(lambda item, index, array: item % 2)
ADD = Arrow(lambda acc, item, index, array: acc + item)
PEOPLE = [
    {"name": "ann", "age": 31, "team": "a"},
    {"name": "bob", "age": 25, "team": "b"},
    {"name": "cy", "team": "a"},
    {"name": "dee", "age": 25, "team": None},
]


def names(people: list[dict[str, Any]]) -> list[str]:
    """The names of sorted people."""
    return [person["name"] for person in people]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2, 3], DOUBLE), [2, 4, 6], id="double"),
        pytest.param(([5, 6], Arrow(lambda x, i, a: i)), [0, 1], id="index"),
        pytest.param(([5, 6], Arrow(lambda x, i, a: len(a))), [2, 2], id="array"),
        pytest.param(
            ([1, 2], Arrow(lambda x, i, a: UNDEFINED)), [UNDEFINED] * 2, id="u"
        ),
        pytest.param(([], DOUBLE), [], id="empty"),
        pytest.param((None, DOUBLE), [], id="null"),
        pytest.param(((1, 2), DOUBLE), [2, 4], id="tuple"),
        pytest.param(([1],), ExpressionTypeError, id="no-function"),
        pytest.param(([1], "x"), ExpressionTypeError, id="string-function"),
        pytest.param(("abc", DOUBLE), ExpressionTypeError, id="string-array"),
        pytest.param(({"a": 1}, DOUBLE), ExpressionTypeError, id="object-array"),
    ],
)
def test_map(args: tuple[Any, ...], expected: Any) -> None:
    """map(a, fn) is a.map(fn)."""
    run("map", args, expected)


def test_map_passes_item_index_array() -> None:
    """The arrow gets (item, index, array) and the same array object each time."""
    seen: list[tuple[Any, int, Any]] = []
    items = ["a", "b"]
    call("map", items, Arrow(lambda x, i, a: seen.append((x, i, a))))
    assert seen == [("a", 0, items), ("b", 1, items)]
    assert all(array is items for _, _, array in seen)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2, 3, 4], IS_ODD), [1, 3], id="odd"),
        pytest.param(
            ([0, 1, "", "a", None], Arrow(lambda x, i, a: x)), [1, "a"], id="t"
        ),
        pytest.param(([5, 6, 7], Arrow(lambda x, i, a: i != 1)), [5, 7], id="index"),
        pytest.param(([2, 4], IS_ODD), [], id="none-kept"),
        pytest.param((UNDEFINED, IS_ODD), [], id="undefined"),
        pytest.param(([1], 1), ExpressionTypeError, id="number-function"),
        pytest.param((5, IS_ODD), ExpressionTypeError, id="number-array"),
    ],
)
def test_filter(args: tuple[Any, ...], expected: Any) -> None:
    """filter keeps the items whose arrow result is truthy."""
    run("filter", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2, 3], ADD), 6, id="no-initial"),
        pytest.param(([1, 2, 3], ADD, 10), 16, id="initial"),
        pytest.param(([], ADD, 10), 10, id="empty-with-initial"),
        pytest.param(([7], ADD), 7, id="single-no-initial"),
        pytest.param(([], ADD, UNDEFINED), UNDEFINED, id="explicit-undefined-initial"),
        pytest.param(
            (["a", "b"], Arrow(lambda acc, x, i, a: [*acc, i]), []),
            [0, 1],
            id="indexes-with-initial",
        ),
        pytest.param(
            (["a", "b", "c"], Arrow(lambda acc, x, i, a: f"{acc}{i}")),
            "a12",
            id="indexes-without-initial",
        ),
        pytest.param((None, ADD, 0), 0, id="null-array"),
        pytest.param(([], ADD), ExpressionTypeError, id="empty-no-initial"),
        pytest.param((None, ADD), ExpressionTypeError, id="null-no-initial"),
        pytest.param(([1], None, 0), ExpressionTypeError, id="null-function"),
        pytest.param(("ab", ADD, ""), ExpressionTypeError, id="string-array"),
    ],
)
def test_reduce(args: tuple[Any, ...], expected: Any) -> None:
    """reduce(a, fn, initial?) follows Array.prototype.reduce."""
    run("reduce", args, expected)


def test_reduce_passes_the_array() -> None:
    """The arrow's fourth argument is the array."""
    items = [1, 2]
    seen: list[Any] = []
    call("reduce", items, Arrow(lambda acc, x, i, a: seen.append(a)), 0)
    assert seen == [items, items]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((PEOPLE, "age"), ["bob", "dee", "ann", "cy"], id="key-stable"),
        pytest.param(
            (PEOPLE, "age", "desc"), ["ann", "bob", "dee", "cy"], id="desc-stable"
        ),
        pytest.param(
            (PEOPLE, Arrow(lambda p, i, a: p["name"]), "desc"),
            ["dee", "cy", "bob", "ann"],
            id="arrow-desc",
        ),
        pytest.param(
            (PEOPLE, Arrow(lambda p, i, a: -i)), ["dee", "cy", "bob", "ann"], id="index"
        ),
        pytest.param((PEOPLE, "team"), ["ann", "cy", "bob", "dee"], id="null-last"),
        pytest.param(
            (PEOPLE, "team", "desc"), ["bob", "ann", "cy", "dee"], id="null-last-desc"
        ),
        pytest.param(
            (PEOPLE, "missing"), ["ann", "bob", "cy", "dee"], id="all-missing"
        ),
        pytest.param((PEOPLE, "age", "asc"), ["bob", "dee", "ann", "cy"], id="asc"),
    ],
)
def test_sort_by_people(args: tuple[Any, ...], expected: list[str]) -> None:
    """sort_by sorts stably by an arrow or a property; null keys come last."""
    assert names(call("sort_by", *args)) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([3, 1, 2],), [1, 2, 3], id="no-key-items"),
        pytest.param(([3, 1, 2], None, "desc"), [3, 2, 1], id="no-key-desc"),
        pytest.param((["b", "B", "a"],), ["B", "a", "b"], id="strings"),
        pytest.param(([10, 9, "8"],), ["8", 9, 10], id="js-less-than"),
        pytest.param(([[2, "x"], [1, "y"]], 0), [[1, "y"], [2, "x"]], id="index-key"),
        pytest.param(([], "a"), [], id="empty"),
        pytest.param((None, "a"), [], id="null"),
        pytest.param(
            ([UNDEFINED, 1, None],), [1, UNDEFINED, None], id="nulls-keep-order"
        ),
        pytest.param(([1], "a", "up"), ExpressionTypeError, id="bad-direction"),
        pytest.param(([1], {"a": 1}), ExpressionTypeError, id="object-key"),
        pytest.param(([1], True), ExpressionTypeError, id="boolean-key"),
        pytest.param(("cba", None), ExpressionTypeError, id="string-array"),
    ],
)
def test_sort_by(args: tuple[Any, ...], expected: Any) -> None:
    """sort_by edge cases and bad arguments."""
    run("sort_by", args, expected)


def test_sort_by_copies_and_calls_arrow_once_per_item() -> None:
    """The input is left alone and each key is computed once."""
    items = [3, 1, 2]
    calls: list[int] = []

    def key(item: int, index: int, array: Any) -> int:
        calls.append(index)
        return item

    assert call("sort_by", items, Arrow(key)) == [1, 2, 3]
    assert items == [3, 1, 2]
    assert calls == [0, 1, 2]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            (PEOPLE, "team"),
            {
                "a": [PEOPLE[0], PEOPLE[2]],
                "b": [PEOPLE[1]],
                "null": [PEOPLE[3]],
            },
            id="property",
        ),
        pytest.param(
            (PEOPLE, "age"),
            {"31": [PEOPLE[0]], "25": [PEOPLE[1], PEOPLE[3]], "undefined": [PEOPLE[2]]},
            id="number-keys-and-missing",
        ),
        pytest.param(
            ([1, 2, 3, 4], Arrow(lambda x, i, a: x % 2 == 0)),
            {"false": [1, 3], "true": [2, 4]},
            id="arrow-boolean-keys",
        ),
        pytest.param(
            ([1.0, 2.5], Arrow(lambda x, i, a: x)),
            {"1": [1.0], "2.5": [2.5]},
            id="js-number-keys",
        ),
        pytest.param(
            (["a", "b"], Arrow(lambda x, i, a: i)), {"0": ["a"], "1": ["b"]}, id="index"
        ),
        pytest.param((["ab", "c"], "length"), {"2": ["ab"], "1": ["c"]}, id="length"),
        pytest.param(([], "a"), {}, id="empty"),
        pytest.param((None, "a"), {}, id="null"),
        pytest.param(([1],), ExpressionTypeError, id="no-key"),
        pytest.param(([1], None), ExpressionTypeError, id="null-key"),
        pytest.param(({"a": 1}, "a"), ExpressionTypeError, id="object-array"),
    ],
)
def test_group_by(args: tuple[Any, ...], expected: Any) -> None:
    """group_by makes an object of String(key) → items, keys in first-seen order."""
    run("group_by", args, expected)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        pytest.param("map", ([1] * 10, DOUBLE), id="map"),
        pytest.param("filter", ([1] * 10, IS_ODD), id="filter"),
        pytest.param("reduce", ([1] * 10, ADD), id="reduce"),
        pytest.param("sort_by", ([1] * 10, DOUBLE), id="sort_by"),
        pytest.param("group_by", ([1] * 10, DOUBLE), id="group_by"),
    ],
)
def test_steps_are_counted(name: str, args: tuple[Any, ...]) -> None:
    """Every item an arrow is called for spends a step."""
    with pytest.raises(ExpressionLimitError):
        call(name, *args, context=TestContext(EvaluationLimits(max_steps=5)))
    assert call(name, *args, context=TestContext(EvaluationLimits(max_steps=10)))


def test_arrow_errors_propagate() -> None:
    """An error raised inside the arrow is not swallowed."""

    def fail(item: Any, index: int, array: Any) -> Any:
        raise ExpressionTypeError("boom")

    with pytest.raises(ExpressionTypeError, match="boom"):
        call("map", [1], Arrow(fail))
