"""The reliability figures (design/reliability.md §3), counted by the tests that prove them.

A test that proves a promise adds what it tried and what went wrong to one of the rows
below (``count``) or the worst value it saw (``worst``); ``make reliability`` prints them
as one table at the end of the session, checks each against its target and writes them
as JSON. The same tests run under ``make test`` with small counts; ``scale`` says how
many trials each level of the suite asks for:

* ``make test``: the unit level (fast, every commit);
* ``make reliability`` (``MAIDIT_RELIABILITY=ci``): bounded to about 15 minutes;
* ``RELIABILITY_LONG=1 make reliability`` (``MAIDIT_RELIABILITY=long``): as long as it
  takes (nightly).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

LEVEL = os.environ.get("MAIDIT_RELIABILITY", "")


def scale(unit: int, ci: int, long: int) -> int:
    """How many trials the current level asks for."""
    return {"ci": ci, "long": long}.get(LEVEL, unit)


@dataclass(frozen=True)
class Figure:
    """One row of the summary: what is measured, how it reads, and when it meets its target."""

    number: int
    title: str
    #: how the row reads, formatted with its counters (``{tried}``, ``{failed}`` …)
    text: str
    #: the target in words, as in design/reliability.md §3
    target: str
    met: Callable[[Mapping[str, float]], bool]


def _zero(*names: str) -> Callable[[Mapping[str, float]], bool]:
    return lambda c: all(c.get(name, 0) == 0 for name in names)


FIGURES: dict[str, Figure] = {
    figure.title: figure
    for figure in (
        Figure(
            1,
            "crash points",
            "{points:,.0f} deterministic crash points over {flows:,.0f} flows survived "
            "({compound:,.0f} compound): {lost:,.0f} lost nodes, {corrupt:,.0f} corrupt checkpoints, "
            "{divergent:,.0f} divergent outputs",
            "every durable event of ≥5 flows; 0 lost, 0 corrupt, 0 divergent",
            lambda c: (
                c.get("flows", 0) >= 5 and _zero("lost", "corrupt", "divergent")(c)
            ),
        ),
        Figure(
            2,
            "random kills",
            "{kills:,.0f} random SIGKILLs survived: {failures:,.0f} failures",
            "≥100 per commit, ≥1,000 nightly; 0 failures",
            lambda c: c.get("kills", 0) >= 100 and c.get("failures", 0) == 0,
        ),
        Figure(
            3,
            "power loss",
            "{states:,.0f} power-loss states (lost, torn and unrenamed writes at every "
            "durable step): {torn:,.0f} torn checkpoints, {lost:,.0f} completed but lost",
            "0 torn checkpoints; 0 completed-but-lost nodes",
            lambda c: c.get("states", 0) > 0 and _zero("torn", "lost")(c),
        ),
        Figure(
            4,
            "io faults",
            "{faults:,.0f} I/O faults injected (ENOSPC, EIO, EACCES, failed fsync; transient "
            "and persistent): {unhandled:,.0f} unhandled, {invalid:,.0f} invalid checkpoints, "
            "{unnamed:,.0f} errors not naming op and file, {unresumed:,.0f} runs not resumed",
            "0 unhandled, 0 invalid checkpoints, 100% name op and file",
            _zero("unhandled", "invalid", "unnamed", "unresumed"),
        ),
        Figure(
            5,
            "duplicate effects",
            "{trials:,.0f} crash trials ({crashes:,.0f} crashes): {repeated:,.0f} "
            "recorded effects repeated (ledger lines, sink files rewritten); "
            "{extra:,.0f} re-runs of nodes in flight at a crash, at most one per "
            "crash, {unflagged:,.0f} of them not flagged for the resume",
            "0 on idempotent sinks; ≤1 extra per crash, always flagged",
            lambda c: c.get("trials", 0) > 0 and _zero("repeated", "unflagged")(c),
        ),
        Figure(
            6,
            "malformed flows",
            "{tried:,.0f} malformed flows (hypothesis), {fuzzed:,.0f} atheris "
            "executions and {expressions:,.0f} random expressions and templates: "
            "{crashes:,.0f} exceptions other than diagnostics, "
            "{unlocated:,.0f} without line:col, p99 {p99_ms:.1f} ms",
            "0 crashes; 100% located; p99 < 50 ms",
            lambda c: _zero("crashes", "unlocated")(c) and c.get("p99_ms", 0) < 50,
        ),
        Figure(
            7,
            "markup attacks",
            "{documents:,.0f} XML/YAML attack documents: {accepted:,.0f} accepted, "
            "{opens:,.0f} file/socket opens, slowest {max_ms:.1f} ms",
            "≥30 documents; 0 accepted; 0 opens",
            lambda c: c.get("documents", 0) >= 30 and _zero("accepted", "opens")(c),
        ),
        Figure(
            8,
            "sandbox escapes",
            "{payloads:,.0f} sandbox-escape payloads (as expression, template value and "
            "rendered template): {escaped:,.0f} succeeded",
            "≥100 payloads; 0 succeeded",
            lambda c: c.get("payloads", 0) >= 100 and _zero("escaped")(c),
        ),
        Figure(
            9,
            "dos probes",
            "{probes:,.0f} expression DoS probes: {accepted:,.0f} not refused, slowest "
            "{max_ms:.1f} ms, largest peak {peak_mb:.1f} MB; probes spending the whole "
            "step budget (1,000,000 steps) stop after {max_budget_ms:.0f} ms",
            "100% refused before allocation; < 50 ms and < 16 MB each",
            lambda c: (
                c.get("accepted", 0) == 0
                and c.get("max_ms", 0) < 50
                and c.get("peak_mb", 0) < 16
            ),
        ),
        Figure(
            10,
            "secret canary",
            "{artifacts:,.0f} artifacts × {encodings:,.0f} encodings searched: {hits:,.0f} canary hits",
            "0 hits",
            _zero("hits"),
        ),
        Figure(
            11,
            "path escapes",
            "{payloads:,.0f} path payloads and {races:,.0f} symlink races: {escapes:,.0f} escapes",
            "≥60 payloads; 0 escapes",
            lambda c: c.get("payloads", 0) >= 60 and _zero("escapes")(c),
        ),
        Figure(
            12,
            "ssrf",
            "{urls:,.0f} blocked URL forms: {connections:,.0f} connections reached the listener",
            "≥30 forms; 0 connections",
            lambda c: c.get("urls", 0) >= 30 and _zero("connections")(c),
        ),
        Figure(
            13,
            "sql injection",
            "{payloads:,.0f} SQL-injection payloads through 6 database node kinds on "
            "SQLite and PostgreSQL ({runs:,.0f} runs): {changed:,.0f} schema or row changes",
            "≥50 payloads; 0 changes",
            lambda c: c.get("payloads", 0) >= 50 and _zero("changed")(c),
        ),
        Figure(
            14,
            "email injection",
            "{payloads:,.0f} email-injection payloads: {added:,.0f} extra headers or recipients",
            "≥20 payloads; 0 added",
            lambda c: c.get("payloads", 0) >= 20 and _zero("added")(c),
        ),
        Figure(
            15,
            "lock races",
            "{trials:,.0f} lock races of 2–{racers:,.0f} processes: {double:,.0f} double owners, "
            "{lost:,.0f} lost updates; stale lock taken over in {stale_ms:.1f} ms",
            "0 double owners; stale lock recovered ≤ 1 s",
            lambda c: _zero("double", "lost")(c) and c.get("stale_ms", 0) <= 1000,
        ),
        Figure(
            16,
            "kernel interrupts",
            "{interrupts:,.0f} real-kernel interrupts: {invalid:,.0f} invalid checkpoints, "
            "{orphans:,.0f} orphan tasks, {unresumed:,.0f} runs not resumed",
            "≥50 in CI (≥200 nightly); 0 invalid; 0 orphans",
            lambda c: (
                c.get("interrupts", 0) >= 50
                and _zero("invalid", "orphans", "unresumed")(c)
            ),
        ),
        Figure(
            17,
            "coverage",
            "{modules:,.0f} critical modules (checkpoint, durable writes, redactor, path "
            "resolver, egress policy, evaluator) under the unit tests: "
            "{missing_lines:,.0f} lines and {missing_branches:,.0f} branches not "
            "reached (lowest {lowest_pct:.1f}%); mutation score not measured here",
            "100% branch (mutation score ≥85%: see the README)",
            lambda c: (
                c.get("modules", 0) > 0
                and _zero("missing_lines", "missing_branches")(c)
            ),
        ),
    )
}

_counts: dict[str, dict[str, float]] = {}
_samples: dict[str, dict[str, list[float]]] = {}


def count(title: str, **counts: float) -> None:
    """Add to the counters of one row (``title`` is a key of ``FIGURES``)."""
    if title not in FIGURES:
        raise KeyError(f"no reliability figure {title!r}")
    row = _counts.setdefault(title, {})
    for name, value in counts.items():
        row[name] = row.get(name, 0) + value


def worst(title: str, **values: float) -> None:
    """Keep the largest value seen (a slowest time, a largest racer count)."""
    if title not in FIGURES:
        raise KeyError(f"no reliability figure {title!r}")
    row = _counts.setdefault(title, {})
    for name, value in values.items():
        row[name] = max(row.get(name, value), value)


def sample(title: str, **values: float) -> None:
    """Add one measurement (a time); the row reads its ``p99_<name>`` and ``max_<name>``."""
    if title not in FIGURES:
        raise KeyError(f"no reliability figure {title!r}")
    row = _samples.setdefault(title, {})
    for name, value in values.items():
        row.setdefault(name, []).append(value)


def _row(title: str) -> dict[str, float] | None:
    """The counters of a row with the percentiles of its samples."""
    if title not in _counts and title not in _samples:
        return None
    row = dict(_counts.get(title, {}))
    for name, values in _samples.get(title, {}).items():
        ordered = sorted(values)
        row[f"p99_{name}"] = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        row[f"max_{name}"] = ordered[-1]
    return row


class _Zero(dict[str, float]):
    def __missing__(self, key: str) -> float:
        return 0


def summary() -> tuple[list[str], bool]:
    """The table as markdown lines, and whether every figure was measured and met."""
    lines = ["| # | Figure | Target | Met |", "| --- | --- | --- | --- |"]
    all_met = True
    for figure in sorted(FIGURES.values(), key=lambda f: f.number):
        counts = _row(figure.title)
        if counts is None:
            text, met = f"{figure.title}: not measured", False
        else:
            text, met = figure.text.format_map(_Zero(counts)), figure.met(counts)
        all_met = all_met and met
        lines.append(
            f"| {figure.number} | {text} | {figure.target} | {'yes' if met else '**no**'} |"
        )
    return lines, all_met


def write_json(path: Path) -> None:
    """The raw counters, for tooling and for the README."""
    rows = {title: _row(title) for title in FIGURES}
    path.write_text(
        json.dumps({"level": LEVEL or "unit", "figures": rows}, indent=2) + "\n"
    )
