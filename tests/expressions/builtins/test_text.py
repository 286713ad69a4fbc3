"""String built-ins: JavaScript results (UTF-16 lengths and indices) and size limits."""

from __future__ import annotations

import math
import tracemalloc
from collections.abc import Callable
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

SMILE = "\U0001f600"  # one code point, two UTF-16 code units
HIGH, LOW = "\ud83d", "\ude00"  # its surrogates


def small_allocation(action: Callable[[], object], limit: int = 5_000_000) -> None:
    """Run ``action`` (which must raise a limit error) and check it stayed small."""
    tracemalloc.start()
    try:
        with pytest.raises(ExpressionLimitError):
            action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("abc",), "ABC", id="upper"),
        pytest.param(("straße",), "STRASSE", id="upper-sharp-s"),
        pytest.param((None,), "", id="upper-null"),
        pytest.param((), "", id="upper-missing"),
        pytest.param((1.5,), "1.5", id="upper-number"),
        pytest.param((True,), "TRUE", id="upper-boolean"),
    ],
)
def test_upper(args: tuple[Any, ...], expected: Any) -> None:
    """upper is String(s ?? '').toUpperCase()."""
    run("upper", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("ABC",), "abc", id="lower"),
        pytest.param(([1, "A"],), "1,a", id="lower-array"),
        pytest.param((UNDEFINED,), "", id="lower-undefined"),
        pytest.param(({"a": 1},), "[object object]", id="lower-object"),
    ],
)
def test_lower(args: tuple[Any, ...], expected: Any) -> None:
    """lower is String(s ?? '').toLowerCase()."""
    run("lower", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("  a b  ",), "a b", id="spaces"),
        pytest.param(("\t\n x \r\n",), "x", id="tabs-newlines"),
        pytest.param(("\u00a0\ufeff x\u3000",), "x", id="js-unicode-spaces"),
        pytest.param(("\x1cx\x1c",), "\x1cx\x1c", id="not-js-space"),
        pytest.param(("\x85x",), "\x85x", id="nel-is-not-js-space"),
        pytest.param((None,), "", id="null"),
        pytest.param((12,), "12", id="number"),
        pytest.param(("   ",), "", id="only-spaces"),
    ],
)
def test_trim(args: tuple[Any, ...], expected: Any) -> None:
    """trim removes exactly JavaScript's white space and line terminators."""
    run("trim", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("a-b-c", "-", "+"), "a+b+c", id="all-occurrences"),
        pytest.param(("a.b.c", ".", ""), "abc", id="literal-not-regex"),
        pytest.param(("aaa", "aa", "b"), "ba", id="non-overlapping"),
        pytest.param(("abc", "", "-"), "-a-b-c-", id="empty-search"),
        pytest.param(("", "", "x"), "x", id="empty-both"),
        pytest.param(("abc", "x", "y"), "abc", id="not-found"),
        pytest.param(("abc", "b"), "ac", id="missing-replacement"),
        pytest.param(("abc", "b", None), "ac", id="null-replacement"),
        pytest.param(("abc", None, "-"), "-a-b-c-", id="null-search"),
        pytest.param((None, "a", "b"), "", id="null-text"),
        pytest.param(("1,2", [1, 2], "x"), "x", id="array-search-stringified"),
        pytest.param(("a1a", "a", 2), "212", id="number-replacement"),
        pytest.param(("ab", "b", "[$&]"), "a[b]", id="dollar-match"),
        pytest.param(("abc", "b", "[$`]"), "a[a]c", id="dollar-before"),
        pytest.param(("abc", "b", "[$']"), "a[c]c", id="dollar-after"),
        pytest.param(("ab", "b", "$$"), "a$", id="dollar-dollar"),
        pytest.param(("ab", "b", "$1$x$"), "a$1$x$", id="dollar-literal"),
        pytest.param((f"a{SMILE}b", SMILE, "!"), "a!b", id="astral"),
        pytest.param((f"{SMILE}", "", "|"), f"|{HIGH}|{LOW}|", id="astral-code-units"),
        pytest.param((f"x{HIGH}y", "y", LOW), f"x{SMILE}", id="joins-surrogates"),
    ],
)
def test_replace(args: tuple[Any, ...], expected: Any) -> None:
    """replace is JavaScript's replaceAll with a literal search."""
    run("replace", args, expected)


def test_replace_with_arrow() -> None:
    """An arrow replacement is called with (match, position, string)."""
    seen: list[tuple[Any, ...]] = []

    def replacer(match: str, position: int, whole: str) -> Any:
        seen.append((match, position, whole))
        return position

    result = call("replace", "a.b.", ".", Arrow(replacer))
    assert result == "a1b3"
    assert seen == [(".", 1, "a.b."), (".", 3, "a.b.")]


