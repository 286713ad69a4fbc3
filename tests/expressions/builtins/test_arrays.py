"""Array built-ins: JavaScript array (and shared string) semantics, arrows, limits."""

from __future__ import annotations

import math
import tracemalloc
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

SMILE = "\U0001f600"
HIGH, LOW = "\ud83d", "\ude00"
NAN = math.nan
OBJ = {"id": 1}
IS_BIG = Arrow(lambda item, index, array: item > 1)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2, 3],), 3, id="array"),
        pytest.param(("abc",), 3, id="string"),
        pytest.param((SMILE,), 2, id="string-code-units"),
        pytest.param(([],), 0, id="empty"),
        pytest.param((None,), 0, id="null"),
        pytest.param((), 0, id="missing"),
        pytest.param((5,), UNDEFINED, id="number"),
        pytest.param((True,), UNDEFINED, id="boolean"),
        pytest.param(({"a": 1},), UNDEFINED, id="object"),
        pytest.param(({"length": 4},), 4, id="object-length-property"),
        pytest.param(((1, 2),), 2, id="tuple"),
    ],
)
def test_length(args: tuple[Any, ...], expected: Any) -> None:
    """length is (x ?? []).length."""
    run("length", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2],), 1, id="first"),
        pytest.param(([],), UNDEFINED, id="first-empty"),
        pytest.param((None,), UNDEFINED, id="first-null"),
        pytest.param(("ab",), "a", id="first-string"),
        pytest.param((SMILE,), HIGH, id="first-code-unit"),
        pytest.param((5,), UNDEFINED, id="first-number"),
        pytest.param(({"0": "x"},), "x", id="first-object-key"),
    ],
)
def test_first(args: tuple[Any, ...], expected: Any) -> None:
    """first is (a ?? [])[0], also for strings and objects."""
    run("first", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2],), 2, id="last"),
        pytest.param(([],), UNDEFINED, id="last-empty"),
        pytest.param((UNDEFINED,), UNDEFINED, id="last-undefined"),
        pytest.param(("ab",), "b", id="last-string"),
        pytest.param((SMILE,), LOW, id="last-code-unit"),
        pytest.param(({"a": 1},), UNDEFINED, id="last-object"),
        pytest.param(([None],), None, id="last-null-item"),
    ],
)
def test_last(args: tuple[Any, ...], expected: Any) -> None:
    """last is a[a.length - 1], also for strings."""
    run("last", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2, 3, 4], 1, 3), [2, 3], id="slice"),
        pytest.param(([1, 2, 3, 4], 1), [2, 3, 4], id="slice-to-end"),
        pytest.param(([1, 2, 3, 4], -2), [3, 4], id="slice-negative"),
        pytest.param(([1, 2, 3], 0, -1), [1, 2], id="slice-negative-end"),
        pytest.param(([1, 2, 3], 2, 1), [], id="slice-crossed"),
        pytest.param(([1, 2, 3],), [1, 2, 3], id="slice-copy"),
        pytest.param(([1, 2, 3], "x", None), [], id="slice-nan-null"),
        pytest.param(([1, 2, 3], -99, 99), [1, 2, 3], id="slice-clamped"),
        pytest.param(("hello", 1, -1), "ell", id="slice-string"),
        pytest.param((f"a{SMILE}", 2), LOW, id="slice-code-units"),
        pytest.param((None, 1), [], id="slice-null"),
        pytest.param(((1, 2, 3), 1), [2, 3], id="slice-tuple"),
        pytest.param((5, 1), ExpressionTypeError, id="slice-number"),
        pytest.param(({"a": 1},), ExpressionTypeError, id="slice-object"),
    ],
)
def test_slice(args: tuple[Any, ...], expected: Any) -> None:
    """slice is JavaScript's slice on arrays and strings."""
    run("slice", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2, 3], 2), [1, 2], id="take"),
        pytest.param(([1, 2, 3], -1), [1, 2], id="take-negative"),
        pytest.param(([1, 2, 3],), [1, 2, 3], id="take-missing"),
        pytest.param(("abc", 2), "ab", id="take-string"),
        pytest.param((None, 2), [], id="take-null"),
        pytest.param((True, 2), ExpressionTypeError, id="take-boolean"),
    ],
)
def test_take(args: tuple[Any, ...], expected: Any) -> None:
    """take(a, n) is a.slice(0, n)."""
    run("take", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2, 3], 1), [2, 3], id="skip"),
        pytest.param(([1, 2, 3], -1), [3], id="skip-negative"),
        pytest.param(([1, 2, 3],), [1, 2, 3], id="skip-missing"),
        pytest.param(("abc", 5), "", id="skip-string-past-end"),
        pytest.param(({"a": 1}, 1), ExpressionTypeError, id="skip-object"),
    ],
)
def test_skip(args: tuple[Any, ...], expected: Any) -> None:
    """skip(a, n) is a.slice(n)."""
    run("skip", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([[1, 2], [3], 4],), [1, 2, 3, 4], id="one-level"),
        pytest.param(([[1, [2]]],), [1, [2]], id="only-one-level"),
        pytest.param(([],), [], id="empty"),
        pytest.param((None,), [], id="null"),
        pytest.param(([(1, 2), "ab"],), [1, 2, "ab"], id="tuples-and-strings"),
        pytest.param(("abc",), ExpressionTypeError, id="string"),
        pytest.param(({"a": [1]},), ExpressionTypeError, id="object"),
    ],
)
def test_flatten(args: tuple[Any, ...], expected: Any) -> None:
    """flatten is JavaScript's flat()."""
    run("flatten", args, expected)


