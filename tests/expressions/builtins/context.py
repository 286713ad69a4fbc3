"""A CallContext for testing built-ins on their own: arrow functions are Python callables."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

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