def test_replace_limits() -> None:
    """replace checks the size of what it builds, also for $` expansions."""
    tight = EvaluationLimits(max_string_length=10)
    assert call("replace", "aaaaa", "a", "bb", context=TestContext(tight)) == "b" * 10
    with pytest.raises(ExpressionLimitError):
        call("replace", "aaaaa", "a", "bbb", context=TestContext(tight))
    assert call("replace", "aaaaa", "a", "$`", context=TestContext(tight)) == (
        "a" + "aa" + "aaa" + "aaaa"
    )
    with pytest.raises(ExpressionLimitError):
        call("replace", "aaaaaa", "a", "$`", context=TestContext(tight))
    small_allocation(lambda: call("replace", "a" * 100_000, "a", "$`$`"))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("a,b,c", ","), ["a", "b", "c"], id="comma"),
        pytest.param(("abc", ""), ["a", "b", "c"], id="characters"),
        pytest.param(("abc",), ["a", "b", "c"], id="missing-delimiter-is-empty"),
        pytest.param(("abc", None), ["a", "b", "c"], id="null-delimiter"),
        pytest.param(("", ","), [""], id="empty-text"),
        pytest.param(("", ""), [], id="empty-text-empty-delimiter"),
        pytest.param((None, ","), [""], id="null-text"),
        pytest.param(("a,,b,", ","), ["a", "", "b", ""], id="empty-parts"),
        pytest.param(("a--b", "--"), ["a", "b"], id="long-delimiter"),
        pytest.param(("1021", 0), ["1", "21"], id="number-delimiter"),
        pytest.param((f"a{SMILE}", ""), ["a", HIGH, LOW], id="astral-code-units"),
        pytest.param((f"a{SMILE}b", SMILE), ["a", "b"], id="astral-delimiter"),
        pytest.param((123, ""), ["1", "2", "3"], id="number-text"),
    ],
)
def test_split(args: tuple[Any, ...], expected: Any) -> None:
    """split is JavaScript's split(delim ?? '')."""
    run("split", args, expected)


def test_split_limit() -> None:
    """split checks how many items it would build."""
    tight = TestContext(EvaluationLimits(max_items=3))
    assert call("split", "a,b,c", ",", context=tight) == ["a", "b", "c"]
    with pytest.raises(ExpressionLimitError):
        call("split", "a,b,c,d", ",", context=TestContext(tight.limits))
    with pytest.raises(ExpressionLimitError):
        call("split", "abcd", "", context=TestContext(tight.limits))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((["a", "b"], "-"), "a-b", id="delimiter"),
        pytest.param((["a", "b"],), "ab", id="missing-delimiter-is-empty"),
        pytest.param(
            ([1, None, UNDEFINED, True, 1.5], ","), "1,,,true,1.5", id="values"
        ),
        pytest.param(([[1, 2], [3]], ";"), "1,2;3", id="nested-arrays"),
        pytest.param(([], ","), "", id="empty"),
        pytest.param((None, ","), "", id="null"),
        pytest.param((("a", "b"), 0), "a0b", id="tuple-number-delimiter"),
        pytest.param(([{"a": 1}],), "[object Object]", id="object-item"),
        pytest.param(([HIGH, LOW],), SMILE, id="rejoins-surrogates"),
        pytest.param(("abc", ","), ExpressionTypeError, id="string-is-error"),
        pytest.param(({"a": 1}, ","), ExpressionTypeError, id="object-is-error"),
        pytest.param((5,), ExpressionTypeError, id="number-is-error"),
    ],
)
def test_join(args: tuple[Any, ...], expected: Any) -> None:
    """join is (arr ?? []).join(delim ?? '')."""
    run("join", args, expected)


