"""Typed events a run emits, for observers: progress displays, the notebook panel, logs.

Observers are plain callables ``observer(event)``; the executor calls them in order, on
its own thread and event loop. An observer that raises is dropped for the rest of the
run: a broken display never breaks a run.
"""

from __future__ import annotations

from collections.abc import Callable

from maidit_jupyter._records import record
from maidit_jupyter.execution.state import NodeResult, RunRecord

__all__ = [
    "NodeFinished",
    "NodeRetrying",
    "NodeStarted",
    "Observer",
    "RunEvent",
    "RunFinished",
    "RunStarted",
    "WaveStarted",
]


@record
class RunStarted:
    """The run began: its id, workflow and planned waves."""

    run_id: str
    workflow: str
    waves: tuple[tuple[str, ...], ...]


@record
class WaveStarted:
    """Wave ``index`` (0-based) is about to run ``nodes``."""

    index: int
    nodes: tuple[str, ...]


@record
class NodeStarted:
    """A node started (attempt 1)."""

    node_id: str
    wave: int


@record
class NodeRetrying:
    """A node failed an attempt and will be tried again after ``delay_ms``."""

    node_id: str
    attempt: int
    delay_ms: float
    message: str


@record
class NodeFinished:
    """A node reached a final status (its result)."""

    result: NodeResult


@record
class RunFinished:
    """The run ended (its record)."""

    record: RunRecord


RunEvent = (
    RunStarted | WaveStarted | NodeStarted | NodeRetrying | NodeFinished | RunFinished
)
Observer = Callable[[RunEvent], None]
