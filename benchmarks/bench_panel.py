"""Benchmark the live run panel under an update storm (``make bench``).

Layered flows of 1,000 and 5,000 nodes (every node finishing sends the panel events) run
with the panel watching, against the same run without it: the floor. Targets (issue
#7): at most ``update_hz`` redraws per second, and at most 1.2× the time of the run
without the panel. The panel runs outside a kernel here, so this measures the panel's
own work (event handling, throttling, drawing the DAG and table); a kernel adds the comm
messages, at most ``update_hz`` batches a second.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_frontend import layered
from benchmarks.common import (
    Row,
    Workload,
    execute,
    flow_file,
    parse_options,
    run_prepared,
    save,
    show,
    warm_up,
)
from maidit_jupyter.execution.flow_run import FlowRun
from maidit_jupyter.execution.launch import prepare_run
from maidit_jupyter.notebook.panel import RunPanel

SIZES = (1_000, 5_000)
QUICK_SIZES = (100, 200)
UPDATE_HZ = 10
TARGET = 1.2


def with_panel(flow: Path) -> tuple[float, int]:
    """Seconds of a run watched by a panel, and the panel's redraws."""
    flow_run = FlowRun(prepare_run(flow, checkpoint=False))
    panel = RunPanel(flow_run, update_hz=UPDATE_HZ)
    return run_prepared(flow_run, [panel]), panel.refreshes


def measure(sizes: tuple[int, ...], repeats: int) -> Workload:
    """Runs with the panel at each size against the same runs without it."""
    workload = Workload(
        f"run panel update storm, {UPDATE_HZ} Hz",
        "nodes",
        "the same run without the panel",
        repeats,
    )
    workload.notes = (
        f"targets: ratio at most {TARGET}x, at most {UPDATE_HZ} redraws a second"
    )
    for n in sizes:
        with flow_file(layered(n)) as flow:
            plain = statistics.median(
                execute(flow, checkpoint=False)[1] for _ in range(repeats)
            )
            runs = [with_panel(flow) for _ in range(repeats)]
        seconds = statistics.median(run[0] for run in runs)
        redraws = statistics.median(run[1] for run in runs)
        extra = {
            "redraws": redraws,
            # the first and the last redraw are not throttled
            "redraws_per_s": max(redraws - 2, 0) / seconds,
            "update_hz": UPDATE_HZ,
        }
        workload.rows.append(Row(n, seconds, plain, extra))
    return workload


def main() -> None:
    options = parse_options(__doc__, repeats=5)
    warm_up()
    workload = measure(QUICK_SIZES if options.quick else SIZES, options.repeats)
    show(workload)
    save(options.results, "bench_panel.py", [workload])


if __name__ == "__main__":
    main()