def test_join_limit() -> None:
    """join checks the length of the result before building it."""
    tight = EvaluationLimits(max_string_length=5)
    assert call("join", ["ab", "c"], "--", context=TestContext(tight)) == "ab--c"
    with pytest.raises(ExpressionLimitError):
        call("join", ["ab", "cd"], "--", context=TestContext(tight))
    small_allocation(lambda: call("join", ["x"] * 1000, "y" * 10_000))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("hello world", 8), "hello...", id="truncated"),
        pytest.param(("hello", 5), "hello", id="fits-exactly"),
        pytest.param(("hello", 10), "hello", id="shorter"),
        pytest.param(("hello world", 6, "…"), "hello…", id="custom-suffix"),
        pytest.param(("hello world", 5, ""), "hello", id="empty-suffix"),
        pytest.param(("hello world", 2), "hello worl...", id="limit-below-suffix"),
        pytest.param(("hello",), "...", id="missing-limit"),
        pytest.param(("hello", "3"), "...", id="string-limit"),
        pytest.param((None, 3), "", id="null-text"),
        pytest.param((f"ab{SMILE}", 3, ""), f"ab{HIGH}", id="cuts-code-units"),
        pytest.param((f"{SMILE}", 2), SMILE, id="astral-fits"),
        pytest.param(("hello world", 5, 7), "7", id="number-suffix"),
        pytest.param(("hello world", 5, None), ExpressionTypeError, id="null-suffix"),
        pytest.param(("hi", 5, None), "hi", id="null-suffix-unused"),
    ],
)
def test_truncate(args: tuple[Any, ...], expected: Any) -> None:
    """truncate(s, len, suffix='...') keeps the original's JavaScript arithmetic."""
    run("truncate", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("a", "b", "c"), "abc", id="strings"),
        pytest.param(("a", 1, True, None, UNDEFINED), "a1true", id="mixed"),
        pytest.param((), "", id="nothing"),
        pytest.param(([1, 2], {"a": 1}), "1,2[object Object]", id="containers"),
        pytest.param((HIGH, LOW), SMILE, id="rejoins-surrogates"),
        pytest.param((1.0, 0.5), "10.5", id="numbers"),
    ],
)
def test_concat(args: tuple[Any, ...], expected: Any) -> None:
    """concat joins str() of every argument."""
    run("concat", args, expected)


def test_concat_limit() -> None:
    """concat checks the total length."""
    tight = EvaluationLimits(max_string_length=4)
    assert call("concat", "ab", "cd", context=TestContext(tight)) == "abcd"
    with pytest.raises(ExpressionLimitError):
        call("concat", "ab", "cde", context=TestContext(tight))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("hello", "ell"), True, id="includes"),
        pytest.param(("hello", "xyz"), False, id="includes-not"),
        pytest.param(("hello",), True, id="includes-missing"),
        pytest.param((None, ""), True, id="includes-null-text"),
        pytest.param(([1, 2], "1,2"), True, id="includes-array-string"),
        pytest.param((123, 2), True, id="includes-number"),
        pytest.param((SMILE, HIGH), True, id="includes-code-unit"),
    ],
)
def test_includes(args: tuple[Any, ...], expected: Any) -> None:
    """includes tests for str(sub) in str(s), by code units."""
    run("includes", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("hello", "he"), True, id="starts-with"),
        pytest.param(("hello", "lo"), False, id="starts-with-not"),
        pytest.param(("hello", None), True, id="starts-with-null"),
        pytest.param((None, "x"), False, id="starts-with-null-text"),
        pytest.param((SMILE, HIGH), True, id="starts-with-unit"),
    ],
)
def test_starts_with(args: tuple[Any, ...], expected: Any) -> None:
    """starts_with compares str() of both arguments."""
    run("starts_with", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("hello", "lo"), True, id="ends-with"),
        pytest.param(("hello", "he"), False, id="ends-with-not"),
        pytest.param((10, 0), True, id="ends-with-numbers"),
        pytest.param(("", ""), True, id="ends-with-empty"),
    ],
)
def test_ends_with(args: tuple[Any, ...], expected: Any) -> None:
    """ends_with compares str() of both arguments."""
    run("ends_with", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("hello", 1, 3), "el", id="range"),
        pytest.param(("hello", 1), "ello", id="to-end"),
        pytest.param(("hello",), "hello", id="whole"),
        pytest.param(("hello", 3, 1), "el", id="swapped"),
        pytest.param(("hello", -3), "hello", id="negative-is-zero"),
        pytest.param(("hello", 2, -1), "he", id="negative-end-swaps"),
        pytest.param(("hello", "x", 2), "he", id="nan-is-zero"),
        pytest.param(("hello", 1.7, 3.9), "el", id="fractions-truncate"),
        pytest.param(("hello", 1, None), "h", id="null-end-is-zero"),
        pytest.param(("hello", None, 2), "he", id="null-start"),
        pytest.param(("hello", 2, 99), "llo", id="end-past-length"),
        pytest.param(("hello", math.inf), "", id="infinite-start"),
        pytest.param((None, 0, 2), "", id="null-text"),
        pytest.param((f"{SMILE}x", 1), f"{LOW}x", id="code-units"),
    ],
)
def test_substring(args: tuple[Any, ...], expected: Any) -> None:
    """substring has JavaScript semantics."""
    run("substring", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("5", 3, "0"), "005", id="start-zeros"),
        pytest.param(("abc", 6, "12"), "121abc", id="start-cut-filler"),
        pytest.param(("a", 3), "  a", id="start-default-space"),
        pytest.param(("abc", 2, "x"), "abc", id="start-longer"),
        pytest.param(("a", 3, ""), "a", id="start-empty-filler"),
        pytest.param(("a", 3, None), "nua", id="start-null-filler"),
        pytest.param(("a",), "a", id="start-missing-length"),
        pytest.param(("a", -5, "x"), "a", id="start-negative-length"),
        pytest.param((7, "3", 0), "007", id="start-coerced"),
        pytest.param((None, 2, "x"), "xx", id="start-null-text"),
        pytest.param(("a", 3, SMILE), f"{SMILE}a", id="start-astral"),
        pytest.param(("a", 2, SMILE), f"{HIGH}a", id="start-half-astral"),
    ],
)
def test_pad_start(args: tuple[Any, ...], expected: Any) -> None:
    """pad_start is JavaScript's padStart, counting code units."""
    run("pad_start", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("ab", 7, "xyz"), "abxyzxy", id="end"),
        pytest.param(("ab", 4), "ab  ", id="end-default-space"),
        pytest.param(("abc", 3, "x"), "abc", id="end-exact"),
        pytest.param((SMILE, 3, "-"), f"{SMILE}-", id="end-counts-units"),
    ],
)
def test_pad_end(args: tuple[Any, ...], expected: Any) -> None:
    """pad_end is JavaScript's padEnd, counting code units."""
    run("pad_end", args, expected)


