"""What ``maidit run`` shows on stderr while a flow runs (text mode).

On a terminal, :class:`LiveProgress` draws a live panel with rich: a bar of finished
nodes, the wave being run, counts per status, the nodes running now and the latest
failures; rich redraws it at most ``refresh_per_second`` times, so a 10,000-node run
costs the same screen updates as a 10-node one. Anywhere else (CI logs, pipes),
:class:`LineProgress` prints one plain line per wave and per finished node. Both redact
the run's secrets from everything they print.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from typing import TYPE_CHECKING, TextIO

from maidit_jupyter.execution.events import (
    NodeFinished,
    NodeRetrying,
    NodeStarted,
    RunEvent,
    RunFinished,
    RunStarted,
    WaveStarted,
)
from maidit_jupyter.execution.state import NodeResult, NodeStatus
from maidit_jupyter.redaction import SecretMask

if TYPE_CHECKING:
    from rich.console import Group, RenderableType

__all__ = ["LineProgress", "LiveProgress", "progress_for"]

_STYLES = {"success": "green", "failed": "red", "skipped": "yellow", "reused": "cyan"}


def _describe(result: NodeResult, mask: SecretMask) -> str:
    if result.reused:
        return f"= {result.node_id} (reused from the checkpoint)"
    if result.status is NodeStatus.SUCCESS:
        return f"✓ {result.node_id} ({result.duration_ms:.0f} ms)"
    if result.status is NodeStatus.FAILED and result.error is not None:
        return f"✗ {result.node_id}: {mask.redact(result.error.message)}"
    return f"- {result.node_id} skipped: {mask.redact(result.reason or '')}"


class LineProgress:
    """One line per wave and per finished node."""

    def __init__(self, waves: int, mask: SecretMask, out: TextIO | None = None) -> None:
        self.waves = waves
        self.mask = mask
        self.out = out or sys.stderr

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, WaveStarted):
            line = f"wave {event.index + 1}/{self.waves}: {', '.join(event.nodes)}"
        elif isinstance(event, NodeRetrying):
            line = (
                f"  ↻ {event.node_id}: {self.mask.redact(event.message)} "
                f"(retry {event.attempt} in {event.delay_ms:.0f} ms)"
            )
        elif isinstance(event, NodeFinished):
            line = "  " + _describe(event.result, self.mask)
        else:
            return
        print(line, file=self.out)


class LiveProgress:
    """A live rich panel, redrawn a few times a second (terminals only)."""

    def __init__(
        self,
        waves: int,
        total: int,
        mask: SecretMask,
        out: TextIO | None = None,
        refresh_per_second: float = 8,
    ) -> None:
        from rich.console import Console
        from rich.live import Live

        self.waves = waves
        self.total = total
        self.mask = mask
        self.counts: Counter[str] = Counter()
        self.running: dict[str, None] = {}
        self.failures: list[str] = []
        self.wave = 0
        self.title = ""
        self.lock = threading.Lock()  # rich redraws from its own thread
        self.console = Console(file=out or sys.stderr)
        self.live = Live(
            get_renderable=self.render,
            console=self.console,
            refresh_per_second=refresh_per_second,
            transient=False,
        )

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, RunStarted):
            self.title = event.workflow
            self.live.start()
        elif isinstance(event, RunFinished):
            self.close()
        else:
            with self.lock:
                self._update(event)

    def _update(self, event: RunEvent) -> None:
        if isinstance(event, WaveStarted):
            self.wave = event.index + 1
        elif isinstance(event, NodeStarted):
            self.running[event.node_id] = None
        elif isinstance(event, NodeFinished):
            result = event.result
            self.running.pop(result.node_id, None)
            self.counts["reused" if result.reused else str(result.status)] += 1
            if result.status is NodeStatus.FAILED:
                self.failures.append(_describe(result, self.mask))

    def close(self) -> None:
        """Draw the final state and stop redrawing (idempotent)."""
        if self.live.is_started:
            self.live.stop()

    def render(self) -> Group:
        """The panel as it is now (called by rich's refresh thread)."""
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.text import Text

        with self.lock:
            counted = sorted(self.counts.items())
            running = list(self.running)
            failures = self.failures[-5:]
            wave = self.wave
        done = sum(count for _, count in counted)
        head = Text.assemble(
            (f"{self.title} ", "bold"),
            f"wave {wave}/{self.waves} · {done}/{self.total} nodes",
        )
        counts = Text("  ")
        for name, count in counted:
            counts.append(f"{count} {name}  ", style=_STYLES.get(name, ""))
        parts: list[RenderableType] = [
            head,
            ProgressBar(total=max(self.total, 1), completed=done, width=40),
            counts,
        ]
        if running:
            shown = ", ".join(running[:8]) + (" …" if len(running) > 8 else "")
            parts.append(Text(f"  running: {shown}", style="dim"))
        parts.extend(Text(f"  {line}", style="red") for line in failures)
        return Group(*parts)


def progress_for(
    waves: int, total: int, mask: SecretMask, out: TextIO | None = None
) -> LineProgress | LiveProgress:
    """A live panel on a terminal, plain lines otherwise."""
    stream = out or sys.stderr
    if stream.isatty():
        return LiveProgress(waves, total, mask, stream)
    return LineProgress(waves, mask, stream)
