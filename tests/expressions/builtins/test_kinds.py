"""The type and logic built-ins, checked against the original JavaScript functions."""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any

import pytest

from maidit_jupyter.errors import ExpressionLimitError
from maidit_jupyter.expressions.limits import EvaluationLimits
from maidit_jupyter.expressions.values import UNDEFINED
from tests.expressions.builtins.context import (
    Arrow,
    TestContext,
    call,
    expect as check,
)

FUNCTION = Arrow(lambda: 1)
NAN = math.nan
INF = math.inf


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((None,), "null", id="null"),
        pytest.param((UNDEFINED,), "undefined", id="undefined"),
        pytest.param((), "undefined", id="missing"),
        pytest.param(([1],), "array", id="list"),
        pytest.param(((1,),), "array", id="tuple"),
        pytest.param(("",), "string", id="string"),
        pytest.param((0,), "number", id="int"),
        pytest.param((NAN,), "number", id="nan"),
        pytest.param((True,), "boolean", id="boolean"),
        pytest.param(({},), "object", id="object"),
        pytest.param((MappingProxyType({}),), "object", id="mapping"),
        pytest.param((FUNCTION,), "function", id="function"),
    ],
)
def test_typeof(args: tuple[Any, ...], expected: Any) -> None:
    check("typeof", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((None,), True, id="null"),
        pytest.param((UNDEFINED,), True, id="undefined"),
        pytest.param((0,), False, id="zero"),
        pytest.param(("",), False, id="empty-string"),
        pytest.param((False,), False, id="false"),
    ],
)
def test_is_null(args: tuple[Any, ...], expected: Any) -> None:
    check("is_null", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([],), True, id="list"),
        pytest.param(((),), True, id="tuple"),
        pytest.param(({"0": 1},), False, id="object"),
        pytest.param(("ab",), False, id="string"),
        pytest.param((None,), False, id="null"),
    ],
)
def test_is_array(args: tuple[Any, ...], expected: Any) -> None:
    check("is_array", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(({},), True, id="object"),
        pytest.param((MappingProxyType({"a": 1}),), True, id="mapping"),
        pytest.param(([],), False, id="array"),
        pytest.param((None,), False, id="null"),
        pytest.param((FUNCTION,), False, id="function"),
        pytest.param(("{}",), False, id="string"),
    ],
)
def test_is_object(args: tuple[Any, ...], expected: Any) -> None:
    check("is_object", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("",), True, id="empty"),
        pytest.param(("a",), True, id="string"),
        pytest.param((1,), False, id="number"),
        pytest.param((["a"],), False, id="array"),
    ],
)
def test_is_string(args: tuple[Any, ...], expected: Any) -> None:
    check("is_string", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((0,), True, id="zero"),
        pytest.param((-1.5,), True, id="float"),
        pytest.param((INF,), True, id="infinity"),
        pytest.param((NAN,), False, id="nan"),
        pytest.param((10**400,), True, id="int-beyond-float"),
        pytest.param(("1",), False, id="numeric-string"),
        pytest.param((True,), False, id="boolean"),
        pytest.param((None,), False, id="null"),
    ],
)
def test_is_number(args: tuple[Any, ...], expected: Any) -> None:
    check("is_number", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((True,), True, id="true"),
        pytest.param((False,), True, id="false"),
        pytest.param((0,), False, id="zero"),
        pytest.param(("true",), False, id="string"),
    ],
)
def test_is_boolean(args: tuple[Any, ...], expected: Any) -> None:
    check("is_boolean", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((None,), True, id="null"),
        pytest.param((UNDEFINED,), True, id="undefined"),
        pytest.param(("",), True, id="empty-string"),
        pytest.param(([],), True, id="empty-array"),
        pytest.param(({},), True, id="empty-object"),
        pytest.param((" ",), False, id="space"),
        pytest.param(([None],), False, id="array-of-null"),
        pytest.param(({"a": None},), False, id="object-with-key"),
        pytest.param((0,), False, id="zero"),
        pytest.param((False,), False, id="false"),
        pytest.param((FUNCTION,), False, id="function"),
    ],
)
def test_is_empty(args: tuple[Any, ...], expected: Any) -> None:
    check("is_empty", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((None,), "", id="null"),
        pytest.param((UNDEFINED,), "", id="undefined"),
        pytest.param((1.0,), "1", id="integral-float"),
        pytest.param((0.1,), "0.1", id="float"),
        pytest.param((NAN,), "NaN", id="nan"),
        pytest.param((-INF,), "-Infinity", id="infinity"),
        pytest.param((True,), "true", id="boolean"),
        pytest.param(("x",), "x", id="string"),
        pytest.param(([1, "a", None],), '[1,"a",null]', id="array-as-json"),
        pytest.param(({"a": [1.5, NAN]},), '{"a":[1.5,null]}', id="object-as-json"),
        pytest.param(({"u": UNDEFINED, "f": FUNCTION},), "{}", id="undefined-dropped"),
        pytest.param(([UNDEFINED, FUNCTION],), "[null,null]", id="null-in-arrays"),
        pytest.param(({"é": "ü"},), '{"é":"ü"}', id="not-ascii-escaped"),
    ],
)
def test_to_string(args: tuple[Any, ...], expected: Any) -> None:
    check("to_string", args, expected)


