"""Run flows from Python: ``await run(path)`` in async code or a notebook, ``run_sync``
elsewhere; ``resume`` / ``resume_sync`` continue a run from its checkpoint.

Each reads and checks the flow, builds ``$config`` from the defaults and ``config``
(``required``/``type``/``enum`` enforced), takes secrets from ``secrets`` or the
environment, writes a checkpoint as it goes (``.maidit-state`` next to the flow unless
``state_dir`` says otherwise; ``checkpoint=False`` turns it off), and returns a
:class:`~maidit_jupyter.execution.flow_run.FlowRun`. A run that fails does not raise:
its status says so. Problems found before anything runs raise:
:class:`~maidit_jupyter.errors.WorkflowError` (every diagnostic of an invalid flow),
:class:`~maidit_jupyter.execution.inputs.RunInputError` (config, secrets, input),
:class:`~maidit_jupyter.errors.CheckpointError` and
:class:`~maidit_jupyter.errors.LockedError` (the checkpoint).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import (
    Awaitable,
    Callable,
    Coroutine,
    Mapping,
    MutableMapping,
    Sequence,
)
from pathlib import Path
from typing import Any

import anyio

from maidit_jupyter.checkpoints import can_resume
from maidit_jupyter.execution.approval import (
    Answer,
    Approver,
    PolicyApprover,
    ScriptedApprover,
    parse_action,
)
from maidit_jupyter.execution.events import Observer
from maidit_jupyter.execution.flow_run import FlowRun
from maidit_jupyter.execution.launch import PreparedRun, prepare_resume, prepare_run
from maidit_jupyter.execution.state import NodeError, RunStatus
from maidit_jupyter.expressions.values import UNDEFINED, Value

__all__ = ["ErrorHandler", "can_resume", "resume", "resume_sync", "run", "run_sync"]

_log = logging.getLogger("maidit_jupyter")

#: ``on_error(error, flow_run)``: called once when a run fails (may be ``async``).
ErrorHandler = Callable[[NodeError, FlowRun], Awaitable[None] | None]


async def _start(
    prepared: PreparedRun,
    observers: Sequence[Observer],
    on_start: Callable[[FlowRun], None] | None,
    on_error: ErrorHandler | None,
) -> FlowRun:
    """Run a prepared run (a fresh one or a resume), then its error handler."""
    flow_run = FlowRun(prepared)
    if on_start is not None:
        on_start(flow_run)
    await flow_run._execute(observers)
    return await _finish(flow_run, on_error)


async def _finish(flow_run: FlowRun, on_error: ErrorHandler | None) -> FlowRun:
    """Call the workflow-level error handler of a failed run; its own failure is
    reported (logged, and kept as ``flow_run.error_handler_failure``), never raised."""
    error = flow_run.error
    if on_error is None or flow_run.status is not RunStatus.FAILED or error is None:
        return flow_run
    try:
        outcome = on_error(error, flow_run)
        if inspect.isawaitable(outcome):
            await outcome
    except Exception as exc:  # noqa: BLE001 - the handler must not mask the run's error
        flow_run.error_handler_failure = exc
        message = flow_run.redact(f"{type(exc).__name__}: {exc}")
        _log.error("Error handler failed: %s", message)
    return flow_run


async def run(
    flow: str | Path,
    *,
    text: str | None = None,
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    workflow_input: Value = UNDEFINED,
    concurrency: int | None = None,
    keep_going: bool = False,
    timeout_ms: float | None = None,
    checkpoint: bool = True,
    state_dir: str | Path | None = None,
    observers: Sequence[Observer] = (),
    on_start: Callable[[FlowRun], None] | None = None,
    on_error: ErrorHandler | None = None,
    answers: Mapping[str, str] | None = None,
    checkpoint_policy: str = "pause",
    approver: Approver | None = None,
) -> FlowRun:
    """Run the flow file ``flow`` (or ``text``, with ``flow`` as its name and directory).

    Args:
        flow: the flow file (with ``text``: the file the text stands for; its directory is
            where file paths and the state directory resolve).
        text: the flow's text, when it is not read from ``flow``.
        config: config overrides.
        secrets: secret values; missing ones come from the environment.
        workflow_input: the run's input (``$input``).
        concurrency: nodes per wave at once (default: ``runtime.concurrency`` or 10).
        keep_going: let independent nodes run after a failure.
        timeout_ms: the whole run's deadline.
        checkpoint: write a checkpoint (needed to resume).
        state_dir: where checkpoints go (default: ``.maidit-state`` next to the flow).
        observers: callables receiving the run's events.
        on_start: called with the :class:`FlowRun` before it runs (keep it to cancel).
        on_error: the workflow-level error handler, ``on_error(error, flow_run)``,
            called once if the run fails, after its checkpoint is written.
        answers: checkpoint answers by node id, ``"ACTION"`` or ``"ACTION:TEXT"``.
        checkpoint_policy: how other checkpoints are answered: ``pause`` (the run ends
            ``paused``, resumable with an answer), ``approve``, ``reject``, ``default``.
        approver: an :class:`~.approval.Approver` of your own (instead of the policy).
    """
    prepared = await anyio.to_thread.run_sync(
        lambda: prepare_run(
            flow,
            text=text,
            config=config,
            secrets=secrets,
            workflow_input=workflow_input,
            concurrency=concurrency,
            keep_going=keep_going,
            timeout_ms=timeout_ms,
            checkpoint=checkpoint,
            state_dir=state_dir,
            approver=make_approver(answers, checkpoint_policy, approver),
        )
    )
    return await _start(prepared, observers, on_start, on_error)


async def resume(
    checkpoint: str | Path,
    *,
    flow: str | Path | None = None,
    text: str | None = None,
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    workflow_input: Value = UNDEFINED,
    concurrency: int | None = None,
    keep_going: bool | None = None,
    timeout_ms: float | None = None,
    observers: Sequence[Observer] = (),
    on_start: Callable[[FlowRun], None] | None = None,
    on_error: ErrorHandler | None = None,
    answers: Mapping[str, str] | None = None,
    checkpoint_policy: str = "pause",
    approver: Approver | None = None,
    cells: Mapping[str, str] | None = None,
    namespace: MutableMapping[str, Any] | None = None,
) -> FlowRun:
    """Continue the run of ``checkpoint``: reuse every node that succeeded and did not
    change, run the rest (``FlowRun.resume_plan`` says which and why).

    Args:
        checkpoint: the checkpoint file (``FlowRun.checkpoint_path``).
        flow: the flow file, when it moved (default: the one the checkpoint names).
        text: the flow's text, when it is not read from a file.
        config: config overrides on top of the stored values.
        secrets: secret values; missing ones come from the environment.
        workflow_input: a new input (default: the stored one).
        concurrency: nodes per wave at once (default: the stored value).
        keep_going: (default: the stored value).
        timeout_ms: a deadline for this resumed part.
        observers: callables receiving the run's events.
        on_start: called with the :class:`FlowRun` before it runs.
        on_error: the workflow-level error handler (see :func:`run`).
        answers: checkpoint answers (see :func:`run`): how a paused run continues.
        checkpoint_policy: how other checkpoints are answered (see :func:`run`).
        approver: an approver of your own.
        cells: a notebook's ``%%flow NAME`` cells, for ``cell:NAME`` includes.
        namespace: a notebook's variables, for python nodes that name a function of the
            notebook (``FlowRun.resume`` passes those of the run it continues).
    """
    prepared = await anyio.to_thread.run_sync(
        lambda: prepare_resume(
            checkpoint,
            flow=flow,
            text=text,
            config=config,
            secrets=secrets,
            workflow_input=workflow_input,
            concurrency=concurrency,
            keep_going=keep_going,
            timeout_ms=timeout_ms,
            approver=make_approver(answers, checkpoint_policy, approver),
            cells=cells,
            namespace=namespace,
        )
    )
    return await _start(prepared, observers, on_start, on_error)


def make_approver(
    answers: Mapping[str, str | Answer] | None,
    policy: str = "pause",
    approver: Approver | None = None,
) -> Approver:
    """Scripted ``answers`` first, then ``approver`` or the ``policy``.

    Raises:
        ValueError: an unknown policy or a malformed answer.
    """
    fallback = approver or PolicyApprover(policy)
    if not answers:
        return fallback
    scripted = {
        node: answer if isinstance(answer, Answer) else parse_action(answer)
        for node, answer in answers.items()
    }
    return ScriptedApprover(scripted, fallback)


def _sync(call: Callable[[], Coroutine[Any, Any, FlowRun]], name: str) -> FlowRun:
    try:
        return anyio.run(call)
    except RuntimeError as exc:
        if "already running" not in str(exc).lower():
            raise
        raise RuntimeError(
            f"{name}_sync() cannot run inside a running event loop (async code, a "
            f"notebook cell); use `await maidit_jupyter.{name}(...)` instead"
        ) from exc


def run_sync(flow: str | Path, **options: Any) -> FlowRun:
    """:func:`run` for code that is not async.

    Raises:
        RuntimeError: called while an event loop runs on this thread (use ``await run``).
    """
    return _sync(lambda: run(flow, **options), "run")


def resume_sync(checkpoint: str | Path, **options: Any) -> FlowRun:
    """:func:`resume` for code that is not async."""
    return _sync(lambda: resume(checkpoint, **options), "resume")
