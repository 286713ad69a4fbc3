"""Benchmark expression evaluation over many records (``make bench``).

Workloads over 1,000 … 100,000 records (``{name, score, track}``), each against plain
Python computing the same result (which is checked):

* map: ``{...$item, grade: $item.score >= 90 ? "A" : "B"}`` evaluated per record, as the
  map transform does (a fresh ``$item``/``$index`` scope layer per record); floor: a
  list comprehension building the same dicts;
* filter + reduce: ``$item.score >= 50`` per record, then ``$acc + $item.score`` over
  the kept records, as the filter and reduce transforms do; floor: ``sum`` over a
  generator with the same condition;
* one expression: ``reduce(filter(input, x => x.score >= 50), (acc, x) => acc + x.score,
  0)`` evaluated once over the whole input (arrows called by built-ins); same floor.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Row, Workload, median_time, parse_options, save, show
from maidit_jupyter.expressions.compiled import ExpressionCompiler
from maidit_jupyter.expressions.evaluator import Evaluator
from maidit_jupyter.expressions.scope import RootScope
from maidit_jupyter.expressions.values import Value

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 2_000)
Records = list[dict[str, Value]]


def records(count: int) -> Records:
    """``count`` records with a spread of scores."""
    return [
        {"name": f"s{i}", "score": (i * 37) % 101, "track": "ab"[i % 2]}
        for i in range(count)
    ]


def per_record_map(data: Records) -> object:
    """The map transform's way: one evaluation per record in a fresh scope layer."""
    compiler, evaluator, root = ExpressionCompiler(), Evaluator(), RootScope()
    mapping = compiler.expression('{...$item, grade: $item.score >= 90 ? "A" : "B"}')
    return [
        mapping.evaluate(root.child(**{"$item": item, "$index": i}), evaluator)
        for i, item in enumerate(data)
    ]


def plain_map(data: Records) -> object:
    """The floor of :func:`per_record_map`."""
    return [{**item, "grade": "A" if item["score"] >= 90 else "B"} for item in data]


def per_record_filter_reduce(data: Records) -> object:
    """The filter then reduce transforms' way: a scope layer per record and step."""
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


def one_expression(data: Records) -> object:
    """One expression over the whole input, its arrows called by built-ins."""
    compiler, evaluator = ExpressionCompiler(), Evaluator()
    expression = compiler.expression(
        "reduce(filter(input, x => x.score >= 50), (acc, x) => acc + x.score, 0)"
    )
    return expression.evaluate(RootScope(workflow_input=data), evaluator)


def plain_sum(data: Records) -> object:
    """The floor of :func:`per_record_filter_reduce` and :func:`one_expression`."""
    return sum(item["score"] for item in data if item["score"] >= 50)


Measure = Callable[[Records], object]
#: workload name: (the engine's way, plain Python).
WORKLOADS: dict[str, tuple[Measure, Measure]] = {
    "expressions: map {...$item, grade}": (per_record_map, plain_map),
    "expressions: filter + reduce": (per_record_filter_reduce, plain_sum),
    "expressions: reduce(filter(…)) once": (one_expression, plain_sum),
}


def measure(name: str, sizes: tuple[int, ...], repeats: int) -> Workload:
    """One workload at each size against its plain-Python floor."""
    engine, plain = WORKLOADS[name]
    workload = Workload(name, "records", "plain Python, same result", repeats)
    for n in sizes:
        data = records(n)
        assert engine(data) == plain(data), name
        median = median_time(partial(engine, data), repeats)
        floor = median_time(partial(plain, data), repeats)
        workload.rows.append(
            Row(n, median, floor, {"records_per_s": round(n / median)})
        )
    return workload


def main() -> None:
    options = parse_options(__doc__, repeats=5)
    sizes = QUICK_SIZES if options.quick else SIZES
    workloads = []
    for name in WORKLOADS:
        workloads.append(measure(name, sizes, options.repeats))
        show(workloads[-1])
    save(options.results, "bench_expressions.py", workloads)


if __name__ == "__main__":
    main()
