"""What a ``%%flow`` cell does: check, then plan or run, on the kernel's event loop.

Errors in the flow become one :class:`CellFlowError` whose diagnostics point at the
cell's own lines (line 1 is the ``%%flow`` line), rendered with a caret excerpt and no
Python traceback. Bad options raise IPython's ``UsageError``; unusable config, secrets
or input a :class:`CellInputError` that shows only its problems. File paths resolve
against the kernel's working directory; checkpoints go to the configured state
directory. Where nobody can answer a checkpoint, the configured policy applies
(``pause`` by default: the run ends ``paused`` and ``run.resume(answers=...)``
continues it).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
from IPython.core.error import UsageError
from IPython.core.getipython import get_ipython
from IPython.display import Markdown, display

from maidit_jupyter.durations import parse_duration_ms
from maidit_jupyter.errors import Diagnostic, MaiditError, WorkflowError
from maidit_jupyter.execution.api import make_approver
from maidit_jupyter.execution.approval import (
    Answer,
    ApprovalRequest,
    Approver,
    parse_answer,
)
from maidit_jupyter.execution.events import RunEvent
from maidit_jupyter.execution.flow_run import FlowRun
from maidit_jupyter.execution.inputs import RunInputError, parse_override
from maidit_jupyter.execution.launch import prepare_resume, prepare_run
from maidit_jupyter.expressions.values import UNDEFINED, Value
from maidit_jupyter.notebook.magics import MaiditMagics, parse_flow_line
from maidit_jupyter.notebook.panel import RunPanel, WidgetApprover
from maidit_jupyter.source import LineIndex, SourcePosition, SourceSpan
from maidit_jupyter.validation.validator import CheckedDocument, check_document

__all__ = ["CellFlowError", "CellInputError", "run_flow_cell"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class CellFlowError(WorkflowError):
    """The flow in a cell has errors; they point at the cell's lines."""


class CellInputError(MaiditError):
    """The run's config, secrets or input cannot be used; ``problems`` lists why."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

    def _render_traceback_(self) -> list[str]:
        return [f"error: {problem}" for problem in self.problems]


def _in_cell(diagnostic: Diagnostic, header: str, name: str) -> Diagnostic:
    """The diagnostic moved down one line: the cell's first line is the magic."""
    span = diagnostic.span
    moved = None
    if span is not None:
        shift = len(header) + 1
        moved = SourceSpan(
            start=SourcePosition(
                offset=span.start.offset + shift,
                line=span.start.line + 1,
                column=span.start.column,
            ),
            end=SourcePosition(
                offset=span.end.offset + shift,
                line=span.end.line + 1,
                column=span.end.column,
            ),
        )
    return replace(diagnostic, span=moved, path=f"cell {name}")


def _cell_error(
    checked: CheckedDocument, header: str, body: str, name: str
) -> CellFlowError:
    cell = header + "\n" + body
    diagnostics = [_in_cell(d, header, name) for d in checked.report.diagnostics]
    return CellFlowError(diagnostics, source=cell)


def _render(
    diagnostics: tuple[Diagnostic, ...], header: str, body: str, name: str
) -> str:
    index = LineIndex(header + "\n" + body)
    return "\n\n".join(_in_cell(d, header, name).render(index) for d in diagnostics)


