"""Benchmark whole runs against a floor measured in the same process (``make bench``).

For chain, wide and layered flows of 100 … 5,000 nodes it times check (parse + validate
+ plan) and execute, and a *floor*: a bare anyio loop running the same waves with one
no-op coroutine per node. It also times a wave of 1,000 nodes sleeping 100 ms each with
concurrency 1,000. Prints medians and the ratio to the floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_frontend import chain, layered, wide
from maidit_jupyter.execution.executor import RunOptions, execute
from maidit_jupyter.validation.validator import check_document


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
    """(check seconds, execute seconds, waves) of one run."""
    start = time.perf_counter()
    checked = check_document(text, path="bench.flow.md")
    checked_at = time.perf_counter()
    workflow, plan = checked.workflow, checked.plan
    assert workflow is not None
    assert plan is not None, checked.report.errors[:3]
    options = RunOptions(base_dir=base, concurrency=concurrency)
    record = anyio.run(lambda: execute(workflow, plan, options))
    assert record.status == "completed", record.error
    return checked_at - start, time.perf_counter() - checked_at, plan.waves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    base = Path(__file__).resolve().parent
    (base / "data").mkdir(exist_ok=True)
    (base / "data" / "in.json").write_text('[{"value": 1}, {"value": 2}]')
    print("whole runs: check + execute vs a bare anyio loop over the same waves")
    print(
        f"{'workload':<10}{'nodes':>7}{'check':>9}{'execute':>9}{'floor':>9}{'ratio':>7}"
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
            execute_s = statistics.median(r[1] for r in runs)
            base_s = statistics.median(floor(runs[0][2]) for _ in range(args.repeats))
            ratio = (check + execute_s) / base_s
            print(
                f"{name:<10}{n:>7}{check:>8.3f}s{execute_s:>8.3f}s{base_s:>8.3f}s{ratio:>6.1f}x"
            )
    body = "".join(f'  <delay id="d{i}" duration="100ms"/>\n' for i in range(1000))
    text = f"---\nname: io\nversion: 1.0.0\n---\n<workflow>\n{body}</workflow>\n"
    check, execute_s, _ = whole_run(text, base, concurrency=1000)
    print(f"io wave: 1,000 nodes × 100 ms, concurrency 1,000: execute {execute_s:.3f}s")


if __name__ == "__main__":
    main()
