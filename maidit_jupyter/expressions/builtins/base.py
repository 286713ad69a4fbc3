"""What a built-in function is, what it may ask of the evaluator, and its table.

A built-in is a plain Python function ``fn(ctx, args) -> value`` registered under its
expression name. ``args`` holds the evaluated arguments (JavaScript semantics: a missing
argument is :data:`~maidit_jupyter.expressions.values.UNDEFINED`, extra ones are
ignored). ``ctx`` is the :class:`CallContext`: limits, the clock, randomness, and the only
way to call an arrow function that was passed in.

Built-ins raise :class:`~maidit_jupyter.errors.ExpressionTypeError` where JavaScript
would throw a ``TypeError``, :class:`~maidit_jupyter.errors.ExpressionLimitError` before
allocating past a limit (use :meth:`CallContext.check_items` /
:meth:`CallContext.check_string`), and never any other exception. The evaluator attaches
the expression and the location.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from maidit_jupyter.expressions.limits import EvaluationLimits
from maidit_jupyter.expressions.values import UNDEFINED, Value

__all__ = ["Builtin", "CallContext", "FunctionTable", "arg"]


class CallContext(Protocol):
    """What a built-in may use while it runs."""

    @property
    def limits(self) -> EvaluationLimits:
        """The limits of this evaluation."""
        ...

    def call(self, function: Value, args: Sequence[Value]) -> Value:
        """Call an arrow function passed as an argument (TypeError if it is not one)."""
        ...

    def is_function(self, value: Value) -> bool:
        """Whether ``value`` is an arrow function."""
        ...

    def check_items(self, count: int, what: str) -> None:
        """Raise ExpressionLimitError if building ``count`` items is over the limit."""
        ...

    def check_string(self, length: int, what: str) -> None:
        """Raise ExpressionLimitError if building a string this long is over the limit."""
        ...

    def step(self, count: int = 1) -> None:
        """Spend ``count`` steps of the evaluation's budget."""
        ...

    def now(self) -> datetime:
        """The current time, timezone-aware, in the local zone."""
        ...

    @property
    def rng(self) -> random.Random:
        """The random generator of this evaluation."""
        ...


Builtin = Callable[[CallContext, Sequence[Value]], Value]


def arg(args: Sequence[Value], index: int) -> Value:
    """Argument ``index``, or UNDEFINED when it was not passed."""
    return args[index] if index < len(args) else UNDEFINED


class FunctionTable(Mapping[str, Builtin]):
    """Built-ins by name; ``register`` adds one (used once per module at import)."""

    def __init__(self) -> None:
        self._functions: dict[str, Builtin] = {}

    def register(self, *names: str) -> Callable[[Builtin], Builtin]:
        """Decorator: register the function under ``names``."""

        def add(function: Builtin) -> Builtin:
            for name in names:
                if name in self._functions:
                    raise ValueError(f"built-in {name!r} is registered twice")
                self._functions[name] = function
            return function

        return add

    def __getitem__(self, name: str) -> Builtin:
        return self._functions[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._functions)

    def __len__(self) -> int:
        return len(self._functions)
