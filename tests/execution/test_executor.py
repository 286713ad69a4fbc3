"""The executor: waves, failures and skips, retries, timeouts, fallback, inputs."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.execution.events import NodeFinished, RunEvent
from maidit_jupyter.execution.executor import RunOptions, execute
from maidit_jupyter.execution.inputs import resolve_config
from maidit_jupyter.execution.state import NodeStatus, RunRecord, RunStatus
from maidit_jupyter.expressions.values import Value
from maidit_jupyter.runtimes.base import NodeContext
from maidit_jupyter.runtimes.registry import RuntimeRegistry
from maidit_jupyter.validation.validator import check_document

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def flow(body: str, frontmatter: str = "") -> str:
    return f"---\nname: t\nversion: 1.0.0\n{frontmatter}---\n<workflow>\n{body}\n</workflow>\n"


def run(
    text: str, base: Path, registry: RuntimeRegistry | None = None, **options: Any
) -> RunRecord:
    checked = check_document(text, path="t.flow.md")
    workflow, plan = checked.workflow, checked.plan
    assert plan is not None, [str(d) for d in checked.report.errors]
    assert workflow is not None
    config = resolve_config(workflow.frontmatter.config, options.pop("config", {}))
    run_options = RunOptions(base_dir=base, config=config, **options)
    return anyio.run(lambda: execute(workflow, plan, run_options, registry=registry))


class Flaky:
    """A runtime that fails ``failures`` times (retryably), then returns its count."""

    def __init__(self, failures: int, *, retryable: bool = True) -> None:
        self.failures = failures
        self.calls = 0
        self.retryable = retryable

    async def run(self, ctx: NodeContext) -> Value:
        self.calls += 1
        if self.calls <= self.failures:
            raise NodeRuntimeError(
                "HTTP 503: busy", code="RUNTIME_HTTP_ERROR", retryable=self.retryable
            )
        return self.calls


def registry_with(**runtimes: Any) -> RuntimeRegistry:
    registry = RuntimeRegistry.default()
    for key, runtime in runtimes.items():
        registry.register(key.replace("_", ":"), runtime)
    return registry


def test_grades_example_writes_the_csv_and_the_summary(tmp_path: Path) -> None:
    """The shared grades example runs end to end."""
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    base = tmp_path / "examples"
    record = run((base / "grades.flow.md").read_text(), base)
    assert record.status is RunStatus.COMPLETED
    assert record.results["summary"].output == "4 of 5 passed; best: Ada"
    assert (base / "out" / "graded.csv").read_text().splitlines()[:2] == [
        "name,score,track,grade",
        "Ada,93,math,A",
    ]
    assert [r.wave for r in record.results.values()] == [0, 1, 2, 3, 3]


def test_failure_stops_the_run_at_the_end_of_its_wave(tmp_path: Path) -> None:
    """The failed node's wave finishes; later waves are skipped with the reason."""
    body = (
        '<source id="missing" type="file" path="./nope.json"/>\n'
        '<transform id="fine" type="template"><template>ok</template></transform>\n'
        '<transform id="after" type="template" input="fine"><template>x</template></transform>'
    )
    record = run(flow(body), tmp_path)
    assert record.status is RunStatus.FAILED
    assert record.error is not None
    assert record.error.code == "ENOENT"
    assert record.results["fine"].status is NodeStatus.SUCCESS
    assert record.results["after"].status is NodeStatus.SKIPPED
    assert record.results["after"].reason == "run failed at wave 0"


def test_keep_going_skips_only_descendants(tmp_path: Path) -> None:
    """With keep_going, independent nodes run and descendants say which upstream failed."""
    body = (
        '<source id="missing" type="file" path="./nope.json"/>\n'
        '<transform id="child" type="template" input="missing"><template>x</template></transform>\n'
        '<transform id="other" type="template"><template>ok</template></transform>\n'
        '<transform id="later" type="template" input="other"><template>{{ input }}!</template></transform>'
    )
    record = run(flow(body), tmp_path, keep_going=True)
    assert record.status is RunStatus.FAILED
    assert record.results["child"].reason == "upstream 'missing' failed"
    assert record.results["later"].output == "ok!"


def test_retries_with_backoff_then_success(tmp_path: Path) -> None:
    """Retryable failures are retried by the node's policy."""
    flaky = Flaky(2)
    body = (
        '<source id="api" type="http" url="http://x"><on-error>'
        '<retry max="3" base="1ms" jitter="none"/></on-error></source>'
    )
    record = run(flow(body), tmp_path, registry_with(http_source=flaky))
    result = record.results["api"]
    assert (result.status, result.output, result.attempts) == (NodeStatus.SUCCESS, 3, 3)


