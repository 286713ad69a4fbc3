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

__all__ = ["COLOURS", "render_dag"]

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


def render_dag(
    plan: ExecutionPlan,
    results: Mapping[str, NodeResult],
    running: frozenset[str] = frozenset(),
) -> str:
    """The SVG of ``plan`` with each node coloured by its result (or running/pending)."""
    place: dict[str, tuple[int, int]] = {}
    for column, wave in enumerate(plan.waves):
        for row, node_id in enumerate(wave):
            x = _PAD + column * (_BOX_W + _GAP_X)
            y = _PAD + row * (_BOX_H + _GAP_Y)
            place[node_id] = (x, y)
    rows = max((len(wave) for wave in plan.waves), default=0)
    width = _PAD * 2 + max(len(plan.waves), 1) * (_BOX_W + _GAP_X) - _GAP_X
    height = _PAD * 2 + max(rows, 1) * (_BOX_H + _GAP_Y) - _GAP_Y
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'
        )
    ]
    for node_id, (x, y) in place.items():
        for dependency in plan.graph.edges.get(node_id, ()):
            if dependency.on in place:
                fx, fy = place[dependency.on]
                parts.append(
                    f'<line x1="{fx + _BOX_W}" y1="{fy + _BOX_H // 2}" x2="{x}" '
                    f'y2="{y + _BOX_H // 2}" stroke="#9ca3af" stroke-width="1"/>'
                )
    for node_id, (x, y) in place.items():
        node = plan.nodes[node_id]
        result = results.get(node_id)
        state = _state(result, node_id in running)
        body = sum(1 for _ in walk(node.children()))
        label = node_id if len(node_id) <= 16 else node_id[:15] + "…"
        if body:
            label += f" [{body}]"
        title = [f"{node_id} ({node.label})", state]
        if result is not None:
            title.append(f"{result.duration_ms:.0f} ms, {result.attempts} attempt(s)")
            if result.error is not None:
                title.append(result.error.message[:200])
            elif result.reason:
                title.append(result.reason[:200])
        parts.append(
            f'<g class="node {state}" data-node="{html.escape(node_id)}">'
            f"<title>{html.escape(' · '.join(title))}</title>"
            f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" rx="4" '
            f'fill="{COLOURS[state]}" stroke="#6b7280"/>'
            f'<text x="{x + 6}" y="{y + 17}">{html.escape(label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _state(result: NodeResult | None, running: bool) -> str:
    if result is None:
        return "running" if running else "pending"
    if result.reused:
        return "reused"
    if result.status is NodeStatus.WAITING:
        return "waiting"
    return str(result.status)
