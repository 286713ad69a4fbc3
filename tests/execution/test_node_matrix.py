"""Every node kind that runs today, under success, failure, retry, timeout and cancel.

Each case is a small flow around one node ``n`` of the kind. Kinds that evaluate a single
bounded expression (template, set, context) have nothing to wait on, so they have no
timeout or cancel case of their own: the executor lets a cancel in between nodes
(``test_cancel_reaches_a_chain_whose_nodes_never_wait``), and their expressions are
bounded by the evaluator's step and size limits. A file source reads regular files only
(a pipe or a device is refused with ``RUNTIME_NOT_A_FILE``), so it has nothing to hang
on either; ``test_a_file_source_refuses_a_pipe`` checks that.
"""

from __future__ import annotations

import os
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import maidit_jupyter
from maidit_jupyter import FlowRun, NodeStatus, RunStatus
from maidit_jupyter.execution.events import NodeRetrying, Observer, RunEvent
from tests.runs import run_cancelled_after

KINDS = textwrap.dedent(
    """
    import asyncio
    import time
    from pathlib import Path

    COUNT = Path(__file__).with_name("count.txt")

    def attempt():
        n = int(COUNT.read_text()) + 1 if COUNT.exists() else 1
        COUNT.write_text(str(n))
        return n

    def rows(data=None):
        return [{"v": 1}, {"v": 2}, {"v": 3}]

    def big(data=None):
        return list(range(2_000_000))

    def fail(data=None):
        raise ValueError("no good")

    def flaky(data=None):
        if attempt() < 2:
            raise ConnectionError("connection reset")
        return "recovered"

    def sleepy(data=None):
        time.sleep(5)
        return "late"

    async def nap(data=None):
        await asyncio.sleep(10)
        return "late"
    """
)

RETRY = '<on-error><retry max="2" base="20ms" jitter="none"{when}/></on-error>'


@dataclass(frozen=True)
class Case:
    """One kind under one condition: the node ``n``, its neighbours, and the expectation."""

    body: str
    status: NodeStatus
    output: object = None
    code: str | None = None
    attempts: int = 1
    prepare: str | None = None  # what to set up in the flow's directory


SOURCE = '<source id="src" type="python" function="kinds:rows"/>\n'
BIG = '<source id="src" type="python" function="kinds:big"/>\n'

SUCCESS = {
    "file-source": Case(
        '<source id="n" type="file"><path>data/in.json</path></source>',
        NodeStatus.SUCCESS,
        [1, 2],
        prepare="data",
    ),
    "file-sink": Case(
        SOURCE
        + '<sink id="n" type="file" input="src"><path>out/rows.csv</path></sink>',
        NodeStatus.SUCCESS,
    ),
    "map": Case(
        SOURCE + '<transform id="n" type="map" input="src"><expression>$item.v * 10'
        "</expression></transform>",
        NodeStatus.SUCCESS,
        [10, 20, 30],
    ),
    "filter": Case(
        SOURCE + '<transform id="n" type="filter" input="src"><condition>$item.v > 1'
        "</condition></transform>",
        NodeStatus.SUCCESS,
        [{"v": 2}, {"v": 3}],
    ),
    "reduce": Case(
        SOURCE + '<transform id="n" type="reduce" input="src"><initial>0</initial>'
        "<expression>$acc + $item.v</expression></transform>",
        NodeStatus.SUCCESS,
        6,
    ),
    "template": Case(
        SOURCE + '<transform id="n" type="template" input="src"><template>'
        "{{ length(input) }} rows</template></transform>",
        NodeStatus.SUCCESS,
        "3 rows",
    ),
    "set": Case(
        SOURCE + '<set id="n" value="{{ length(src.output) }}"/>\n'
        '<transform id="after" type="template" input="n"><template>{{ $vars.n }}'
        "</template></transform>",
        NodeStatus.SUCCESS,
        3,
    ),
    "context": Case(
        '<context id="n"><set key="a" value="{{ 1 + 1 }}"/><set key="b" value="x"/>'
        "</context>",
        NodeStatus.SUCCESS,
        {"a": 2, "b": "x"},
    ),
    "phase": Case(
        '<phase id="n"><transform id="p1" type="template"><template>a</template>'
        '</transform><transform id="p2" type="template" input="p1"><template>'
        "{{ input }}b</template></transform></phase>",
        NodeStatus.SUCCESS,
        "ab",
    ),
    "delay": Case(
        SOURCE + '<delay id="n" input="src" duration="5ms"/>',
        NodeStatus.SUCCESS,
        [{"v": 1}, {"v": 2}, {"v": 3}],
    ),
    "python-source": Case(
        '<source id="n" type="python" function="kinds:rows"/>',
        NodeStatus.SUCCESS,
        [{"v": 1}, {"v": 2}, {"v": 3}],
    ),
    "python-transform": Case(
        SOURCE + '<transform id="n" type="python" input="src" function="json:dumps"/>',
        NodeStatus.SUCCESS,
        '[{"v": 1}, {"v": 2}, {"v": 3}]',
    ),
    "python-sink": Case(
        SOURCE + '<sink id="n" type="python" input="src" function="builtins:len"/>',
        NodeStatus.SUCCESS,
        3,
    ),
}