@pytest.mark.parametrize(
    ("attributes", "retryable", "attempts"),
    [
        pytest.param('max="1" base="1ms"', True, 2, id="exhausted"),
        pytest.param('max="3" base="1ms"', False, 1, id="not-retryable"),
        pytest.param(
            'max="3" base="1ms" when="$error.code == \'OTHER\'"',
            True,
            1,
            id="when-false",
        ),
    ],
)
def test_retries_stop(
    tmp_path: Path, attributes: str, retryable: bool, attempts: int
) -> None:
    """Retries stop when exhausted, for permanent errors, or when ``when`` is false."""
    flaky = Flaky(10, retryable=retryable)
    body = f'<source id="api" type="http" url="http://x"><on-error><retry {attributes}/></on-error></source>'
    record = run(flow(body), tmp_path, registry_with(http_source=flaky))
    result = record.results["api"]
    assert (result.status, result.attempts) == (NodeStatus.FAILED, attempts)
    assert result.error is not None
    assert result.error.message == "HTTP 503: busy"


def test_fallback_gives_its_output_to_the_failed_node(tmp_path: Path) -> None:
    """After the retries, the fallback runs with $primaryError and its output is used."""
    (tmp_path / "cache.json").write_text(json.dumps({"cached": True}))
    body = (
        '<source id="api" type="file" path="./live.json"><on-error>'
        '<fallback node="cache"/></on-error></source>\n'
        '<source id="cache" type="file" path="./cache.json"/>\n'
        '<transform id="why" type="template" input="api"><template>{{ input.cached }}</template></transform>'
    )
    record = run(flow(body), tmp_path)
    assert record.status is RunStatus.COMPLETED
    assert record.results["api"].output == {"cached": True}
    assert "fallback 'cache'" in (record.results["api"].reason or "")
    assert record.results["why"].output == "true"


def test_per_node_timeout_cancels_the_attempt(tmp_path: Path) -> None:
    """A node's timeout interrupts its work and fails it with RUNTIME_TIMEOUT."""
    body = '<delay id="slow" duration="5s" timeout="50ms"/>'
    started = time.perf_counter()
    record = run(flow(body), tmp_path)
    assert time.perf_counter() - started < 2
    error = record.results["slow"].error
    assert error is not None
    assert error.code == "RUNTIME_TIMEOUT"


def test_run_timeout_cancels_running_nodes(tmp_path: Path) -> None:
    """The run deadline cancels mid-wave; running and later nodes are skipped."""
    body = (
        '<delay id="slow" duration="5s"/>\n'
        '<delay id="later" duration="1ms" input="slow"/>'
    )
    started = time.perf_counter()
    record = run(flow(body), tmp_path, timeout_ms=100)
    assert time.perf_counter() - started < 2
    assert record.status is RunStatus.FAILED
    assert record.results["slow"].reason == "cancelled"
    assert record.results["later"].status is NodeStatus.SKIPPED


def test_inputs_variables_and_expressions(tmp_path: Path) -> None:
    """Multi and path inputs, $input, set/context variables, arrows in map."""
    body = (
        '<set var="limit" value="{{ $config.limit }}"/>\n'
        '<context id="ctx"><set key="label" value="n={{ limit.output }}"/></context>\n'
        '<transform id="nums" type="map" input="ctx"><expression>[1, 2, 3]</expression></transform>\n'
        '<transform id="both" type="template" input="nums, ctx">'
        "<template>{{ length(input.nums) }} {{ input.ctx.label }} {{ $input.who }}</template></transform>\n"
        '<transform id="path" type="map" input="ctx.output.label"><expression>x => upper(x)</expression></transform>\n'
        '<transform id="total" type="reduce" input="path"><initial>""</initial>'
        "<expression>$acc + $item</expression><finalize>$acc + $vars.label</finalize></transform>"
    )
    frontmatter = "config:\n  limit: {type: number, default: 7}\n"
    record = run(
        flow(body, frontmatter),
        tmp_path,
        config={"limit": 7},
        workflow_input={"who": "me"},
    )
    assert record.status is RunStatus.COMPLETED, record.error
    assert record.results["limit"].output == 7
    assert record.results["both"].output == "1 n=7 me"
    assert record.results["path"].output == ["N=7"]
    assert record.results["total"].output == "N=7n=7"


