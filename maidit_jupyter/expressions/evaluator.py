"""Evaluate expressions with JavaScript semantics, inside a sandbox.

:class:`Evaluator` holds what a run's evaluations share (limits, built-ins, clock,
random generator). Each evaluation is a :class:`Run`: it is the
:class:`~maidit_jupyter.expressions.builtins.CallContext` built-ins see, counts steps
(arrow calls and items that built-ins iterate) against the budget, and runs the
closures :mod:`maidit_jupyter.expressions.closures` compiled from the AST.

The evaluator only ever holds plain data (``None``, UNDEFINED, bool, numbers, str,
lists, mappings) and :class:`~maidit_jupyter.expressions.closures.Function` values made
from arrows; see :mod:`~maidit_jupyter.expressions.closures` for the sandbox rules.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from maidit_jupyter.errors import ExpressionLimitError, ExpressionTypeError
from maidit_jupyter.expressions.builtins import BUILTINS, Builtin
from maidit_jupyter.expressions.closures import Code, Function
from maidit_jupyter.expressions.limits import EvaluationLimits
from maidit_jupyter.expressions.scope import Scope
from maidit_jupyter.expressions.values import UNDEFINED, Value, to_string

__all__ = ["Evaluator", "Function", "Run"]


class Evaluator:
    """Evaluates expressions against scopes; one instance can serve a whole run.

    Args:
        limits: the size and step limits of each evaluation.
        functions: the built-in table (defaults to every built-in).
        clock: returns the current time (timezone-aware) for date functions.
        rng: the random generator for ``random``, ``random_int`` and ``uuid``.
    """

    def __init__(
        self,
        *,
        limits: EvaluationLimits | None = None,
        functions: Mapping[str, Builtin] | None = None,
        clock: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.limits = limits or EvaluationLimits()
        self.functions = functions if functions is not None else BUILTINS
        self.clock = clock or (lambda: datetime.now().astimezone())
        self.rng = rng or random.Random()  # noqa: S311 - random() in flows, not crypto

    def run(self, code: Code, scope: Scope) -> Value:
        """Run compiled ``code`` in ``scope`` as one evaluation."""
        try:
            return code(Run(self), scope)
        except RecursionError:
            # Data nested thousands deep (compared, stringified, copied) ends here.
            raise ExpressionLimitError("the values nest too deeply") from None

    def call(self, function: Value, args: Sequence[Value]) -> Value:
        """Call an arrow value from outside an expression (a map expression such as
        ``item => ({...item, passed: true})`` is called once per item).

        Raises:
            ExpressionTypeError: ``function`` is not an arrow.
        """
        try:
            return Run(self).call(function, args)
        except RecursionError:
            raise ExpressionLimitError("the values nest too deeply") from None


class Run:
    """One evaluation: its step count and call depth; the ``CallContext`` of built-ins."""

    __slots__ = ("depth", "evaluator", "functions", "steps")

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator
        self.functions = evaluator.functions
        self.steps = 0
        self.depth = 0

    @property
    def limits(self) -> EvaluationLimits:
        """The limits of this evaluation."""
        return self.evaluator.limits

    @property
    def rng(self) -> random.Random:
        """The random generator."""
        return self.evaluator.rng

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        return self.evaluator.clock()

    def is_function(self, value: Value) -> bool:
        """Whether ``value`` is an arrow function."""
        return isinstance(value, Function)

    def step(self, count: int = 1) -> None:
        """Spend ``count`` steps of the budget."""
        self.steps += count
        limit = self.evaluator.limits.max_steps
        if self.steps > limit:
            raise ExpressionLimitError(f"the evaluation took more than {limit} steps")

    def check_items(self, count: int, what: str) -> None:
        """Refuse to build more than ``max_items`` items."""
        limit = self.evaluator.limits.max_items
        if count > limit:
            raise ExpressionLimitError(
                f"{what} would build {count} items; the limit is {limit}"
            )

    def check_string(self, length: int, what: str) -> None:
        """Refuse to build a string longer than ``max_string_length``."""
        limit = self.evaluator.limits.max_string_length
        if length > limit:
            raise ExpressionLimitError(
                f"{what} would build a string of {length} characters; the limit is {limit}"
            )

    def call(self, function: Value, args: Sequence[Value]) -> Value:
        """Call an arrow with ``args`` (missing parameters are undefined)."""
        if not isinstance(function, Function):
            raise ExpressionTypeError(f"{to_string(function)} is not a function")
        self.step()
        self.depth += 1
        if self.depth > self.evaluator.limits.max_depth:
            self.depth -= 1
            raise ExpressionLimitError("functions call each other too deeply")
        try:
            params = function.arrow.params
            variables = {
                name: args[i] if i < len(args) else UNDEFINED
                for i, name in enumerate(params)
            }
            return function.body(self, function.scope.with_variables(variables))
        finally:
            self.depth -= 1
