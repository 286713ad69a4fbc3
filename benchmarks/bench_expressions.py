"""Benchmark expression evaluation over many records (``make bench``).

Workloads over 100,000 records (``{name, score, track}``), median of several runs:

* map: ``{...$item, grade: $item.score >= 90 ? "A" : "B"}`` evaluated per record, as the
  map transform does (a fresh ``$item``/``$index`` scope layer per record);
* filter + reduce: ``$item.score >= 50`` per record, then ``$acc + $item.score`` over
  the kept records, as the filter and reduce transforms do;
* one expression: ``reduce(filter(input, x => x.score >= 50), (acc, x) => acc + x.score,
  0)`` evaluated once over the whole input (arrows called by built-ins).

Prints seconds and records per second for each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maidit_jupyter.expressions.compiled import ExpressionCompiler
from maidit_jupyter.expressions.evaluator import Evaluator
from maidit_jupyter.expressions.scope import RootScope
from maidit_jupyter.expressions.values import Value


def records(count: int) -> list[dict[str, Value]]:
    """``count`` records with a spread of scores."""
    return [
        {"name": f"s{i}", "score": (i * 37) % 101, "track": "ab"[i % 2]}
        for i in range(count)
    ]


def per_record_map(data: list[dict[str, Value]]) -> object:
    compiler, evaluator, root = ExpressionCompiler(), Evaluator(), RootScope()
    mapping = compiler.expression('{...$item, grade: $item.score >= 90 ? "A" : "B"}')
    return [
        mapping.evaluate(root.child(**{"$item": item, "$index": i}), evaluator)
        for i, item in enumerate(data)
    ]


def per_record_filter_reduce(data: list[dict[str, Value]]) -> object:
    compiler, evaluator, root = ExpressionCompiler(), Evaluator(), RootScope()
    keep = compiler.expression("$item.score >= 50")
    step = compiler.expression("$acc + $item.score")
    kept = [
        item
        for i, item in enumerate(data)
        if keep.evaluate(root.child(**{"$item": item, "$index": i}), evaluator)
    ]
    total: Value = 0
    for i, item in enumerate(kept):
        total = step.evaluate(
            root.child(**{"$acc": total, "$item": item, "$index": i}), evaluator
        )
    return total


def one_expression(data: list[dict[str, Value]]) -> object:
    compiler, evaluator = ExpressionCompiler(), Evaluator()
    expression = compiler.expression(
        "reduce(filter(input, x => x.score >= 50), (acc, x) => acc + x.score, 0)"
    )
    return expression.evaluate(RootScope(workflow_input=data), evaluator)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = records(args.records)
    workloads: list[tuple[str, Callable[[list[dict[str, Value]]], object]]] = [
        ("map {...$item, grade}", per_record_map),
        ("filter + reduce", per_record_filter_reduce),
        ("reduce(filter(...)) once", one_expression),
    ]
    print(
        f"expression evaluation over {args.records:,} records (median of {args.repeats})"
    )
    for name, workload in workloads:
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            workload(data)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        print(f"  {name:<28}{median:8.3f} s {args.records / median:>12,.0f} records/s")


if __name__ == "__main__":
    main()
