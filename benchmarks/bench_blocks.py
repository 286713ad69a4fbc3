"""Benchmark blocks (``make bench``): the cost of a foreach iteration on top of its body.

A foreach over 10,000 items with concurrency 100 runs one template node per item. The
*body* cost is the same template rendered 10,000 times directly (compiled once, a
fresh scope per item); the *overhead* is the rest: scheduling the iteration, its frame,
running the body node through the executor (events, result, checkpoint record). Target:
under 100 µs per item. Also times ``parallel wait="any"`` with a 10 s losing branch.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maidit_jupyter.execution.flow_run import FlowRun
from maidit_jupyter.execution.launch import prepare_run
from maidit_jupyter.expressions.compiled import ExpressionCompiler
from maidit_jupyter.expressions.evaluator import Evaluator
from maidit_jupyter.expressions.scope import RootScope

ITEMS = 10_000
TEMPLATE = "{{ item.name }} scored {{ item.score * 2 }}"
FOREACH = f"""---
name: fan-out
version: 1.0.0
---
<workflow>
  <foreach id="each" collection="$input" concurrency="100">
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


def run_flow(text: str, workflow_input: object, checkpoint: bool) -> float:
    with tempfile.TemporaryDirectory() as directory:
        prepared = prepare_run(
            Path(directory) / "bench.flow.md",
            text=text,
            workflow_input=workflow_input,
            checkpoint=checkpoint,
        )
        flow_run = FlowRun(prepared)
        start = time.perf_counter()
        anyio.run(flow_run._execute)
        elapsed = time.perf_counter() - start
        assert flow_run.status == "completed", flow_run.error
    return elapsed


def body_only(items: list[dict[str, object]]) -> float:
    """The same template rendered once per item, with nothing around it."""
    compiler = ExpressionCompiler()
    evaluator = Evaluator()
    root = RootScope()
    template = compiler.template(TEMPLATE)
    start = time.perf_counter()
    for index, item in enumerate(items):
        template.render(root.child(item=item, index=index, input=None), evaluator)
    return time.perf_counter() - start


def main() -> None:
    items = [{"name": f"p{i}", "score": i % 100} for i in range(ITEMS)]
    body = statistics.median(body_only(items) for _ in range(5))
    for checkpoint in (False, True):
        total = statistics.median(
            run_flow(FOREACH, items, checkpoint) for _ in range(5)
        )
        overhead = (total - body) / ITEMS * 1e6
        label = "with checkpoint" if checkpoint else "no checkpoint"
        print(
            f"foreach {ITEMS:,} items, concurrency 100 ({label}): {total:.3f}s, body "
            f"{body:.3f}s, overhead {overhead:.0f} µs per item (target < 100)"
        )
    race = run_flow(PARALLEL, None, False)
    print(f'parallel wait="any" with a 10 s losing branch: {race * 1000:.0f} ms')


if __name__ == "__main__":
    main()