def test_flatten_limit() -> None:
    """flatten checks the item count before building."""
    tight = EvaluationLimits(max_items=3)
    assert call("flatten", [[1, 2], 3], context=TestContext(tight)) == [1, 2, 3]
    with pytest.raises(ExpressionLimitError):
        call("flatten", [[1, 2], [3, 4]], context=TestContext(tight))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2, 1, 3, 2],), [1, 2, 3], id="numbers"),
        pytest.param(([1, 1.0, "1", True],), [1, "1", True], id="types-differ"),
        pytest.param(([NAN, NAN],), [NAN], id="nan-same-value-zero"),
        pytest.param(([0, -0.0],), [0], id="zero-and-minus-zero"),
        pytest.param(
            ([None, UNDEFINED, None],), [None, UNDEFINED], id="null-undefined"
        ),
        pytest.param(([{"a": 1}, {"a": 1}],), [{"a": 1}, {"a": 1}], id="objects-by-id"),
        pytest.param(([OBJ, OBJ],), [OBJ], id="same-object"),
        pytest.param(("hello",), ["h", "e", "l", "o"], id="string-characters"),
        pytest.param((f"{SMILE}{SMILE}",), [SMILE], id="string-code-points"),
        pytest.param((None,), [], id="null"),
        pytest.param((5,), ExpressionTypeError, id="number"),
        pytest.param(({"a": 1},), ExpressionTypeError, id="object"),
    ],
)
def test_unique(args: tuple[Any, ...], expected: Any) -> None:
    """unique is [...new Set(a)]: SameValueZero, first occurrence kept."""
    run("unique", args, expected)


def test_unique_keeps_identity() -> None:
    """unique returns the same objects, not copies."""
    first, second = {"a": 1}, {"a": 1}
    result = call("unique", [first, second, first])
    assert len(result) == 2
    assert result[0] is first
    assert result[1] is second


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2, 3],), [3, 2, 1], id="array"),
        pytest.param(([],), [], id="empty"),
        pytest.param((None,), [], id="null"),
        pytest.param(((1, 2),), [2, 1], id="tuple"),
        pytest.param((f"ab{SMILE}",), [SMILE, "b", "a"], id="string-characters"),
        pytest.param((1,), ExpressionTypeError, id="number"),
    ],
)
def test_reverse(args: tuple[Any, ...], expected: Any) -> None:
    """reverse returns a reversed copy."""
    run("reverse", args, expected)


