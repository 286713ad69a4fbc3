"""Checkpoints: a run's results on disk as it goes, and resuming from them.

* :mod:`.document`: the file format, encoding results, reading a checkpoint back;
* :mod:`.hashing`: flow and node hashes that tell what changed since;
* :mod:`.writer`: :class:`CheckpointWriter`, cheap per node and durable in groups;
* :mod:`.resume`: :func:`plan_resume`, what a resume reuses and what it runs again.
"""

from __future__ import annotations

import re
from pathlib import Path

from maidit_jupyter.checkpoints.document import (
    Checkpoint,
    StoredResult,
    journal_path,
    load_checkpoint,
)
from maidit_jupyter.checkpoints.hashing import NodeHashes, flow_hash, node_hashes
from maidit_jupyter.checkpoints.resume import NodeDecision, ResumePlan, plan_resume
from maidit_jupyter.checkpoints.writer import CheckpointWriter
from maidit_jupyter.errors import CheckpointError, LockedError, PersistenceError
from maidit_jupyter.execution.state import RunStatus
from maidit_jupyter.persistence.lock import RunLock

__all__ = [
    "STATE_DIR",
    "Checkpoint",
    "CheckpointWriter",
    "NodeDecision",
    "NodeHashes",
    "ResumePlan",
    "StoredResult",
    "can_resume",
    "checkpoint_path",
    "flow_hash",
    "journal_path",
    "load_checkpoint",
    "node_hashes",
    "plan_resume",
]

#: the default state directory, next to the flow file.
STATE_DIR = ".maidit-state"

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESUMABLE = frozenset({RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.PAUSED})


def checkpoint_path(state_dir: Path, workflow: str, run_id: str) -> Path:
    """``<state_dir>/<workflow>/<run_id>.json``, the workflow name made file-safe."""
    folder = _UNSAFE.sub("-", workflow).strip(".-") or "workflow"
    return state_dir / folder[:100] / f"{_UNSAFE.sub('-', run_id)}.json"


def can_resume(path: str | Path) -> bool:
    """Whether the checkpoint at ``path`` can be resumed.

    True for a readable checkpoint of a ``failed``, ``cancelled`` or ``paused`` run, and
    for one still marked ``running`` whose owner is gone (the process crashed or was
    killed: its lock is free). False for a completed run, a run that is still going, and
    a missing or damaged checkpoint.
    """
    path = Path(path)
    try:
        checkpoint = load_checkpoint(path)
    except CheckpointError:
        return False
    if checkpoint.status in _RESUMABLE:
        return True
    if checkpoint.status is not RunStatus.RUNNING:
        return False
    lock = RunLock(path)
    try:
        lock.acquire()
    except LockedError:
        return False
    except PersistenceError:
        return False
    lock.release()
    return True
