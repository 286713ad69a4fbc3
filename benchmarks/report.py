"""Print the benchmark summary from ``benchmarks/results.json`` as markdown.

One table row per workload (sizes, the median and the floor at the largest size, their
ratio, the growth law and what the floor is), then the single figures and the machine.
``make bench`` runs it last; its output is what the README's table is pasted from.

Usage: ``python benchmarks/report.py [RESULTS.json]``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, figures_text, seconds_text

HEADER = (
    "| workload | N | median at largest N | floor | ratio | growth law | floor is |\n"
    "|---|---|---|---|---|---|---|"
)


def compact(n: int) -> str:
    """``n`` short: 500, 2k, 10k, 1M."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= size and n % (size // 10) == 0:
            return f"{n / size:g}{suffix}"
    return f"{n:,}"


def row(name: str, entry: dict[str, Any]) -> str:
    """The table row of one workload."""
    largest = entry["rows"][-1]
    sizes = ", ".join(compact(r["n"]) for r in entry["rows"])
    cells = [
        name,
        f"{sizes} {entry['unit']}",
        seconds_text(largest["median_s"]),
        seconds_text(largest["floor_s"]),
        f"{largest['ratio']:.2f}×",
        entry["growth"]["law"],
        entry["floor"],
    ]
    return "| " + " | ".join(cells) + " |"


def figures(document: dict[str, Any]) -> list[str]:
    """One line per group of single figures."""
    return [
        f"- {name}: {figures_text(entry['values'])}"
        for name, entry in document.get("figures", {}).items()
    ]


def machine(document: dict[str, Any]) -> str:
    """What the figures were measured on, and when."""
    about = document["machine"]
    return (
        f"Python {about['python']} ({about['implementation']}), "
        f"{about['cpu_count']} CPUs, {about['platform']}; updated {document['updated']}"
    )


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    document = json.loads(path.read_text(encoding="utf-8"))
    print(HEADER)
    for name, entry in document["workloads"].items():
        print(row(name, entry))
    print()
    print("\n".join(figures(document)))
    print()
    print(machine(document))


if __name__ == "__main__":
    main()