def test_reverse_copies() -> None:
    """The argument is left alone."""
    items = [1, 2]
    assert call("reverse", items) == [2, 1]
    assert items == [1, 2]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2], 2), True, id="contains"),
        pytest.param(([1, 2], "2"), False, id="contains-strict"),
        pytest.param(([1.0], 1), True, id="contains-int-float"),
        pytest.param(([NAN], NAN), True, id="contains-nan"),
        pytest.param(([{"a": 1}], {"a": 1}), False, id="contains-object"),
        pytest.param(([OBJ], OBJ), True, id="contains-same-object"),
        pytest.param(([None], UNDEFINED), False, id="contains-null"),
        pytest.param((None, 1), False, id="contains-null-array"),
        pytest.param(("hello", "ell"), True, id="contains-string"),
        pytest.param(("a1", 1), True, id="contains-string-number"),
        pytest.param((5, 5), ExpressionTypeError, id="contains-number"),
        pytest.param(({"a": 1}, "a"), ExpressionTypeError, id="contains-obj"),
    ],
)
def test_contains(args: tuple[Any, ...], expected: Any) -> None:
    """contains is includes: SameValueZero for arrays, substring for strings."""
    run("contains", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2, 3], 2), 1, id="index-of"),
        pytest.param(([1, 2], 5), -1, id="index-of-missing"),
        pytest.param(([NAN], NAN), -1, id="index-of-nan-strict"),
        pytest.param(([1, 1], 1), 0, id="index-of-first"),
        pytest.param((None, 1), -1, id="index-of-null"),
        pytest.param(("hello", "l"), 2, id="index-of-string"),
        pytest.param((f"{SMILE}x", "x"), 2, id="index-of-code-units"),
        pytest.param((True, 1), ExpressionTypeError, id="index-of-boolean"),
    ],
)
def test_index_of(args: tuple[Any, ...], expected: Any) -> None:
    """index_of is indexOf: === for arrays, substring position for strings."""
    run("index_of", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([3, 1, 2],), [1, 2, 3], id="numbers"),
        pytest.param(([3, 1, 2], None, "desc"), [3, 2, 1], id="desc"),
        pytest.param((["b", "a", "C"],), ["C", "a", "b"], id="strings-code-units"),
        pytest.param(([10, 9, 1],), [1, 9, 10], id="numeric-not-lexicographic"),
        pytest.param(
            ([2, None, 1, UNDEFINED],), [1, 2, None, UNDEFINED], id="nulls-last"
        ),
        pytest.param(
            ([2, None, 1, UNDEFINED], "", "desc"),
            [UNDEFINED, None, 2, 1],
            id="desc-reverses-nulls-first",
        ),
        pytest.param(
            ([{"n": 2}, {"n": 1}, {}, {"n": None}], "n"),
            [{"n": 1}, {"n": 2}, {}, {"n": None}],
            id="by-key",
        ),
        pytest.param(
            ([{"n": 1, "i": 0}, {"n": 0}, {"n": 1, "i": 1}], "n"),
            [{"n": 0}, {"n": 1, "i": 0}, {"n": 1, "i": 1}],
            id="stable",
        ),
        pytest.param(([[1, "b"], [0, "a"]], 0), [[0, "a"], [1, "b"]], id="index-key"),
        pytest.param((["10", 9],), [9, "10"], id="mixed-compares-numerically"),
        pytest.param(([1, 2], None, "DESC"), [1, 2], id="only-lowercase-desc"),
        pytest.param(("cab",), ["a", "b", "c"], id="string-characters"),
        pytest.param((None,), [], id="null"),
        pytest.param((5,), ExpressionTypeError, id="number"),
    ],
)
def test_sort(args: tuple[Any, ...], expected: Any) -> None:
    """sort is the original's stable comparator sort on a copy."""
    run("sort", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ([1, None, 2, UNDEFINED, 0, ""],), [1, 2, 0, ""], id="drops-nullish"
        ),
        pytest.param(([],), [], id="empty"),
        pytest.param((None,), [], id="null"),
        pytest.param(("a b",), ExpressionTypeError, id="string"),
    ],
)
def test_compact(args: tuple[Any, ...], expected: Any) -> None:
    """compact removes null and undefined only."""
    run("compact", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2, 3],), 3, id="no-predicate-length"),
        pytest.param(([1, 2, 3], IS_BIG), 2, id="predicate"),
        pytest.param(([1, 2, 3], Arrow(lambda x, i, a: i)), 2, id="truthy-index"),
        pytest.param(([], IS_BIG), 0, id="empty"),
        pytest.param((None, IS_BIG), 0, id="null"),
        pytest.param(("abc",), 3, id="string-length"),
        pytest.param((5,), UNDEFINED, id="number-length"),
        pytest.param(([1, 2], None), 2, id="null-predicate"),
        pytest.param(([1, 2], "x"), ExpressionTypeError, id="not-a-function"),
        pytest.param(("abc", IS_BIG), ExpressionTypeError, id="string-predicate"),
    ],
)
def test_count(args: tuple[Any, ...], expected: Any) -> None:
    """count(a, pred?) filters with the arrow, or is the length."""
    run("count", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2, 3], 0), 1, id="first"),
        pytest.param(([1, 2, 3], -1), 3, id="negative"),
        pytest.param(([1, 2, 3], -4), UNDEFINED, id="negative-past"),
        pytest.param(([1, 2, 3], 3), UNDEFINED, id="past-end"),
        pytest.param(([1, 2, 3],), 1, id="missing-index"),
        pytest.param(([1, 2, 3], "1"), 2, id="string-index"),
        pytest.param(([1, 2, 3], 1.9), 2, id="fraction"),
        pytest.param(([1, 2, 3], math.inf), UNDEFINED, id="infinity"),
        pytest.param(("abc", -1), "c", id="string"),
        pytest.param((SMILE, 0), HIGH, id="string-code-unit"),
        pytest.param((None, 0), UNDEFINED, id="null"),
        pytest.param(({"0": 1}, 0), ExpressionTypeError, id="object"),
    ],
)
def test_at(args: tuple[Any, ...], expected: Any) -> None:
    """at supports negative indices."""
    run("at", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1], [2, 3]), [1, 2, 3], id="arrays"),
        pytest.param(([1], None, UNDEFINED, [2]), [1, 2], id="nulls-are-empty"),
        pytest.param(([1], 2, "ab"), [1, 2, "ab"], id="values-appended"),
        pytest.param(([1], [[2]]), [1, [2]], id="one-level"),
        pytest.param(({"a": 1},), [{"a": 1}], id="object-appended"),
        pytest.param((), [], id="nothing"),
        pytest.param(((1, 2), [3]), [1, 2, 3], id="tuples"),
    ],
)
def test_array_concat(args: tuple[Any, ...], expected: Any) -> None:
    """array_concat is [].concat(...arrays), null counting as []."""
    run("array_concat", args, expected)