async def run_flow_cell(line: str, body: str) -> FlowRun | None:
    """Run the ``%%flow`` cell ``body`` with the options of ``line``."""
    shell = get_ipython()
    if shell is None:
        raise UsageError("%%flow needs IPython")
    magics = MaiditMagics.of(shell)
    args = parse_flow_line(line)
    header = f"%%flow {line}".rstrip()
    checked = check_document(body, path="cell")
    workflow = checked.workflow
    name = args.name or (workflow.name if workflow is not None else "cell")
    if checked.plan is None or workflow is None:
        raise _cell_error(checked, header, body, name)
    warnings = checked.report.warnings
    if warnings:
        sys.stderr.write(_render(warnings, header, body, name) + "\n")
    magics.cells[name] = body  # other cells may include it as cell:NAME
    if args.save:
        await anyio.Path(args.save).write_text(body, encoding="utf-8")
    if args.validate:
        display(Markdown(f"**{name}**: valid ({len(checked.plan.nodes)} nodes)"))
        return None
    if args.plan:
        waves = "\n".join(
            f"{index + 1}. " + ", ".join(f"`{node}`" for node in wave)
            for index, wave in enumerate(checked.plan.waves)
        )
        display(Markdown(f"**{name}**: {len(checked.plan.waves)} waves\n\n{waves}"))
        return None
    interactive = _interactive(shell, magics, args)
    if args.step and not interactive:
        raise UsageError("--step needs the live panel (a notebook a person looks at)")
    late = _LateApprover()
    options = _run_options(shell, args, magics, late if interactive else None)
    try:
        if args.resume is not None:
            earlier = _earlier_run(magics, name, args.resume)
            prepared = prepare_resume(
                earlier.checkpoint_path or "",
                text=body,
                cells=magics.cells,
                namespace=shell.user_ns,
                **{k: v for k, v in options.items() if k != "keep_going"},
            )
        else:
            prepared = prepare_run(
                Path.cwd() / f"{_UNSAFE.sub('-', name) or 'cell'}.flow.md",
                text=body,
                checked=checked,
                state_dir=Path(magics.state_dir),
                checkpoint=not args.no_checkpoint,
                cells=magics.cells,
                namespace=shell.user_ns,
                **options,
            )
    except RunInputError as exc:
        raise CellInputError(exc.problems) from None
    flow_run = FlowRun(prepared)
    magics.runs.append(flow_run)
    if not interactive:  # the panel shows them otherwise
        for decision in flow_run.resume_plan:
            if decision.warning is not None:
                warning = flow_run.mask.redact(decision.warning)
                sys.stderr.write(f"warning: {decision.node_id}: {warning}\n")
    observers = []
    pacer = None
    shown = None
    panel: RunPanel | None = None
    if interactive:
        panel = RunPanel(flow_run, magics.update_hz)
        panel.stepping = args.step
        panel.on_resume = _resumer(magics, answers_of(args))
        late.target = WidgetApprover(panel)
        observers.append(panel)
        pacer = panel.next_wave
        shown = display(panel.bundle(), raw=True, display_id=True)
    if args.out:
        shell.user_ns[args.out] = flow_run
    if args.background:
        flow_run.pending = asyncio.ensure_future(flow_run._execute(observers, pacer))
        return flow_run
    interrupt = await _run_until_interrupted(flow_run, observers, pacer)
    if panel is not None and shown is not None:  # the static part: the final state
        shown.update(panel.bundle(), raw=True)
    display(Markdown(flow_run.log_markdown))  # the execution log, below the panel
    if args.log_file:
        async with await anyio.open_file(args.log_file, "a", encoding="utf-8") as log:
            await log.write(flow_run.log_markdown + "\n")
    if args.out:
        shell.user_ns[args.out] = flow_run
    if interrupt is not None:
        raise interrupt  # the cell ends interrupted: the cells queued after it do not run
    return flow_run


async def _run_until_interrupted(
    flow_run: FlowRun,
    observers: list[Any],
    pacer: Callable[[int], Coroutine[Any, Any, None]] | None,
) -> asyncio.CancelledError | None:
    """Run ``flow_run``; return the kernel interrupt that cancelled it, if one did.

    ipykernel turns an interrupt (SIGINT) into a cancellation of the cell's task; the
    run then ends ``cancelled`` with its checkpoint written (``FlowRun._execute``), and
    the cell shows its log before it raises the interrupt.
    """
    try:
        await flow_run._execute(observers, pacer)
    except asyncio.CancelledError as interrupt:
        return interrupt
    return None


def _earlier_run(magics: MaiditMagics, name: str, run_id: str) -> FlowRun:
    """The run ``--resume`` continues: by id (a prefix), else this flow's latest."""
    for run in reversed(magics.runs):
        matches = run.run_id.startswith(run_id) if run_id else run.workflow.name == name
        if matches and run.checkpoint_path is not None:
            return run
    wanted = f"run {run_id!r}" if run_id else f"a run of {name!r}"
    raise UsageError(f"--resume: no {wanted} with a checkpoint in this kernel")


