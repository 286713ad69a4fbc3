"""``FlowRun``: one run of a flow as Python code sees it (spec/notebook.md §2).

It is what ``await maidit_jupyter.run(...)`` and ``resume(...)`` return: the status,
every node's result and output, the execution log as markdown, the plan, the checkpoint
and what a resume decided, and the means to act on the run: :meth:`FlowRun.cancel`
while it runs, :meth:`FlowRun.resume` after it failed, was cancelled or paused.
Everything it shows (repr, HTML, the log, the report, ``error``, the messages and reasons
in ``results``) has the run's secrets redacted; node outputs are the data itself, and
``record`` is the executor's raw record.
"""

from __future__ import annotations

import html
import importlib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio

from maidit_jupyter.checkpoints import NodeDecision
from maidit_jupyter.errors import Diagnostic, PersistenceError
from maidit_jupyter.execution.events import Observer
from maidit_jupyter.execution.launch import PreparedRun, launch
from maidit_jupyter.execution.state import NodeError, NodeResult, RunRecord, RunStatus
from maidit_jupyter.expressions.values import UNDEFINED, Value
from maidit_jupyter.planning.plan import ExecutionPlan
from maidit_jupyter.redaction import SecretMask
from maidit_jupyter.reporting.markdown import format_execution_log
from maidit_jupyter.reporting.report import run_report
from maidit_jupyter.syntax.workflow import Workflow

__all__ = ["FlowRun", "Outputs"]

_RESUMABLE = frozenset({RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.PAUSED})


def redacted_result(result: NodeResult, mask: SecretMask) -> NodeResult:
    """``result`` with the secrets masked in its error, reason and child run."""
    child = result.child
    return replace(
        result,
        error=None
        if result.error is None
        else NodeError(
            message=mask.redact(result.error.message), code=result.error.code
        ),
        reason=None if result.reason is None else mask.redact(result.reason),
        child=None
        if child is None
        else replace(
            child,
            error=None
            if child.error is None
            else NodeError(
                message=mask.redact(child.error.message), code=child.error.code
            ),
            results={
                node_id: redacted_result(nested, mask)
                for node_id, nested in child.results.items()
            },
        ),
    )


class Outputs(Mapping[str, Value]):
    """Node outputs by id: ``outputs["load-data"]``, or ``outputs.summary`` for ids that
    are Python identifiers. Nodes without an output are absent."""

    def __init__(self, results: Mapping[str, NodeResult]) -> None:
        self._values = {
            node_id: result.output
            for node_id, result in results.items()
            if result.output is not UNDEFINED
        }

    def __getitem__(self, key: str) -> Value:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> Value:
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"no node {name!r} has an output")

    def __dir__(self) -> list[str]:
        return sorted(
            {*super().__dir__(), *(k for k in self._values if k.isidentifier())}
        )

    def __repr__(self) -> str:
        return f"Outputs({', '.join(self._values)})"


