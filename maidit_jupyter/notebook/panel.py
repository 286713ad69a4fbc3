"""The live run panel of a ``%%flow`` cell, from stock ipywidgets (notebook.md §4).

A header (flow, run id, status, elapsed time, wave i/N, counts per status), a Cancel
button, the DAG (:mod:`.dag`), the node table, an inspector (pick a node: its output,
error, attempts), and a checkpoint box when a node waits for a person
(:class:`WidgetApprover`). Events arrive on the kernel's loop thread; the panel redraws
at most ``update_hz`` times a second whatever their number (the Jupyter server drops
output beyond about 1,000 messages a second). Button clicks may arrive on another thread
(JupyterLab ≥ 4.4 delivers comm messages on a subshell), so they hand over to the loop
with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

import ipywidgets as widgets

from maidit_jupyter.execution.approval import Answer, ApprovalRequest
from maidit_jupyter.execution.events import (
    NodeFinished,
    NodeRetrying,
    NodeStarted,
    RunEvent,
    RunFinished,
    WaveStarted,
)
from maidit_jupyter.execution.flow_run import FlowRun, redacted_result
from maidit_jupyter.execution.state import NodeResult
from maidit_jupyter.notebook.dag import COLOURS, DagDrawing
from maidit_jupyter.redaction import SecretMask
from maidit_jupyter.reporting.preview import preview

__all__ = ["RunPanel", "WidgetApprover"]


class RunPanel:
    """The widgets of one run, updated from its events, throttled to ``update_hz``."""

    def __init__(self, flow_run: FlowRun, update_hz: float = 10.0) -> None:
        self.flow_run = flow_run
        self.interval = 1.0 / max(update_hz, 0.1)
        self.results: dict[str, NodeResult] = {}
        #: nodes still going and how: running, retrying, waiting (at a checkpoint).
        self.running: dict[str, str] = {}
        self.wave = 0
        self.status = "running"
        self.started = time.monotonic()
        self.refreshes = 0
        self._last = 0.0
        self._pending: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        waves = len(flow_run.plan.waves)
        self.header = widgets.HTML()
        self.progress = widgets.IntProgress(value=0, min=0, max=max(waves, 1))
        self.cancel_button = widgets.Button(description="Cancel", button_style="danger")
        self.cancel_button.on_click(self._cancel_clicked)
        self.step_button = widgets.Button(description="Step", disabled=True)
        self.continue_button = widgets.Button(description="Continue", disabled=True)
        self.step_button.on_click(lambda _b: self._release(stepping=True))
        self.continue_button.on_click(lambda _b: self._release(stepping=False))
        self.stepping = False
        self._gate: asyncio.Future[None] | None = None
        self.resume_button = widgets.Button(
            description="Resume", button_style="warning", layout={"display": "none"}
        )
        self.resume_button.on_click(self._resume_clicked)
        #: where a resumed run's own panel appears.
        self.follow_up = widgets.Output()
        #: starts a resumed run (set by the cell; called on the kernel's loop).
        self.on_resume: Callable[[RunPanel], Coroutine[Any, Any, None]] | None = None
        self._resumed: asyncio.Task[None] | None = None
        self.dag = widgets.HTML()
        self.drawing = DagDrawing(flow_run.plan)
        self.table = widgets.HTML()
        self.pick = widgets.Dropdown(
            options=["(pick a node)"], description="Inspect", layout={"width": "320px"}
        )
        self.inspector = widgets.HTML()
        self.pick.observe(self._inspect, names="value")
        self.checkpoint_box = widgets.VBox(layout={"display": "none"})
        #: what the resume warns about (nodes that may act twice); empty otherwise.
        self.notice = widgets.HTML(_resume_warnings(flow_run))
        self.view = widgets.VBox(
            [
                widgets.HBox(
                    [
                        self.header,
                        self.step_button,
                        self.continue_button,
                        self.cancel_button,
                        self.resume_button,
                    ]
                ),
                self.progress,
                self.notice,
                self.checkpoint_box,
                self.dag,
                widgets.HBox([self.pick]),
                self.inspector,
                self.follow_up,
                self.table,
            ]
        )
        self.refresh()

    # -- events ----------------------------------------------------------------------

    def __call__(self, event: RunEvent) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        if isinstance(event, WaveStarted):
            self.wave = event.index + 1
        elif isinstance(event, NodeStarted):
            self.running[event.node_id] = "running"
        elif isinstance(event, NodeRetrying):
            self.running[event.node_id] = "retrying"
        elif isinstance(event, NodeFinished):
            self.running.pop(event.result.node_id, None)
            self.results[event.result.node_id] = self._shown(event.result)
        elif isinstance(event, RunFinished):
            self.running.clear()
            self.status = str(event.record.status)
            self.results.update(
                (node_id, self._shown(result))
                for node_id, result in event.record.results.items()
            )
            self.finish()
            return
        self._schedule()

    def _shown(self, result: NodeResult) -> NodeResult:
        """``result`` with the run's secrets masked in its error and reason: the panel
        keeps only what it may show."""
        mask = self.flow_run.mask
        return redacted_result(result, mask) if mask else result

    def _schedule(self) -> None:
        """Redraw now if the last redraw is old enough, else once, a little later."""
        now = time.monotonic()
        if now - self._last >= self.interval:
            self.refresh()
            return
        if self._pending is None:
            loop = self._loop or asyncio.get_running_loop()
            self._loop = loop
            self._pending = loop.call_later(
                self.interval - (now - self._last), self._deferred
            )

    def _deferred(self) -> None:
        self._pending = None
        self.refresh()

    def finish(self) -> None:
        """The run ended: last redraw, no more Cancel."""
        self.cancel_button.disabled = True
        self.refresh()
        self.pick.options = ["(pick a node)", *self.results]
        if self.status in {"failed", "cancelled", "paused"} and self.on_resume:
            self.resume_button.layout.display = "flex"

    # -- drawing ---------------------------------------------------------------------

    def refresh(self) -> None:
        """Redraw header, progress, DAG and table from the state now."""
        if self._pending is not None:
            # a late timer (the loop was busy) would redraw again right after this one
            self._pending.cancel()
            self._pending = None
        self._last = time.monotonic()
        self.refreshes += 1
        counts = Counter(
            "reused" if r.reused else str(r.status) for r in self.results.values()
        )
        status = self.status
        waves = len(self.flow_run.plan.waves)
        elapsed = time.monotonic() - self.started
        chips = " ".join(
            f'<span style="background:{COLOURS.get(name, "#eee")};padding:0 6px;'
            f'border-radius:8px">{count} {html.escape(name)}</span>'
            for name, count in sorted(counts.items())
        )
        title = html.escape(self.flow_run.workflow.name)
        self.header.value = (
            f"<b>{title}</b> · <code>{self.flow_run.run_id[:8]}</code> · "
            f"<b>{status}</b> · wave {self.wave}/{waves} · {elapsed:.1f}s<br>{chips}"
        )
        self.progress.value = min(self.wave, self.progress.max)
        self.dag.value = self.drawing.draw(self.results, self.running)
        self.table.value = self._table()

    def bundle(self) -> dict[str, Any]:
        """The panel's display: the live widget, with static HTML and text of its
        current state for places without a kernel (a saved notebook, GitHub, nbviewer,
        nbval)."""
        data: dict[str, Any] = dict(self.view._repr_mimebundle_())
        data["text/html"] = (
            f"<div>{self.header.value}</div>{self.notice.value}{self.dag.value}"
            f"{self.table.value}"
        )
        data["text/plain"] = (
            f"{self.flow_run.workflow.name} {self.flow_run.run_id[:8]}: {self.status}"
        )
        return data

    def _table(self) -> str:
        mask = self.flow_run.mask
        rows = []
        for node_id, result in list(self.results.items())[-200:]:
            note = result.error.message if result.error else result.reason or ""
            rows.append(
                "<tr>"
                f"<td>{html.escape(node_id)}</td><td>{result.status}</td>"
                f"<td>{result.attempts}</td><td>{result.duration_ms:.0f} ms</td>"
                f"<td><code>{html.escape(preview(result.output, 60, mask, quote=True) if not note else mask.redact(note)[:120])}</code></td>"
                "</tr>"
            )
        return (
            "<table><tr><th>node</th><th>status</th><th>attempts</th><th>time</th>"
            f"<th>output / note</th></tr>{''.join(rows)}</table>"
        )

    def _inspect(self, change: dict[str, Any]) -> None:
        result = self.results.get(str(change.get("new")))
        if result is None:
            self.inspector.value = ""
            return
        mask = self.flow_run.mask
        parts = [
            (
                f"<b>{html.escape(result.node_id)}</b>: {result.status}, "
                f"{result.attempts} attempt(s), {result.duration_ms:.0f} ms"
            )
        ]
        if result.error is not None:
            parts.append(
                f"<div><b>error</b> <code>{html.escape(result.error.code)}</code>: "
                f"{html.escape(result.error.message)}</div>"
            )
        elif result.reason:
            parts.append(f"<div>{html.escape(result.reason)}</div>")
        table = getattr(result.output, "_repr_html_", None)
        if callable(table):
            parts.append(mask.redact(table()))  # a DataFrame shows as its own table
        else:
            parts.append(json_tree(result.output, mask))
        self.inspector.value = "".join(parts)

    # -- actions ---------------------------------------------------------------------

    def _resume_clicked(self, _button: widgets.Button) -> None:
        """Continue the run from its checkpoint, with a panel of its own below."""
        on_resume = self.on_resume
        if on_resume is None:
            return
        self.resume_button.disabled = True
        loop = self._loop
        if loop is None:
            return

        def start() -> None:
            self._resumed = loop.create_task(on_resume(self))

        loop.call_soon_threadsafe(start)

    def _cancel_clicked(self, _button: widgets.Button) -> None:
        loop = self._loop
        if loop is None:
            self.flow_run.cancel()
        else:
            loop.call_soon_threadsafe(self.flow_run.cancel)
        self.cancel_button.disabled = True

    async def next_wave(self, index: int) -> None:
        """Step mode: wait before wave ``index`` until Step or Continue is clicked."""
        if not self.stepping:
            return
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._gate = loop.create_future()
        self.step_button.disabled = self.continue_button.disabled = False
        self.header.value += f" · <b>paused before wave {index + 1}</b>"
        try:
            await self._gate
        finally:
            self._gate = None
            self.step_button.disabled = self.continue_button.disabled = True

    def _release(self, *, stepping: bool) -> None:
        """Step: run one more wave and stop again; Continue: run to the end."""

        def release() -> None:
            self.stepping = stepping
            if self._gate is not None and not self._gate.done():
                self._gate.set_result(None)

        if self._loop is None:
            release()
        else:
            self._loop.call_soon_threadsafe(release)

    def show_checkpoint(self, box: widgets.Widget) -> None:
        """Show a checkpoint's question."""
        self.checkpoint_box.children = (box,)
        self.checkpoint_box.layout.display = "flex"

    def hide_checkpoint(self) -> None:
        """Remove the question once answered."""
        self.checkpoint_box.children = ()
        self.checkpoint_box.layout.display = "none"


