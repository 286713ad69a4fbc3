"""A CallContext for testing built-ins on their own: arrow functions are Python callables."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest

from maidit_jupyter.errors import ExpressionLimitError, ExpressionTypeError
from maidit_jupyter.expressions.builtins import BUILTINS
from maidit_jupyter.expressions.limits import EvaluationLimits
from maidit_jupyter.expressions.values import FunctionValue, Value

#: the clock every built-in test sees: 2026-02-07 15:47:17.900 UTC (TZ=UTC in tests).
FIXED_NOW = datetime(2026, 2, 7, 15, 47, 17, 900000, tzinfo=UTC)


class Arrow(FunctionValue):
    """Stands for an arrow function: wraps a Python callable."""

    def __init__(self, function: Callable[..., Value]) -> None:
        self.function = function


class TestContext:
    """Limits, a fixed clock, a seeded generator; ``call`` runs an :class:`Arrow`."""

    __test__ = False  # not a pytest test class

    def __init__(self, limits: EvaluationLimits | None = None) -> None:
        self.limits = limits or EvaluationLimits()
        self.rng = random.Random(7)
        self.steps = 0

    def call(self, function: Value, args: Sequence[Value]) -> Value:
        if not isinstance(function, Arrow):
            raise ExpressionTypeError(f"{function!r} is not a function")
        return function.function(*args)

    def is_function(self, value: Value) -> bool:
        return isinstance(value, Arrow)

    def check_items(self, count: int, what: str) -> None:
        if count > self.limits.max_items:
            raise ExpressionLimitError(
                f"{what}: {count} items; the limit is {self.limits.max_items}"
            )

    def check_string(self, length: int, what: str) -> None:
        if length > self.limits.max_string_length:
            raise ExpressionLimitError(
                f"{what}: {length} characters; the limit is {self.limits.max_string_length}"
            )

    def step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > self.limits.max_steps:
            raise ExpressionLimitError("the step budget is spent")

    def now(self) -> datetime:
        return FIXED_NOW


def call(name: str, *args: Value, context: TestContext | None = None) -> Value:
    """Call built-in ``name`` with ``args`` in a fresh (or the given) context."""
    return BUILTINS[name](context or TestContext(), list(args))


def same(actual: Value, expected: Value) -> None:
    """Equal values of the same types all the way down: 1 is not 1.0 or True, NaN equals
    NaN, -0.0 is not 0.0, and mapping keys keep their order."""
    assert type(actual) is type(expected), (actual, expected)
    if isinstance(expected, list):
        assert len(actual) == len(expected), (actual, expected)
        for got, want in zip(actual, expected, strict=True):
            same(got, want)
    elif isinstance(expected, dict):
        assert list(actual) == list(expected), (actual, expected)
        for key, want in expected.items():
            same(actual[key], want)
    elif isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(actual)
    else:
        assert actual == expected, (actual, expected)
        if isinstance(expected, float):
            assert math.copysign(1, actual) == math.copysign(1, expected), (
                actual,
                expected,
            )


def expect(name: str, args: Sequence[Value], expected: Value) -> None:
    """Call built-in ``name``: its result is :func:`same` as ``expected``, or it raises
    ``expected`` when that is an exception class; the arguments are never changed."""
    before = repr(args)
    if isinstance(expected, type) and issubclass(expected, Exception):
        with pytest.raises(expected):
            call(name, *args)
    else:
        same(call(name, *args), expected)
    assert repr(args) == before, "an argument was changed"