FAILURE = {
    "file-source": Case(
        '<source id="n" type="file"><path>data/missing.json</path></source>',
        NodeStatus.FAILED,
        code="ENOENT",
    ),
    "file-sink": Case(
        SOURCE + '<sink id="n" type="file" input="src"><path>../out.json</path></sink>',
        NodeStatus.FAILED,
        code="RUNTIME_PATH_TRAVERSAL",
    ),
    "map": Case(
        SOURCE + '<transform id="n" type="map" input="src"><expression>'
        "map($item.v, x => x)</expression></transform>",
        NodeStatus.FAILED,
        code="EXPR_TYPE_ERROR",
    ),
    "filter": Case(
        SOURCE + '<transform id="n" type="filter" input="src"><condition>'
        "map($item.v, x => x)</condition></transform>",
        NodeStatus.FAILED,
        code="EXPR_TYPE_ERROR",
    ),
    "reduce": Case(
        SOURCE + '<transform id="n" type="reduce" input="src"><expression>'
        "map($item.v, x => x)</expression></transform>",
        NodeStatus.FAILED,
        code="EXPR_TYPE_ERROR",
    ),
    "template": Case(
        SOURCE + '<transform id="n" type="template" input="src"><template>'
        "{{ range(0, 1e9) }}</template></transform>",
        NodeStatus.FAILED,
        code="EXPR_LIMIT_EXCEEDED",
    ),
    "set": Case(
        SOURCE + '<set id="n" value="{{ src.output[&quot;__proto__&quot;] }}"/>',
        NodeStatus.FAILED,
        code="EXPR_BLOCKED_ACCESS",
    ),
    "context": Case(
        '<context id="n"><set key="a" value="{{ map(1, x => x) }}"/></context>',
        NodeStatus.FAILED,
        code="EXPR_TYPE_ERROR",
    ),
    "phase": Case(
        '<phase id="n"><source id="p1" type="python" function="kinds:fail"/></phase>',
        NodeStatus.FAILED,
        code="RUNTIME_PYTHON_ERROR",
    ),
    "python-source": Case(
        '<source id="n" type="python" function="kinds:fail"/>',
        NodeStatus.FAILED,
        code="RUNTIME_PYTHON_ERROR",
    ),
    "python-transform": Case(
        SOURCE + '<transform id="n" type="python" input="src" function="kinds:nope"/>',
        NodeStatus.FAILED,
        code="RUNTIME_PYTHON_IMPORT",
    ),
    "python-sink": Case(
        SOURCE + '<sink id="n" type="python" input="src" function="kinds:fail"/>',
        NodeStatus.FAILED,
        code="RUNTIME_PYTHON_ERROR",
    ),
}

