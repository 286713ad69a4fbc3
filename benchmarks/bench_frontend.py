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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maidit_jupyter.validation.validator import check_document

HEADER = "---\nname: bench\nversion: 1.0.0\n---\n<workflow>\n"


def chain(n: int) -> str:
    """N template nodes in a line, each reading the previous one's output."""
    parts = [HEADER, '  <source id="n0" type="file" path="./data/in.json"/>\n']
    for i in range(1, n):
        parts.append(
            f'  <transform id="n{i}" type="template" input="n{i - 1}">\n'
            f"    <template>{{{{ input }}}} + {i}</template>\n  </transform>\n"
        )
    return "".join(parts) + "</workflow>\n"


def wide(n: int) -> str:
    """One source, N independent template/map nodes, a join reading all of them."""
    parts = [HEADER, '  <source id="src" type="file" path="./data/in.json"/>\n']
    for i in range(n):
        if i % 2:
            parts.append(
                f'  <transform id="w{i}" type="map" input="src">\n'
                f"    <expression>{{...$item, score: $item.value * {i} + 1}}</expression>\n"
                "  </transform>\n"
            )
        else:
            parts.append(
                f'  <transform id="w{i}" type="template" input="src">\n'
                f"    <template>{{{{ length(input) }}}}-{i}</template>\n  </transform>\n"
            )
    reads = "+".join(f"{{{{ length(w{i}.output) }}}}" for i in range(n))
    parts.append('  <transform id="join" type="template" input="src">\n')
    parts.append(f"    <template>{reads}</template>\n  </transform>\n")
    return "".join(parts) + "</workflow>\n"


def layered(n: int, width: int = 100, fanin: int = 3) -> str:
    """N nodes in layers of ``width``; each reads ``fanin`` nodes of the layer before."""
    rng = random.Random(7)
    parts = [HEADER]
    for i in range(n):
        layer, k = divmod(i, width)
        if layer == 0:
            parts.append(
                f'  <transform id="L0_{k}" type="template">\n'
                f"    <template>s{k}</template>\n  </transform>\n"
            )
            continue
        first, *others = rng.sample(range(width), fanin)
        reads = " + ".join(f"len(L{layer - 1}_{r}.output)" for r in others)
        parts.append(
            f'  <transform id="L{layer}_{k}" type="template" input="L{layer - 1}_{first}">\n'
            f"    <template>{{{{ len(input) + {reads} }}}}</template>\n  </transform>\n"
        )
    return "".join(parts) + "</workflow>\n"


def measure(text: str, repeats: int) -> float:
    """The median time of ``check_document`` on ``text``, in seconds (after a warm-up)."""
    check_document(text, path="bench.flow.md")
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
    parser.add_argument(
        "--flows",
        nargs="*",
        default=[],
        help="also time these .flow.md files (e.g. from shared/bench/gen_flows.py)",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print("parse + validate + plan (median of", args.repeats, "runs)")
    print(f"{'workload':<10}" + "".join(f"{n:>12,}" for n in sizes) + "   growth")
    for name, make in (("chain", chain), ("wide", wide), ("layered", layered)):
        medians = [measure(make(n), args.repeats) for n in sizes]
        cells = "".join(f"{m * 1000:>10.0f}ms" for m in medians)
        growth = ""
        if len(sizes) > 1:
            ratio = math.log(medians[-1] / medians[0]) / math.log(sizes[-1] / sizes[0])
            growth = f"   n^{ratio:.2f}"
        print(f"{name:<10}{cells}{growth}")
    for path in args.flows:
        text = Path(path).read_text(encoding="utf-8")
        median = measure(text, args.repeats)
        print(f"{Path(path).name:<40}{median * 1000:>10.0f}ms")
    print()
    print("attack documents (median of 5)")
    for name, seconds in attacks().items():
        print(f"  {name:<18}{seconds * 1000:8.2f} ms")


if __name__ == "__main__":
    main()
