"""Benchmark blocks (``make bench``): foreach fan-out, and a ``parallel`` race.

A foreach over N items (1,000 … 10,000) with concurrency 100 runs one template node per
item, with its checkpoint as ``maidit run`` keeps it. The floor is a bare anyio task
group bounded the same way as the foreach: 100 worker tasks taking the items in turn,
each formatting the same text with an f-string. (One task per item under a
``CapacityLimiter(100)`` would be no floor: it is several times slower than the
foreach, as its 10,000 tasks all wait on the limiter.) Also reported: the run without a checkpoint, the *body* alone (the same
compiled template rendered N times, a fresh scope per item) and the *overhead* per item
on top of that body: scheduling the iteration, its frame, running the body node through
the executor (events, result, journal record). Target: under 100 µs per item.

Also times ``parallel wait="any"`` whose losing branch sleeps 10 s.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    Row,
    Workload,
    execute,
    flow_file,
    median_time,
    parse_options,
    save,
    show,
    show_figures,
    warm_up,
)
from maidit_jupyter.expressions.compiled import ExpressionCompiler
from maidit_jupyter.expressions.evaluator import Evaluator
from maidit_jupyter.expressions.scope import RootScope

SIZES = (1_000, 10_000)
QUICK_SIZES = (100, 200)
CONCURRENCY = 100
TEMPLATE = "{{ item.name }} scored {{ item.score * 2 }}"
FOREACH = f"""---
name: fan-out
version: 1.0.0
---
<workflow>
  <foreach id="each" collection="$input" concurrency="{CONCURRENCY}">
    <transform id="line" type="template"><template>{TEMPLATE}</template></transform>
  </foreach>
</workflow>
"""
PARALLEL = """---
name: race
version: 1.0.0
---
<workflow>
  <parallel id="race" wait="any">
    <branch><delay id="slow" duration="10s"/></branch>
    <branch><transform id="fast" type="template"><template>done</template></transform></branch>
  </parallel>
</workflow>
"""
Items = list[dict[str, object]]


def items(n: int) -> Items:
    """The foreach's collection."""
    return [{"name": f"p{i}", "score": i % 100} for i in range(n)]


def fan_out(collection: Items, checkpoint: bool) -> float:
    """Seconds of the foreach run over ``collection``, checking its output."""
    with flow_file(FOREACH) as flow:
        run, seconds = execute(flow, workflow_input=collection, checkpoint=checkpoint)
    lines = run.outputs["each"]
    assert isinstance(lines, list), lines
    assert len(lines) == len(collection)
    return seconds


def floor(collection: Items) -> None:
    """The same fan-out with anyio alone: as many workers as the concurrency, each
    taking the next item, formatting its line with an f-string and yielding."""
    lines: list[str] = [""] * len(collection)

    async def worker(pending: Iterator[int]) -> None:
        for index in pending:
            item = collection[index]
            lines[index] = f"{item['name']} scored {item['score'] * 2}"  # type: ignore[operator]
            await anyio.lowlevel.checkpoint()

    async def run() -> None:
        pending = iter(range(len(collection)))
        async with anyio.create_task_group() as group:
            for _ in range(CONCURRENCY):
                group.start_soon(worker, pending)

    anyio.run(run)


def body_only(collection: Items) -> None:
    """The same template rendered once per item, with nothing around it."""
    evaluator, root = Evaluator(), RootScope()
    template = ExpressionCompiler().template(TEMPLATE)
    for index, item in enumerate(collection):
        template.render(root.child(item=item, index=index, input=None), evaluator)


def measure(sizes: tuple[int, ...], repeats: int) -> Workload:
    """The foreach at each size, with and without a checkpoint, against the floor."""
    workload = Workload(
        f"foreach fan-out, concurrency {CONCURRENCY}",
        "items",
        f"{CONCURRENCY} anyio workers, an f-string per item",
        repeats,
    )
    workload.notes = "median = the run with its checkpoint; overhead = beyond the body"
    for n in sizes:
        collection = items(n)
        median = statistics.median(fan_out(collection, True) for _ in range(repeats))
        plain = statistics.median(fan_out(collection, False) for _ in range(repeats))
        body = median_time(partial(body_only, collection), repeats)
        extra = {
            "no_checkpoint_s": plain,
            "body_s": body,
            "overhead_us_per_item": (median - body) / n * 1e6,
            "overhead_no_checkpoint_us": (plain - body) / n * 1e6,
        }
        floor_s = median_time(partial(floor, collection), repeats)
        workload.rows.append(Row(n, median, floor_s, extra))
    return workload


def race() -> dict[str, float]:
    """Milliseconds of a ``parallel wait="any"`` whose losing branch sleeps 10 s."""
    with flow_file(PARALLEL) as flow:
        _, seconds = execute(flow, checkpoint=False)
    return {"10 s losing branch": seconds * 1e3}


def main() -> None:
    options = parse_options(__doc__, repeats=5)
    warm_up()
    workload = measure(QUICK_SIZES if options.quick else SIZES, options.repeats)
    show(workload)
    racing = race()
    show_figures('parallel wait="any" (ms)', racing)
    save(
        options.results,
        "bench_blocks.py",
        [workload],
        {'parallel wait="any" (ms)': racing},
    )


if __name__ == "__main__":
    main()