WHEN_ALWAYS = RETRY.format(when=' when="true"')
RETRIES = {
    # transient trouble goes away on a later attempt
    "file-source": Case(
        '<source id="n" type="file"><path>data/late.json</path>'
        + RETRY.format(when=" when=\"$error.code == 'ENOENT'\"")
        + "</source>",
        NodeStatus.SUCCESS,
        "late",
        attempts=2,
        prepare="late-file",
    ),
    "file-sink": Case(
        SOURCE + '<sink id="n" type="file" input="src"><path>blocked/rows.json</path>'
        f"{WHEN_ALWAYS}</sink>",
        NodeStatus.SUCCESS,
        attempts=2,
        prepare="blocked-dir",
    ),
    "python-source": Case(
        f'<source id="n" type="python" function="kinds:flaky">{RETRY.format(when="")}'
        "</source>",
        NodeStatus.SUCCESS,
        "recovered",
        attempts=2,
    ),
    "python-transform": Case(
        SOURCE + '<transform id="n" type="python" input="src" function="kinds:flaky">'
        f"{RETRY.format(when='')}</transform>",
        NodeStatus.SUCCESS,
        "recovered",
        attempts=2,
    ),
    "python-sink": Case(
        SOURCE + '<sink id="n" type="python" input="src" function="kinds:flaky">'
        f"{RETRY.format(when='')}</sink>",
        NodeStatus.SUCCESS,
        "recovered",
        attempts=2,
    ),
    "phase": Case(
        '<phase id="n"><source id="p1" type="python" function="kinds:flaky">'
        f"{RETRY.format(when='')}</source></phase>",
        NodeStatus.SUCCESS,
        "recovered",
    ),
    "delay": Case(
        f'<delay id="n" duration="300ms" timeout="20ms">{RETRY.format(when="")}</delay>',
        NodeStatus.FAILED,
        code="RUNTIME_TIMEOUT",
        attempts=3,
    ),
    # a mistake in an expression fails the same way every time: never retried
    "map": Case(
        SOURCE + '<transform id="n" type="map" input="src"><expression>'
        f"map($item.v, x => x)</expression>{WHEN_ALWAYS}</transform>",
        NodeStatus.FAILED,
        code="EXPR_TYPE_ERROR",
    ),
    "filter": Case(
        SOURCE + '<transform id="n" type="filter" input="src"><condition>'
        f"map($item.v, x => x)</condition>{WHEN_ALWAYS}</transform>",
        NodeStatus.FAILED,
        code="EXPR_TYPE_ERROR",
    ),
    "reduce": Case(
        SOURCE + '<transform id="n" type="reduce" input="src"><expression>'
        f"map($item.v, x => x)</expression>{WHEN_ALWAYS}</transform>",
        NodeStatus.FAILED,
        code="EXPR_TYPE_ERROR",
    ),
    "template": Case(
        '<transform id="n" type="template"><template>{{ range(0, 1e9) }}</template>'
        f"{WHEN_ALWAYS}</transform>",
        NodeStatus.FAILED,
        code="EXPR_LIMIT_EXCEEDED",
    ),
    "set": Case(
        f'<set id="n" value="{{{{ map(1, x => x) }}}}">{WHEN_ALWAYS}</set>',
        NodeStatus.FAILED,
        code="EXPR_TYPE_ERROR",
    ),
    "context": Case(
        f'<context id="n"><set key="a" value="{{{{ map(1, x => x) }}}}"/>{WHEN_ALWAYS}'
        "</context>",
        NodeStatus.FAILED,
        code="EXPR_TYPE_ERROR",
    ),
}

#: nodes that wait on something (time, a thread, a pipe, a million items)
SLOW = {
    "map": BIG + '<transform id="n" type="map" input="src" timeout="{t}"><expression>'
    "$item * 2</expression></transform>",
    "filter": BIG + '<transform id="n" type="filter" input="src" timeout="{t}">'
    "<condition>$item % 2 == 0</condition></transform>",
    "reduce": BIG + '<transform id="n" type="reduce" input="src" timeout="{t}">'
    "<initial>0</initial><expression>$acc + $item</expression></transform>",
    "phase": '<phase id="n" timeout="{t}"><delay id="p1" duration="10s"/></phase>',
    "delay": '<delay id="n" duration="10s" timeout="{t}"/>',
    "python-source": '<source id="n" type="python" function="kinds:sleepy" timeout="{t}"/>',
    "python-transform": '<transform id="n" type="python" function="kinds:nap" '
    'timeout="{t}"/>',
    "python-sink": '<sink id="n" type="python" function="kinds:sleepy" timeout="{t}"/>',
}


