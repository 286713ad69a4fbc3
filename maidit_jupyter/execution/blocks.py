"""The blocks: nodes whose work is running other nodes (dialect §6).

``if`` and ``branch`` run the chosen body and record the others ``skipped`` ("branch
not taken"); ``loop`` runs its body up to ``max`` times (``$iteration``, ``break``);
``while`` runs it while its condition holds, up to a safety bound; ``foreach`` runs it
per item (``item``/``index`` variables, ``concurrency``) and outputs the list of each
iteration's last output; ``parallel`` runs its branches at once and, once ``wait``
(``all``, ``any``, ``n(N)``) is satisfied, **cancels** the rest, then merges the results;
``timeout`` puts a real deadline on its body (the running child is cancelled) and may
route to an ``on-timeout`` node; ``phase`` runs its body in order. A block's output is
its (chosen) body's last output.

Nested nodes run through the executor like any node (retries, timeouts, fallback,
events, checkpoint records), each in a :class:`Frame`: the scope it sees and the outputs
of its own iteration or branch, so ``b.output`` inside iteration 3 is iteration 3's
``b``, even when iterations run concurrently. Every nested result is also recorded under
the node's id (the last iteration's wins, as the run report describes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel

from maidit_jupyter.checkpoints.document import item_hash
from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.execution.gates import Paused
from maidit_jupyter.execution.state import NodeResult, NodeStatus
from maidit_jupyter.expressions.scope import Scope
from maidit_jupyter.expressions.values import UNDEFINED, Value, truthy
from maidit_jupyter.syntax.nodes import (
    BranchNode,
    ForeachNode,
    IfNode,
    LoopNode,
    Node,
    ParallelNode,
    PhaseNode,
    TimeoutNode,
    WhileNode,
    walk,
)

if TYPE_CHECKING:
    from maidit_jupyter.execution.executor import _Run

__all__ = ["BLOCK_NODES", "BlockFailed", "Blocks", "Frame"]

BLOCK_NODES = (
    IfNode,
    BranchNode,
    LoopNode,
    WhileNode,
    ForeachNode,
    ParallelNode,
    TimeoutNode,
    PhaseNode,
)
#: iterations of ``loop`` without ``max`` and the safety bound of ``while``.
DEFAULT_MAX_ITERATIONS = 1000


class BlockFailed(NodeRuntimeError):
    """A node inside a block failed, so the block fails (with that node's code)."""


class Frame:
    """Where nested nodes run: the scope they see and, for an iteration or a branch,
    the outputs of that iteration (visible to its nodes' expressions and ``input=``).

    Args:
        scope: the scope the nested nodes' own scopes are layered on.
        outputs: the iteration's outputs as ``{id: {"output": value}}`` (None for blocks
            that do not iterate: their nodes write to the enclosing iteration).
        parent: the enclosing frame.
        touched: collects the ids of the nodes that started in this frame or below
            (a cancelled branch records the others as cancelled).
        key: for an iteration the checkpoint records (foreach, loop, while), its
            block's id and index: nodes that act outside the run say where they ran.
    """

    __slots__ = ("key", "outputs", "parent", "scope", "touched")

    def __init__(
        self,
        scope: Scope,
        outputs: dict[str, Value] | None = None,
        parent: Frame | None = None,
        touched: set[str] | None = None,
        key: tuple[str, int] | None = None,
    ) -> None:
        self.scope = scope
        self.outputs = outputs
        self.parent = parent
        self.touched = touched
        self.key = key

    @classmethod
    def iteration(
        cls,
        scope: Scope,
        variables: Mapping[str, Value],
        parent: Frame | None,
        key: tuple[str, int] | None = None,
    ) -> Frame:
        """A fresh frame for one iteration or branch, with its own variables."""
        outputs: dict[str, Value] = {}
        return cls(
            scope.with_variables(variables).with_variables(outputs),
            outputs,
            parent,
            set(),
            key,
        )

    def iteration_key(self) -> tuple[str, int] | None:
        """The innermost recorded iteration this frame is in (block id, index)."""
        frame: Frame | None = self
        while frame is not None:
            if frame.key is not None:
                return frame.key
            frame = frame.parent
        return None

    def touch(self, node_id: str) -> None:
        """Note that ``node_id`` started here (in every enclosing frame that asks)."""
        frame: Frame | None = self
        while frame is not None:
            if frame.touched is not None:
                frame.touched.add(node_id)
            frame = frame.parent

    def output(self, node_id: str, run_outputs: Mapping[str, Value]) -> Value:
        """A node's output as seen here: this iteration's, else the run's latest."""
        frame: Frame | None = self
        while frame is not None:
            if frame.outputs is not None and node_id in frame.outputs:
                return frame.outputs[node_id]["output"]
            frame = frame.parent
        return run_outputs.get(node_id, UNDEFINED)

    def keep(self, node_id: str, output: Value) -> None:
        """Record a nested node's output in the innermost iteration."""
        frame: Frame | None = self
        while frame is not None and frame.outputs is None:
            frame = frame.parent
        if frame is not None and frame.outputs is not None:
            frame.outputs[node_id] = {"output": output}


class Blocks:
    """Runs block nodes for one run (``run`` is the executor's run)."""

    def __init__(self, run: _Run) -> None:
        self.run_ = run

    async def run(
        self,
        node: Node,
        node_input: Value,
        scope: Scope,
        wave: int,
        frame: Frame | None,
    ) -> Value:
        """Run a block node; raises :class:`BlockFailed` when it fails."""
        if isinstance(node, IfNode):
            return await self.if_(node, scope, wave, frame)
        if isinstance(node, BranchNode):
            return await self.branch(node, scope, wave, frame)
        if isinstance(node, LoopNode):
            return await self.loop(node, scope, wave, frame)
        if isinstance(node, WhileNode):
            return await self.while_(node, scope, wave, frame)
        if isinstance(node, ForeachNode):
            return await self.foreach(node, scope, wave, frame)
        if isinstance(node, ParallelNode):
            return await self.parallel(node, scope, wave, frame)
        if isinstance(node, TimeoutNode):
            return await self.timeout(node, scope, wave, frame)
        assert isinstance(node, PhaseNode)
        if not node.body:
            return node_input
        return await self.body(node.body, wave, Frame(scope, None, frame))

    # -- helpers ---------------------------------------------------------------------

    def value(self, text: str, scope: Scope) -> Value:
        """Evaluate a bare expression (errors fail the block, located)."""
        run = self.run_
        return run.compiler.expression(text).evaluate(scope, run.evaluator)

    async def body(self, nodes: Sequence[Node], wave: int, frame: Frame) -> Value:
        """Run ``nodes`` in order; the last output, or :class:`BlockFailed`."""
        output: Value = UNDEFINED
        for position, child in enumerate(nodes):
            result = await self.run_.run_node(child, wave, frame=frame)
            if result.status is NodeStatus.WAITING:
                raise Paused(child.id)
            if result.status is not NodeStatus.SUCCESS:
                self.skip(nodes[position + 1 :], f"{child.id!r} {result.status}", wave)
                message = (
                    result.error.message if result.error is not None else result.reason
                )
                raise BlockFailed(
                    f"{child.id!r} {result.status}: {message}",
                    code=result.error.code if result.error is not None else "SKIPPED",
                )
            output = result.output
        return output

    def skip(self, nodes: Sequence[Node], reason: str, wave: int) -> None:
        """Record every node of ``nodes`` (nested ones too) as skipped."""
        for node in walk(tuple(nodes)):
            self.run_.record(
                NodeResult(
                    node_id=node.id, status=NodeStatus.SKIPPED, reason=reason, wave=wave
                )
            )

    # -- the blocks ------------------------------------------------------------------

    async def if_(
        self, node: IfNode, scope: Scope, wave: int, frame: Frame | None
    ) -> Value:
        taken = truthy(self.value(node.condition, scope))
        chosen, other = (node.then, node.else_) if taken else (node.else_, node.then)
        self.skip(other, "branch not taken", wave)
        return await self.body(chosen, wave, Frame(scope, None, frame))

    async def branch(
        self, node: BranchNode, scope: Scope, wave: int, frame: Frame | None
    ) -> Value:
        bodies = [case.body for case in node.cases]
        chosen: int | None = None
        for index, case in enumerate(node.cases):
            if truthy(self.value(case.when, scope)):
                chosen = index
                break
        if node.default is not None:
            bodies.append(node.default)
            if chosen is None:
                chosen = len(bodies) - 1
        for index, body in enumerate(bodies):
            if index != chosen:
                self.skip(body, "branch not taken", wave)
        if chosen is None:
            return UNDEFINED
        return await self.body(bodies[chosen], wave, Frame(scope, None, frame))

    async def loop(
        self, node: LoopNode, scope: Scope, wave: int, frame: Frame | None
    ) -> Value:
        limit = node.max if node.max is not None else DEFAULT_MAX_ITERATIONS
        first, output = self.restore(node)
        for iteration in range(first, limit):
            current = Frame.iteration(
                scope, {"$iteration": iteration}, frame, (node.id, iteration)
            )
            output = await self.body(node.body, wave, current)
            if node.break_ is not None and truthy(
                self.value(node.break_, current.scope)
            ):
                break
            self.finished_iteration(node, iteration, output, current)
            await anyio.lowlevel.checkpoint()
        return output

    def restore(self, node: Node) -> tuple[int, Value]:
        """Where a resumed loop starts: after its last checkpointed iteration, with the
        outputs and variables that iteration left (else at 0)."""
        done = self.run_.prior_iterations.get(node.id)
        if not done:
            return 0, UNDEFINED
        last = max(done)
        state = done[last].state or {}
        outputs = state.get("outputs")
        variables = state.get("vars")
        if isinstance(outputs, Mapping):
            for node_id, value in outputs.items():
                self.run_.outputs[node_id] = value
        if isinstance(variables, Mapping):
            self.run_.variables.update(variables)
        return last + 1, done[last].output

    def finished_iteration(
        self, node: Node, iteration: int, output: Value, frame: Frame
    ) -> None:
        """Checkpoint a loop iteration with what the next one starts from."""
        outputs = {
            node_id: wrapper["output"]
            for node_id, wrapper in (frame.outputs or {}).items()
        }
        state = {"outputs": outputs, "vars": dict(self.run_.variables)}
        self.run_.loop_iteration_done(node.id, iteration, output, state)

    async def while_(
        self, node: WhileNode, scope: Scope, wave: int, frame: Frame | None
    ) -> Value:
        limit = node.max if node.max is not None else DEFAULT_MAX_ITERATIONS
        iteration, output = self.restore(node)
        while True:
            current = Frame.iteration(
                scope, {"$iteration": iteration}, frame, (node.id, iteration)
            )
            if not truthy(self.value(node.condition, current.scope)):
                return output
            if iteration >= limit:
                raise NodeRuntimeError(
                    f"while {node.id!r} ran {limit} times and its condition still "
                    f"holds; give it a higher max= if that is intended",
                    code="RUNTIME_LOOP_LIMIT",
                )
            output = await self.body(node.body, wave, current)
            self.finished_iteration(node, iteration, output, current)
            iteration += 1
            await anyio.lowlevel.checkpoint()

    async def foreach(
        self, node: ForeachNode, scope: Scope, wave: int, frame: Frame | None
    ) -> Value:
        collection = self.value(node.collection, scope)
        if collection is UNDEFINED or collection is None:
            items: Sequence[Value] = ()
        elif isinstance(collection, list | tuple):
            items = collection
        else:
            items = [collection]
        results: list[Value] = [UNDEFINED] * len(items)
        failures: list[tuple[int, BlockFailed]] = []
        paused: list[Paused] = []
        queue = iter(enumerate(items))
        done_before = self.run_.prior_iterations.get(node.id, {})

        async def worker(group: anyio.abc.TaskGroup) -> None:
            for index, item in queue:
                earlier = done_before.get(index)
                if earlier is not None and earlier.item == item_hash(item):
                    results[index] = earlier.output  # finished before a resume
                    continue
                variables = {
                    node.item: item,
                    node.index: index,
                    "$item": item,
                    "$index": index,
                }
                current = Frame.iteration(scope, variables, frame, (node.id, index))
                try:
                    results[index] = await self.body(node.body, wave, current)
                    self.run_.iteration_done(node.id, index, item, results[index])
                except BlockFailed as exc:
                    failures.append((index, exc))
                    group.cancel_scope.cancel()
                    return
                except Paused as exc:
                    paused.append(exc)
                    group.cancel_scope.cancel()
                    return

        async with anyio.create_task_group() as group:
            for _ in range(min(max(1, node.concurrency), len(items))):
                group.start_soon(worker, group)
        if paused and not failures:
            raise paused[0]
        if failures:
            index, exc = min(failures, key=lambda failure: failure[0])
            raise BlockFailed(f"item {index}: {exc.message}", code=exc.code)
        return results

    async def parallel(
        self, node: ParallelNode, scope: Scope, wave: int, frame: Frame | None
    ) -> Value:
        branches = node.branches
        count = len(branches)
        if node.wait == "any":
            needed = min(1, count)
        elif node.wait_count is not None:
            needed = min(node.wait_count, count)
        else:
            needed = count
        done: list[tuple[int, Value]] = []  # in completion order
        failed: list[tuple[int, BlockFailed]] = []
        paused: list[Paused] = []
        settled: set[int] = set()

        frames = [
            Frame.iteration(scope, {"$branch": index}, frame) for index in range(count)
        ]

        async def run_branch(index: int, group: anyio.abc.TaskGroup) -> None:
            current = frames[index]
            try:
                value = await self.body(branches[index], wave, current)
            except BlockFailed as exc:
                settled.add(index)
                failed.append((index, exc))
                if len(failed) > count - needed:
                    group.cancel_scope.cancel()  # the wait can no longer be met
                return
            except Paused as exc:
                settled.add(index)
                paused.append(exc)
                group.cancel_scope.cancel()  # a person must answer first
                return
            settled.add(index)
            done.append((index, value))
            if len(done) >= needed:
                group.cancel_scope.cancel()  # satisfied: the rest are cancelled

        async with anyio.create_task_group() as group:
            for index in range(count):
                group.start_soon(run_branch, index, group)
        for index in range(count):
            if index not in settled:
                self._skip_unrun(branches[index], frames[index], wave)
        if paused and len(done) < needed:
            raise paused[0]
        if len(done) < needed:
            index, exc = failed[0]
            raise BlockFailed(
                f"{len(failed)} of {count} branches failed ({node.wait} needs "
                f"{needed}); branch {index}: {exc.message}",
                code=exc.code,
            )
        if node.wait == "all":
            results = [value for _, value in sorted(done, key=lambda d: d[0])]
        else:
            results = [value for _, value in done[:needed]]
        return self.merge(node, results, scope)

    def _skip_unrun(self, nodes: Sequence[Node], frame: Frame, wave: int) -> None:
        """Nodes of a cancelled body that never started are recorded as cancelled."""
        touched = frame.touched or set()
        for child in walk(tuple(nodes)):
            if child.id not in touched:
                self.run_.record(
                    NodeResult(
                        node_id=child.id,
                        status=NodeStatus.SKIPPED,
                        reason="cancelled",
                        wave=wave,
                    )
                )

    def merge(self, node: ParallelNode, results: list[Value], scope: Scope) -> Value:
        """Combine the branch results by the node's ``merge`` strategy."""
        strategy = str(node.merge) if node.merge is not None else "array"
        if strategy == "array":
            return results
        if strategy == "concat":
            merged: list[Value] = []
            for value in results:
                if isinstance(value, list | tuple):
                    merged.extend(value)
                elif value is not UNDEFINED:
                    merged.append(value)
            return merged
        if strategy == "object":
            combined: dict[str, Any] = {}
            for value in results:
                if isinstance(value, Mapping):
                    combined.update(value)
            return combined
        assert node.merge is not None
        return self.value(node.merge, scope.child(**{"$branches": results}))

    async def timeout(
        self, node: TimeoutNode, scope: Scope, wave: int, frame: Frame | None
    ) -> Value:
        output: Value = UNDEFINED
        inside = Frame(scope, None, frame, set())
        with anyio.move_on_after(node.duration_ms / 1000.0) as deadline:
            output = await self.body(node.body, wave, inside)
        if not deadline.cancelled_caught:
            return output
        self._skip_unrun(node.body, inside, wave)
        target = self.run_.nodes.get(node.on_timeout) if node.on_timeout else None
        if target is None:
            raise NodeRuntimeError(
                f"timeout {node.id!r}: its body did not finish within "
                f"{node.duration_ms:g} ms",
                code="RUNTIME_TIMEOUT",
            )
        routed = await self.run_.run_node(
            target, wave, {"$timedOut": node.id}, Frame(scope, None, frame)
        )
        if routed.status is not NodeStatus.SUCCESS:
            message = (
                routed.error.message if routed.error is not None else routed.reason
            )
            raise BlockFailed(
                f"on-timeout {target.id!r} {routed.status}: {message}",
                code=routed.error.code if routed.error is not None else "SKIPPED",
            )
        return routed.output
