"""The DAG of a plan as an SVG drawn in Python (no graphviz): waves are columns.

Each scheduled node is a box coloured by its status, with a hover title (kind, status,
duration, attempts, the error); edges run from a node to the nodes that wait for it.
Blocks show how many nodes their body holds. Large plans stay drawable: boxes shrink
and labels are cut, and the SVG is built with one pass over nodes and edges.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from maidit_jupyter.execution.state import NodeResult, NodeStatus
from maidit_jupyter.planning.plan import ExecutionPlan
from maidit_jupyter.syntax.nodes import walk

__all__ = ["COLOURS", "DagDrawing", "render_dag"]

COLOURS = {
    "pending": "#e5e7eb",
    "running": "#93c5fd",
    "retrying": "#fcd34d",
    "waiting": "#c4b5fd",
    "success": "#86efac",
    "failed": "#fca5a5",
    "skipped": "#d1d5db",
    "reused": "#a5f3fc",
}
_BOX_W, _BOX_H, _GAP_X, _GAP_Y, _PAD = 120, 26, 48, 10, 10


class DagDrawing:
    """The SVG of one plan: layout, edges and labels computed once, colours per draw.

    A redraw joins precomputed pieces around each node's colour and title, so the
    panel's 10 redraws a second stay cheap for thousands of nodes.
    """

    def __init__(self, plan: ExecutionPlan) -> None:
        self.plan = plan
        place: dict[str, tuple[int, int]] = {}
        for column, wave in enumerate(plan.waves):
            for row, node_id in enumerate(wave):
                x = _PAD + column * (_BOX_W + _GAP_X)
                y = _PAD + row * (_BOX_H + _GAP_Y)
                place[node_id] = (x, y)
        rows = max((len(wave) for wave in plan.waves), default=0)
        width = _PAD * 2 + max(len(plan.waves), 1) * (_BOX_W + _GAP_X) - _GAP_X
        height = _PAD * 2 + max(rows, 1) * (_BOX_H + _GAP_Y) - _GAP_Y
        head = [
            (
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
                f'height="{height}" viewBox="0 0 {width} {height}" '
                'font-family="sans-serif" font-size="11">'
            )
        ]
        for node_id, (x, y) in place.items():
            for dependency in plan.graph.edges.get(node_id, ()):
                if dependency.on in place:
                    fx, fy = place[dependency.on]
                    head.append(
                        f'<line x1="{fx + _BOX_W}" y1="{fy + _BOX_H // 2}" x2="{x}" '
                        f'y2="{y + _BOX_H // 2}" stroke="#9ca3af" stroke-width="1"/>'
                    )
        self.head = "".join(head)
        #: per node: (id, title start, the text between the title and the colour, end)
        self.nodes: list[tuple[str, str, str, str]] = []
        #: the last piece drawn for each node, with the result it was drawn from.
        self._pieces: dict[str, tuple[NodeResult | None, str, str]] = {}
        for node_id, (x, y) in place.items():
            node = plan.nodes[node_id]
            body = sum(1 for _ in walk(node.children()))
            label = node_id if len(node_id) <= 16 else node_id[:15] + "…"
            if body:
                label += f" [{body}]"
            self.nodes.append(
                (
                    node_id,
                    f"{node_id} ({node.label})",
                    (
                        f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" '
                        'rx="4" fill="'
                    ),
                    (
                        f'" stroke="#6b7280"/><text x="{x + 6}" y="{y + 17}">'
                        f"{html.escape(label)}</text></g>"
                    ),
                )
            )

    def draw(
        self,
        results: Mapping[str, NodeResult],
        live: Mapping[str, str] | None = None,
    ) -> str:
        """The SVG with each node coloured by its result (or running/pending).

        ``live`` gives the state of nodes still going (``running``, ``retrying``,
        ``waiting`` at a checkpoint). A node's piece is rebuilt only when its result or
        live state changed since
        the last draw.
        """
        parts = [self.head]
        cache = self._pieces
        for node_id, title, rect, end in self.nodes:
            result = results.get(node_id)
            key = (result, (live or {}).get(node_id, ""))
            known = cache.get(node_id)
            if known is not None and known[0] is key[0] and known[1] == key[1]:
                parts.append(known[2])
                continue
            state = _state(result, key[1])
            detail = [title, state]
            if result is not None:
                detail.append(
                    f"{result.duration_ms:.0f} ms, {result.attempts} attempt(s)"
                )
                note = (
                    result.error.message if result.error is not None else result.reason
                )
                if note:
                    detail.append(note[:200])
            piece = (
                f'<g class="node {state}" data-node="{html.escape(node_id)}"><title>'
                f"{html.escape(' · '.join(detail))}</title>{rect}{COLOURS[state]}{end}"
            )
            cache[node_id] = (result, key[1], piece)
            parts.append(piece)
        parts.append("</svg>")
        return "".join(parts)


def render_dag(
    plan: ExecutionPlan,
    results: Mapping[str, NodeResult],
    live: Mapping[str, str] | None = None,
) -> str:
    """The SVG of ``plan`` with each node coloured by its result (or live state)."""
    return DagDrawing(plan).draw(results, live)


def _state(result: NodeResult | None, live: str) -> str:
    if result is None:
        return live or "pending"
    if result.reused:
        return "reused"
    if result.status is NodeStatus.WAITING:
        return "waiting"
    return str(result.status)