def write_flow(tmp_path: Path, body: str, prepare: str | None = None) -> Path:
    (tmp_path / "kinds.py").write_text(KINDS)
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "in.json").write_text("[1, 2]")
    if prepare == "blocked-dir":
        (tmp_path / "blocked").write_text("a file where a directory must go")
    flow = tmp_path / "kind.flow.md"
    flow.write_text(
        "---\nname: kind\nversion: 1.0.0\n---\n<workflow>\n" + body + "\n</workflow>\n"
    )
    return flow


def check(run: FlowRun, case: Case) -> None:
    result = run.results["n"]
    assert result.status is case.status, result
    if case.code is not None:
        assert result.error is not None
        assert result.error.code == case.code
        assert "Traceback" not in result.error.message
    if case.output is not None:
        assert result.output == case.output
    assert result.attempts == case.attempts


@pytest.mark.parametrize("kind", sorted(SUCCESS))
def test_success(tmp_path: Path, kind: str) -> None:
    case = SUCCESS[kind]
    run = maidit_jupyter.run_sync(write_flow(tmp_path, case.body, case.prepare))
    assert run.status is RunStatus.COMPLETED, run.error
    check(run, case)


@pytest.mark.parametrize("kind", sorted(FAILURE))
def test_failure(tmp_path: Path, kind: str) -> None:
    case = FAILURE[kind]
    run = maidit_jupyter.run_sync(write_flow(tmp_path, case.body, case.prepare))
    assert run.status is RunStatus.FAILED
    check(run, case)
    assert run.error is not None
    assert run.error.code == case.code


def repair_after_first_failure(tmp_path: Path, prepare: str | None) -> Observer:
    """An observer that fixes the trouble when the first attempt has failed."""

    def repair(event: RunEvent) -> None:
        if not isinstance(event, NodeRetrying) or event.attempt != 1:
            return
        if prepare == "late-file":
            (tmp_path / "data" / "late.json").write_text('"late"')
        elif prepare == "blocked-dir":
            (tmp_path / "blocked").unlink()

    return repair


@pytest.mark.parametrize("kind", sorted(RETRIES))
def test_retry(tmp_path: Path, kind: str) -> None:
    case = RETRIES[kind]
    run = maidit_jupyter.run_sync(
        write_flow(tmp_path, case.body, case.prepare),
        observers=[repair_after_first_failure(tmp_path, case.prepare)],
    )
    check(run, case)
    if kind == "phase":
        assert run.results["p1"].attempts == 2


@pytest.mark.parametrize("kind", sorted(SLOW))
def test_timeout_cancels_the_attempt(tmp_path: Path, kind: str) -> None:
    """A per-attempt timeout ends the node at once, whatever it was waiting on."""
    flow = write_flow(tmp_path, SLOW[kind].format(t="150ms"))
    started = time.perf_counter()
    run = maidit_jupyter.run_sync(flow)
    assert time.perf_counter() - started < 3
    result = run.results["n"]
    assert result.status is NodeStatus.FAILED
    assert result.error is not None
    assert result.error.code == "RUNTIME_TIMEOUT"
    assert "timed out after 150 ms" in result.error.message


@pytest.mark.parametrize("kind", sorted(SLOW))
def test_cancel_stops_the_node_and_leaves_a_resumable_run(
    tmp_path: Path, kind: str
) -> None:
    """Cancelling while the node waits ends it ``skipped`` ("cancelled") at once."""
    flow = write_flow(tmp_path, SLOW[kind].format(t="60s"))
    run, elapsed = run_cancelled_after(flow, 0.3)
    assert elapsed < 4
    assert run.status is RunStatus.CANCELLED
    assert run.results["n"].status is NodeStatus.SKIPPED
    assert run.results["n"].reason == "cancelled"
    assert run.can_resume


def test_a_file_source_refuses_a_pipe(tmp_path: Path) -> None:
    """A FIFO would block a read forever; the file source refuses it at once."""
    flow = write_flow(
        tmp_path, '<source id="n" type="file"><path>data/pipe.json</path></source>'
    )
    os.mkfifo(tmp_path / "data" / "pipe.json")
    started = time.perf_counter()
    run = maidit_jupyter.run_sync(flow)
    assert time.perf_counter() - started < 3
    error = run.results["n"].error
    assert error is not None
    assert error.code == "RUNTIME_NOT_A_FILE"
