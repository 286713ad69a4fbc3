"""The state of a run and of its nodes, as observers and reports see it.

Statuses follow dialect §6: a node is ``pending``, ``running``, ``retrying``, ``waiting``
(at a checkpoint), then ``success``, ``failed`` or ``skipped`` (with a reason); a run is
``running``, then ``completed``, ``failed``, ``cancelled`` or ``paused``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from maidit_jupyter._records import record
from maidit_jupyter.expressions.values import UNDEFINED, Value

__all__ = [
    "TERMINAL_NODE_STATUSES",
    "NodeError",
    "NodeResult",
    "NodeStatus",
    "RunRecord",
    "RunStatus",
]


class NodeStatus(enum.StrEnum):
    """Where a node is in its life."""

    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    WAITING = "waiting"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"


#: statuses a node does not leave.
TERMINAL_NODE_STATUSES = frozenset(
    {NodeStatus.SUCCESS, NodeStatus.FAILED, NodeStatus.SKIPPED}
)


class RunStatus(enum.StrEnum):
    """Where a run is in its life."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PAUSED = "paused"


@record
class NodeError:
    """Why a node failed: a message and a stable code."""

    message: str
    code: str


@record
class Intent:
    """A node that acts outside the run is starting (see :mod:`..runtimes.effects`).

    :ivar node: the node that acts.
    :ivar what: what it does ("sends an email").
    :ivar owner: the scheduled node it runs in (itself, at the top level).
    :ivar block: with ``index``, the innermost iteration it runs in whose end the
        checkpoint records (a foreach, loop or while), else None.
    """

    node: str
    what: str
    owner: str
    block: str | None = None
    index: int | None = None


@record
class NodeResult:
    """What one node did.

    :ivar started_at: epoch seconds when it started (None if it never ran).
    :ivar finished_at: epoch seconds when it ended.
    :ivar reused: taken from the checkpoint by a resume instead of run again.
    :ivar child: the run of the flow an ``<include>``/``<call>`` node ran (its own
        node table), when it ran one.
    :ivar meta: what the runtime reported besides the output (an AI node's token
        usage, an HTTP node's status), JSON-ready.
    """

    node_id: str
    status: NodeStatus
    output: Value = UNDEFINED
    error: NodeError | None = None
    reason: str | None = None
    wave: int = 0
    attempts: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    reused: bool = False
    child: RunRecord | None = field(default=None, hash=False)
    meta: Mapping[str, Any] | None = field(default=None, hash=False)

    @property
    def duration_ms(self) -> float:
        """How long the node ran, in milliseconds (0 if it did not run)."""
        if self.started_at is None or self.finished_at is None:
            return 0.0
        return (self.finished_at - self.started_at) * 1000.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """A run as a whole: status, timing and every node result in recording order."""

    run_id: str
    workflow: str
    status: RunStatus
    started_at: float
    finished_at: float | None = None
    waves_executed: int = 0
    results: Mapping[str, NodeResult] = field(default_factory=dict)
    error: NodeError | None = None
