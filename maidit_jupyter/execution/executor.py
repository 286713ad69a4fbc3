"""Run a planned workflow wave by wave on anyio.

Each wave runs its nodes concurrently under a limit (``concurrency``, default 10). A
node's attempt runs under its per-attempt timeout, is retried by its policy
(:mod:`.retry`) and, when it still fails, hands over to its ``<on-error><fallback>`` node
with ``$primaryError`` and ``$primaryInput``. Every failure becomes a ``failed``
:class:`~.state.NodeResult`; the task group only ever sees cancellation.

A resume passes the results it reuses (``prior``): they are recorded first, marked
``reused``, and their nodes do not run. A ``journal`` (the checkpoint writer) is told of
every result and every finished wave; if it cannot write, the run stops with its error
(code ``CHECKPOINT_FAILED``): a run must not go on believing it is resumable.

A failed node fails the run at the end of its wave, and every later node is recorded
``skipped`` with the reason; with ``keep_going`` only the failed node's descendants are
skipped. A run-level timeout cancels the running nodes (``skipped``, "cancelled").

Nodes whose kind runs in a later issue (control flow, checkpoints, HTTP, database,
AI, python) fail with ``RUNTIME_UNSUPPORTED`` and a clear message.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio
import anyio.lowlevel

from maidit_jupyter._gc import gc_relaxed
from maidit_jupyter.checkpoints.document import StoredIteration
from maidit_jupyter.errors import ExpressionError, MaiditError, NodeRuntimeError
from maidit_jupyter.execution.approval import Approver, PolicyApprover
from maidit_jupyter.execution.blocks import BLOCK_NODES, Blocks, Frame
from maidit_jupyter.execution.composition import ChildRun, ChildRunFailed, Composer
from maidit_jupyter.execution.events import (
    NodeFinished,
    NodeRetrying,
    NodeStarted,
    Observer,
    RunEvent,
    RunFinished,
    RunStarted,
    WaveStarted,
)
from maidit_jupyter.execution.gates import Gates, Paused
from maidit_jupyter.execution.retry import RetryPolicy, error_scope, is_retryable
from maidit_jupyter.execution.state import (
    Intent,
    NodeError,
    NodeResult,
    NodeStatus,
    RunRecord,
    RunStatus,
)
from maidit_jupyter.expressions.compiled import ExpressionCompiler
from maidit_jupyter.expressions.evaluator import Evaluator
from maidit_jupyter.expressions.scope import RootScope, Scope
from maidit_jupyter.expressions.values import UNDEFINED, Value, truthy
from maidit_jupyter.planning.plan import ExecutionPlan
from maidit_jupyter.redaction import SecretMask
from maidit_jupyter.runtimes.base import NodeContext, RunResources, SettingError
from maidit_jupyter.runtimes.effects import outside_effect
from maidit_jupyter.runtimes.registry import RuntimeRegistry, runtime_key
from maidit_jupyter.syntax.nodes import (
    CallNode,
    CheckpointNode,
    ConfiguredNode,
    ContextNode,
    IncludeNode,
    Node,
    SetNode,
)
from maidit_jupyter.syntax.workflow import Workflow

__all__ = ["RunJournal", "RunOptions", "execute"]


class RunJournal(Protocol):
    """Where a run's progress is persisted as it happens (the checkpoint writer)."""

    @property
    def failure(self) -> Exception | None:
        """The error that stopped it from writing, if any."""

    def effect_started(self, intent: Intent) -> None:
        """Persist that a node acting outside the run starts (no fsync)."""

    def node_finished(self, result: NodeResult) -> None:
        """Persist a node's final result (must not block for long: no fsync)."""

    async def wave_finished(self, index: int) -> None:
        """Mark wave ``index`` complete."""

    def iteration_finished(
        self, node_id: str, index: int, item: Value, output: Value
    ) -> None:
        """Persist one finished foreach iteration."""

    def loop_iteration_finished(
        self, node_id: str, index: int, output: Value, state: Mapping[str, Value]
    ) -> None:
        """Persist a loop's latest finished iteration and the state after it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """How to run: inputs, limits, and where the flow lives.

    :ivar base_dir: the directory file paths resolve against.
    :ivar concurrency: nodes of one wave running at once.
    :ivar keep_going: let independent nodes run after a failure.
    :ivar timeout_ms: the whole run's deadline.
    :ivar approver: who answers checkpoints (default: nobody, so the run pauses).
    :ivar call_stack: the resolved paths of the flows executing in this chain of
        include/call, this one last (cycle detection; :mod:`.composition`).
    :ivar variables: the variables the run starts with (an include's bindings).
    :ivar mask: the run's secret mask; a called flow adds the secrets it receives.
    """

    base_dir: Path
    config: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    workflow_input: Value = UNDEFINED
    concurrency: int = 10
    keep_going: bool = False
    timeout_ms: float | None = None
    run_id: str | None = None
    approver: Approver = field(default_factory=lambda: PolicyApprover("pause"))
    clock: Callable[[], float] = time.time
    rng: random.Random | None = None
    call_stack: tuple[str, ...] = ()
    #: ``%%flow NAME`` cells a flow may include as ``cell:NAME`` (name → text).
    cells: Mapping[str, str] = field(default_factory=dict)
    #: the notebook's variables, for python nodes (``var=``, bare function names).
    namespace: MutableMapping[str, Any] | None = None
    variables: Mapping[str, Value] = field(default_factory=dict)
    mask: SecretMask | None = None


async def execute(
    workflow: Workflow,
    plan: ExecutionPlan,
    options: RunOptions,
    *,
    registry: RuntimeRegistry | None = None,
    cancel: anyio.Event | None = None,
    observers: Sequence[Observer] = (),
    journal: RunJournal | None = None,
    prior: Mapping[str, NodeResult] | None = None,
    prior_iterations: Mapping[str, Mapping[int, StoredIteration]] | None = None,
    pacer: Callable[[int], Awaitable[None]] | None = None,
) -> RunRecord:
    """Run ``plan`` and return the record of the run.

    ``observers`` receive the run's events (:mod:`.events`) as they happen. ``journal``
    persists every result; ``prior`` holds the results a resume reuses (their nodes do
    not run), ``prior_iterations`` the iterations of foreach and loop nodes it can
    skip. ``pacer(index)``, when given, is awaited before every wave but the first
    (step mode: a person lets the next wave start).

    Setting ``cancel`` (a Cancel button, Ctrl-C, SIGTERM) stops the running nodes; they
    and every node that did not run are recorded ``skipped`` with reason "cancelled",
    and the run ends ``cancelled``.
    """
    runner = _Run(workflow, plan, options, registry or RuntimeRegistry.default())
    runner.observers = list(observers)
    runner.journal = journal
    runner.prior_iterations = prior_iterations or {}
    runner.pacer = pacer
    with gc_relaxed():
        try:
            return await runner.run(cancel, prior or {})
        finally:
            with anyio.CancelScope(shield=True):
                await runner.resources.aclose()  # clients and pools the run opened


class _Run:
    """The private, mutable state of one run (its owner is the executor)."""

    def __init__(
        self,
        workflow: Workflow,
        plan: ExecutionPlan,
        options: RunOptions,
        registry: RuntimeRegistry,
    ) -> None:
        self.workflow = workflow
        self.plan = plan
        self.options = options
        self.registry = registry
        self.outputs: dict[str, Value] = {}
        self.variables: dict[str, Value] = dict(options.variables)
        #: the latest checkpoint answer (``$checkpoint``).
        self.checkpoint: dict[str, Value] = {}
        #: scheduled nodes waiting at a checkpoint nobody could answer.
        self.paused: list[str] = []
        self.results: dict[str, NodeResult] = {}
        self.observers: list[Observer] = []
        self.journal: RunJournal | None = None
        self.prior_iterations: Mapping[str, Mapping[int, StoredIteration]] = {}
        self.pacer: Callable[[int], Awaitable[None]] | None = None
        #: set when the journal failed: the run stops with this error.
        self.journal_error: Exception | None = None
        self.abort_scope: anyio.CancelScope | None = None
        self.run_id = options.run_id or uuid.uuid4().hex
        #: failed results in the order they failed (kept so no wave rescans results).
        self.failures: list[NodeResult] = []
        self.rng = options.rng or random.Random()  # noqa: S311 - backoff jitter, not crypto
        self.evaluator = Evaluator(rng=self.rng)
        self.compiler = ExpressionCompiler(frozenset(workflow.node_ids()))
        self.root = RootScope(
            outputs=self.outputs,
            config=options.config,
            secrets=options.secrets,
            env=options.env,
            workflow_input=options.workflow_input,
            variables=self.variables,
            checkpoint=self.checkpoint,
        )
        self.nodes = {node.id: node for node in workflow.walk()}
        #: what each node acting outside the run does (:func:`outside_effect`).
        self.effects = {
            node_id: effect
            for node_id, node in self.nodes.items()
            if (effect := outside_effect(node)) is not None
        }
        self.resources = RunResources()
        self.blocks = Blocks(self)
        self.composer = Composer(self)
        self.gates = Gates(self)
        self.concurrency = max(1, options.concurrency)
        runtime = workflow.frontmatter.runtime
        retry = runtime.get("retry")
        self.default_retry = (
            RetryPolicy.from_mapping(retry)
            if isinstance(retry, Mapping)
            else RetryPolicy()
        )

    def reuse(self, prior: Mapping[str, NodeResult]) -> None:
        """Record the results a resume carries over; restore outputs and variables."""
        for node_id, result in prior.items():
            if result.status is NodeStatus.SUCCESS:
                self.outputs[node_id] = result.output
                node = self.nodes.get(node_id)
                if isinstance(node, SetNode):
                    self.variables[node_id] = result.output
                elif isinstance(node, ContextNode) and isinstance(
                    result.output, Mapping
                ):
                    self.variables.update(result.output)
            self.results[node_id] = result
            self.emit(NodeFinished(result=result))

    async def run(
        self,
        cancel: anyio.Event | None = None,
        prior: Mapping[str, NodeResult] | None = None,
    ) -> RunRecord:
        started = self.options.clock()
        status = RunStatus.COMPLETED
        error: NodeError | None = None
        waves_run = 0
        cancelled = False
        deadline = self.options.timeout_ms or self.workflow.frontmatter.runtime.get(
            "timeout_ms"
        )

        async def watch(event: anyio.Event, scope: anyio.CancelScope) -> None:
            nonlocal cancelled
            await event.wait()
            cancelled = True
            scope.cancel()

        self.emit(
            RunStarted(
                run_id=self.run_id, workflow=self.workflow.name, waves=self.plan.waves
            )
        )
        self.reuse(prior or {})
        with anyio.move_on_after(deadline / 1000.0 if deadline else None) as scope:
            async with anyio.create_task_group() as outer:
                self.abort_scope = outer.cancel_scope
                if cancel is not None:
                    outer.start_soon(watch, cancel, outer.cancel_scope)
                for index, wave in enumerate(self.plan.waves):
                    todo = [node_id for node_id in wave if node_id not in self.results]
                    if not todo:
                        continue
                    if self.pacer is not None and waves_run:
                        await self.pacer(index)
                    waves_run += 1
                    self.emit(WaveStarted(index=index, nodes=tuple(todo)))
                    await self.run_wave(todo, index)
                    if self.journal is not None:
                        await self.journal.wave_finished(index)
                        self.check_journal()
                    # Let the cancel watcher and displays run, and take a cancellation,
                    # even when no node of the wave awaited anything.
                    await anyio.lowlevel.checkpoint()
                    if self.failures and not self.options.keep_going:
                        status, error = RunStatus.FAILED, self.failures[0].error
                        self.skip_rest(f"run failed at wave {index}")
                        break
                    if self.paused:
                        status = RunStatus.PAUSED
                        self.skip_rest(f"paused at checkpoint {self.paused[0]!r}")
                        break
                outer.cancel_scope.cancel()  # the run is over: stop the watcher
        if self.journal_error is not None:
            status = RunStatus.FAILED
            error = NodeError(
                message=f"the checkpoint could not be written: {self.journal_error}",
                code="CHECKPOINT_FAILED",
            )
            self.skip_rest("cancelled: the checkpoint could not be written")
        elif cancelled:
            status = RunStatus.CANCELLED
            error = NodeError(message="the run was cancelled", code="CANCELLED")
            self.skip_rest("cancelled")
        elif scope.cancelled_caught:
            status = RunStatus.FAILED
            error = NodeError(
                message=f"the run timed out after {deadline:g} ms",
                code="RUNTIME_TIMEOUT",
            )
            self.skip_rest("cancelled: the run timed out")
        elif status is RunStatus.COMPLETED and self.failures:
            status, error = RunStatus.FAILED, self.failures[0].error
        for node_id in self.nodes:
            if node_id not in self.results:
                self.record(
                    NodeResult(
                        node_id=node_id,
                        status=NodeStatus.SKIPPED,
                        reason="never reached",
                    )
                )
        record = RunRecord(
            run_id=self.run_id,
            workflow=self.workflow.name,
            status=status,
            started_at=started,
            finished_at=self.options.clock(),
            waves_executed=waves_run,
            results=dict(self.results),
            error=error,
        )
        self.emit(RunFinished(record=record))
        return record

    def record(self, result: NodeResult) -> NodeResult:
        """Store a node's final result and tell the observers."""
        self.results[result.node_id] = result
        if self.journal is not None and self.journal_error is None:
            self.journal.node_finished(result)
            self.check_journal()
        self.emit(NodeFinished(result=result))
        return result

    def intent(self, node_id: str, frame: Frame | None) -> None:
        """A node acting outside the run starts: persist it (one record per run of it)."""
        if self.journal is None or self.journal_error is not None:
            return
        if frame is None:
            owner, key = node_id, None
        else:
            owner = self.plan.graph.owners.get(node_id, (node_id,))[0]
            key = frame.iteration_key()
        self.journal.effect_started(
            Intent(
                node=node_id,
                what=self.effects[node_id],
                owner=owner,
                block=key[0] if key is not None else None,
                index=key[1] if key is not None else None,
            )
        )
        self.check_journal()

    def iteration_done(
        self, node_id: str, index: int, item: Value, output: Value
    ) -> None:
        """A foreach iteration finished: persist it (a resume may skip it)."""
        if self.journal is not None and self.journal_error is None:
            self.journal.iteration_finished(node_id, index, item, output)
            self.check_journal()

    def loop_iteration_done(
        self, node_id: str, index: int, output: Value, state: Mapping[str, Value]
    ) -> None:
        """A loop iteration finished: persist it and the state the next one needs."""
        if self.journal is not None and self.journal_error is None:
            self.journal.loop_iteration_finished(node_id, index, output, state)
            self.check_journal()

    def check_journal(self) -> None:
        """Stop the run when the journal could not write."""
        if self.journal is not None and self.journal.failure is not None:
            self.journal_error = self.journal.failure
            if self.abort_scope is not None:
                self.abort_scope.cancel()

    def emit(self, event: RunEvent) -> None:
        """Send ``event`` to every observer; one that raises is dropped."""
        for observer in list(self.observers):
            try:
                observer(event)
            except Exception:  # noqa: BLE001 - a broken display must not break the run
                self.observers.remove(observer)

    def skip_rest(self, reason: str) -> None:
        """Record every scheduled node that has no result yet as skipped."""
        for index, wave in enumerate(self.plan.waves):
            for node_id in wave:
                if node_id not in self.results:
                    self.record(
                        NodeResult(
                            node_id=node_id,
                            status=NodeStatus.SKIPPED,
                            reason=reason,
                            wave=index,
                        )
                    )

    async def run_wave(self, todo: list[str], index: int) -> None:
        """Run a wave's nodes, at most ``concurrency`` at once.

        ``min(concurrency, len(todo))`` workers take nodes in document order, so a wave of
        5,000 nodes costs 10 tasks, not 5,000 tasks queueing on a limiter; a wave of one
        node runs inline (most waves of a chain).
        """
        nodes = self.plan.nodes
        if len(todo) == 1:
            await self.run_scheduled(nodes[todo[0]], index)
            return
        queue = iter(todo)

        async def worker() -> None:
            for node_id in queue:
                await self.run_scheduled(nodes[node_id], index)

        async with anyio.create_task_group() as group:
            for _ in range(min(self.concurrency, len(todo))):
                group.start_soon(worker)

    async def run_scheduled(self, node: Node, wave: int) -> None:
        """Run a top-level node of a wave, unless an upstream node did not succeed."""
        for dependency in self.plan.graph.edges.get(node.id, ()):
            upstream = self.results.get(dependency.on)
            if upstream is not None and upstream.status is not NodeStatus.SUCCESS:
                self.record(
                    NodeResult(
                        node_id=node.id,
                        status=NodeStatus.SKIPPED,
                        reason=f"upstream {dependency.on!r} {upstream.status}",
                        wave=wave,
                    )
                )
                return
        await self.run_node(node, wave)

    def node_input(self, node: Node, frame: Frame | None = None) -> Value:
        """The input of a node: its ``input=`` reference(s), else the workflow input.

        Inside a block, a reference to a node of the same iteration or branch reads that
        iteration's output (the frame's), not the latest one of any iteration.
        """
        if node.input is None:
            return self.options.workflow_input
        values: dict[str, Value] = {}
        for ref in node.input.refs:
            value = (
                frame.output(ref.node, self.outputs)
                if frame is not None
                else self.outputs.get(ref.node, UNDEFINED)
            )
            for part in ref.path:
                value = (
                    value.get(part, UNDEFINED)
                    if isinstance(value, Mapping)
                    else UNDEFINED
                )
            values[ref.node] = value
        if node.input.is_multi:
            return values
        return next(iter(values.values()))

    async def run_node(
        self,
        node: Node,
        wave: int,
        extra: Mapping[str, Value] | None = None,
        frame: Frame | None = None,
    ) -> NodeResult:
        """Run one node with retries and fallback; record and return its result.

        ``frame`` is where a nested node runs (its block's scope and iteration outputs).
        """
        node_input = self.node_input(node, frame)
        outer: Scope = self.root
        if frame is not None:
            frame.touch(node.id)
            outer = frame.scope
        scope = outer.child(input=node_input, **dict(extra or {}))
        started = self.options.clock()
        policy = self.policy(node)
        if node.id in self.effects:
            self.intent(node.id, frame)
        attempts = 0
        while True:
            attempts += 1
            if attempts == 1:
                self.emit(NodeStarted(node_id=node.id, wave=wave))
            try:
                output = await self.attempt(node, node_input, scope, wave, frame)
            except Paused as pause:
                if frame is None:
                    self.paused.append(node.id)
                return self.record(
                    NodeResult(
                        node_id=node.id,
                        status=NodeStatus.WAITING,
                        reason=f"waiting for an answer at checkpoint {pause.node_id!r}",
                        wave=wave,
                        attempts=attempts,
                        started_at=started,
                        finished_at=self.options.clock(),
                    )
                )
            except anyio.get_cancelled_exc_class():
                self.record(
                    NodeResult(
                        node_id=node.id,
                        status=NodeStatus.SKIPPED,
                        reason="cancelled",
                        wave=wave,
                        attempts=attempts,
                        started_at=started,
                        finished_at=self.options.clock(),
                    )
                )
                raise
            except Exception as exc:  # noqa: BLE001 - every node failure becomes its result
                if attempts <= policy.max_retries and self.wants_retry(
                    policy, exc, scope
                ):
                    delay = policy.delay_ms(attempts, self.rng)
                    # the server's Retry-After, if it asked for longer (up to the cap)
                    hint = getattr(exc, "retry_after_ms", None)
                    if isinstance(hint, int | float) and hint > delay:
                        delay = min(float(hint), policy.cap_ms)
                    self.emit(
                        NodeRetrying(
                            node_id=node.id,
                            attempt=attempts,
                            delay_ms=delay,
                            message=_node_error(exc).message,
                        )
                    )
                    await anyio.sleep(delay / 1000.0)
                    continue
                return await self.failed(
                    node, wave, exc, attempts, started, node_input, frame
                )
            child = meta = None
            if isinstance(output, ChildRun):
                output, child = output.output, output.record
            elif isinstance(output, _WithMeta):
                output, meta = output.output, output.meta
            result = NodeResult(
                node_id=node.id,
                status=NodeStatus.SUCCESS,
                output=output,
                wave=wave,
                attempts=attempts,
                started_at=started,
                finished_at=self.options.clock(),
                child=child,
                meta=meta,
            )
            self.keep_output(node.id, output, frame)
            return self.record(result)

    def keep_output(self, node_id: str, output: Value, frame: Frame | None) -> None:
        """Make a node's output visible: to the whole run, and to its iteration."""
        self.outputs[node_id] = output
        if frame is not None:
            frame.keep(node_id, output)

    async def attempt(
        self,
        node: Node,
        node_input: Value,
        scope: Scope,
        wave: int,
        frame: Frame | None,
    ) -> Value:
        """One attempt, under the node's per-attempt timeout."""
        timeout = node.timeout_ms
        if timeout is None and isinstance(node, ConfiguredNode):
            configured = node.config.get("timeout")
            timeout = configured if isinstance(configured, int | float) else None
        if not timeout:
            return await self.dispatch(node, node_input, scope, wave, frame)
        try:
            with anyio.fail_after(timeout / 1000.0):
                return await self.dispatch(node, node_input, scope, wave, frame)
        except TimeoutError:
            raise NodeRuntimeError(
                f"node {node.id!r} timed out after {timeout:g} ms",
                code="RUNTIME_TIMEOUT",
                retryable=True,
            ) from None

    async def dispatch(
        self,
        node: Node,
        node_input: Value,
        scope: Scope,
        wave: int,
        frame: Frame | None,
    ) -> Value:
        """Hand the node to its runtime, or run a block (if, loop, parallel, ...)."""
        if isinstance(node, BLOCK_NODES):
            return await self.blocks.run(node, node_input, scope, wave, frame)
        if isinstance(node, IncludeNode | CallNode):
            return await self.composer.run(node, node_input, scope, wave, frame)
        if isinstance(node, CheckpointNode):
            return await self.gates.run(node, node_input, scope, wave, frame)
        runtime = self.registry.get(node)
        if runtime is None:
            raise NodeRuntimeError(
                f"{runtime_key(node)} nodes cannot run yet in this version",
                code="RUNTIME_UNSUPPORTED",
            )
        ctx = NodeContext(
            node=node,
            input=node_input,
            scope=scope,
            evaluator=self.evaluator,
            compiler=self.compiler,
            base_dir=self.options.base_dir,
            variables=self.variables,
            secrets=self.options.secrets,
            env=self.options.env,
            frontmatter=self.workflow.frontmatter,
            resources=self.resources,
            run_id=self.run_id,
            namespace=self.options.namespace,
            mask=self.options.mask,
        )
        output = await runtime.run(ctx)
        return _WithMeta(output, ctx.meta) if ctx.meta else output

    def policy(self, node: Node) -> RetryPolicy:
        """The node's retry policy: ``<on-error><retry>``, a ``retry`` block, the default."""
        if node.on_error is not None and node.on_error.retry is not None:
            return RetryPolicy.from_spec(node.on_error.retry)
        if isinstance(node, ConfiguredNode) and isinstance(
            node.config.get("retry"), Mapping
        ):
            block = node.config["retry"]
            assert isinstance(block, Mapping)
            return RetryPolicy.from_mapping(block)
        return self.default_retry

    def wants_retry(
        self, policy: RetryPolicy, error: BaseException, scope: Scope
    ) -> bool:
        """Whether to try again after ``error``.

        A mistake in an expression never is (it would fail the same way). Otherwise a
        ``when`` condition over ``$error`` decides; without one, the error's kind does
        (timeouts, connection errors, HTTP 429/5xx yes; missing files, bad data no).
        """
        if isinstance(error, ExpressionError):
            return False
        if policy.when is None:
            return is_retryable(error)
        try:
            expression = self.compiler.expression(policy.when)
            return truthy(
                expression.evaluate(
                    scope.child(**{"$error": error_scope(error)}), self.evaluator
                )
            )
        except ExpressionError:
            return False

    async def failed(
        self,
        node: Node,
        wave: int,
        exc: Exception,
        attempts: int,
        started: float,
        node_input: Value,
        frame: Frame | None,
    ) -> NodeResult:
        """Record a failure, or the output of the fallback node when one succeeds.

        Only a scheduled (top-level) node's failure fails the run; inside a block the
        block decides (a failed branch of ``wait="any"`` may not matter).
        """
        error = _node_error(exc)
        fallback_id = node.on_error.fallback if node.on_error is not None else None
        fallback = self.nodes.get(fallback_id) if fallback_id else None
        if fallback is not None:
            extra = {"$primaryError": error.message, "$primaryInput": node_input}
            rescue = await self.run_node(fallback, wave, extra, frame)
            if rescue.status is NodeStatus.SUCCESS:
                result = NodeResult(
                    node_id=node.id,
                    status=NodeStatus.SUCCESS,
                    output=rescue.output,
                    wave=wave,
                    attempts=attempts,
                    started_at=started,
                    finished_at=self.options.clock(),
                    reason=f"fallback {fallback.id!r} after: {error.message}",
                )
                self.keep_output(node.id, rescue.output, frame)
                return self.record(result)
        result = NodeResult(
            node_id=node.id,
            status=NodeStatus.FAILED,
            error=error,
            wave=wave,
            attempts=attempts,
            started_at=started,
            finished_at=self.options.clock(),
            child=exc.record if isinstance(exc, ChildRunFailed) else None,
        )
        if frame is None:
            self.failures.append(result)
        return self.record(result)


@dataclass(frozen=True, slots=True)
class _WithMeta:
    """A runtime's output with what it reported besides (``NodeContext.meta``)."""

    output: Value
    meta: Mapping[str, Any]


def _node_error(exc: Exception) -> NodeError:
    """The error a failed node records: a message and a code, never a traceback."""
    if isinstance(exc, SettingError):
        return NodeError(message=f"{exc.field}: {exc.message}", code=str(exc.code))
    if isinstance(exc, ExpressionError):
        return NodeError(message=exc.message, code=str(exc.code))
    if isinstance(exc, NodeRuntimeError):
        return NodeError(message=exc.message, code=exc.code)
    if isinstance(exc, MaiditError):
        return NodeError(message=str(exc), code=type(exc).__name__)
    return NodeError(message=f"{type(exc).__name__}: {exc}", code="INTERNAL_ERROR")
