"""Benchmark the live run panel (``make bench``): a 2,000-node flow with the panel
against the same run without it.

Targets (issue #7): at most ``update_hz`` redraws per second, and at most 1.2× the time
of the run without the panel. The panel runs outside a kernel here, so this measures
the panel's own work (event handling, throttling, drawing the DAG and table); a
kernel adds the comm messages, at most ``update_hz`` batches a second.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_frontend import layered
from maidit_jupyter.execution.flow_run import FlowRun
from maidit_jupyter.execution.launch import prepare_run
from maidit_jupyter.notebook.panel import RunPanel

NODES = 2000


def run_once(text: str, panel: bool) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as directory:
        prepared = prepare_run(
            Path(directory) / "panel.flow.md",
            text=text,
            workflow_input=None,
            checkpoint=False,
        )
        flow_run = FlowRun(prepared)
        view = RunPanel(flow_run, update_hz=10) if panel else None
        start = time.perf_counter()
        anyio.run(flow_run._execute, [view] if view else [])
        elapsed = time.perf_counter() - start
        assert flow_run.status == "completed", flow_run.error
    return elapsed, view.refreshes if view else 0


def main() -> None:
    text = layered(NODES, width=100)
    plain = statistics.median(run_once(text, False)[0] for _ in range(5))
    runs = [run_once(text, True) for _ in range(5)]
    with_panel = statistics.median(r[0] for r in runs)
    refreshes = statistics.median(r[1] for r in runs)
    print(
        f"{NODES:,}-node run: {plain:.3f}s without the panel, {with_panel:.3f}s with it "
        f"({with_panel / plain:.2f}x, target <= 1.2x); {refreshes:.0f} redraws, "
        f"{max(refreshes - 2, 0) / with_panel:.1f} per second besides the first and "
        "the last (limit 10)"
    )


if __name__ == "__main__":
    main()
