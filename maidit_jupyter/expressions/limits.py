"""Bounds on what one evaluation may allocate or compute.

Limits are a value passed to the evaluator, never module globals, so a caller (or a
test) can tighten or loosen them without touching shared state.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EvaluationLimits"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationLimits:
    """Size and step limits of one evaluation.

    :ivar max_string_length: longest string an operation may build (characters).
    :ivar max_items: most items an operation may build into one array or object
        (``range``, spread, ``repeat``-like functions, ``split``, ``flatten`` ...).
    :ivar max_steps: evaluation steps (arrow calls, and items that built-ins iterate).
    :ivar max_depth: deepest nesting of arrow calls and of values walked recursively.
    :ivar max_regex_input: longest string a regular expression may be run against.
    :ivar max_regex_seconds: how long one regular expression may run (catastrophic
        backtracking such as ``(a+)+$`` is stopped, not waited for).
    """

    max_string_length: int = 1_000_000
    max_items: int = 100_000
    max_steps: int = 1_000_000
    max_depth: int = 100
    max_regex_input: int = 100_000
    max_regex_seconds: float = 0.1