class WidgetApprover:
    """Asks in the panel: the prompt as markdown, a preview of the data, a button per
    action, a text box when the node allows input, and the time left."""

    def __init__(self, panel: RunPanel) -> None:
        self.panel = panel
        #: the buttons of the question on screen (tests click them).
        self.buttons: dict[str, widgets.Button] = {}
        self.text: widgets.Text | None = None

    async def ask(self, request: ApprovalRequest) -> Answer | None:
        loop = asyncio.get_running_loop()
        self.panel._loop = loop
        answered: asyncio.Future[Answer] = loop.create_future()
        mask = self.panel.flow_run.mask
        data = preview(request.data, 400, mask, quote=True)
        prompt = widgets.HTML(
            f"{markdown_html(mask.redact(request.prompt))}"
            f"<pre>{html.escape(data)}</pre>"
        )
        self.text = (
            widgets.Text(placeholder="optional note") if request.allow_input else None
        )
        self.buttons = {}
        for choice in request.choices:
            button = widgets.Button(
                description=choice.label,
                button_style="danger" if choice.id == "reject" else "success",
            )

            def clicked(_button: widgets.Button, action: str = choice.id) -> None:
                typed = self.text.value if self.text is not None else ""

                def settle() -> None:
                    if not answered.done():
                        answered.set_result(Answer(action=action, text=typed or None))

                loop.call_soon_threadsafe(settle)

            button.on_click(clicked)
            self.buttons[choice.id] = button
        clock = widgets.Label()
        items: list[widgets.Widget] = [
            widgets.HTML(f"<b>checkpoint {html.escape(request.node_id)}</b>"),
            prompt,
        ]
        if self.text is not None:
            items.append(self.text)
        items.append(widgets.HBox(list(self.buttons.values())))
        if request.timeout_ms:
            items.append(clock)
        self.panel.show_checkpoint(widgets.VBox(items))
        self.panel.running[request.node_id] = "waiting"
        self.panel.refresh()
        ticker = None
        if request.timeout_ms:
            deadline = time.monotonic() + request.timeout_ms / 1000.0
            ticker = loop.create_task(_count_down(clock, deadline, request.default))
        try:
            return await answered
        finally:
            if ticker is not None:
                ticker.cancel()
            self.panel.hide_checkpoint()


