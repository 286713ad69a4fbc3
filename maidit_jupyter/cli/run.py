"""``maidit run``: run a flow from the command line.

Validates the flow, checks its configuration and secrets, runs it, appends the
execution log to the flow file (``--no-log`` to skip), and prints a summary, or with
``--format json`` the run report of spec/run-report.md. Exit codes: 0 completed, 1 failed
or invalid, 2 usage error.
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
from maidit_jupyter.durations import parse_duration_ms
from maidit_jupyter.errors import Diagnostic, PersistenceError
from maidit_jupyter.execution.events import (
    NodeFinished,
    NodeRetrying,
    Observer,
    RunEvent,
    WaveStarted,
)
from maidit_jupyter.execution.executor import RunOptions, execute
from maidit_jupyter.execution.inputs import (
    RunInputError,
    parse_override,
    resolve_config,
    resolve_secrets,
)
from maidit_jupyter.execution.state import NodeStatus, RunRecord, RunStatus
from maidit_jupyter.expressions.values import to_json
from maidit_jupyter.parsing.parser import read_document
from maidit_jupyter.persistence.durable import write_atomic
from maidit_jupyter.planning.analysis import analyze
from maidit_jupyter.planning.plan import ExecutionPlan
from maidit_jupyter.reporting.markdown import (
    append_execution_log,
    format_execution_log,
    redact,
)
from maidit_jupyter.reporting.report import dumps, invalid_report, run_report
from maidit_jupyter.syntax.nodes import ConfiguredNode
from maidit_jupyter.syntax.workflow import Workflow

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Register ``maidit run``."""
    parser = sub.add_parser(
        "run",
        help="run a flow and append its execution log",
        description="Validate and run a flow. The execution log is appended to the flow "
        "file (after </workflow>) unless --no-log is given.",
    )
    parser.add_argument("file", metavar="FILE")
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
        "--no-log", action="store_true", help="do not write the log into the file"
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="run independent nodes after a failure",
    )
    parser.add_argument(
        "--concurrency", type=int, metavar="N", help="nodes per wave at once"
    )
    parser.add_argument(
        "--timeout", metavar="DURATION", help="deadline for the whole run"
    )
    parser.set_defaults(handler=run)


def _used_secrets(workflow: Workflow) -> set[str]:
    names = {name for facts in analyze(workflow).sites for name, _, _ in facts.secrets}
    for node in workflow.walk():
        if isinstance(node, ConfiguredNode):
            for key in ("api-key", "password"):
                value = node.config.get(key)
                if isinstance(value, str) and value:
                    names.add(value)
    return names


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
    workflow, plan = checked.workflow, checked.plan
    try:
        overrides = dict(parse_override(text) for text in args.config)
    except ValueError as exc:
        print(f"error: Invalid config format: {exc}", file=sys.stderr)
        return 2
    workflow_input: Any = None
    if args.input is not None:
        try:
            workflow_input = json.loads(args.input)
        except ValueError as exc:
            print(f"error: Invalid JSON input: {exc}", file=sys.stderr)
            return 2
    timeout = parse_duration_ms(args.timeout) if args.timeout else None
    if args.timeout and not timeout:
        print(f"error: --timeout is not a duration: {args.timeout!r}", file=sys.stderr)
        return 2
    try:
        config = resolve_config(workflow.frontmatter.config, overrides)
        secrets = resolve_secrets(
            workflow.frontmatter.secrets, os.environ, used=_used_secrets(workflow)
        )
    except RunInputError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    options = RunOptions(
        base_dir=Path(args.file).resolve().parent,
        config=config,
        secrets=secrets,
        env=dict(os.environ),
        workflow_input=workflow_input,
        concurrency=args.concurrency
        or workflow.frontmatter.runtime.get("concurrency", 10),
        keep_going=args.keep_going,
        timeout_ms=timeout,
    )
    observers: list[Observer] = []
    if args.format == "text":
        observers.append(_Progress(len(plan.waves), list(secrets.values())))
    record: RunRecord = anyio.run(
        _run_until_signalled, workflow, plan, options, observers
    )
    secret_values = list(secrets.values())
    log = format_execution_log(record, secrets=secret_values)
    if not args.no_log:
        _write_log(Path(args.file), workflow, log)
    if args.format == "json":
        report = run_report(
            record,
            plan=plan.waves,
            warnings=checked.report.warnings,
            log=log,
            secrets=secret_values,
        )
        out.write(dumps(report) + "\n")
    else:
        out.write(_summary(record, secret_values) + "\n")
    return 0 if record.status is RunStatus.COMPLETED else 1


