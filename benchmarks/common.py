"""What every benchmark script shares: options, timing, result records, results.json.

A script measures one or more *workloads*. A workload is a list of rows, one per size N
(nodes, records, bytes, …): the median of several timed repeats of the engine doing the
work, and the median of a *floor* measured in the same process, right after it: the
least a Python program must do for the same result (a bare anyio loop for
orchestration, plain Python for data work). The ratio engine/floor is the overhead; the
growth law is the log-log slope of the median between the smallest and the largest N.

Every script takes ``--quick`` (small sizes, one repeat: a cheap smoke run) and merges
its workloads into ``benchmarks/results.json`` (``benchmarks/work/results.quick.json``
with ``--quick``, so a smoke run never overwrites the real figures);
``benchmarks/report.py`` prints the summary table from that file.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

from maidit_jupyter.execution.events import Observer
from maidit_jupyter.execution.flow_run import FlowRun
from maidit_jupyter.execution.launch import prepare_run
from maidit_jupyter.validation.validator import check_document

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
QUICK_RESULTS = HERE / "work" / "results.quick.json"

#: a figure besides the median and the floor (a count, a rate, a share, …).
Extra = float | int


# -- options -----------------------------------------------------------------------------


def parse_options(
    description: str | None,
    repeats: int,
    extend: Callable[[argparse.ArgumentParser], object] | None = None,
) -> argparse.Namespace:
    """The options every script takes: ``--quick``, ``--repeats``, ``--results``.

    ``repeats`` is the full run's default; ``--quick`` makes it 1 unless given.
    ``extend`` adds a script's own options to the parser.
    """
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if extend is not None:
        extend(parser)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and one repeat (smoke run)"
    )
    parser.add_argument(
        "--repeats", type=int, help=f"timed repeats (default {repeats})"
    )
    parser.add_argument(
        "--results",
        type=Path,
        help=f"JSON file to merge into (default {RESULTS.relative_to(HERE.parent)}, "
        f"or {QUICK_RESULTS.relative_to(HERE.parent)} with --quick)",
    )
    options = parser.parse_args()
    if options.repeats is None:
        options.repeats = 1 if options.quick else repeats
    if options.results is None:
        options.results = QUICK_RESULTS if options.quick else RESULTS
    return options


# -- timing ------------------------------------------------------------------------------


def timed(action: Callable[[], object]) -> float:
    """Seconds one call of ``action`` takes (after a full collection, so that no call
    pays for the garbage of the one before)."""
    gc.collect()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_time(action: Callable[[], object], repeats: int) -> float:
    """The median of ``repeats`` timed calls of ``action``, in seconds."""
    return statistics.median(timed(action) for _ in range(repeats))


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def anyio_waves_floor(waves: Sequence[Sequence[str]]) -> float:
    """Seconds for a bare anyio loop to run ``waves`` with one no-op task per node.

    Each task records a tiny result in a dict, as a node would; each wave is one task
    group, so a wave starts when the one before it has ended.
    """
    results: dict[str, int] = {}

    async def node(node_id: str) -> None:
        results[node_id] = len(results)

    async def run() -> None:
        for wave in waves:
            async with anyio.create_task_group() as group:
                for node_id in wave:
                    group.start_soon(node, node_id)

    return timed(lambda: anyio.run(run))


# -- running flows -----------------------------------------------------------------------


@contextmanager
def flow_file(
    text: str, files: Mapping[str, str] | None = None, name: str = "bench"
) -> Iterator[Path]:
    """A temporary directory holding ``text`` as ``<name>.flow.md``: yields its path.

    ``files`` (relative path: text) are written next to it, for the flow to read. The
    flow's checkpoint (``.maidit-state``) and any file it writes stay inside the
    directory, which is removed afterwards.
    """
    with tempfile.TemporaryDirectory(prefix="maidit-bench-") as directory:
        base = Path(directory)
        for relative, content in (files or {}).items():
            (base / relative).parent.mkdir(parents=True, exist_ok=True)
            (base / relative).write_text(content, encoding="utf-8")
        path = base / f"{name}.flow.md"
        path.write_text(text, encoding="utf-8")
        yield path


def execute(flow: Path, **options: Any) -> tuple[FlowRun, float]:
    """Prepare the flow at ``flow`` (untimed), run it: the run and seconds it took.

    ``options`` go to ``prepare_run`` (``checkpoint``, ``workflow_input``, …).
    """
    flow_run = FlowRun(prepare_run(flow, **options))
    return flow_run, run_prepared(flow_run)


def run_prepared(flow_run: FlowRun, observers: Sequence[Observer] = ()) -> float:
    """Seconds ``flow_run`` takes with ``observers``; fails unless it completed."""
    seconds = timed(lambda: anyio.run(flow_run._execute, observers))
    assert flow_run.status == "completed", flow_run.error
    return seconds


def whole_run(flow: Path, **options: Any) -> tuple[float, float, FlowRun]:
    """One run as ``maidit run --format json`` does it: (check s, run s, the run).

    *check* is parse + validate + plan; *run* is everything after: inputs and secrets,
    node hashes, the checkpoint opened, execution with one journal record per node, the
    final snapshot, the execution log and the JSON report.
    """
    text = flow.read_text(encoding="utf-8")
    gc.collect()
    start = time.perf_counter()
    checked = check_document(text, path=str(flow))
    checked_at = time.perf_counter()
    flow_run = FlowRun(prepare_run(flow, text=text, checked=checked, **options))
    anyio.run(flow_run._execute)
    assert flow_run.status == "completed", flow_run.error
    flow_run.report()  # renders the execution log as well
    return checked_at - start, time.perf_counter() - checked_at, flow_run


WARM_UP = """---
name: warm-up
version: 1.0.0
---
<workflow>
  <transform id="seed" type="template"><template>{{ [1, 2, 3] }}</template></transform>
  <transform id="keep" type="filter" input="seed"><condition>$item > 1</condition></transform>
  <transform id="double" type="map" input="keep"><expression>$item * 2</expression></transform>
  <transform id="sum" type="reduce" input="double">
    <initial>0</initial><expression>$acc + $item</expression>
  </transform>