def test_array_concat_limit() -> None:
    """array_concat checks the item count."""
    tight = EvaluationLimits(max_items=3)
    assert call("array_concat", [1], [2, 3], context=TestContext(tight)) == [1, 2, 3]
    with pytest.raises(ExpressionLimitError):
        call("array_concat", [1, 2], [3], 4, context=TestContext(tight))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([2, 3], IS_BIG), True, id="every"),
        pytest.param(([1, 3], IS_BIG), False, id="every-not"),
        pytest.param(([], IS_BIG), True, id="every-empty"),
        pytest.param((None, IS_BIG), True, id="every-null"),
        pytest.param(([1],), ExpressionTypeError, id="every-no-function"),
        pytest.param(([1], "x"), ExpressionTypeError, id="every-string-fn"),
        pytest.param(("ab", IS_BIG), ExpressionTypeError, id="every-string"),
    ],
)
def test_every(args: tuple[Any, ...], expected: Any) -> None:
    """every calls the arrow until a falsy result."""
    run("every", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 3], IS_BIG), True, id="some"),
        pytest.param(([0, 1], IS_BIG), False, id="some-not"),
        pytest.param(([], IS_BIG), False, id="some-empty"),
        pytest.param(([1], None), ExpressionTypeError, id="some-null-fn"),
        pytest.param(({"a": 1}, IS_BIG), ExpressionTypeError, id="some-object"),
    ],
)
def test_some(args: tuple[Any, ...], expected: Any) -> None:
    """some calls the arrow until a truthy result."""
    run("some", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 5, 7], IS_BIG), 5, id="find"),
        pytest.param(([0, 1], IS_BIG), UNDEFINED, id="find-none"),
        pytest.param(([None, 0, ""], Arrow(lambda x, i, a: i == 1)), 0, id="find-i"),
        pytest.param((UNDEFINED, IS_BIG), UNDEFINED, id="find-undefined"),
        pytest.param(([1], 5), ExpressionTypeError, id="find-number-fn"),
    ],
)
def test_find(args: tuple[Any, ...], expected: Any) -> None:
    """find returns the first item whose arrow result is truthy."""
    run("find", args, expected)


