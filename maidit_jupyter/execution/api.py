"""Run a flow from Python: ``await run(path)`` in async code or a notebook, ``run_sync``
elsewhere.

Both read and check the flow, build ``$config`` from the defaults and ``config``
(``required``/``type``/``enum`` enforced), take secrets from ``secrets`` or the
environment, and run it. An invalid flow raises
:class:`~maidit_jupyter.errors.WorkflowError` with every diagnostic; unusable inputs
raise :class:`~maidit_jupyter.execution.inputs.RunInputError`. A run that fails does not
raise: its :class:`~maidit_jupyter.execution.state.RunRecord` says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio

from maidit_jupyter.errors import WorkflowSyntaxError, WorkflowValidationError
from maidit_jupyter.execution.events import Observer
from maidit_jupyter.execution.executor import RunOptions, execute
from maidit_jupyter.execution.inputs import resolve_config, resolve_secrets
from maidit_jupyter.execution.state import RunRecord
from maidit_jupyter.expressions.values import UNDEFINED, Value
from maidit_jupyter.parsing.parser import read_document
from maidit_jupyter.planning.analysis import analyze
from maidit_jupyter.validation.validator import check_document

__all__ = ["run", "run_sync"]


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
    observers: Sequence[Observer] = (),
    cancel: anyio.Event | None = None,
) -> RunRecord:
    """Run the flow file ``flow`` (or ``text``, with ``flow`` as its name and directory).

    Args:
        flow: the flow file (with ``text``: the file the text stands for; its directory is
            where file paths resolve).
        text: the flow's text, when it is not read from ``flow``.
        config: config overrides.
        secrets: secret values; missing ones come from the environment.
        workflow_input: the run's input (``$input``).
        concurrency: nodes per wave at once (default: ``runtime.concurrency`` or 10).
        keep_going: let independent nodes run after a failure.
        timeout_ms: the whole run's deadline.
        observers: callables receiving the run's events.
        cancel: set it to cancel the run.
    """
    path = Path(flow)
    source = (
        text
        if text is not None
        else await anyio.to_thread.run_sync(read_document, path)
    )
    base_dir = Path(await anyio.Path(path).resolve()).parent
    checked = check_document(source, path=str(path))
    workflow, plan = checked.workflow, checked.plan
    if workflow is None or checked.parsed.errors:
        raise WorkflowSyntaxError(checked.report.diagnostics, source=source)
    if plan is None:
        raise WorkflowValidationError(checked.report.diagnostics, source=source)
    front = workflow.frontmatter
    used = {name for facts in analyze(workflow).sites for name, _, _ in facts.secrets}
    options = RunOptions(
        base_dir=base_dir,
        config=resolve_config(front.config, config, source="config"),
        secrets=resolve_secrets(front.secrets, os.environ, used=used, given=secrets),
        env=dict(os.environ),
        workflow_input=workflow_input,
        concurrency=concurrency or front.runtime.get("concurrency", 10),
        keep_going=keep_going,
        timeout_ms=timeout_ms,
    )
    return await execute(workflow, plan, options, observers=observers, cancel=cancel)


def run_sync(flow: str | Path, **options: Any) -> RunRecord:
    """:func:`run` for code that is not async.

    Raises:
        RuntimeError: called while an event loop runs on this thread (use ``await run``).
    """
    try:
        return anyio.run(lambda: run(flow, **options))
    except RuntimeError as exc:
        if "already running" not in str(exc).lower():
            raise
        raise RuntimeError(
            "run_sync() cannot run inside a running event loop (async code, a notebook "
            "cell); use `await maidit_jupyter.run(...)` instead"
        ) from exc