def test_to_string_respects_limits() -> None:
    with pytest.raises(ExpressionLimitError):
        call(
            "to_string",
            ["x" * 20],
            context=TestContext(EvaluationLimits(max_string_length=10)),
        )
    deep: Any = []
    for _ in range(101):
        deep = [deep]
    with pytest.raises(ExpressionLimitError):
        call("to_string", deep)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("42",), 42, id="integer-string"),
        pytest.param((" 1.5 ",), 1.5, id="spaces"),
        pytest.param(("0x1f",), 31, id="hex"),
        pytest.param(("1e3",), 1000.0, id="exponent"),
        pytest.param(("",), 0, id="empty"),
        pytest.param(("abc",), 0, id="nan-becomes-zero"),
        pytest.param((None,), 0, id="null"),
        pytest.param((UNDEFINED,), 0, id="undefined"),
        pytest.param((True,), 1, id="true"),
        pytest.param(([5],), 5, id="one-item-array"),
        pytest.param(([1, 2],), 0, id="array"),
        pytest.param(({},), 0, id="object"),
        pytest.param((FUNCTION,), 0, id="function"),
        pytest.param(("-Infinity",), -INF, id="infinity"),
        pytest.param((-0.0,), -0.0, id="negative-zero"),
        pytest.param(("0x" + "f" * 300,), INF, id="hex-beyond-float"),
        pytest.param(("0x20000000000001",), 9007199254740992.0, id="hex-past-2-53"),
    ],
)
def test_to_number(args: tuple[Any, ...], expected: Any) -> None:
    check("to_number", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((1,), True, id="one"),
        pytest.param((0,), False, id="zero"),
        pytest.param((NAN,), False, id="nan"),
        pytest.param(("0",), True, id="string-zero"),
        pytest.param(([],), True, id="empty-array"),
        pytest.param((None,), False, id="null"),
    ],
)
def test_to_boolean(args: tuple[Any, ...], expected: Any) -> None:
    check("to_boolean", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(([1, 2],), [1, 2], id="array"),
        pytest.param(((1, 2),), [1, 2], id="tuple-to-list"),
        pytest.param((None,), [], id="null"),
        pytest.param((UNDEFINED,), [], id="undefined"),
        pytest.param((0,), [0], id="zero"),
        pytest.param(("ab",), ["ab"], id="string"),
        pytest.param(({"a": 1},), [{"a": 1}], id="object"),
    ],
)
def test_to_array(args: tuple[Any, ...], expected: Any) -> None:
    check("to_array", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((None, UNDEFINED, 0, 1), 0, id="zero-counts"),
        pytest.param((UNDEFINED, ""), "", id="empty-string-counts"),
        pytest.param((None, False), False, id="false-counts"),
        pytest.param((None, UNDEFINED), UNDEFINED, id="none-left"),
        pytest.param((), UNDEFINED, id="no-arguments"),
    ],
)
def test_coalesce(args: tuple[Any, ...], expected: Any) -> None:
    check("coalesce", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((None, 3), 3, id="null"),
        pytest.param((UNDEFINED, "d"), "d", id="undefined"),
        pytest.param((0, 3), 0, id="zero-kept"),
        pytest.param(("", 3), "", id="empty-kept"),
        pytest.param((None,), UNDEFINED, id="no-default"),
    ],
)
def test_default(args: tuple[Any, ...], expected: Any) -> None:
    check("default", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((True, "a", "b"), "a", id="true"),
        pytest.param((0, "a", "b"), "b", id="zero"),
        pytest.param(([], "a", "b"), "a", id="empty-array-truthy"),
        pytest.param(("", "a", "b"), "b", id="empty-string-falsy"),
        pytest.param((NAN, "a", "b"), "b", id="nan-falsy"),
        pytest.param((False, "a"), UNDEFINED, id="missing-else"),
    ],
)
def test_if_else(args: tuple[Any, ...], expected: Any) -> None:
    check("if_else", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((1.5,), True, id="float"),
        pytest.param((INF,), False, id="infinity"),
        pytest.param((NAN,), False, id="nan"),
        pytest.param((10**400,), False, id="int-beyond-float"),
        pytest.param(("1",), False, id="string-not-coerced"),
        pytest.param((True,), False, id="boolean"),
    ],
)
def test_is_finite(args: tuple[Any, ...], expected: Any) -> None:
    check("is_finite", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((3,), True, id="int"),
        pytest.param((3.0,), True, id="integral-float"),
        pytest.param((3.5,), False, id="fraction"),
        pytest.param((2**60,), True, id="big-int"),
        pytest.param((INF,), False, id="infinity"),
        pytest.param(("3",), False, id="string"),
        pytest.param((False,), False, id="boolean"),
    ],
)
def test_is_integer(args: tuple[Any, ...], expected: Any) -> None:
    check("is_integer", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((NAN,), True, id="nan"),
        pytest.param((1,), False, id="number"),
        pytest.param(("abc",), False, id="string-not-coerced"),
        pytest.param((UNDEFINED,), False, id="undefined"),
    ],
)
def test_is_nan(args: tuple[Any, ...], expected: Any) -> None:
    check("is_nan", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("x",), True, id="string"),
        pytest.param(({},), True, id="object"),
        pytest.param((-0.0,), False, id="negative-zero"),
        pytest.param((None,), False, id="null"),
    ],
)
def test_is_truthy(args: tuple[Any, ...], expected: Any) -> None:
    check("is_truthy", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("",), True, id="empty"),
        pytest.param((UNDEFINED,), True, id="undefined"),
        pytest.param(("false",), False, id="string-false"),
        pytest.param(([0],), False, id="array"),
    ],
)
def test_is_falsy(args: tuple[Any, ...], expected: Any) -> None:
    check("is_falsy", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("a", {"a": 1, "b": 2}, 0), 1, id="found"),
        pytest.param(("z", {"a": 1}, 0), 0, id="default"),
        pytest.param(("z", {"a": 1}), None, id="no-default-is-null"),
        pytest.param((1, {"1": "one"}), "one", id="number-key"),
        pytest.param((True, {"true": "yes"}), "yes", id="boolean-key"),
        pytest.param((None, {"null": 5}), 5, id="null-key"),
        pytest.param(("x", {"x": None}, 3), None, id="null-value-found"),
        pytest.param(("a", {"a": UNDEFINED}, 3), UNDEFINED, id="undefined-value"),
        pytest.param(("toString", {"a": 1}, 3), 3, id="own-keys-only"),
        pytest.param(("a", [1], 3), 3, id="array-cases"),
        pytest.param(("a", None, 7), 7, id="null-cases"),
        pytest.param(("a", FUNCTION, 7), 7, id="function-cases"),
        pytest.param(("a", "abc", UNDEFINED), None, id="string-cases"),
    ],
)
def test_switch(args: tuple[Any, ...], expected: Any) -> None:
    check("switch", args, expected)