class _Progress:
    """Prints one line per wave and per finished node on stderr (text mode)."""

    def __init__(self, waves: int, secrets: list[str]) -> None:
        self.waves = waves
        self.secrets = secrets

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, WaveStarted):
            print(
                f"wave {event.index + 1}/{self.waves}: {', '.join(event.nodes)}",
                file=sys.stderr,
            )
        elif isinstance(event, NodeRetrying):
            message = redact(event.message, self.secrets)
            print(
                f"  ↻ {event.node_id}: {message} (retry {event.attempt} in {event.delay_ms:.0f} ms)",
                file=sys.stderr,
            )
        elif isinstance(event, NodeFinished):
            result = event.result
            if result.status is NodeStatus.SUCCESS:
                line = f"  ✓ {result.node_id} ({result.duration_ms:.0f} ms)"
            elif result.status is NodeStatus.FAILED and result.error is not None:
                line = f"  ✗ {result.node_id}: {redact(result.error.message, self.secrets)}"
            else:
                line = f"  - {result.node_id} skipped: {result.reason}"
            print(line, file=sys.stderr)


async def _run_until_signalled(
    workflow: Workflow,
    plan: ExecutionPlan,
    options: RunOptions,
    observers: list[Observer],
) -> RunRecord:
    """Run; Ctrl-C or SIGTERM cancels the run cleanly (the log is still written)."""
    cancel = anyio.Event()

    async def on_signal() -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                print("\ncancelling the run...", file=sys.stderr)
                cancel.set()
                return

    async with anyio.create_task_group() as group:
        group.start_soon(on_signal)
        record = await execute(
            workflow, plan, options, cancel=cancel, observers=observers
        )
        group.cancel_scope.cancel()
    return record


def _write_log(path: Path, workflow: Workflow, log: str) -> None:
    """Append the log after </workflow>; a failure is a warning, never the run's result."""
    try:
        text = read_document(path)
        if text != workflow.source:
            print(
                f"warning: {path} changed during the run; the log was not written",
                file=sys.stderr,
            )
            return
        updated = append_execution_log(text, log, workflow_end=workflow.footer_offset)
        write_atomic(path, updated.encode("utf-8"), new_file_mode=0o666)
    except (OSError, PersistenceError, UnicodeError) as exc:
        print(f"warning: could not write the execution log: {exc}", file=sys.stderr)


def _summary(record: RunRecord, secrets: list[str]) -> str:
    ok = record.status is RunStatus.COMPLETED
    counts: dict[str, int] = {}
    for result in record.results.values():
        counts[str(result.status)] = counts.get(str(result.status), 0) + 1
    duration = ((record.finished_at or record.started_at) - record.started_at) * 1000
    lines = [
        "",
        "Execution completed successfully" if ok else f"Execution {record.status}",
        "─" * 40,
        "",
        f"Workflow: {record.workflow}",
        f"Run ID: {record.run_id}",
        f"Duration: {duration:.0f}ms",
        "Results: "
        + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())),
    ]
    if record.error is not None:
        lines += ["", f"Error: {redact(record.error.message, secrets)}"]
    failed = [r for r in record.results.values() if r.error is not None]
    if failed:
        lines += ["", "Failed nodes:"]
        lines += [
            f"  • {r.node_id}: {redact(r.error.message, secrets)}"
            for r in failed
            if r.error
        ]
    shown = [r for r in record.results.values() if r.status.value == "success"][-3:]
    if ok and shown:
        lines += ["", "Final outputs:"]
        for result in shown:
            text = redact(
                result.output
                if isinstance(result.output, str)
                else to_json(result.output),
                secrets,
            )
            lines.append(
                f"  {result.node_id}: {text if len(text) <= 60 else text[:60] + '...'}"
            )
    return "\n".join(lines)