</workflow>
"""


def warm_up() -> None:
    """One small untimed run, so that the first timed run pays no lazy imports."""
    with flow_file(WARM_UP) as flow:
        whole_run(flow)


# -- results -----------------------------------------------------------------------------


@dataclass
class Row:
    """One size of a workload: medians of the engine and of its floor, in seconds."""

    n: int
    median: float
    floor: float
    extra: Mapping[str, Extra] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """How many times the floor the engine takes."""
        return self.median / self.floor

    def to_json(self) -> dict[str, Any]:
        """The row as results.json holds it."""
        return {
            "n": self.n,
            "median_s": significant(self.median),
            "floor_s": significant(self.floor),
            "ratio": significant(self.ratio),
            "extra": {key: significant(value) for key, value in self.extra.items()},
        }


@dataclass
class Workload:
    """A named workload: its rows (ascending N), what N counts, and what its floor is."""

    name: str
    unit: str
    floor: str
    repeats: int
    rows: list[Row] = field(default_factory=list)
    notes: str = ""

    def exponent(self) -> float | None:
        """The log-log slope of the median from the smallest to the largest N."""
        if len(self.rows) < 2:
            return None
        first, last = self.rows[0], self.rows[-1]
        return math.log(last.median / first.median) / math.log(last.n / first.n)

    def to_json(self, script: str) -> dict[str, Any]:
        """The workload as results.json holds it."""
        exponent = self.exponent()
        return {
            "script": script,
            "measured_at": _now(),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "unit": self.unit,
            "repeats": self.repeats,
            "floor": self.floor,
            "notes": self.notes,
            "rows": [row.to_json() for row in self.rows],
            "ratio": significant(self.rows[-1].ratio),
            "growth": {
                "exponent": None if exponent is None else round(exponent, 3),
                "law": growth_law(exponent),
            },
        }


def significant(value: Extra) -> Extra:
    """A float kept to four significant digits (JSON noise is not precision)."""
    return float(f"{value:.4g}") if isinstance(value, float) else value


def growth_law(exponent: float | None) -> str:
    """``n^1.02 (linear)``: the exponent and the name of its class."""
    if exponent is None:
        return "one size only"
    classes = (
        (0.15, "constant"),
        (0.85, "sublinear"),
        (1.2, "linear"),
        (1.7, "superlinear"),
        (2.3, "quadratic"),
    )
    name = next((label for bound, label in classes if exponent < bound), "polynomial")
    return f"n^{exponent:.2f} ({name})"


def save(
    path: Path,
    script: str,
    workloads: Sequence[Workload],
    figures: Mapping[str, Mapping[str, Extra]] | None = None,
) -> None:
    """Merge a script's ``workloads`` and ``figures`` into the document at ``path``.

    ``figures`` are named groups of single figures that have no size or floor (the
    attack documents, the journal record cost). Entries of other scripts are kept;
    this script's earlier entries are replaced (and dropped if it no longer measures
    them). Written to a temporary file, then renamed, so an interrupted run leaves the
    previous document whole.
    """
    document = json.loads(path.read_text()) if path.exists() else {}
    fresh_figures = {
        name: {
            "script": script,
            "measured_at": _now(),
            "values": {key: significant(value) for key, value in values.items()},
        }
        for name, values in (figures or {}).items()
    }
    document = {
        "machine": machine(),
        "updated": _now(),
        "workloads": _merged(
            document.get("workloads", {}),
            script,
            {workload.name: workload.to_json(script) for workload in workloads},
        ),
        "figures": _merged(document.get("figures", {}), script, fresh_figures),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    temporary.replace(path)


def _merged(
    earlier: dict[str, Any], script: str, fresh: dict[str, Any]
) -> dict[str, Any]:
    """``earlier`` without ``script``'s entries, plus ``fresh``, in the earlier order.

    A fresh entry takes the place of the earlier one of its name; new ones come last.
    """
    merged = {
        name: fresh.get(name, entry)
        for name, entry in earlier.items()
        if name in fresh or entry.get("script") != script
    }
    return merged | fresh


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- printing ----------------------------------------------------------------------------


def seconds_text(seconds: float) -> str:
    """``seconds`` in a readable unit (s, ms or µs)."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def figures_text(figures: Mapping[str, Extra]) -> str:
    """``name value, …`` with three significant digits."""
    return ", ".join(f"{key} {value:.3g}" for key, value in figures.items())


def show(workload: Workload) -> None:
    """Print a workload's rows and growth law."""
    print(f"{workload.name} (median of {workload.repeats}; floor: {workload.floor})")
    print(f"  {workload.unit:>10} {'median':>10} {'floor':>10} {'ratio':>8}")
    for row in workload.rows:
        print(
            f"  {row.n:>10,} {seconds_text(row.median):>10} "
            f"{seconds_text(row.floor):>10} {row.ratio:>7.2f}x  {figures_text(row.extra)}"
        )
    print(f"  growth: {growth_law(workload.exponent())}")
    if workload.notes:
        print(f"  {workload.notes}")
    print(flush=True)


def show_figures(name: str, values: Mapping[str, Extra]) -> None:
    """Print a named group of single figures on one line."""
    print(f"{name}: {figures_text(values)}", flush=True)
