"""Plan a workflow: dependencies between top-level nodes and the waves they run in.

Only top-level nodes are scheduled. A nested node (inside ``if``, ``foreach``, ...) runs
as part of its top-level ancestor, its *owner*; so does a node that only runs when routed
to (an ``<on-error><fallback>`` target, an ``on-timeout`` target, a checkpoint ``goto``
target), whose owner is the node routing to it. A dependency on a nested or routed node is
a dependency on its owner.

Waves are the layers of the dependency graph (graphlib's ``get_ready``/``done`` loop): wave
*k* holds every node whose dependencies all lie in earlier waves, in document order.
"""

from __future__ import annotations

import graphlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from maidit_jupyter._records import record
from maidit_jupyter.planning.analysis import Analysis, analyze
from maidit_jupyter.syntax.nodes import CheckpointNode, Node, TimeoutNode, walk
from maidit_jupyter.syntax.workflow import Workflow

__all__ = [
    "Dependency",
    "DependencyGraph",
    "ExecutionPlan",
    "PlanCycleError",
    "build_graph",
    "plan",
]


@record
class Dependency:
    """Why a top-level node waits for another: which reference, where."""

    node: str
    on: str
    via: str  # "input" or "expression"
    #: document offsets of the reference (computed into a span only when reported).
    start: int
    end: int


@record
class DependencyGraph:
    """Dependencies between scheduled top-level nodes.

    :ivar order: scheduled node ids in document order.
    :ivar edges: for each scheduled node, the dependencies it has (first reason kept).
    :ivar owners: for every node id, the scheduled nodes it runs inside.
    :ivar routed: routing-only node ids and the nodes that route to them.
    """

    order: tuple[str, ...]
    edges: Mapping[str, tuple[Dependency, ...]]
    owners: Mapping[str, tuple[str, ...]]
    routed: Mapping[str, tuple[str, ...]]


class PlanCycleError(ValueError):
    """The dependency graph has a cycle; ``cycle`` is the closed path, ``graph`` the graph."""

    def __init__(self, cycle: list[str], graph: DependencyGraph) -> None:
        super().__init__("Circular dependency detected: " + " -> ".join(cycle))
        self.cycle = cycle
        self.graph = graph


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionPlan:
    """The waves of a workflow and everything needed to explain them."""

    workflow: str
    waves: tuple[tuple[str, ...], ...]
    nodes: Mapping[str, Node] = field(repr=False)
    graph: DependencyGraph = field(repr=False)

    @property
    def total_nodes(self) -> int:
        """How many top-level nodes the workflow has (routed ones included)."""
        return len(self.nodes)

    def to_json(self) -> dict[str, Any]:
        """The JSON form printed by ``maidit plan --format json``."""
        return {
            "workflow": self.workflow,
            "totalNodes": self.total_nodes,
            "waveCount": len(self.waves),
            "waves": [
                {
                    "index": index,
                    "nodes": [
                        {
                            "id": node_id,
                            "type": self.nodes[node_id].label,
                            "dependsOn": sorted(
                                {d.on for d in self.graph.edges.get(node_id, ())}
                            ),
                        }
                        for node_id in wave
                    ],
                }
                for index, wave in enumerate(self.waves)
            ],
            "routed": {target: list(by) for target, by in self.graph.routed.items()},
        }


def build_graph(
    workflow: Workflow, analysis: Analysis | None = None
) -> DependencyGraph:
    """Compute the dependencies of ``workflow``'s top-level nodes.

    References to ids that do not exist are left out (the validator reports them).
    """
    analysis = analysis or analyze(workflow)
    top_level = {node.id: node for node in workflow.nodes}
    routes = _routes(workflow)
    routed = {
        target: routers for target, routers in routes.items() if target in top_level
    }

    owners: dict[str, tuple[str, ...]] = {}
    for top in workflow.nodes:
        for node in walk((top,)):
            owners.setdefault(node.id, (top.id,))
    for target in routed:
        owners[target] = _route_owners(target, routed, owners, set())

    order = tuple(
        node.id for node in workflow.nodes if owners.get(node.id) == (node.id,)
    )
    edges: dict[str, dict[str, Dependency]] = {node_id: {} for node_id in order}

    def depend(node_id: str, on: str, via: str, start: int, end: int) -> None:
        for owner in owners.get(node_id, ()):
            for target in owners.get(on, ()):
                if owner != target and owner in edges and target not in edges[owner]:
                    edges[owner][target] = Dependency(
                        node=owner, on=target, via=via, start=start, end=end
                    )

    for top in workflow.nodes:
        for node in walk((top,)):
            if node.input is not None:
                for ref in node.input.refs:
                    depend(
                        node.id,
                        ref.node,
                        "input",
                        ref.span.start.offset,
                        ref.span.end.offset,
                    )
    for facts in analysis.sites:
        text = facts.site.text
        for ref_id, start, end in facts.node_refs:
            depend(
                facts.node.id,
                ref_id,
                "expression",
                text.offset_of(start),
                text.offset_of(end),
            )
    return DependencyGraph(
        order=order,
        edges={node_id: tuple(deps.values()) for node_id, deps in edges.items()},
        owners=owners,
        routed=routed,
    )


def plan(
    workflow: Workflow,
    analysis: Analysis | None = None,
    *,
    graph: DependencyGraph | None = None,
) -> ExecutionPlan:
    """Compute the waves of ``workflow`` (from ``graph`` when it is already built).

    Raises:
        PlanCycleError: the dependencies form a cycle (``cycle`` is the closed path).
    """
    graph = graph or build_graph(workflow, analysis)
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    position = {node_id: index for index, node_id in enumerate(graph.order)}
    for node_id in graph.order:
        sorter.add(node_id, *(dep.on for dep in graph.edges[node_id]))
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        # graphlib lists each node before the node that depends on it: data flow order.
        raise PlanCycleError(list(exc.args[1]), graph) from None
    waves: list[tuple[str, ...]] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        waves.append(tuple(ready))
        sorter.done(*ready)
    return ExecutionPlan(
        workflow=workflow.name,
        waves=tuple(waves),
        nodes={node.id: node for node in workflow.nodes},
        graph=graph,
    )


def _routes(workflow: Workflow) -> dict[str, tuple[str, ...]]:
    """Routing-only targets (fallback, on-timeout, goto) and the nodes routing to them."""
    routes: dict[str, list[str]] = {}
    for node in workflow.walk():
        targets: list[str] = []
        if node.on_error is not None and node.on_error.fallback:
            targets.append(node.on_error.fallback)
        if isinstance(node, TimeoutNode) and node.on_timeout:
            targets.append(node.on_timeout)
        if isinstance(node, CheckpointNode):
            targets.extend(action.goto for action in node.actions if action.goto)
        for target in targets:
            if target != node.id:
                routes.setdefault(target, []).append(node.id)
    return {target: tuple(dict.fromkeys(by)) for target, by in routes.items()}


def _route_owners(
    target: str,
    routed: Mapping[str, tuple[str, ...]],
    owners: Mapping[str, tuple[str, ...]],
    seen: set[str],
) -> tuple[str, ...]:
    """The scheduled nodes a routed target runs inside (routing chains followed)."""
    if target in seen:
        return ()
    seen.add(target)
    found: list[str] = []
    for router in routed[target]:
        router_owners = owners.get(router, ())
        for owner in router_owners:
            if owner in routed:
                found.extend(_route_owners(owner, routed, owners, seen))
            else:
                found.append(owner)
    return tuple(dict.fromkeys(found))
