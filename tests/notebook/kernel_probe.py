"""The kernel's side of ``test_kernel_interrupts``: imported *inside* a real kernel.

It holds the flow's Python nodes (one blocking, run in a worker thread; one async) and
:func:`after_interrupt`, which a cell awaits right after an interrupted ``%%flow`` cell
to look at what the interrupt left behind, on the kernel's own event loop, and report
it as JSON: the run's status, the problems of its checkpoint, the engine tasks still
alive, and how a ``%maidit resume`` of it ended.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from IPython.core.getipython import get_ipython

import maidit_jupyter
from maidit_jupyter import CheckpointError, FlowRun, RunStatus, can_resume
from maidit_jupyter.checkpoints import load_checkpoint
from maidit_jupyter.execution.state import TERMINAL_NODE_STATUSES, NodeStatus
from maidit_jupyter.notebook.magics import MaiditMagics

__all__ = [
    "after_interrupt",
    "checkpoint_problems",
    "double_slowly",
    "engine_tasks",
    "last_outputs",
    "run_count",
    "total_slowly",
]

_PACKAGE = str(Path(maidit_jupyter.__file__).parent)
_FINAL = frozenset({RunStatus.COMPLETED, RunStatus.CANCELLED, RunStatus.FAILED})
#: how long a resume may take (the whole flow takes about a second).
RESUME_TIMEOUT = 20.0


def double_slowly(data: list[int]) -> list[int]:
    """A blocking node: a cancel cannot stop its worker thread, only drop its result."""
    time.sleep(0.15)
    return [2 * number for number in data]


async def total_slowly(data: list[int]) -> int:
    """An async node: a cancel stops it where it awaits."""
    await asyncio.sleep(0.2)
    return sum(data)


def _code_chain(coro: Any) -> Iterator[Any]:
    """The code objects of a task's coroutine and of everything it awaits in turn."""
    for _ in range(200):
        if coro is None:
            return
        code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
        if code is not None:
            yield code
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)


def engine_tasks() -> list[str]:
    """The live tasks of the kernel's loop that run maidit_jupyter code (but this one).

    A task is the engine's when its name says so (anyio names the tasks of its task
    groups after their function, ``maidit_jupyter.execution...``) or when a coroutine
    it awaits, at any depth, was defined in the package.
    """
    current = asyncio.current_task()
    found = []
    for task in asyncio.all_tasks():
        if task is current or task.done():
            continue
        codes = list(_code_chain(task.get_coro()))
        ours = task.get_name().startswith("maidit_jupyter") or any(
            code.co_filename.startswith(_PACKAGE) for code in codes
        )
        if ours:
            chain = " > ".join(code.co_qualname for code in codes)
            found.append(f"{task.get_name()}: {chain}")
    return found


def _runs() -> list[FlowRun]:
    shell = get_ipython()
    assert shell is not None, "runs inside a kernel"
    return MaiditMagics.of(shell).runs


def _outputs(run: FlowRun) -> str:
    """The outputs of the scheduled nodes (a foreach body node's output is that of
    whichever iteration ended last, so it is left out)."""
    scheduled = {node for wave in run.plan.waves for node in wave}
    outputs = {k: v for k, v in run.outputs.items() if k in scheduled}
    return json.dumps(outputs, sort_keys=True, default=repr)


def checkpoint_problems(run: FlowRun) -> list[str]:
    """What is wrong with the run's checkpoint file, read back from disk (nothing: [])."""
    path = run.checkpoint_path
    if path is None:
        return ["the run wrote no checkpoint"]
    try:
        stored = load_checkpoint(path)
    except CheckpointError as exc:
        return [f"the checkpoint does not load: {exc}"]
    problems = []
    if stored.status is not run.status or stored.status not in _FINAL:
        problems.append(f"checkpoint says {stored.status}, the run {run.status}")
    if stored.journal_torn:
        problems.append("the journal ends in a torn record")
    scheduled = {node for wave in stored.plan for node in wave}
    if missing := sorted(scheduled - stored.results.keys()):
        problems.append(f"no result stored for {missing}")
    for node, item in stored.results.items():
        if item.result.status not in TERMINAL_NODE_STATUSES:
            problems.append(f"{node} stored {item.result.status}")
        shown = run.results.get(node)
        if shown is not None and shown.status is not item.result.status:
            problems.append(f"{node}: stored {item.result.status}, ran {shown.status}")
    if stored.status is RunStatus.CANCELLED:
        # the nodes in flight and those after them are marked cancelled; the others
        # succeeded (all of them, when the interrupt came after the last node ended)
        for node in sorted(scheduled & stored.results.keys()):
            result = stored.results[node].result
            cancelled = result.status is NodeStatus.SKIPPED and (
                result.reason or ""
            ).startswith("cancelled")
            if result.status is not NodeStatus.SUCCESS and not cancelled:
                problems.append(
                    f"{node} of a cancelled run stored {result.status} ({result.reason})"
                )
    resumable = stored.status is not RunStatus.COMPLETED
    if can_resume(path) is not resumable:
        problems.append(f"can_resume says {not resumable} for a {stored.status} run")
    return problems


async def _resume_last(runs: list[FlowRun]) -> FlowRun:
    """``%maidit resume`` (the last run, in the background), waited for."""
    before = len(runs)
    shell = get_ipython()
    assert shell is not None
    shell.run_line_magic("maidit", "resume")
    for _ in range(int(RESUME_TIMEOUT / 0.02)):  # the run is added once it ended
        if len(runs) > before:
            break
        await asyncio.sleep(0.02)
    else:
        raise TimeoutError(f"%maidit resume did not end in {RESUME_TIMEOUT:g} s")
    await asyncio.sleep(0)  # the resuming task ends right after it adds the run
    return runs[-1]


async def after_interrupt(before: int) -> str:
    """What the interrupted ``%%flow`` cell left, as JSON, and how its resume ended.

    ``before`` is how many runs the kernel had before that cell: when it has no more,
    the interrupt came before the run started (or the cell did not run at all).
    """
    orphans = engine_tasks()  # first, before this cell awaits anything
    runs = _runs()
    report: dict[str, Any] = {"started": len(runs) > before, "orphans": orphans}
    try:
        if report["started"]:
            await _follow(runs[before], runs, report)
    finally:
        report["runs"] = len(runs)
    return json.dumps(report)


async def _follow(run: FlowRun, runs: list[FlowRun], report: dict[str, Any]) -> None:
    """The interrupted run's checkpoint, then its resume (unless it completed)."""
    report["status"] = str(run.status)
    report["problems"] = checkpoint_problems(run)
    if run.status is RunStatus.COMPLETED:
        report["final"] = {"status": "completed", "outputs": _outputs(run)}
        return
    try:
        resumed = await _resume_last(runs)
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        report["final"] = {"status": f"not resumed: {type(exc).__name__}: {exc}"}
        return
    report["final"] = {"status": str(resumed.status), "outputs": _outputs(resumed)}
    report["orphans_after_resume"] = engine_tasks()


def run_count() -> int:
    """How many runs the kernel has had."""
    return len(_runs())


def last_outputs() -> str:
    """The last run's status and outputs, as JSON (a clean run's golden values)."""
    runs = _runs()
    run = runs[-1]
    return json.dumps(
        {"status": str(run.status), "outputs": _outputs(run), "runs": len(runs)}
    )
