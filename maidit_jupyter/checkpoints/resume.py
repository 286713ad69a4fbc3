"""Decide, node by node, what a resume reuses from the checkpoint and what it runs again.

A scheduled node is **reused** when its stored result is ``success`` and its effective
hash (definition, the config values it reads, and everything upstream: see
:mod:`.hashing`) is unchanged. Every other node **runs**, with a reason a person can act
on: it did not run, it failed (and why), its definition changed, the config it reads
changed, or something upstream changed. A reused node whose output was not stored (not
JSON, or it held a secret) runs again only if a node that runs needs its output.

Results of nested nodes (a phase's children, a fallback that ran) are carried along with
their owner; stored results of nodes that are no longer in the flow are dropped and
listed.

A node that acts outside the run (a mail, a POST, a Python call) and was running when
the run stopped may already have acted: it runs again (effects happen at least once), and
its decision carries a warning naming the node and the effect that may happen twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from maidit_jupyter._records import record
from maidit_jupyter.checkpoints.document import (
    Checkpoint,
    StoredIteration,
    StoredResult,
)
from maidit_jupyter.checkpoints.hashing import NodeHashes
from maidit_jupyter.execution.state import Intent, NodeResult, NodeStatus
from maidit_jupyter.planning.plan import ExecutionPlan

__all__ = ["NodeDecision", "ResumePlan", "plan_resume"]


@record
class NodeDecision:
    """What a resume does with one scheduled node, and why."""

    node_id: str
    rerun: bool
    reason: str
    #: set when running it again may repeat an effect outside the run.
    warning: str | None = None


@dataclass(kw_only=True)
class ResumePlan:
    """The decisions for every scheduled node, in plan order, and what is carried over.

    :ivar carried: stored results kept as they are (reused nodes and their nested nodes),
        in the checkpoint's recording order.
    :ivar flow_changed: the flow document differs from the one the checkpoint ran.
    :ivar dropped: ids with stored results that are no longer in the flow.
    """

    decisions: tuple[NodeDecision, ...]
    carried: dict[str, StoredResult] = field(default_factory=dict)
    #: finished iterations of foreach nodes that run again, to be skipped.
    iterations: dict[str, dict[int, StoredIteration]] = field(default_factory=dict)
    flow_changed: bool = False
    dropped: tuple[str, ...] = ()
    #: intents of nodes that may have acted and whose owners run again, kept in the
    #: new checkpoint until they settle.
    in_flight: tuple[Intent, ...] = ()

    @property
    def rerun(self) -> tuple[str, ...]:
        """The ids of the scheduled nodes that run."""
        return tuple(d.node_id for d in self.decisions if d.rerun)

    @property
    def reused(self) -> dict[str, NodeResult]:
        """The carried results as the executor takes them (marked reused)."""
        return {
            node_id: replace(stored.result, reused=True)
            for node_id, stored in self.carried.items()
        }

    def describe(self) -> list[str]:
        """One line per scheduled node: ``run``/``reuse``, its id and the reason."""
        lines = []
        if self.flow_changed:
            lines.append("the flow file changed since the checkpoint was written")
        for decision in self.decisions:
            verb = "run  " if decision.rerun else "reuse"
            lines.append(f"{verb} {decision.node_id}: {decision.reason}")
            if decision.warning is not None:
                lines.append(f"  warning: {decision.warning}")
        lines.extend(
            f"drop  {node_id}: no longer in the flow" for node_id in self.dropped
        )
        return lines


def _first_reason(stored: StoredResult | None, known: bool) -> str | None:
    """Why a node runs whatever its hashes say, or None if it succeeded."""
    if stored is None:
        return "did not run" if known else "new node"
    result = stored.result
    if result.status is NodeStatus.FAILED:
        message = result.error.message if result.error is not None else "no message"
        return f"failed: {message}"
    if result.status is NodeStatus.WAITING:
        return result.reason or "waiting for an answer"
    if result.status is not NodeStatus.SUCCESS:
        return (
            f"{result.status}: {result.reason}" if result.reason else str(result.status)
        )
    if stored.hashes is None:
        return "no definition hash was stored"
    return None


def _change(old: NodeHashes, new: NodeHashes) -> str | None:
    if old.effective == new.effective:
        return None
    if old.definition != new.definition:
        return "definition changed"
    if old.config != new.config:
        return "the config values it reads changed"
    return "upstream changed"


def _same_definition(
    checkpoint: Checkpoint, hashes: Mapping[str, NodeHashes], owner: str
) -> bool:
    """Whether a scheduled node's own definition and config are what they were."""
    stored = checkpoint.node_hashes.get(owner)
    new = hashes.get(owner)
    return (
        stored is not None
        and new is not None
        and stored.definition == new.definition
        and stored.config == new.config
    )


