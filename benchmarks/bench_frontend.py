"""Benchmark the front end: parse + validate + plan of generated flows, and attacks.

For chain, wide and layered flows of 1,000 … 10,000 nodes it times ``check_document``
(the document parsed, every expression parsed and checked, every node located, the
plan built). The floor is the least a checker must do for the same plan: the YAML
frontmatter loaded, the XML body parsed with ElementTree, each node's dependencies read
(its ``input`` and the ``id.output`` references in its text) and the waves computed by
Kahn's algorithm. The original engine takes 4–6 s for parsing alone at 5,000 nodes and
grows quadratically. The attack documents of ``tests/test_attacks.py`` are timed too.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from xml.etree import ElementTree

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    Row,
    Workload,
    median_time,
    parse_options,
    save,
    seconds_text,
    show,
    show_figures,
)
from maidit_jupyter.validation.validator import check_document

HEADER = "---\nname: bench\nversion: 1.0.0\n---\n<workflow>\n"
SIZES = (1_000, 2_000, 5_000, 10_000)
QUICK_SIZES = (100, 200)
ATTACKS = "attack documents rejected (ms)"
FLOOR = "ElementTree parse + dependencies + Kahn waves"
#: ``id.output`` in a node's text: a dependency on node ``id``.
REFERENCE = re.compile(r"\b([A-Za-z_][\w-]*)\.output\b")


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


#: the generated flows, by workload name.
SHAPES: Mapping[str, Callable[[int], str]] = {
    "chain": chain,
    "wide": wide,
    "layered": layered,
}


def check(text: str) -> None:
    """What the engine does before a run: parse, validate and plan ``text``."""
    checked = check_document(text, path="bench.flow.md")
    assert checked.plan is not None, checked.report.errors[:3]


def floor_check(text: str) -> list[list[str]]:
    """The floor of :func:`check` for a flat flow: its waves, the least way."""
    _, frontmatter, body = text.split("---\n", 2)
    yaml.safe_load(frontmatter)
    needs: dict[str, set[str]] = {}
    for element in ElementTree.fromstring(body):
        node_id = element.attrib["id"]
        needs[node_id] = set(REFERENCE.findall("".join(element.itertext())))
        if "input" in element.attrib:
            needs[node_id].add(element.attrib["input"])
    waves = kahn_waves(needs)
    assert sum(map(len, waves)) == len(needs), "a cycle"
    return waves


def kahn_waves(needs: Mapping[str, set[str]]) -> list[list[str]]:
    """The waves of a DAG given each node's dependencies, in O(nodes + edges)."""
    waiting = {node: len(deps) for node, deps in needs.items()}
    dependents: defaultdict[str, list[str]] = defaultdict(list)
    for node, deps in needs.items():
        for dep in deps:
            dependents[dep].append(node)
    waves: list[list[str]] = []
    wave = [node for node, count in waiting.items() if count == 0]
    while wave:
        waves.append(wave)
        following = []
        for node in wave:
            for dependent in dependents[node]:
                waiting[dependent] -= 1
                if waiting[dependent] == 0:
                    following.append(dependent)
        wave = following
    return waves


def measure(name: str, sizes: tuple[int, ...], repeats: int) -> Workload:
    """The check of one shape at each size, against its floor."""
    workload = Workload(f"check: {name}", "nodes", FLOOR, repeats)
    for n in sizes:
        text = SHAPES[name](n)
        check(text)  # warm-up
        median = median_time(partial(check, text), repeats)
        floor = median_time(partial(floor_check, text), repeats)
        workload.rows.append(Row(n, median, floor, {"us_per_node": median / n * 1e6}))
    return workload


def attacks(repeats: int) -> dict[str, float]:
    """Milliseconds to reject each attack document of ``tests/test_attacks.py``."""
    from tests import test_attacks as attack

    docs = {
        "billion laughs": attack.LAUGHS,
        "external entity": attack.EXTERNAL_ENTITY,
        "external DTD": attack.EXTERNAL_DTD,
        "YAML alias bomb": attack.YAML_BOMB,
        "50 MB document": attack.HUGE,
    }
    return {
        name: median_time(partial(rejected, text), repeats) * 1e3
        for name, text in docs.items()
    }


def rejected(text: str) -> None:
    """Check a document that must be refused."""
    assert check_document(text, path="attack.flow.md").report.errors


def add_options(parser: argparse.ArgumentParser) -> None:
    """``--flows``: extra flow files to time."""
    parser.add_argument(
        "--flows",
        nargs="*",
        default=[],
        help="also time these .flow.md files (e.g. from shared/bench/gen_flows.py)",
    )


def main() -> None:
    options = parse_options(__doc__, repeats=5, extend=add_options)
    sizes = QUICK_SIZES if options.quick else SIZES
    workloads = []
    for name in SHAPES:
        workloads.append(measure(name, sizes, options.repeats))
        show(workloads[-1])
    for path in options.flows:
        text = Path(path).read_text(encoding="utf-8")
        median = median_time(partial(check, text), options.repeats)
        print(f"{Path(path).name}: check {seconds_text(median)}")
    rejections = attacks(5)
    show_figures(ATTACKS, rejections)
    save(
        options.results,
        "bench_frontend.py",
        workloads,
        {ATTACKS: rejections},
    )


if __name__ == "__main__":
    main()
