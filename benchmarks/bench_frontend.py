"""Benchmark the front end: parse + validate + plan of generated flows, and attacks.

Run with ``make bench`` (or ``python benchmarks/bench_frontend.py``). Prints the median of
several runs per size and the growth exponent between the smallest and largest size
(1.0 means linear). The original engine takes about 4–6 s for parsing alone at 5,000
nodes and grows quadratically.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maidit_jupyter.validation.validator import check_document

HEADER = "---\nname: bench\nversion: 1.0.0\n---\n<workflow>\n"


def chain(n: int) -> str:
    """N template nodes in a line, each reading the previous one's output."""
    parts = [HEADER, '  <source id="n0" type="file" path="./data/in.json"/>\n']
    for i in range(1, n):
        parts.append(
            f'  <transform id="n{i}" type="template" input="n{i - 1}">'
            f"<template>{{{{ input }}}} + {i}</template></transform>\n"
        )
    return "".join(parts) + "</workflow>\n"


def wide(n: int) -> str:
    """One source, N independent map nodes, one join reading them all."""
    parts = [HEADER, '  <source id="src" type="file" path="./data/in.json"/>\n']
    for i in range(n):
        parts.append(
            f'  <transform id="m-{i}" type="map" input="src">'
            f"<expression>$item.value * {i} + 1</expression></transform>\n"
        )
    parts.append('  <transform id="join" type="template" input="src"><template>')
    parts.append(
        "".join(f"{{{{ m-{i}.output }}}}" for i in range(0, n, max(1, n // 50)))
    )
    return "".join(parts) + "</template></transform>\n</workflow>\n"


def layered(n: int, width: int = 100, fanin: int = 3) -> str:
    """N nodes in layers of ``width``; each reads ``fanin`` nodes of the layer before."""
    rng = random.Random(7)
    parts = [HEADER]
    for i in range(n):
        layer = i // width
        if layer == 0:
            parts.append(f'  <delay id="l{i}" duration="1ms"/>\n')
            continue
        previous = range((layer - 1) * width, layer * width)
        refs = rng.sample(list(previous), fanin)
        template = " ".join(f"{{{{ l{r}.output }}}}" for r in refs)
        parts.append(
            f'  <transform id="l{i}" type="template"><template>{template}</template></transform>\n'
        )
    return "".join(parts) + "</workflow>\n"


def measure(make: Callable[[int], str], n: int, repeats: int) -> float:
    text = make(n)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        checked = check_document(text, path="bench.flow.md")
        times.append(time.perf_counter() - start)
        assert checked.plan is not None, checked.report.errors[:3]
    return statistics.median(times)


def attacks() -> dict[str, float]:
    """Time each attack document from tests/test_attacks.py (median of 5, seconds)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests import test_attacks as attack

    docs = {
        "billion laughs": attack.LAUGHS,
        "external entity": attack.EXTERNAL_ENTITY,
        "external DTD": attack.EXTERNAL_DTD,
        "YAML alias bomb": attack.YAML_BOMB,
        "50 MB document": attack.HUGE,
    }
    result = {}
    for name, text in docs.items():
        times = []
        for _ in range(5):
            start = time.perf_counter()
            checked = check_document(text, path="attack.flow.md")
            times.append(time.perf_counter() - start)
            assert checked.report.errors
        result[name] = statistics.median(times)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,2500,5000,10000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print("parse + validate + plan (median of", args.repeats, "runs)")
    print(f"{'workload':<10}" + "".join(f"{n:>12,}" for n in sizes) + "   growth")
    for name, make in (("chain", chain), ("wide", wide), ("layered", layered)):
        medians = [measure(make, n, args.repeats) for n in sizes]
        exponent = math.log(medians[-1] / medians[0]) / math.log(sizes[-1] / sizes[0])
        cells = "".join(f"{m * 1000:>10.0f}ms" for m in medians)
        print(f"{name:<10}{cells}   n^{exponent:.2f}")
    print()
    print("attack documents (median of 5)")
    for name, seconds in attacks().items():
        print(f"  {name:<18}{seconds * 1000:8.2f} ms")


if __name__ == "__main__":
    main()
