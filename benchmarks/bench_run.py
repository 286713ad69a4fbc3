"""Benchmark whole runs against a floor measured in the same process (``make bench``).

For chain, wide and layered flows of 100 … 5,000 nodes it times what ``maidit run``
does: *check* (parse + validate + plan), then *run* (config and secrets, node hashes, the
checkpoint opened, execution with one journal record per node, the final snapshot, the
execution log and the JSON report). The *floor* is a bare anyio loop running the same
waves with one no-op coroutine per node. It also times a wave of 1,000 nodes sleeping
100 ms each with concurrency 1,000. Prints medians, the cost per node and the ratio of
the whole run to the floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_frontend import HEADER, layered, wide
from maidit_jupyter.execution.flow_run import FlowRun
from maidit_jupyter.execution.launch import prepare_run
from maidit_jupyter.validation.validator import check_document


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


def floor(waves: tuple[tuple[str, ...], ...]) -> float:
    """Seconds for a bare anyio loop to run the same waves with no-op nodes."""
    results: dict[str, int] = {}

    async def node(node_id: str) -> None:
        results[node_id] = len(results)

    async def main() -> None:
        for wave in waves:
            async with anyio.create_task_group() as group:
                for node_id in wave:
                    group.start_soon(node, node_id)

    start = time.perf_counter()
    anyio.run(main)
    return time.perf_counter() - start


def whole_run(
    text: str, base: Path, concurrency: int = 10
) -> tuple[float, float, tuple[tuple[str, ...], ...]]:
    """(check seconds, run seconds, waves) of one run, done as ``maidit run`` does it."""
    flow = base / "bench.flow.md"
    with tempfile.TemporaryDirectory() as state:
        start = time.perf_counter()
        checked = check_document(text, path=str(flow))
        checked_at = time.perf_counter()
        prepared = prepare_run(
            flow,
            text=text,
            checked=checked,
            workflow_input=None,
            concurrency=concurrency,
            state_dir=state,
        )
        flow_run = FlowRun(prepared)
        anyio.run(flow_run._execute)
        assert flow_run.status == "completed", flow_run.error
        flow_run.report()  # renders the execution log as well
        finished = time.perf_counter()
    return checked_at - start, finished - checked_at, prepared.plan.waves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    base = Path(__file__).resolve().parent
    (base / "data").mkdir(exist_ok=True)
    (base / "data" / "in.json").write_text('[{"value": 1}, {"value": 2}]')
    print("whole runs (check + run with checkpoint, log, report) vs a bare anyio loop")
    print(
        f"{'workload':<10}{'nodes':>7}{'check':>9}{'run':>9}{'µs/node':>9}"
        f"{'floor':>9}{'ratio':>7}"
    )
    makers: list[tuple[str, Callable[[int], str]]] = [
        ("chain", chain),
        ("wide", wide),
        ("layered", layered),
    ]
    for name, make in makers:
        for n in (int(size) for size in args.sizes.split(",")):
            text = make(n)
            runs = [whole_run(text, base) for _ in range(args.repeats)]
            check = statistics.median(r[0] for r in runs)
            run_s = statistics.median(r[1] for r in runs)
            base_s = statistics.median(floor(runs[0][2]) for _ in range(args.repeats))
            per_node = (check + run_s) / n * 1e6
            print(
                f"{name:<10}{n:>7}{check:>8.3f}s{run_s:>8.3f}s{per_node:>9.0f}"
                f"{base_s:>8.3f}s{(check + run_s) / base_s:>6.1f}x"
            )
    body = "".join(f'  <delay id="d{i}" duration="100ms"/>\n' for i in range(1000))
    text = f"---\nname: io\nversion: 1.0.0\n---\n<workflow>\n{body}</workflow>\n"
    _, run_s, _ = whole_run(text, base, concurrency=1000)
    print(f"io wave: 1,000 nodes × 100 ms, concurrency 1,000: run {run_s:.3f}s")


if __name__ == "__main__":
    main()