def answers_of(args: Any) -> dict[str, Answer]:
    """The ``--answer NODE=ACTION[:TEXT]`` options as a mapping."""
    try:
        return dict(parse_answer(text) for text in args.answer)
    except ValueError as exc:
        raise UsageError(f"--answer: {exc}") from None


def _resumer(
    magics: MaiditMagics, answers: dict[str, Answer]
) -> Callable[[RunPanel], Coroutine[Any, Any, None]]:
    """What the Resume button does: continue the run with a new panel below the old."""

    async def resume_from(old: RunPanel) -> None:
        checkpoint = old.flow_run.checkpoint_path
        if checkpoint is None:
            return
        late = _LateApprover()
        current: list[RunPanel] = []

        def started(flow_run: FlowRun) -> None:
            panel = RunPanel(flow_run, magics.update_hz)
            panel.on_resume = resume_from
            late.target = WidgetApprover(panel)
            current.append(panel)
            magics.runs.append(flow_run)
            old.follow_up.append_display_data(panel.view)

        def relay(event: RunEvent) -> None:
            if current:
                current[0](event)

        resumed = await old.flow_run.resume(
            text=old.flow_run.workflow.source,
            cells=magics.cells,  # as they are now: a fixed cell is used
            approver=make_approver(answers, "pause", late),
            observers=[relay],
            on_start=started,
        )
        old.follow_up.append_display_data(resumed)

    return resume_from


class _LateApprover:
    """Asks the panel's approver, which exists only once the run object does."""

    def __init__(self) -> None:
        self.target: Approver | None = None

    async def ask(self, request: ApprovalRequest) -> Answer | None:
        return await self.target.ask(request) if self.target is not None else None


def _interactive(shell: Any, magics: MaiditMagics, args: Any) -> bool:
    """Whether a person is looking: a kernel whose front end accepts input (nbclient,
    papermill and nbval do not), no ``CI``, and the panel not turned off."""
    if args.no_widget or not magics.show_widget or os.environ.get("CI"):
        return False
    kernel = getattr(shell, "kernel", None)
    return bool(kernel is not None and getattr(kernel, "_allow_stdin", False))


def _run_options(
    shell: Any, args: Any, magics: MaiditMagics, asker: Approver | None
) -> dict[str, Any]:
    """The options of ``prepare_run`` from the cell's line and the configuration."""
    try:
        overrides = dict(parse_override(text) for text in args.config)
    except ValueError as exc:
        raise UsageError(f"--config: {exc}") from None
    workflow_input: Value = UNDEFINED
    if args.input:
        try:
            workflow_input = shell.ev(args.input)
        except Exception as exc:  # noqa: BLE001 - the user's expression, shown plainly
            raise UsageError(f"--input {args.input!r} failed: {exc}") from None
        workflow_input = _plain(workflow_input)
    secrets: Mapping[str, str] | None = None
    if args.secrets:
        found = shell.user_ns.get(args.secrets)
        if not isinstance(found, Mapping):
            raise UsageError(f"--secrets {args.secrets}: not a mapping in the notebook")
        secrets = {str(key): str(value) for key, value in found.items()}
    timeout = parse_duration_ms(args.timeout) if args.timeout else None
    if args.timeout and not timeout:
        raise UsageError(f"--timeout is not a duration: {args.timeout!r}")
    answers = answers_of(args)
    return {
        "config": overrides,
        "config_source": "--config",
        "secrets": secrets,
        "workflow_input": workflow_input,
        "concurrency": args.concurrency or magics.concurrency,
        "keep_going": args.keep_going,
        "timeout_ms": timeout,
        "approver": make_approver(
            answers,
            args.checkpoints or magics.checkpoint_policy,
            None if args.checkpoints else asker,
        ),
    }


def _plain(value: Any) -> Value:
    """A Python value as flow data: JSON-like values as they are, others by round trip
    through JSON where possible (tuples become lists); anything else stays as it is."""
    if isinstance(value, str | int | float | bool | list | dict) or value is None:
        return value
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return value
