"""Retry policies: reading them, backoff delays, what is retryable, $error."""

from __future__ import annotations

import random

import pytest

from maidit_jupyter.errors import ExpressionEvalError, NodeRuntimeError
from maidit_jupyter.execution.retry import RetryPolicy, error_scope, is_retryable
from maidit_jupyter.parsing.parser import parse_workflow
from maidit_jupyter.syntax.nodes import SourceNode


@pytest.mark.parametrize(
    ("policy", "delays"),
    [
        pytest.param(
            RetryPolicy(base_ms=100, jitter=False),
            [100, 200, 400, 800],
            id="exponential",
        ),
        pytest.param(
            RetryPolicy(backoff="linear", base_ms=100, jitter=False),
            [100, 200, 300, 400],
            id="linear",
        ),
        pytest.param(
            RetryPolicy(backoff="fixed", base_ms=100, jitter=False),
            [100, 100, 100, 100],
            id="fixed",
        ),
        pytest.param(
            RetryPolicy(base_ms=100, cap_ms=250, jitter=False),
            [100, 200, 250, 250],
            id="capped",
        ),
    ],
)
def test_backoff_delays(policy: RetryPolicy, delays: list[float]) -> None:
    """Each shape grows as named and never passes the cap."""
    rng = random.Random(1)
    assert [policy.delay_ms(retry, rng) for retry in range(1, 5)] == delays


def test_full_jitter_stays_between_zero_and_the_delay() -> None:
    """Full jitter draws uniformly from [0, delay]."""
    rng = random.Random(3)
    policy = RetryPolicy(base_ms=100)
    draws = [policy.delay_ms(3, rng) for _ in range(1000)]
    assert all(0 <= d <= 400 for d in draws)
    assert max(draws) > 300
    assert min(draws) < 100


def test_huge_retry_numbers_do_not_overflow() -> None:
    """The exponent is bounded; the cap applies."""
    assert RetryPolicy(jitter=False).delay_ms(10_000, random.Random()) == 32000.0


def test_policy_from_on_error_element() -> None:
    """``<on-error><retry/>`` gives the policy, durations in milliseconds."""
    flow = parse_workflow(
        "---\nname: r\nversion: 1.0.0\n---\n<workflow>"
        '<source id="a" type="file" path="./a.json"><on-error>'
        '<retry max="4" backoff="linear" base="250ms" cap="2s" jitter="none" '
        'when="$error.status == 429"/></on-error></source></workflow>\n'
    )
    node = flow.nodes[0]
    assert isinstance(node, SourceNode)
    assert node.on_error is not None
    assert node.on_error.retry is not None
    assert RetryPolicy.from_spec(node.on_error.retry) == RetryPolicy(
        max_retries=4,
        backoff="linear",
        base_ms=250,
        cap_ms=2000,
        jitter=False,
        when="$error.status == 429",
    )


def test_policy_from_mapping_reads_both_spellings() -> None:
    """``runtime.retry`` and the original's camelCase ``<retry>`` block both work."""
    assert RetryPolicy.from_mapping({"max": 2, "base": "500ms"}) == RetryPolicy(
        max_retries=2, base_ms=500
    )
    assert RetryPolicy.from_mapping(
        {"maxRetries": 5, "baseDelay": 100, "maxDelay": "1s"}
    ) == (RetryPolicy(max_retries=5, base_ms=100, cap_ms=1000))
    assert RetryPolicy.from_mapping({"max": "x", "backoff": "wild"}) == RetryPolicy(
        max_retries=3
    )


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        pytest.param(
            NodeRuntimeError("HTTP 503", code="RUNTIME_HTTP_ERROR", retryable=True),
            True,
            id="http-503",
        ),
        pytest.param(
            NodeRuntimeError("slow", code="RUNTIME_TIMEOUT"), True, id="timeout-code"
        ),
        pytest.param(TimeoutError(), True, id="timeout"),
        pytest.param(ConnectionResetError(), True, id="connection"),
        pytest.param(
            NodeRuntimeError("File not found: a", code="ENOENT"),
            False,
            id="missing-file",
        ),
        pytest.param(ExpressionEvalError("bad"), False, id="expression"),
        pytest.param(ValueError("x"), False, id="other"),
    ],
)
def test_is_retryable(error: BaseException, retryable: bool) -> None:
    """Transient failures are retried; mistakes in the flow are not."""
    assert is_retryable(error) is retryable


def test_error_scope() -> None:
    """``$error`` has message, code and status."""
    error = NodeRuntimeError("HTTP 429", code="RUNTIME_HTTP_ERROR", retryable=True)
    error.status = 429  # type: ignore[attr-defined]
    assert error_scope(error) == {
        "message": "HTTP 429",
        "code": "RUNTIME_HTTP_ERROR",
        "status": 429,
    }
    assert error_scope(TimeoutError("late")) == {
        "message": "late",
        "code": "TimeoutError",
        "status": None,
    }
