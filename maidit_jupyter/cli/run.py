"""``maidit run`` and ``maidit resume``: run a flow, or continue one from its checkpoint.

Both check the flow, its configuration and secrets, run it with a checkpoint written as
it goes, append the execution log to the flow file (``--no-log`` to skip), and print a
summary, or with ``--format json`` the run report of spec/run-report.md. ``resume``
first prints which nodes it reuses and which it runs again, and why. Ctrl-C or SIGTERM
cancels the run cleanly: the log and the checkpoint are written, and the run can be
resumed. Exit codes: 0 completed, 1 failed, cancelled, paused or invalid, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

import anyio

from maidit_jupyter.cli.commands import load_checked, print_invalid
from maidit_jupyter.cli.progress import LineProgress, LiveProgress, progress_for
from maidit_jupyter.durations import parse_duration_ms
from maidit_jupyter.errors import Diagnostic, PersistenceError, WorkflowError
from maidit_jupyter.execution.api import make_approver
from maidit_jupyter.execution.approval import TerminalApprover, parse_answer
from maidit_jupyter.execution.events import (
    Observer,
)
from maidit_jupyter.execution.flow_run import FlowRun
from maidit_jupyter.execution.inputs import RunInputError, parse_override
from maidit_jupyter.execution.launch import PreparedRun, prepare_resume, prepare_run
from maidit_jupyter.execution.state import NodeStatus, RunStatus
from maidit_jupyter.expressions.values import UNDEFINED
from maidit_jupyter.parsing.parser import read_document
from maidit_jupyter.persistence.durable import write_atomic
from maidit_jupyter.redaction import SecretMask
from maidit_jupyter.reporting.markdown import append_execution_log
from maidit_jupyter.reporting.preview import preview
from maidit_jupyter.reporting.report import dumps, invalid_report
from maidit_jupyter.syntax.workflow import Workflow

__all__ = ["add_parsers", "resume", "run"]


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "-c",
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value (JSON when it parses); repeatable",
    )
    parser.add_argument("--input", metavar="JSON", help="the workflow input ($input)")
    parser.add_argument(
        "--no-log", action="store_true", help="do not write the log into the flow file"
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        default=None,
        help="run independent nodes after a failure",
    )
    parser.add_argument(
        "--concurrency", type=int, metavar="N", help="nodes per wave at once"
    )
    parser.add_argument(
        "--timeout", metavar="DURATION", help="deadline for the whole run (e.g. 30s)"
    )
    parser.add_argument(
        "--answer",
        action="append",
        default=[],
        metavar="NODE=ACTION[:TEXT]",
        help="answer a checkpoint ahead (e.g. approve-report=approve); repeatable",
    )
    parser.add_argument(
        "--checkpoints",
        choices=("ask", "pause", "approve", "reject", "default"),
        help="how unanswered checkpoints are answered: ask on the terminal, pause the "
        "run (resume later with --answer), or a fixed policy (default: ask on a "
        "terminal, pause elsewhere)",
    )


def add_parsers(sub: Any) -> None:
    """Register ``maidit run`` and ``maidit resume``."""
    parser = sub.add_parser(
        "run",
        help="run a flow and append its execution log",
        description="Validate and run a flow, writing a checkpoint as it goes. The "
        "execution log is appended to the flow file (after </workflow>) unless "
        "--no-log is given. A failed or cancelled run can be continued with "
        "`maidit resume CHECKPOINT`.",
    )
    parser.add_argument("file", metavar="FILE")
    _add_run_options(parser)
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="where checkpoints go (default: .maidit-state next to the flow)",
    )
    parser.add_argument(
        "--no-checkpoint", action="store_true", help="write no checkpoint"
    )
    parser.set_defaults(handler=run)

    parser = sub.add_parser(
        "resume",
        help="continue a failed, cancelled or paused run from its checkpoint",
        description="Continue a run from its checkpoint: nodes that succeeded and did "
        "not change are reused; failed, skipped and changed nodes (and what depends on "
        "them) run again. The reasons are printed first.",
    )
    parser.add_argument("checkpoint", metavar="CHECKPOINT")
    parser.add_argument(
        "--flow", metavar="FILE", help="the flow file, if it moved since the run"
    )
    _add_run_options(parser)
    parser.set_defaults(handler=resume)


class _Usage(Exception):
    """A command-line mistake (exit code 2)."""


def _run_inputs(args: argparse.Namespace) -> dict[str, Any]:
    """The options ``run`` and ``resume`` share, read from the command line."""
    try:
        overrides = dict(parse_override(text) for text in args.config)
    except ValueError as exc:
        raise _Usage(f"Invalid config format: {exc}") from None
    workflow_input: Any = UNDEFINED
    if args.input is not None:
        try:
            workflow_input = json.loads(args.input)
        except ValueError as exc:
            raise _Usage(f"Invalid JSON input: {exc}") from None
    timeout = parse_duration_ms(args.timeout) if args.timeout else None
    if args.timeout and not timeout:
        raise _Usage(f"--timeout is not a duration: {args.timeout!r}")
    if args.concurrency is not None and args.concurrency < 1:
        raise _Usage("--concurrency must be at least 1")
    try:
        answers = dict(parse_answer(text) for text in args.answer)
        policy = _policy(args)
    except ValueError as exc:
        raise _Usage(f"--answer: {exc}") from None
    return {
        "config": overrides,
        "config_source": "--config",
        "workflow_input": workflow_input,
        "concurrency": args.concurrency,
        "timeout_ms": timeout,
        "approver": make_approver(
            answers, policy, TerminalApprover() if policy == "ask" else None
        ),
    }


def _policy(args: argparse.Namespace) -> str:
    """``--checkpoints``, else ask on a terminal and pause elsewhere (CI, pipes)."""
    if args.checkpoints:
        return str(args.checkpoints)
    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    return "ask" if interactive and not os.environ.get("CI") else "pause"


def run(args: argparse.Namespace, out: TextIO) -> int:
    """``maidit run FILE ...``."""
    checked = load_checked(args.file)
    if (
        isinstance(checked, Diagnostic)
        or checked.plan is None
        or checked.workflow is None
    ):
        if args.format == "json":
            if isinstance(checked, Diagnostic):
                report = invalid_report("", [checked])
            else:
                name = checked.workflow.name if checked.workflow else ""
                report = invalid_report(name, checked.report.diagnostics)
            out.write(dumps(report) + "\n")
            return 1
        return print_invalid(args.file, checked)

    def prepare() -> PreparedRun:
        inputs = _run_inputs(args)
        if inputs["workflow_input"] is UNDEFINED:
            inputs["workflow_input"] = None
        return prepare_run(
            args.file,
            text=checked.parsed.source,
            checked=checked,
            keep_going=bool(args.keep_going),
            checkpoint=not args.no_checkpoint,
            state_dir=args.state_dir,
            **inputs,
        )

    return _execute(args, out, prepare)


def resume(args: argparse.Namespace, out: TextIO) -> int:
    """``maidit resume CHECKPOINT ...``."""

    def prepare() -> PreparedRun:
        return prepare_resume(
            args.checkpoint,
            flow=args.flow,
            keep_going=args.keep_going,
            **_run_inputs(args),
        )

    return _execute(args, out, prepare)


def _execute(args: argparse.Namespace, out: TextIO, prepare: Any) -> int:
    """Prepare (reporting problems), run until done or signalled, write log and output."""
    try:
        prepared: PreparedRun = prepare()
    except _Usage as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RunInputError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    except WorkflowError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except (PersistenceError, OSError, UnicodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    flow_run = FlowRun(prepared)
    mask = prepared.mask
    if prepared.resume is not None and args.format == "text":
        for line in prepared.resume.describe():
            print(mask.redact(line), file=sys.stderr)
        if not prepared.resume.rerun:
            print("nothing to run: every node is reused", file=sys.stderr)
    observers: list[Observer] = []
    display = None
    if args.format == "text":
        total = sum(1 for _ in prepared.workflow.walk())
        asks = _policy(args) == "ask"  # a live panel would draw over the questions
        display = (
            LineProgress(len(prepared.plan.waves), mask)
            if asks
            else progress_for(len(prepared.plan.waves), total, mask)
        )
        observers.append(display)
    try:
        anyio.run(_run_until_signalled, flow_run, observers)
    finally:
        if isinstance(display, LiveProgress):
            display.close()
    if not args.no_log:
        _write_log(prepared.flow_path, prepared.workflow, flow_run.log_markdown)
    if flow_run.checkpoint_error is not None:
        print(
            f"warning: the final checkpoint was not written: {flow_run.checkpoint_error}",
            file=sys.stderr,
        )
    if args.format == "json":
        report = flow_run.report()
        if prepared.resume is not None:
            report["resume"] = [
                {
                    "node": d.node_id,
                    "rerun": d.rerun,
                    "reason": mask.redact(d.reason),
                    "warning": mask.redact(d.warning) if d.warning else None,
                }
                for d in prepared.resume.decisions
            ]
        out.write(dumps(report) + "\n")
    else:
        out.write(_summary(flow_run, mask) + "\n")
    return 0 if flow_run.status is RunStatus.COMPLETED else 1


async def _run_until_signalled(flow_run: FlowRun, observers: list[Observer]) -> None:
    """Run; Ctrl-C or SIGTERM cancels the run cleanly (log and checkpoint written)."""

    async def on_signal() -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                print("\ncancelling the run...", file=sys.stderr)
                flow_run.cancel()
                return

    async with anyio.create_task_group() as group:
        group.start_soon(on_signal)
        await flow_run._execute(observers)
        group.cancel_scope.cancel()


def _write_log(path: Path, workflow: Workflow, log: str) -> None:
    """Append the log after </workflow>; a failure is a warning, never the run's result."""
    try:
        text = read_document(path)
        if text[: workflow.footer_offset] != workflow.source[: workflow.footer_offset]:
            print(
                f"warning: {path} changed during the run; the log was not written",
                file=sys.stderr,
            )
            return
        updated = append_execution_log(text, log, workflow_end=workflow.footer_offset)
        write_atomic(path, updated.encode("utf-8"), new_file_mode=0o666)
    except (OSError, PersistenceError, UnicodeError) as exc:
        print(f"warning: could not write the execution log: {exc}", file=sys.stderr)


