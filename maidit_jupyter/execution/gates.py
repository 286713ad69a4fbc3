"""``<checkpoint>`` nodes: ask an approver, route to the chosen action, or pause.

With a ``condition`` that is false the gate is skipped (the output says so and the
input passes on). Otherwise the prompt is rendered (a template, markdown) and the run's
:class:`~.approval.Approver` is asked, within the node's ``timeout`` when it has one
(then its ``default`` action is taken, else ``reject``). The chosen action's ``goto``
target runs; the other actions' targets are recorded ``skipped``. ``reject`` fails the
node (after its own target, if any, ran), so its descendants are skipped and the run
fails with the reason. An approver that cannot answer now (policy ``pause``, no
terminal) makes the node ``waiting`` and the run ``paused``, resumable with an answer.

The node's output is ``{action, input?, timedOut, respondedAt, goto?}`` (``skipped:
true`` when the condition was false), as in the original; ``$checkpoint`` holds the
latest one for the nodes that follow (``$checkpoint.input`` is the typed text).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import anyio

from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.execution.approval import (
    DEFAULT_ACTIONS,
    Answer,
    ApprovalRequest,
    Choice,
)
from maidit_jupyter.execution.state import NodeResult, NodeStatus
from maidit_jupyter.expressions.scope import Scope
from maidit_jupyter.expressions.values import Value, to_display, truthy
from maidit_jupyter.syntax.nodes import CheckpointNode

if TYPE_CHECKING:
    from maidit_jupyter.execution.blocks import Frame
    from maidit_jupyter.execution.executor import _Run

__all__ = ["Gates", "Paused"]


class Paused(Exception):
    """Nobody can answer this checkpoint now: the run pauses here."""

    def __init__(self, node_id: str) -> None:
        super().__init__(f"waiting for an answer at {node_id!r}")
        self.node_id = node_id


class Gates:
    """Runs checkpoint nodes for one run."""

    def __init__(self, run: _Run) -> None:
        self.run_ = run

    async def run(
        self,
        node: CheckpointNode,
        node_input: Value,
        scope: Scope,
        wave: int,
        frame: Frame | None,
    ) -> Value:
        """Ask, route, and return the answer (raises :class:`Paused` or fails)."""
        run = self.run_
        if node.condition is not None and not truthy(
            run.compiler.expression(node.condition).evaluate(scope, run.evaluator)
        ):
            outcome: dict[str, Value] = {
                "action": "approve",
                "timedOut": False,
                "respondedAt": _now(),
                "skipped": True,
            }
            self._skip_targets(node, None, wave)
            run.checkpoint.update(outcome)
            return outcome
        choices = (
            tuple(
                Choice(id=action.id, label=action.label or action.id, goto=action.goto)
                for action in node.actions
            )
            or DEFAULT_ACTIONS
        )
        prompt = to_display(
            run.compiler.template(node.prompt).value(scope, run.evaluator)
        )
        request = ApprovalRequest(
            node_id=node.id,
            prompt=prompt,
            choices=choices,
            default=node.default,
            timeout_ms=node.wait_ms,
            allow_input=node.allow_input,
            data=node_input,
        )
        answer, timed_out = await self._ask(request)
        if answer is None:
            raise Paused(node.id)
        chosen = next((c for c in choices if c.id == answer.action), None)
        if chosen is None:
            known = ", ".join(choice.id for choice in choices)
            raise NodeRuntimeError(
                f"checkpoint {node.id!r} has no action {answer.action!r}; "
                f"its actions are {known}",
                code="CHECKPOINT_UNKNOWN_ACTION",
            )
        outcome = {
            "action": chosen.id,
            "timedOut": timed_out,
            "respondedAt": _now(),
        }
        if answer.text is not None:
            outcome["input"] = answer.text
        if chosen.goto:
            outcome["goto"] = chosen.goto
        run.checkpoint.update(outcome)
        run.checkpoint.pop("skipped", None)
        if answer.text is None:
            run.checkpoint.pop("input", None)
        self._skip_targets(node, chosen, wave)
        if chosen.goto:
            target = run.nodes.get(chosen.goto)
            if target is not None:
                result = await run.run_node(target, wave, frame=frame)
                if result.status is not NodeStatus.SUCCESS and chosen.id != "reject":
                    message = result.error.message if result.error else result.reason
                    raise NodeRuntimeError(
                        f"{target.id!r} (the target of {chosen.id!r}) "
                        f"{result.status}: {message}",
                        code=result.error.code if result.error else "SKIPPED",
                    )
        if chosen.id == "reject":
            how = "by its default after the timeout" if timed_out else ""
            raise NodeRuntimeError(
                f"checkpoint {node.id!r} was rejected {how}".rstrip()
                + (f": {answer.text}" if answer.text else ""),
                code="CHECKPOINT_REJECTED",
            )
        return outcome

    async def _ask(self, request: ApprovalRequest) -> tuple[Answer | None, bool]:
        """The approver's answer, or the default one when the deadline passes."""
        approver = self.run_.options.approver
        if not request.timeout_ms:
            return await approver.ask(request), False
        with anyio.move_on_after(request.timeout_ms / 1000.0) as deadline:
            return await approver.ask(request), False
        assert deadline.cancelled_caught
        return Answer(action=request.default or "reject"), True

    def _skip_targets(
        self, node: CheckpointNode, chosen: Choice | None, wave: int
    ) -> None:
        """Record the targets of the actions not chosen as skipped."""
        keep = chosen.goto if chosen is not None else None
        for action in node.actions:
            if action.goto and action.goto != keep:
                self.run_.record(
                    NodeResult(
                        node_id=action.goto,
                        status=NodeStatus.SKIPPED,
                        reason=f"not chosen at checkpoint {node.id!r}",
                        wave=wave,
                    )
                )


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
