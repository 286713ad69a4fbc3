"""The reference flows of the crash and I/O-fault tests, and what their ledger proves.

Each flow exercises other engine paths (see :data:`FLOWS`); all of them call python
functions of one module (:data:`MODULE_TEXT`) that append a *ledger name* to
``ledger.txt`` each time they run. A ledger name belongs to a :class:`Unit`, the record
in the checkpoint that makes its effect durable: a scheduled node's result, or one
iteration of a ``foreach``/``loop``/``while``. Once its unit is in the checkpoint, a
ledger name must never appear again; the sink files are tied to units the same way (once
covered, a file holds its final bytes and is never rewritten).

This module imports nothing of the engine, so ``crash_child.py serve`` can load it before
it warms the engine up.
"""

from __future__ import annotations

from collections.abc import Mapping, Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODULE = "ledgerfns"
LEDGER = "ledger.txt"
FLOW_FILE = "reference.flow.md"
#: nodes of a wave at once (the branchy flow's waves are wider, so they run in rounds).
CONCURRENCY = 4

MODULE_TEXT = '''\
"""Ledger functions: each call appends a name to ledger.txt, then computes."""

import os
from pathlib import Path

LEDGER = Path(__file__).with_name("ledger.txt")


def _note(name):
    fd = os.open(LEDGER, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (name + "\\n").encode())
    finally:
        os.close(fd)


def seed(name):
    _note(name)
    return {"values": list(range(1, 13))}


def gen(data, name, k):
    _note(name)
    k = int(k)
    return {"k": k, "items": [v * (k + 1) + k for v in data["values"]]}


def total(data, name):
    _note(name)
    return {"branch": name, "sum": sum(data), "max": max(data)}


def merge(parts, name):
    _note(name)
    ordered = [parts[key] for key in sorted(parts)]
    return {"total": sum(p["sum"] for p in ordered), "parts": ordered}


def step(data=None, *, name, k=0, pad=16):
    """A link of a chain: folds the previous link's accumulator with k."""
    _note(name)
    k = int(k)
    base = data.get("acc", 1) if isinstance(data, dict) else 1
    acc = (base * 31 + k) % 1_000_003
    return {"name": name, "acc": acc, "pad": [(acc + j) % 97 for j in range(int(pad))]}


def rows(name, n):
    _note(name)
    return [{"id": i, "w": (i * 7) % 5 + 1, "tag": "abc"[i % 3]} for i in range(int(n))]


def collect(data, name):
    _note(name)
    return {"count": len(data), "labels": list(data)}


def keep(data, name):
    _note(name)
    return {"name": name, "seen": data}


def tag(data, name, label):
    _note(name)
    return [dict(row, label=label, score=row["w"] * len(label)) for row in data]
'''


@dataclass(frozen=True)
class Unit:
    """The checkpoint record that makes an effect durable.

    ``node`` is a scheduled (top-level) node: its result covers the effect. With
    ``index``, one finished iteration of ``node`` covers it too: that index of a
    ``foreach``, or for a ``loop``/``while`` (``loop=True``, the checkpoint keeps only
    the latest) any finished iteration at or after ``index``.
    """

    node: str
    index: int | None = None
    loop: bool = False

    def covered(
        self, done: AbstractSet[str], iterations: Mapping[str, Mapping[int, Any]]
    ) -> bool:
        """Whether a checkpoint with succeeded nodes ``done`` and finished
        ``iterations`` (node → index → record) holds this unit."""
        if self.node in done:
            return True
        finished = iterations.get(self.node) or {}
        if self.index is None or not finished:
            return False
        return max(finished) >= self.index if self.loop else self.index in finished