def test_pad_limits() -> None:
    """Padding checks the target length before building."""
    small_allocation(lambda: call("pad_start", "a", 10**9))
    small_allocation(lambda: call("pad_end", "a", math.inf))
    tight = EvaluationLimits(max_string_length=4)
    assert call("pad_end", "a", 4, "-", context=TestContext(tight)) == "a---"
    with pytest.raises(ExpressionLimitError):
        call("pad_start", "a", 5, context=TestContext(tight))
    assert call("pad_start", "a", 10**9, "", context=TestContext(tight)) == "a"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("ab", 3), "ababab", id="three"),
        pytest.param(("ab", 0), "", id="zero"),
        pytest.param(("ab",), "", id="missing-count"),
        pytest.param(("ab", None), "", id="null-count"),
        pytest.param(("ab", 2.9), "abab", id="fraction-truncates"),
        pytest.param(("ab", "2"), "abab", id="string-count"),
        pytest.param(("ab", "x"), "", id="nan-count"),
        pytest.param((None, 3), "", id="null-text"),
        pytest.param((1, 3), "111", id="number-text"),
        pytest.param(("", 10**12), "", id="empty-text-huge-count"),
        pytest.param(("", 1e308), "", id="empty-text-huge-float-count"),
        pytest.param(("ab", -1), ExpressionTypeError, id="negative"),
        pytest.param(("ab", math.inf), ExpressionTypeError, id="infinite"),
        pytest.param(("ab", -math.inf), ExpressionTypeError, id="minus-infinite"),
    ],
)
def test_repeat(args: tuple[Any, ...], expected: Any) -> None:
    """repeat is JavaScript's repeat (a RangeError becomes a type error)."""
    run("repeat", args, expected)


def test_repeat_limits() -> None:
    """repeat checks the size before building the string."""
    small_allocation(lambda: call("repeat", "x", 10**9))
    tight = EvaluationLimits(max_string_length=6)
    assert call("repeat", "ab", 3, context=TestContext(tight)) == "ababab"
    with pytest.raises(ExpressionLimitError):
        call("repeat", "ab", 4, context=TestContext(tight))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("abc", 1), "b", id="middle"),
        pytest.param(("abc",), "a", id="missing-index"),
        pytest.param(("abc", -1), "", id="negative"),
        pytest.param(("abc", 3), "", id="past-end"),
        pytest.param(("abc", 1.9), "b", id="fraction"),
        pytest.param(("abc", "2"), "c", id="string-index"),
        pytest.param(("abc", "x"), "a", id="nan-index"),
        pytest.param((None, 0), "", id="null-text"),
        pytest.param((SMILE, 1), LOW, id="code-unit"),
        pytest.param((12, 1), "2", id="number-text"),
    ],
)
def test_char_at(args: tuple[Any, ...], expected: Any) -> None:
    """char_at is JavaScript's charAt."""
    run("char_at", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("hello",), 5, id="ascii"),
        pytest.param(("",), 0, id="empty"),
        pytest.param((SMILE,), 2, id="astral-two-units"),
        pytest.param(("é",), 1, id="bmp"),
        pytest.param(([1, 2],), 3, id="array-stringified"),
        pytest.param(({"a": 1},), 15, id="object-stringified"),
        pytest.param((None,), 0, id="null"),
        pytest.param((), 0, id="missing"),
        pytest.param((12.5,), 4, id="number"),
        pytest.param((False,), 5, id="boolean"),
    ],
)
def test_len(args: tuple[Any, ...], expected: Any) -> None:
    """len counts the UTF-16 code units of String(s ?? '')."""
    run("len", args, expected)