class FlowRun:
    """A run of a flow: its record when finished, and what can be done with it.

    Args:
        prepared: the prepared run (:mod:`.launch`).
    """

    def __init__(self, prepared: PreparedRun) -> None:
        self._prepared = prepared
        self._record: RunRecord | None = None
        self._cancel = anyio.Event()
        self._log: str | None = None
        self._results: Mapping[str, NodeResult] | None = None
        #: what the ``on_error`` handler raised, if it failed.
        self.error_handler_failure: Exception | None = None
        #: the run going on in the background, when it was started so.
        self.pending: Awaitable[Any] | None = None

    # -- what the run is -------------------------------------------------------------

    @property
    def workflow(self) -> Workflow:
        """The workflow that ran."""
        return self._prepared.workflow

    @property
    def plan(self) -> ExecutionPlan:
        """Its plan (``plan.waves``: node ids per wave)."""
        return self._prepared.plan

    @property
    def run_id(self) -> str:
        """The run's id (kept by resumes)."""
        run_id = self._prepared.options.run_id
        assert run_id is not None
        return run_id

    @property
    def record(self) -> RunRecord | None:
        """The finished run's raw record (None while it runs; not redacted)."""
        return self._record

    @property
    def status(self) -> RunStatus:
        """``running`` until it ends, then ``completed``, ``failed``, ``cancelled``."""
        return self._record.status if self._record is not None else RunStatus.RUNNING

    @property
    def error(self) -> NodeError | None:
        """Why the run failed (secrets redacted), or None."""
        if self._record is None or self._record.error is None:
            return None
        error = self._record.error
        return NodeError(
            message=self._prepared.mask.redact(error.message), code=error.code
        )

    @property
    def results(self) -> Mapping[str, NodeResult]:
        """Every node's result (status, output, error, attempts, timings) by id; error
        messages and reasons have the run's secrets redacted (in the runs of
        include/call nodes, ``result.child``, too)."""
        if self._record is None:
            return {}
        if self._results is None:
            mask = self._prepared.mask
            self._results = (
                {
                    node_id: redacted_result(result, mask)
                    for node_id, result in self._record.results.items()
                }
                if mask
                else self._record.results
            )
        return self._results

    @property
    def outputs(self) -> Outputs:
        """Every node's output by id (attribute access for identifier ids)."""
        return Outputs(self.results)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """The flow's validation warnings."""
        return self._prepared.warnings

    @property
    def checkpoint_path(self) -> Path | None:
        """The checkpoint file (None when the run wrote none)."""
        return self._prepared.checkpoint_path

    @property
    def checkpoint_error(self) -> PersistenceError | None:
        """Set when the final checkpoint could not be written."""
        return self._prepared.checkpoint_error

    @property
    def resume_plan(self) -> tuple[NodeDecision, ...]:
        """For a resumed run: each scheduled node, reused or run again, and why."""
        resume = self._prepared.resume
        return resume.decisions if resume is not None else ()

    @property
    def duration_ms(self) -> float:
        """How long the run took (0 while it runs)."""
        if self._record is None or self._record.finished_at is None:
            return 0.0
        return (self._record.finished_at - self._record.started_at) * 1000.0

    @property
    def can_resume(self) -> bool:
        """Whether :meth:`resume` can continue this run."""
        return self.checkpoint_path is not None and self.status in _RESUMABLE

    @property
    def log_markdown(self) -> str:
        """The execution log (dialect §8) as markdown, secrets redacted."""
        if self._record is None:
            return ""
        if self._log is None:
            self._log = format_execution_log(self._record, secrets=self._prepared.mask)
        return self._log

    def report(self) -> dict[str, Any]:
        """The JSON run report of spec/run-report.md."""
        if self._record is None:
            raise RuntimeError("the run has not finished")
        checkpoint = self.checkpoint_path
        return run_report(
            self._record,
            plan=self.plan.waves,
            warnings=self.warnings,
            checkpoint=str(checkpoint) if checkpoint is not None else None,
            log=self.log_markdown,
            secrets=self._prepared.mask,
        )

    def redact(self, text: str) -> str:
        """``text`` with this run's secret values masked."""
        return self._prepared.mask.redact(text)

    @property
    def mask(self) -> SecretMask:
        """This run's secret values and their encodings (for views that show data)."""
        return self._prepared.mask

    # -- acting on it ----------------------------------------------------------------

    def cancel(self) -> None:
        """Ask the running run to stop; its nodes end ``skipped`` ("cancelled") and the
        checkpoint stays resumable. Call it on the run's event loop thread."""
        self._cancel.set()

    async def wait(self) -> FlowRun:
        """Wait for a run started in the background (``%%flow --background``)."""
        if self.pending is not None:
            await self.pending
        return self

    async def resume(self, **options: Any) -> FlowRun:
        """Continue this run from its checkpoint (see :func:`maidit_jupyter.resume`).

        A flow that has no file (a notebook cell) resumes with the text it ran, and
        with the notebook variables and cells it ran with unless others are given.
        """
        from maidit_jupyter.execution.api import resume

        if self.checkpoint_path is None:
            raise RuntimeError("this run wrote no checkpoint, so it cannot be resumed")
        if (
            "text" not in options
            and "flow" not in options
            and not await anyio.Path(self._prepared.flow_path).is_file()
        ):
            options["text"] = self.workflow.source
        options.setdefault("cells", self._prepared.options.cells)
        options.setdefault("namespace", self._prepared.options.namespace)
        return await resume(self.checkpoint_path, **options)

    def to_frame(self) -> Any:
        """The node table as a pandas DataFrame (pandas must be installed)."""
        try:
            pandas = importlib.import_module("pandas")
        except ImportError as exc:
            raise ImportError("to_frame() needs pandas: pip install pandas") from exc
        return pandas.DataFrame(self._rows()).set_index("node")

    def _rows(self) -> list[dict[str, Any]]:
        """One row per node, in document order (stable however the nodes raced)."""
        mask = self._prepared.mask
        position = {node.id: index for index, node in enumerate(self.workflow.walk())}
        results = sorted(
            self.results.items(), key=lambda item: position.get(item[0], len(position))
        )
        return [
            {
                "node": node_id,
                "status": str(result.status),
                "wave": result.wave,
                "attempts": result.attempts,
                "duration_ms": round(result.duration_ms, 3),
                "reused": result.reused,
                "reason": mask.redact(result.reason) if result.reason else None,
                "error": mask.redact(result.error.message) if result.error else None,
            }
            for node_id, result in results
        ]

    # -- display ---------------------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"<FlowRun {self.workflow.name!r} {self.run_id[:8]} {self.status}: "
            f"{len(self.results)} nodes, {self.duration_ms:.0f} ms>"
        )

    def _repr_markdown_(self) -> str:
        return self.log_markdown or f"**{html.escape(self.workflow.name)}**: running"

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape('' if value is None else str(value))}</td>"
                for value in (
                    row["node"],
                    row["status"],
                    row["wave"],
                    row["attempts"],
                    f"{row['duration_ms']:.0f} ms",
                    row["error"] or row["reason"],
                )
            )
            + "</tr>"
            for row in self._rows()
        )
        title = html.escape(f"{self.workflow.name} · {self.run_id[:8]} · {self.status}")
        return (
            f"<div><strong>{title}</strong><table><thead><tr><th>node</th><th>status"
            "</th><th>wave</th><th>attempts</th><th>time</th><th>note</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
        )

    # -- running (the API's side) ----------------------------------------------------

    async def _execute(
        self,
        observers: Sequence[Observer] = (),
        pacer: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        """Run it (the API's and the notebook's side).

        Cancelling the task that awaits this (a kernel interrupt, a timeout around the
        call, ``task.cancel()``) cancels the run as :meth:`cancel` does: its running
        nodes end ``skipped`` ("cancelled"), the run ``cancelled`` with its checkpoint
        written and resumable; then the cancellation goes on. Torn down mid-step
        instead, the run would have no record and its checkpoint would stay
        ``running``.
        """
        finished = anyio.Event()
        failure: list[Exception] = []  # raised as is, not inside an exception group

        async def run() -> None:
            try:
                with anyio.CancelScope(shield=True):
                    self._record = await launch(
                        self._prepared,
                        observers=observers,
                        cancel=self._cancel,
                        pacer=pacer,
                    )
            except Exception as exc:  # noqa: BLE001 - re-raised below
                failure.append(exc)
            finally:
                finished.set()

        async with anyio.create_task_group() as group:
            group.start_soon(run)
            try:
                await finished.wait()
            except anyio.get_cancelled_exc_class():
                self._cancel.set()  # the group waits for the run to end, then re-raises
                raise
        if failure:
            raise failure[0]