def _summary(flow_run: FlowRun, mask: SecretMask) -> str:
    ok = flow_run.status is RunStatus.COMPLETED
    counts: dict[str, int] = {}
    reused = 0
    for result in flow_run.results.values():
        counts[str(result.status)] = counts.get(str(result.status), 0) + 1
        reused += result.reused
    lines = [
        "",
        "Execution completed successfully" if ok else f"Execution {flow_run.status}",
        "─" * 40,
        "",
        f"Workflow: {flow_run.workflow.name}",
        f"Run ID: {flow_run.run_id}",
        f"Duration: {flow_run.duration_ms:.0f}ms",
        "Results: "
        + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        + (f" ({reused} reused)" if reused else ""),
    ]
    if flow_run.error is not None:
        lines += ["", f"Error: {flow_run.error.message}"]
    failed = [r for r in flow_run.results.values() if r.error is not None]
    if failed:
        lines += ["", "Failed nodes:"]
        lines += [f"  • {r.node_id}: {r.error.message}" for r in failed if r.error]
    shown = [r for r in flow_run.results.values() if r.status is NodeStatus.SUCCESS][
        -3:
    ]
    if ok and shown:
        lines += ["", "Final outputs:"]
        lines.extend(
            f"  {result.node_id}: {preview(result.output, 63, mask)}"
            for result in shown
        )
    checkpoint = flow_run.checkpoint_path
    if checkpoint is not None:
        lines += ["", f"Checkpoint: {checkpoint}"]
        waiting = [
            r.node_id
            for r in flow_run.results.values()
            if r.status is NodeStatus.WAITING and r.node_id in flow_run.plan.nodes
        ]
        if flow_run.status is RunStatus.PAUSED and waiting:
            answers = " ".join(f"--answer {node}=approve" for node in waiting)
            lines.append(f"Waiting at: {', '.join(waiting)}")
            lines.append(f"Resume with: maidit resume {checkpoint} {answers}")
        elif flow_run.can_resume:
            lines.append(f"Resume with: maidit resume {checkpoint}")
    return "\n".join(lines)