_TREE_ITEMS = 200
_TREE_DEPTH = 8


def json_tree(value: Any, mask: SecretMask, depth: int = 0) -> str:
    """JSON-like data as a collapsible HTML tree (``<details>``), bounded in size."""
    if isinstance(value, dict | list | tuple) and value and depth < _TREE_DEPTH:
        items = (
            list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        )
        kind = (
            f"{{{len(value)} keys}}"
            if isinstance(value, dict)
            else f"[{len(value)} items]"
        )
        rows = "".join(
            f"<li><code>{html.escape(mask.redact(str(key)))}</code>: "
            f"{json_tree(item, mask, depth + 1)}</li>"
            for key, item in items[:_TREE_ITEMS]
        )
        more = (
            f"<li>… {len(items) - _TREE_ITEMS} more</li>"
            if len(items) > _TREE_ITEMS
            else ""
        )
        opened = " open" if depth == 0 else ""
        return (
            f"<details{opened}><summary>{kind}</summary>"
            f'<ul style="margin:0">{rows}{more}</ul></details>'
        )
    return f"<code>{html.escape(preview(value, 200, mask, quote=True))}</code>"


_INLINE = (
    (re.compile(r"\*\*(.+?)\*\*"), r"<b>\1</b>"),
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
)


def markdown_html(text: str) -> str:
    """A prompt's markdown as HTML: escaped first, then bold, code and line breaks
    (enough for a question; the full log is shown by the notebook's own renderer)."""
    escaped = html.escape(text)
    for pattern, replacement in _INLINE:
        escaped = pattern.sub(replacement, escaped)
    return "<br>".join(escaped.splitlines())


async def _count_down(
    label: widgets.Label, deadline: float, default: str | None
) -> None:
    while True:
        left = max(0.0, deadline - time.monotonic())
        label.value = f"{left:.0f} s left, then: {default or 'reject'}"
        await asyncio.sleep(1.0)


def _resume_warnings(flow_run: FlowRun) -> str:
    """The resume plan's warnings as HTML (nodes that may repeat an effect)."""
    mask = flow_run.mask
    lines = [
        f"<li><b>{html.escape(d.node_id)}</b>: {html.escape(mask.redact(d.warning))}</li>"
        for d in flow_run.resume_plan
        if d.warning is not None
    ]
    if not lines:
        return ""
    return (
        '<div style="color:#8a4b00"><b>⚠ This resume may repeat effects</b>'
        f"<ul>{''.join(lines)}</ul></div>"
    )
