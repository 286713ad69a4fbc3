"""The object built-ins, checked against the original JavaScript functions."""

from __future__ import annotations

import math
from types import MappingProxyType
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

NESTED = {"a": {"b": {"c": 3, "n": None}}, "arr": [10, {"x": 1}], "s": "hey", "z": 0}
FUNCTION = Arrow(lambda: 1)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(({"b": 1, "a": 2},), ["b", "a"], id="insertion-order"),
        pytest.param(([5, 6],), ["0", "1"], id="array-indices"),
        pytest.param(("ab",), ["0", "1"], id="string-indices"),
        pytest.param(({},), [], id="empty"),
        pytest.param((None,), [], id="null"),
        pytest.param((), [], id="missing"),
        pytest.param((42,), [], id="number"),
        pytest.param((FUNCTION,), [], id="function"),
    ],
)
def test_keys(args: tuple[Any, ...], expected: Any) -> None:
    check("keys", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(({"a": 1, "b": [2]},), [1, [2]], id="object"),
        pytest.param(((1, "x"),), [1, "x"], id="tuple"),
        pytest.param(("ab",), ["a", "b"], id="string"),
        pytest.param((MappingProxyType({"k": None}),), [None], id="mapping"),
        pytest.param((UNDEFINED,), [], id="undefined"),
        pytest.param((True,), [], id="boolean"),
    ],
)
def test_values(args: tuple[Any, ...], expected: Any) -> None:
    check("values", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(({"a": 1, "b": 2},), [["a", 1], ["b", 2]], id="object"),
        pytest.param((["x"],), [["0", "x"]], id="array"),
        pytest.param(({},), [], id="empty"),
        pytest.param((None,), [], id="null"),
    ],
)
def test_entries(args: tuple[Any, ...], expected: Any) -> None:
    check("entries", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([["a", 1], ["b", 2]],), {"a": 1, "b": 2}, id="pairs"),
        pytest.param(([["a", 1], ["a", 3]],), {"a": 3}, id="later-wins"),
        pytest.param(
            ([[1, 2], [None, 3], [True, 4]],),
            {"1": 2, "null": 3, "true": 4},
            id="keys-become-strings",
        ),
        pytest.param(([["k"]],), {"k": UNDEFINED}, id="missing-value"),
        pytest.param(([{"0": "k", "1": "v"}],), {"k": "v"}, id="entry-object"),
        pytest.param(([],), {}, id="empty"),
        pytest.param((None,), {}, id="null"),
        pytest.param(("ab",), ExpressionTypeError, id="string-entries"),
        pytest.param(({"a": 1},), ExpressionTypeError, id="object-not-iterable"),
        pytest.param(([5],), ExpressionTypeError, id="entry-not-object"),
    ],
)
def test_from_entries(args: tuple[Any, ...], expected: Any) -> None:
    check("from_entries", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((NESTED, "a.b.c"), 3, id="path"),
        pytest.param((NESTED, "a.b"), {"c": 3, "n": None}, id="object"),
        pytest.param((NESTED, "a.x", "dflt"), "dflt", id="missing-gives-default"),
        pytest.param((NESTED, "a.x"), UNDEFINED, id="missing-without-default"),
        pytest.param((NESTED, "a.b.n", "dflt"), "dflt", id="null-gives-default"),
        pytest.param((NESTED, "a.b.c.d", 0), 0, id="through-a-number"),
        pytest.param((NESTED, "arr.1.x"), 1, id="array-index"),
        pytest.param((NESTED, "arr.01"), UNDEFINED, id="not-an-index"),
        pytest.param(([1], "9" * 5000), UNDEFINED, id="huge-index"),
        pytest.param((NESTED, "arr.length"), 2, id="array-length"),
        pytest.param((NESTED, "s.0"), "h", id="string-index"),
        pytest.param((NESTED, "z", 5), 0, id="zero-is-a-value"),
        pytest.param((NESTED, "", 5), 5, id="empty-path"),
        pytest.param((None, "a", 1), 1, id="null-object"),
        pytest.param((0, "a", 1), 1, id="falsy-object"),
        pytest.param((NESTED, 5), ExpressionTypeError, id="number-path"),
    ],
)
def test_get(args: tuple[Any, ...], expected: Any) -> None:
    check("get", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(({"a": None}, "a"), True, id="own-key-with-null"),
        pytest.param(({"a": 1}, "b"), False, id="missing"),
        pytest.param(({"a": 1}, "toString"), True, id="inherited"),
        pytest.param(([1, 2], 1), True, id="array-index-number"),
        pytest.param(([1, 2], "2"), False, id="array-index-out-of-range"),
        pytest.param(([1, 2], "length"), True, id="array-length"),
        pytest.param(({"1": "x"}, 1), True, id="key-coerced"),
        pytest.param((FUNCTION, "name"), True, id="function"),
        pytest.param((None, "a"), False, id="null"),
        pytest.param((UNDEFINED, "a"), False, id="undefined"),
        pytest.param(("abc", "a"), ExpressionTypeError, id="string"),
        pytest.param((5, "a"), ExpressionTypeError, id="number"),
        pytest.param((False, "a"), ExpressionTypeError, id="boolean"),
    ],
)
def test_has(args: tuple[Any, ...], expected: Any) -> None:
    check("has", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(({"a": 1}, {"b": 2, "a": 3}), {"a": 3, "b": 2}, id="later-wins"),
        pytest.param(({"a": {"x": 1}}, {"a": {"y": 2}}), {"a": {"y": 2}}, id="shallow"),
        pytest.param(({"a": 1}, None, UNDEFINED), {"a": 1}, id="nulls-skipped"),
        pytest.param(([1, 2], "xy", 5, True), {"0": "x", "1": "y"}, id="primitives"),
        pytest.param((), {}, id="nothing"),
    ],
)
def test_merge(args: tuple[Any, ...], expected: Any) -> None:
    check("merge", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((NESTED, ["z", "s", "q"]), {"z": 0, "s": "hey"}, id="pick"),
        pytest.param(({"a": 1, "b": 2}, ("b",)), {"b": 2}, id="tuple-keys"),
        pytest.param(([5, 6], ["1", 0]), {"1": 6, "0": 5}, id="array"),
        pytest.param(({}, ["toString"]), {}, id="inherited-skipped"),
        pytest.param((NESTED, None), {}, id="null-keys"),
        pytest.param((None, "a"), {}, id="null-object"),
        pytest.param((NESTED, "a"), ExpressionTypeError, id="string-keys"),
        pytest.param(("abc", ["0"]), ExpressionTypeError, id="primitive-object"),
    ],
)
def test_pick(args: tuple[Any, ...], expected: Any) -> None:
    check("pick", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(({"a": 1, "b": 2, "c": 3}, ["a", "c"]), {"b": 2}, id="omit"),
        pytest.param(({"a": 1, "b": 2}, "a"), {"b": 2}, id="string-is-characters"),
        pytest.param(({"1": 1, "b": 2}, [1]), {"1": 1, "b": 2}, id="numbers-no-match"),
        pytest.param(([5, 6], ["0"]), {"1": 6}, id="array"),
        pytest.param(({"a": 1}, None), {"a": 1}, id="null-keys"),
        pytest.param((None, ["a"]), {}, id="null-object"),
        pytest.param(({"a": 1}, {"a": 1}), ExpressionTypeError, id="object-keys"),
    ],
)
def test_omit(args: tuple[Any, ...], expected: Any) -> None:
    check("omit", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(({"a": 1, "b": None},), 2, id="object"),
        pytest.param(([1, 2, 3],), 3, id="array"),
        pytest.param(("abcd",), 4, id="string"),
        pytest.param((None,), 0, id="null"),
        pytest.param((7,), 0, id="number"),
    ],
)
def test_size(args: tuple[Any, ...], expected: Any) -> None:
    check("size", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(({"a": 1}, "b.c", 2), {"a": 1, "b": {"c": 2}}, id="creates-path"),
        pytest.param(({"a": {"x": 1}}, "a.y", 2), {"a": {"x": 1, "y": 2}}, id="keeps"),
        pytest.param(({"a": 1}, "a.c", 2), {"a": {"c": 2}}, id="number-replaced"),
        pytest.param(({"a": "s"}, "a.b", 1), {"a": {"b": 1}}, id="string-replaced"),
        pytest.param(({"a": None}, "a.b", 1), {"a": {"b": 1}}, id="null-replaced"),
        pytest.param(
            ({"a": [1, 2]}, "a.0", 9),
            {"a": {"0": 9, "1": 2}},
            id="array-becomes-object",
        ),
        pytest.param(({"f": FUNCTION}, "f.x", 1), {"f": {"x": 1}}, id="function"),
        pytest.param((None, "x", 1), {"x": 1}, id="null-object"),
        pytest.param(({"a": 1}, "a", UNDEFINED), {"a": UNDEFINED}, id="undefined"),
        pytest.param(({"a": 1}, "", 5), {"a": 1}, id="empty-path"),
        pytest.param((UNDEFINED, "", 5), UNDEFINED, id="empty-path-undefined"),
        pytest.param(({"a": 1}, 3, 5), ExpressionTypeError, id="number-path"),
        pytest.param(({}, "a." * 100 + "b", 1), ExpressionLimitError, id="too-deep"),
    ],
)
def test_set(args: tuple[Any, ...], expected: Any) -> None:
    check("set", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(({"a": 1, "b": 2}, "a"), {"b": 2}, id="delete"),
        pytest.param(({"a": 1}, "zz"), {"a": 1}, id="missing-key"),
        pytest.param(({"1": 1, "b": 2}, 1), {"b": 2}, id="key-coerced"),
        pytest.param(([1, 2], "0"), {"1": 2}, id="array-becomes-object"),
        pytest.param(({"a": 1}, ""), {"a": 1}, id="empty-key"),
        pytest.param((MappingProxyType({"a": 1}), ""), {"a": 1}, id="mapping-copied"),
        pytest.param((None, "a"), {}, id="null"),
        pytest.param((0, "a"), 0, id="falsy-object-returned"),
        pytest.param(("abc", "0"), {"1": "b", "2": "c"}, id="string"),
    ],
)
def test_delete(args: tuple[Any, ...], expected: Any) -> None:
    check("delete", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}), True, id="deep"),
        pytest.param(({"a": 1, "b": 2}, {"b": 2, "a": 1}), True, id="key-order"),
        pytest.param(({"a": [1]}, {"a": [2]}), False, id="deep-difference"),
        pytest.param(({"a": 1}, {"a": 1, "b": 2}), False, id="extra-key"),
        pytest.param(({"a": UNDEFINED}, {"b": UNDEFINED}), True, id="undefined-keys"),
        pytest.param(((1, 2), [1, 2]), True, id="tuple-and-list"),
        pytest.param(([1], {"0": 1}), True, id="array-and-object-as-in-js"),
        pytest.param((1, 1.0), True, id="int-and-float"),
        pytest.param((1, "1"), False, id="no-coercion"),
        pytest.param((math.nan, math.nan), False, id="nan"),
        pytest.param((None, None), True, id="nulls"),
        pytest.param((None, {}), False, id="null-and-object"),
        pytest.param((FUNCTION, FUNCTION), True, id="same-function"),
        pytest.param((FUNCTION, Arrow(lambda: 1)), False, id="other-function"),
        pytest.param((FUNCTION, {}), False, id="function-and-object"),
    ],
)
def test_equals(args: tuple[Any, ...], expected: Any) -> None:
    check("equals", args, expected)


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(({"a": [1, {"b": None}]},), {"a": [1, {"b": None}]}, id="deep"),
        pytest.param(((1, (2,)),), [1, [2]], id="tuples-become-lists"),
        pytest.param((MappingProxyType({"k": 1}),), {"k": 1}, id="mapping"),
        pytest.param(("s",), "s", id="string"),
        pytest.param((None,), None, id="null"),
        pytest.param((), UNDEFINED, id="undefined"),
        pytest.param((_nested(100),), _nested(100), id="at-the-depth-limit"),
        pytest.param((_nested(101),), ExpressionLimitError, id="too-deep"),
    ],
)
def test_clone(args: tuple[Any, ...], expected: Any) -> None:
    check("clone", args, expected)


def test_clone_copies_and_keeps_functions() -> None:
    original = {"a": [1], "f": FUNCTION}
    copied = call("clone", original)
    assert copied == original
    assert copied["a"] is not original["a"]
    assert copied["f"] is FUNCTION


def test_equals_is_bounded_by_the_depth_limit() -> None:
    context = TestContext(EvaluationLimits(max_depth=3))
    assert call("equals", _nested(2), _nested(2), context=context) is True
    with pytest.raises(ExpressionLimitError):
        call("equals", _nested(5), _nested(5), context=context)