@pytest.mark.parametrize("name", ["every", "some", "find"])
def test_predicates_short_circuit(name: str) -> None:
    """every stops at the first falsy result, some/find at the first truthy one; the
    arrow gets (item, index, array)."""
    items = [1, 2, 3, 4]
    seen: list[tuple[Any, int, Any]] = []

    def predicate(item: int, index: int, array: Any) -> bool:
        seen.append((item, index, array))
        return item < 2 if name == "every" else item >= 2

    call(name, items, Arrow(predicate))
    assert seen == [(1, 0, items), (2, 1, items)]


def test_arrow_steps_are_counted() -> None:
    """Iterating with an arrow spends steps."""
    context = TestContext(EvaluationLimits(max_steps=3))
    with pytest.raises(ExpressionLimitError):
        call("count", [1, 2, 3, 4], IS_BIG, context=context)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((0, 5), [0, 1, 2, 3, 4], id="basic"),
        pytest.param((2, 5), [2, 3, 4], id="start"),
        pytest.param((0, 10, 3), [0, 3, 6, 9], id="step"),
        pytest.param((5, 0, -2), [5, 3, 1], id="negative-step"),
        pytest.param((5, 0), [], id="backwards-without-step"),
        pytest.param((0, 5, -1), [], id="wrong-direction"),
        pytest.param((0, 0), [], id="empty"),
        pytest.param((0, 1, 0.25), [0, 0.25, 0.5, 0.75], id="float-step"),
        pytest.param((0, 0.3, 0.1), [0, 0.1, 0.2], id="float-accumulates"),
        pytest.param((0.5, 3), [0.5, 1.5, 2.5], id="float-start"),
        pytest.param(("1", "3"), [1, 2], id="strings"),
        pytest.param((), [], id="no-arguments"),
        pytest.param((0, 3, None), ExpressionTypeError, id="null-step-is-zero"),
        pytest.param((0, 3, 0), ExpressionTypeError, id="zero-step"),
        pytest.param((3, 0, 0), ExpressionTypeError, id="zero-step-backwards"),
        pytest.param((3, 0, "x"), [3], id="nan-step-backwards"),
        pytest.param((0, 3, "x"), [], id="nan-step-forwards"),
        pytest.param(
            (2**60, 2**60 + 1000, 1), ExpressionTypeError, id="step-too-small"
        ),
        pytest.param((2**60, 2**60 + 10), [], id="end-rounds-to-start"),
    ],
)
def test_range(args: tuple[Any, ...], expected: Any) -> None:
    """range(start, end, step=1): end exclusive, step 0 an error."""
    run("range", args, expected)


def test_range_limits() -> None:
    """range checks the item count before building."""
    tracemalloc.start()
    try:
        with pytest.raises(ExpressionLimitError):
            call("range", 0, 10**12)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
    with pytest.raises(ExpressionLimitError):
        call("range", 0, math.inf)
    with pytest.raises(ExpressionLimitError):
        call("range", -math.inf, 0)
    tight = EvaluationLimits(max_items=3)
    assert call("range", 0, 3, context=TestContext(tight)) == [0, 1, 2]
    with pytest.raises(ExpressionLimitError):
        call("range", 0, 4, context=TestContext(tight))