@dataclass(frozen=True)
class ReferenceFlow:
    """One reference flow and what its effects are tied to."""

    name: str
    #: the engine paths it exercises (for the report and the failure messages)
    paths: str
    body: str
    #: each scheduled node's direct inputs (recorded only after its inputs are)
    deps: Mapping[str, frozenset[str]]
    #: ledger name → the unit that covers it
    ledger: Mapping[str, Unit]
    #: sink file (relative to the flow's folder) → the unit that covers it
    sinks: Mapping[str, Unit]
    #: other files the flow needs (an included flow), relative path → text
    extra_files: Mapping[str, str] = field(default_factory=dict)
    #: ``COMPACT_MIN_BYTES`` for its runs (small: the journal is compacted mid-run)
    compact_bytes: int | None = None
    #: durable step kinds a clean pinned run must show at least so often (the path
    #: really ran)
    expect_steps: Mapping[str, int] = field(default_factory=dict)

    def text(self) -> str:
        """The flow document."""
        return (
            f"---\nname: {self.name}\nversion: 1.0.0\n---\n<workflow>\n"
            f"{self.body}\n</workflow>\n"
        )

    def write(self, directory: Path) -> Path:
        """Write the flow, its module and extra files into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{MODULE}.py").write_text(MODULE_TEXT)
        for relative, text in self.extra_files.items():
            (directory / relative).write_text(text)
        flow = directory / FLOW_FILE
        flow.write_text(self.text())
        return flow

    def covered_ledger(
        self, done: AbstractSet[str], iterations: Mapping[str, Mapping[int, Any]]
    ) -> set[str]:
        """The ledger names a checkpoint holds (they must never run again)."""
        return {n for n, unit in self.ledger.items() if unit.covered(done, iterations)}

    def covered_sinks(
        self, done: AbstractSet[str], iterations: Mapping[str, Mapping[int, Any]]
    ) -> set[str]:
        """The sink files a checkpoint holds (final bytes, never rewritten)."""
        return {f for f, unit in self.sinks.items() if unit.covered(done, iterations)}


def _python(kind: str, node_id: str, function: str, args: dict[str, object]) -> str:
    """A python node; ``kind`` is its tag plus any attributes (``transform input="x"``)."""
    tag = kind.split()[0]
    rest = "".join(f'<arg name="{k}" value="{v}"/>' for k, v in args.items())
    return (
        f'<{kind} id="{node_id}" type="python" function="{MODULE}:{function}">'
        f"{rest}</{tag}>"
    )


def _sink(node_id: str, source: str, path: str) -> str:
    return f'<sink id="{node_id}" type="file" input="{source}"><path>./{path}</path></sink>'


def _deps(**deps: str) -> dict[str, frozenset[str]]:
    """``node="a, b"`` → ``{"node": {"a", "b"}}`` (underscores in names become dashes)."""
    return {
        name.replace("_", "-"): frozenset(d.strip() for d in value.split(",") if d)
        for name, value in deps.items()
    }


# -- (a) branchy: six parallel branches, delays, maps, a template, eight sinks ----------

BRANCHES = 6


def _branchy() -> ReferenceFlow:
    lines = [_python("source", "seed", "seed", {"name": "seed"})]
    deps: dict[str, frozenset[str]] = {"seed": frozenset()}
    for i in range(BRANCHES):
        lines += [
            _python(
                'transform input="seed"',
                f"gen-{i}",
                "gen",
                {"name": f"gen-{i}", "k": i},
            ),
            f'<delay id="wait-{i}" input="gen-{i}" duration="{5 + 5 * i}ms"/>',
            (
                f'<transform id="sq-{i}" type="map" input="wait-{i}.output.items">'
                "<expression>$item * $item + 1</expression></transform>"
            ),
            _sink(f"save-{i}", f"sq-{i}", f"out/part-{i}.json"),
            _python(
                f'transform input="sq-{i}"', f"sum-{i}", "total", {"name": f"sum-{i}"}
            ),
        ]
        deps.update(
            {
                f"gen-{i}": frozenset({"seed"}),
                f"wait-{i}": frozenset({f"gen-{i}"}),
                f"sq-{i}": frozenset({f"wait-{i}"}),
                f"save-{i}": frozenset({f"sq-{i}"}),
                f"sum-{i}": frozenset({f"sq-{i}"}),
            }
        )
    sums = [f"sum-{i}" for i in range(BRANCHES)]
    lines += [
        _python(
            f'transform input="{", ".join(sums)}"', "merge", "merge", {"name": "merge"}
        ),
        (
            '<transform id="report" type="template" input="merge"><template>'
            "total={{ input.total }} parts={{ length(input.parts) }}"
            "</template></transform>"
        ),
        _sink("save-total", "merge", "out/total.json"),
        _sink("save-report", "report", "out/report.txt"),
    ]
    deps.update(_deps(merge=", ".join(sums), report="merge"))
    deps.update(_deps(save_total="merge", save_report="report"))
    ledger_nodes = ["seed", "merge", *(f"gen-{i}" for i in range(BRANCHES)), *sums]
    sinks = {f"out/part-{i}.json": Unit(f"save-{i}") for i in range(BRANCHES)}
    sinks |= {
        "out/total.json": Unit("save-total"),
        "out/report.txt": Unit("save-report"),
    }
    return ReferenceFlow(
        name="branchy",
        paths="parallel waves in rounds, delays, maps, a template, eight file sinks",
        body="\n".join(f"  {line}" for line in lines),
        deps=deps,
        ledger={name: Unit(name) for name in ledger_nodes},
        sinks=sinks,
    )


# -- (b) chain: 40 links, one wave each; the journal is compacted several times ---------

CHAIN = 40
#: numbers in each link's output: records big enough that the journal outgrows the
#: snapshot (and is compacted) three times in a run.
CHAIN_PAD = 400


def _chain() -> ReferenceFlow:
    args = {"name": "c-0", "k": 0, "pad": CHAIN_PAD}
    lines = [_python("source", "c-0", "step", args)]
    deps: dict[str, frozenset[str]] = {"c-0": frozenset()}
    for i in range(1, CHAIN):
        kind = f'transform input="c-{i - 1}"'
        args = {"name": f"c-{i}", "k": i, "pad": CHAIN_PAD}
        lines.append(_python(kind, f"c-{i}", "step", args))
        deps[f"c-{i}"] = frozenset({f"c-{i - 1}"})
    middle, last = f"c-{CHAIN // 2}", f"c-{CHAIN - 1}"
    lines += [_sink("save-middle", middle, "out/middle.json")]
    lines += [_sink("save-last", last, "out/last.json")]
    deps.update({"save-middle": frozenset({middle}), "save-last": frozenset({last})})
    return ReferenceFlow(
        name="chain",
        paths="40 one-node waves: a group fsync per wave, journal compaction mid-run",
        body="\n".join(f"  {line}" for line in lines),
        deps=deps,
        ledger={f"c-{i}": Unit(f"c-{i}") for i in range(CHAIN)},
        sinks={
            "out/middle.json": Unit("save-middle"),
            "out/last.json": Unit("save-last"),
        },
        compact_bytes=1,
        expect_steps={"journal-reset": 3},
    )


# -- (c) foreach: per-item records and a file per item; resume continues mid-foreach ----

ITEMS = 8


def _foreach() -> ReferenceFlow:
    work = _python(
        "transform",
        "work",
        "step",
        {"name": "item-{{ it.id }}", "k": "{{ it.w }}"},
    )
    lines = [
        _python("source", "rows", "rows", {"name": "rows", "n": ITEMS}),
        '<foreach id="each" collection="rows.output" item="it" concurrency="2">',
        f"  {work}",
        "  " + _sink("save-item", "work", "out/item-{{ it.id }}.json"),
        (
            '  <transform id="label" type="template" input="work">'
            "<template>{{ input.name }}={{ input.acc }}</template></transform>"
        ),
        "</foreach>",
        _python('transform input="each"', "collect", "collect", {"name": "collect"}),
        _sink("save-all", "collect", "out/all.json"),
        _sink("save-labels", "each", "out/labels.jsonl"),
    ]
    ledger = {"rows": Unit("rows"), "collect": Unit("collect")}
    ledger |= {f"item-{i}": Unit("each", i) for i in range(ITEMS)}
    sinks = {f"out/item-{i}.json": Unit("each", i) for i in range(ITEMS)}
    sinks |= {"out/all.json": Unit("save-all"), "out/labels.jsonl": Unit("save-labels")}
    return ReferenceFlow(
        name="foreach",
        paths="foreach (2 at once) with a record and a file sink per item, a JSONL sink",
        body="\n".join(f"  {line}" for line in lines),
        deps=_deps(
            rows="",
            each="rows",
            collect="each",
            save_all="collect",
            save_labels="each",
        ),
        ledger=ledger,
        sinks=sinks,
    )


# -- (d) loop and while: a record per iteration, variables carried across a resume ------

LOOPS = 6
WHILES = 5


def _loops() -> ReferenceFlow:
    tick = _python(
        'transform input="acc"',
        "tick",
        "step",
        {"name": "loop-{{ $iteration }}", "k": "{{ $vars.acc }}"},
    )
    tock = _python(
        'transform input="n"',
        "tock",
        "step",
        {"name": "while-{{ $iteration }}", "k": "{{ $vars.n * 10 + $vars.acc }}"},
    )
    lines = [
        _python("source", "start", "step", {"name": "start", "k": 7}),
        f'<loop id="grow" input="start" max="{LOOPS}">',
        '  <set id="acc" value="{{ (($vars.acc || 1) * 3 + $iteration) % 101 }}"/>',
        f"  {tick}",
        "</loop>",
        _python(
            'transform input="grow"', "between", "step", {"name": "between", "k": 1}
        ),
        (
            f'<while id="count" input="between" condition="($vars.n || 0) &lt; {WHILES}"'
            ' max="20">'
        ),
        '  <set id="n" value="{{ ($vars.n || 0) + 1 }}"/>',
        f"  {tock}",
        "</while>",
        _python('transform input="count"', "last", "step", {"name": "last", "k": 2}),
        _sink("save-loop", "grow", "out/loop.json"),
        _sink("save-last", "last", "out/last.json"),
    ]
    ledger = {name: Unit(name) for name in ("start", "between", "last")}
    ledger |= {f"loop-{i}": Unit("grow", i, loop=True) for i in range(LOOPS)}
    ledger |= {f"while-{i}": Unit("count", i, loop=True) for i in range(WHILES)}
    return ReferenceFlow(
        name="loops",
        paths="loop and while with a record per iteration and $vars carried over",
        body="\n".join(f"  {line}" for line in lines),
        deps=_deps(
            start="",
            grow="start",
            between="grow",
            count="between",
            last="count",
            save_loop="grow",
            save_last="last",
        ),
        ledger=ledger,
        sinks={"out/loop.json": Unit("save-loop"), "out/last.json": Unit("save-last")},
    )


# -- (e) if, branch and parallel, then CSV and JSONL sinks ------------------------------


def _blocks() -> ReferenceFlow:
    def tagged(node_id: str, source: str, label: str) -> str:
        kind = f'transform input="{source}"'
        return _python(kind, node_id, "tag", {"name": node_id, "label": label})

    lines = [
        _python("source", "rows", "rows", {"name": "rows", "n": 9}),
        '<if id="check" input="rows" condition="length(rows.output) > 5">',
        f"  <then>{tagged('big', 'rows', 'big')}</then>",
        f"  <else>{tagged('small', 'rows', 'small')}</else>",
        "</if>",
        '<branch id="route" input="check">',
        f'  <case when="length(input) > 100">{tagged("huge", "check", "huge")}</case>',
        f'  <case when="length(input) > 3">{tagged("many", "check", "many")}</case>',
        f"  <default>{tagged('few', 'check', 'few')}</default>",
        "</branch>",
        '<parallel id="fan" input="route" wait="all" merge="concat">',
        *(
            f"  <branch>{tagged(f'fan-{i}', 'route', f'f{i}')}</branch>"
            for i in range(3)
        ),
        "</parallel>",
        _sink("save-csv", "fan", "out/rows.csv"),
        _sink("save-jsonl", "route", "out/rows.jsonl"),
        (
            '<transform id="count" type="template" input="fan">'
            "<template>{{ length(input) }} rows</template></transform>"
        ),
        _sink("save-count", "count", "out/count.txt"),
    ]
    ledger = {name: Unit(owner) for name, owner in (("rows", "rows"), ("big", "check"))}
    ledger |= {"many": Unit("route")}
    ledger |= {f"fan-{i}": Unit("fan") for i in range(3)}
    return ReferenceFlow(
        name="blocks",
        paths="if/then/else, branch/case, parallel (3 branches), CSV and JSONL sinks",
        body="\n".join(f"  {line}" for line in lines),
        deps=_deps(
            rows="",
            check="rows",
            route="check",
            fan="route",
            save_csv="fan",
            save_jsonl="route",
            count="fan",
            save_count="count",
        ),
        ledger=ledger,
        sinks={
            "out/rows.csv": Unit("save-csv"),
            "out/rows.jsonl": Unit("save-jsonl"),
            "out/count.txt": Unit("save-count"),
        },
    )


# -- (f) include and call of a child flow ----------------------------------------------

CHILD_FILE = "child.flow.md"
CHILD_TEXT = (
    "---\nname: child\nversion: 1.0.0\n---\n<workflow>\n  "
    + _python("source", "inner", "step", {"name": "child-{{ $vars.label }}", "k": 3})
    + "\n  "
    + _python(
        'transform input="inner"',
        "inner-2",
        "step",
        {"name": "child2-{{ $vars.label }}", "k": 4},
    )
    + "\n</workflow>\n"
)


def _compose() -> ReferenceFlow:
    lines = [
        _python("source", "head", "step", {"name": "head", "k": 5}),
        (
            f'<include id="inc-a" input="head" workflow="./{CHILD_FILE}">'
            '<bind key="label" value="a"/></include>'
        ),
        (
            f'<include id="inc-b" input="head" workflow="./{CHILD_FILE}">'
            '<bind key="label" value="b"/></include>'
        ),
        f'<call id="call-c" input="inc-a" workflow="./{CHILD_FILE}" label="c"/>',
        _python('transform input="inc-b, call-c"', "tail", "keep", {"name": "tail"}),
        _sink("save-tail", "tail", "out/tail.json"),
        _sink("save-a", "inc-a", "out/a.json"),
    ]
    ledger = {"head": Unit("head"), "tail": Unit("tail")}
    for label, owner in (("a", "inc-a"), ("b", "inc-b"), ("c", "call-c")):
        ledger |= {f"child-{label}": Unit(owner), f"child2-{label}": Unit(owner)}
    return ReferenceFlow(
        name="compose",
        paths="include (twice) and call of a child flow with python nodes",
        body="\n".join(f"  {line}" for line in lines),
        deps=_deps(
            head="",
            inc_a="head",
            inc_b="head",
            call_c="inc-a",
            tail="inc-b, call-c",
            save_tail="tail",
            save_a="inc-a",
        ),
        ledger=ledger,
        sinks={"out/tail.json": Unit("save-tail"), "out/a.json": Unit("save-a")},
        extra_files={CHILD_FILE: CHILD_TEXT},
    )


FLOWS: dict[str, ReferenceFlow] = {
    flow.name: flow
    for flow in (_branchy(), _chain(), _foreach(), _loops(), _blocks(), _compose())
}