def plan_resume(
    checkpoint: Checkpoint,
    plan: ExecutionPlan,
    hashes: Mapping[str, NodeHashes],
    flow_hash: str,
) -> ResumePlan:
    """Decide for every scheduled node of ``plan`` whether the resume reuses or runs it."""
    decisions: dict[str, NodeDecision] = {}
    order = [node_id for wave in plan.waves for node_id in wave]
    for node_id in order:
        stored = checkpoint.results.get(node_id)
        reason = _first_reason(stored, node_id in checkpoint.node_hashes)
        if reason is None:
            assert stored is not None
            assert stored.hashes is not None
            reason = _change(stored.hashes, hashes[node_id])
        decisions[node_id] = NodeDecision(
            node_id=node_id,
            rerun=reason is not None,
            reason=reason or "succeeded, unchanged",
        )
    # Outputs that were not stored: run their producer again when a running node needs it.
    for node_id in reversed(order):
        if not decisions[node_id].rerun:
            continue
        for dependency in plan.graph.edges.get(node_id, ()):
            upstream = decisions.get(dependency.on)
            stored = checkpoint.results.get(dependency.on)
            if upstream is None or upstream.rerun or stored is None or stored.stored:
                continue
            decisions[dependency.on] = NodeDecision(
                node_id=dependency.on,
                rerun=True,
                reason=f"its output was not stored ({stored.not_stored}) and "
                f"{node_id!r} needs it",
            )
    in_flight = tuple(
        intent
        for intent in checkpoint.in_flight
        if intent.owner in decisions and decisions[intent.owner].rerun
    )
    warned: set[tuple[str, str]] = set()
    for intent in in_flight:
        if (intent.owner, intent.node) not in warned:
            warned.add((intent.owner, intent.node))
            decisions[intent.owner] = _warn(decisions[intent.owner], intent)
    owners = plan.graph.owners
    reused = {node_id for node_id, d in decisions.items() if not d.rerun}
    iterations = {
        node_id: done
        for node_id, done in checkpoint.iterations.items()
        if all(
            _same_definition(checkpoint, hashes, owner)
            for owner in owners.get(node_id, ("",))
        )
    }
    carried: dict[str, StoredResult] = {}
    dropped: list[str] = []
    for node_id, stored in checkpoint.results.items():
        if node_id in decisions:
            if node_id in reused:
                carried[node_id] = stored
            continue
        node_owners = owners.get(node_id)
        if not node_owners:
            dropped.append(node_id)
        elif all(owner in reused for owner in node_owners) or (
            # a block resumed after its finished iterations: their nested results stand
            # (iterations that run again replace them; none left: they are the last)
            stored.result.status is NodeStatus.SUCCESS
            and all(owner in reused or owner in iterations for owner in node_owners)
        ):
            carried[node_id] = stored
    return ResumePlan(
        decisions=tuple(decisions[node_id] for node_id in order),
        carried=carried,
        iterations=iterations,
        flow_changed=flow_hash != checkpoint.flow_hash,
        dropped=tuple(dropped),
        in_flight=in_flight,
    )


def _warn(decision: NodeDecision, intent: Intent) -> NodeDecision:
    """Add to ``decision`` that ``intent``'s node may have acted already."""
    who = "it" if intent.node == decision.node_id else f"{intent.node!r} inside it"
    text = (
        f"{who} was running when the run stopped and {intent.what}: "
        "running it again may do that twice"
    )
    if decision.warning is not None:
        text = f"{decision.warning}; {text}"
    return replace(decision, warning=text)
