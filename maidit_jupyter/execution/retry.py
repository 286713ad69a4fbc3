"""When and how long to wait before trying a failed node again.

A :class:`RetryPolicy` comes from a node's ``<on-error><retry .../>`` (or the original's
``<retry>`` config block, or the frontmatter's ``runtime.retry`` default): how many
retries, the backoff shape (``exponential``, ``linear``, ``fixed``), its base and cap,
full jitter, and an optional ``when`` condition over ``$error``. Which errors are worth
retrying at all is decided by :func:`is_retryable`: HTTP 429/5xx, timeouts, connection
errors and AI rate limits are; validation, expression and file-not-found errors are not.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maidit_jupyter.durations import parse_duration_ms
from maidit_jupyter.errors import ExpressionError, NodeRuntimeError
from maidit_jupyter.syntax.nodes import RetrySpec

__all__ = ["RetryPolicy", "error_scope", "is_retryable"]

#: codes of failures that may pass when tried again.
RETRYABLE_CODES = frozenset(
    {"RUNTIME_TIMEOUT", "RUNTIME_CONNECTION_ERROR", "RATE_LIMIT", "TIMEOUT"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How a node is retried.

    :ivar max_retries: retries after the first attempt (0: no retry).
    :ivar backoff: ``exponential``, ``linear`` or ``fixed``.
    :ivar base_ms: the first delay.
    :ivar cap_ms: the longest delay.
    :ivar jitter: full jitter (a uniform delay between 0 and the computed one).
    :ivar when: an expression over ``$error`` that must hold to retry, if any.
    """

    max_retries: int = 0
    backoff: str = "exponential"
    base_ms: float = 1000.0
    cap_ms: float = 32000.0
    jitter: bool = True
    when: str | None = None

    @classmethod
    def from_spec(cls, spec: RetrySpec) -> RetryPolicy:
        """The policy of an ``<on-error><retry .../>`` element."""
        return cls(
            max_retries=spec.max,
            backoff=spec.backoff,
            base_ms=spec.base_ms,
            cap_ms=spec.cap_ms,
            jitter=spec.jitter,
            when=str(spec.when) if spec.when else None,
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RetryPolicy:
        """The policy of a ``runtime.retry`` mapping or the original's ``<retry>`` block.

        Accepts ``max``/``maxRetries``, ``backoff``, ``base``/``baseDelay`` and
        ``cap``/``maxDelay`` (durations or milliseconds), ``jitter`` and ``when``.
        Unreadable values fall back to the defaults.
        """

        def duration(*keys: str, default: float) -> float:
            for key in keys:
                if key in data:
                    value = parse_duration_ms(data[key])
                    return default if value is None or value < 0 else value
            return default

        retries = data.get("max", data.get("maxRetries", 3))
        backoff = data.get("backoff", "exponential")
        jitter = data.get("jitter", True)
        when = data.get("when")
        return cls(
            max_retries=retries if isinstance(retries, int) and retries >= 0 else 3,
            backoff=backoff
            if backoff in ("exponential", "linear", "fixed")
            else "exponential",
            base_ms=duration("base", "baseDelay", default=1000.0),
            cap_ms=duration("cap", "maxDelay", default=32000.0),
            jitter=jitter if isinstance(jitter, bool) else jitter in ("full", "true"),
            when=when if isinstance(when, str) and when.strip() else None,
        )

    def delay_ms(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number ``retry`` (1 for the first retry)."""
        if self.backoff == "fixed":
            delay = self.base_ms
        elif self.backoff == "linear":
            delay = self.base_ms * retry
        else:
            delay = self.base_ms * 2 ** min(retry - 1, 62)
        delay = min(delay, self.cap_ms)
        return rng.uniform(0, delay) if self.jitter else delay


def is_retryable(error: BaseException) -> bool:
    """Whether trying again may help: never for mistakes in the flow itself."""
    if isinstance(error, ExpressionError):
        return False
    if isinstance(error, NodeRuntimeError):
        return error.retryable or error.code in RETRYABLE_CODES
    return isinstance(error, TimeoutError | ConnectionError)


def error_scope(error: BaseException) -> dict[str, Any]:
    """What a ``when`` condition sees as ``$error``: ``message``, ``code``, ``status``."""
    status = getattr(error, "status", None)
    return {
        "message": getattr(error, "message", None) or str(error),
        "code": getattr(error, "code", None) or type(error).__name__,
        "status": status if isinstance(status, int) else None,
    }
