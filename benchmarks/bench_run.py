"""Benchmark whole runs against a floor measured in the same process (``make bench``).

For chain, wide and layered flows of 1,000 … 10,000 nodes it times what ``maidit run``
does: *check* (parse + validate + plan), then *run* (config and secrets, node hashes, the
checkpoint opened, execution with one journal record per node, the final snapshot, the
execution log and the JSON report). The floor is a bare anyio loop running the same
waves with one no-op task per node. The io-bound wave is N nodes sleeping 100 ms each
with concurrency N; its floor is one anyio task group of N 100 ms sleeps.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_frontend import HEADER, layered, wide
from benchmarks.common import (
    Row,
    Workload,
    anyio_waves_floor,
    flow_file,
    median_time,
    parse_options,
    save,
    show,
    warm_up,
    whole_run,
)

SIZES = (1_000, 2_000, 5_000, 10_000)
QUICK_SIZES = (100, 200)
IO_SIZES = (100, 1_000)
QUICK_IO_SIZES = (10, 100)
SLEEP_S = 0.1
#: what the chain's wide and layered flows read (``./data/in.json``).
FILES = {"data/in.json": '[{"value": 1}, {"value": 2}]'}
NOTES = "median = check + run (with checkpoint, execution log and JSON report)"


def chain(n: int) -> str:
    """N template nodes in a line, each passing the previous output on unchanged."""
    parts = [HEADER, '  <transform id="n0" type="template"><template>seed</template>']
    parts.append("</transform>\n")
    for i in range(1, n):
        parts.append(
            f'  <transform id="n{i}" type="template" input="n{i - 1}">'
            "<template>{{ input }}</template></transform>\n"
        )
    return "".join(parts) + "</workflow>\n"


def io_wave(n: int) -> str:
    """N independent nodes sleeping 100 ms each, all allowed at once."""
    body = "".join(
        f'  <delay id="d{i}" duration="{SLEEP_S * 1000:.0f}ms"/>\n' for i in range(n)
    )
    return (
        f"---\nname: io\nversion: 1.0.0\nruntime:\n  concurrency: {n}\n---\n"
        f"<workflow>\n{body}</workflow>\n"
    )


def measure_shape(
    name: str, make: Callable[[int], str], sizes: tuple[int, ...], repeats: int
) -> Workload:
    """Whole runs of one flow shape at each size, against the anyio floor."""
    workload = Workload(
        f"run: {name}", "nodes", "anyio loop, same waves, no-op tasks", repeats
    )
    workload.notes = NOTES
    for n in sizes:
        with flow_file(make(n), FILES) as flow:
            runs = [whole_run(flow) for _ in range(repeats)]
        check = statistics.median(run[0] for run in runs)
        run_s = statistics.median(run[1] for run in runs)
        waves = runs[0][2].plan.waves
        floor = statistics.median(anyio_waves_floor(waves) for _ in range(repeats))
        extra = {
            "check_s": check,
            "run_s": run_s,
            "us_per_node": (check + run_s) / n * 1e6,
        }
        workload.rows.append(Row(n, check + run_s, floor, extra))
    return workload


def sleeps_floor(n: int) -> None:
    """One anyio task group of ``n`` sleeps of 100 ms."""

    async def run() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(n):
                group.start_soon(anyio.sleep, SLEEP_S)

    anyio.run(run)


def measure_io(sizes: tuple[int, ...], repeats: int) -> Workload:
    """Whole runs of the io-bound wave at each size, against the anyio floor."""
    workload = Workload(
        "run: io wave, 100 ms sleeps", "nodes", "anyio task group of N sleeps", repeats
    )
    workload.notes = "concurrency N: the wave should take 100 ms at any N"
    for n in sizes:
        with flow_file(io_wave(n)) as flow:
            median = statistics.median(sum(whole_run(flow)[:2]) for _ in range(repeats))
        floor = median_time(partial(sleeps_floor, n), repeats)
        workload.rows.append(Row(n, median, floor))
    return workload


def main() -> None:
    options = parse_options(__doc__, repeats=5)
    sizes = QUICK_SIZES if options.quick else SIZES
    shapes: dict[str, Callable[[int], str]] = {
        "chain": chain,
        "wide": wide,
        "layered": layered,
    }
    warm_up()
    workloads = []
    for name, make in shapes.items():
        workloads.append(measure_shape(name, make, sizes, options.repeats))
        show(workloads[-1])
    io_sizes = QUICK_IO_SIZES if options.quick else IO_SIZES
    workloads.append(measure_io(io_sizes, options.repeats))
    show(workloads[-1])
    save(options.results, "bench_run.py", workloads)


if __name__ == "__main__":
    main()
