"""Benchmark a data-heavy flow: file → filter → map → reduce → file (``make bench``).

The flow reads N JSON records from a file, keeps those scoring at least 50, adds a
``total`` and a ``grade`` to each, folds them into ``{count, total}`` and writes that
to a file: a whole run as ``maidit run`` does it (check, then the run with its
checkpoint, execution log and JSON report), for N = 1,000 … 100,000. The floor is
plain Python doing the same: ``json.loads`` of the file, a list comprehension per
transform, a loop for the fold, ``json.dumps`` to a file. Both must write the same
summary.
"""

from __future__ import annotations

import json
import statistics
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    Row,
    Workload,
    flow_file,
    median_time,
    parse_options,
    save,
    show,
    warm_up,
    whole_run,
)
from maidit_jupyter.execution.flow_run import FlowRun

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (100, 1_000)
FLOW = """---
name: data
version: 1.0.0
---
<workflow>
  <source id="read" type="file"><path>records.json</path></source>
  <transform id="keep" type="filter" input="read">
    <condition>$item.score >= 50</condition>
  </transform>
  <transform id="price" type="map" input="keep">
    <expression>{
      ...$item, total: $item.price * $item.qty, grade: $item.score >= 90 ? "A" : "B"
    }</expression>
  </transform>
  <transform id="sum" type="reduce" input="price">
    <initial>{count: 0, total: 0}</initial>
    <expression>{count: $acc.count + 1, total: $acc.total + $item.total}</expression>
  </transform>
  <sink id="write" type="file" input="sum"><path>out/summary.json</path></sink>
</workflow>
"""


def records(n: int) -> str:
    """N records as a JSON document: ``id name score price qty``."""
    return json.dumps(
        [
            {
                "id": i,
                "name": f"item-{i}",
                "score": (i * 37) % 101,
                "price": i % 500 + 1,
                "qty": i % 7 + 1,
            }
            for i in range(n)
        ]
    )


def plain_python(directory: Path) -> dict[str, int]:
    """The floor: the flow's work, written the plain way. Returns the summary."""
    items = json.loads((directory / "records.json").read_text(encoding="utf-8"))
    kept = [item for item in items if item["score"] >= 50]
    priced = [
        {
            **item,
            "total": item["price"] * item["qty"],
            "grade": "A" if item["score"] >= 90 else "B",
        }
        for item in kept
    ]
    count = total = 0
    for item in priced:
        count += 1
        total += item["total"]
    summary = {"count": count, "total": total}
    (directory / "floor.json").write_text(json.dumps(summary), encoding="utf-8")
    return summary


def in_nodes(flow_run: FlowRun) -> float:
    """Seconds the run spent inside its nodes (the rest is orchestration, journal,
    checkpoint, log and report)."""
    return sum(result.duration_ms for result in flow_run.results.values()) / 1e3


def measure(sizes: tuple[int, ...], repeats: int) -> Workload:
    """Whole runs of the pipeline at each size, against plain Python."""
    workload = Workload(
        "data: file → filter → map → reduce → file",
        "records",
        "plain Python: json, list comprehensions, a loop",
        repeats,
    )
    workload.notes = (
        "median = check + run (with checkpoint, execution log and JSON report); "
        "in_nodes_s = time inside the five nodes"
    )
    for n in sizes:
        with flow_file(FLOW, {"records.json": records(n)}) as flow:
            runs = [whole_run(flow) for _ in range(repeats)]
            floor = median_time(partial(plain_python, flow.parent), repeats)
            written = json.loads((flow.parent / "out" / "summary.json").read_text())
            assert written == plain_python(flow.parent), written
            checkpoint = runs[0][2].checkpoint_path
            assert checkpoint is not None
            checkpoint_mb = checkpoint.stat().st_size / 1e6
        median = statistics.median(sum(run[:2]) for run in runs)
        extra = {
            "records_per_s": round(n / median),
            "in_nodes_s": statistics.median(in_nodes(run[2]) for run in runs),
            "checkpoint_MB": checkpoint_mb,
        }
        workload.rows.append(Row(n, median, floor, extra))
    return workload


def main() -> None:
    options = parse_options(__doc__, repeats=5)
    warm_up()
    workload = measure(QUICK_SIZES if options.quick else SIZES, options.repeats)
    show(workload)
    save(options.results, "bench_data.py", [workload])


if __name__ == "__main__":
    main()