def test_a_node_without_a_runtime_fails_clearly(tmp_path: Path) -> None:
    """A kind no runtime is registered for fails with RUNTIME_UNSUPPORTED."""
    record = run(
        flow(
            '<transform id="check" type="template"><template>x</template></transform>'
        ),
        tmp_path,
        RuntimeRegistry({}),
    )
    error = record.results["check"].error
    assert error is not None
    assert error.code == "RUNTIME_UNSUPPORTED"
    assert "transform:template nodes cannot run yet" in error.message


def test_expression_errors_name_the_setting(tmp_path: Path) -> None:
    """An expression failure names the setting and keeps its EXPR code."""
    body = '<transform id="m" type="map"><expression>repeat("x", 1e9)</expression></transform>'
    record = run(flow(body), tmp_path, workflow_input=[1])
    error = record.results["m"].error
    assert error is not None
    assert error.code == "EXPR_LIMIT_EXCEEDED"
    assert error.message.startswith("expression: ")


def test_cancel_event_ends_the_run_as_cancelled(tmp_path: Path) -> None:
    """Setting the cancel event stops running nodes; everything left is skipped."""
    checked = check_document(
        flow(
            '<delay id="wait" duration="30s"/>\n<delay id="after" duration="1ms" input="wait"/>'
        ),
        path="t.flow.md",
    )
    workflow, plan = checked.workflow, checked.plan
    assert workflow is not None
    assert plan is not None

    async def main() -> RunRecord:
        cancel = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: _set_later(cancel))
            record = await execute(
                workflow, plan, RunOptions(base_dir=tmp_path), cancel=cancel
            )
        return record

    started = time.perf_counter()
    record = anyio.run(main)
    assert time.perf_counter() - started < 5
    assert record.status is RunStatus.CANCELLED
    assert record.results["wait"].reason == "cancelled"
    assert record.results["after"].reason == "cancelled"


def test_cancel_reaches_a_chain_whose_nodes_never_wait(tmp_path: Path) -> None:
    """Nodes that never await (templates) still let a cancel in between waves."""
    body = '<transform id="n0" type="template"><template>x</template></transform>\n'
    body += "\n".join(
        f'<transform id="n{i}" type="template" input="n{i - 1}">'
        "<template>{{ input }}</template></transform>"
        for i in range(1, 500)
    )
    checked = check_document(flow(body), path="t.flow.md")
    workflow, plan = checked.workflow, checked.plan
    assert workflow is not None
    assert plan is not None
    cancel_now: list[anyio.Event] = []

    def cancel_at_n10(event: RunEvent) -> None:
        if isinstance(event, NodeFinished) and event.result.node_id == "n10":
            cancel_now[0].set()

    async def main() -> RunRecord:
        cancel_now.append(anyio.Event())
        return await execute(
            workflow,
            plan,
            RunOptions(base_dir=tmp_path),
            cancel=cancel_now[0],
            observers=[cancel_at_n10],
        )

    record = anyio.run(main)
    assert record.status is RunStatus.CANCELLED
    ran = [r for r in record.results.values() if r.status is NodeStatus.SUCCESS]
    assert 11 <= len(ran) <= 13
    assert record.results["n499"].reason == "cancelled"


async def _set_later(event: anyio.Event) -> None:
    await anyio.sleep(0.1)
    event.set()


def test_observers_see_every_event_in_order(tmp_path: Path) -> None:
    """Run, wave, node and retry events arrive in order; a broken observer is dropped."""
    flaky = Flaky(1)
    body = (
        '<source id="api" type="http" url="http://x"><on-error>'
        '<retry max="2" base="1ms" jitter="none"/></on-error></source>\n'
        '<transform id="t" type="template" input="api"><template>{{ input }}</template></transform>'
    )
    checked = check_document(flow(body), path="t.flow.md")
    workflow, plan = checked.workflow, checked.plan
    assert workflow is not None
    assert plan is not None
    seen: list[str] = []

    def broken(event: RunEvent) -> None:
        raise RuntimeError("display crashed")

    def collect(event: RunEvent) -> None:
        name = type(event).__name__
        node = getattr(event, "node_id", None) or getattr(
            getattr(event, "result", None), "node_id", ""
        )
        seen.append(f"{name}:{node}" if node else name)

    options = RunOptions(base_dir=tmp_path)
    record = anyio.run(
        lambda: execute(
            workflow,
            plan,
            options,
            registry=registry_with(http_source=flaky),
            observers=[broken, collect],
        )
    )
    assert record.status is RunStatus.COMPLETED
    assert seen == [
        "RunStarted",
        "WaveStarted",
        "NodeStarted:api",
        "NodeRetrying:api",
        "NodeFinished:api",
        "WaveStarted",
        "NodeStarted:t",
        "NodeFinished:t",
        "RunFinished",
    ]
