"""RunResources: opened once per run (also under concurrency), closed at the end."""

from __future__ import annotations

import anyio
import pytest

from maidit_jupyter.runtimes.base import RunResources


def test_a_resource_opens_once_and_closes_in_reverse_order() -> None:
    events: list[str] = []

    async def main() -> None:
        resources = RunResources()

        async def opener(name: str) -> str:
            events.append(f"open {name}")
            await anyio.sleep(0.01)
            return name

        async def closer(value: str) -> None:
            events.append(f"close {value}")

        async def use(name: str) -> None:
            assert await resources.get(name, lambda: opener(name), closer) == name

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(use, "http")
        await use("db")
        assert resources.peek("http") == "http"
        await resources.aclose()
        assert resources.peek("http") is None

    anyio.run(main)
    assert events == ["open http", "open db", "close db", "close http"]


def test_a_failing_close_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        resources = RunResources()

        async def opener() -> int:
            return 1

        async def broken(value: int) -> None:
            raise OSError("socket already gone")

        await resources.get("pool", opener, broken)
        await resources.aclose()

    anyio.run(main)
    assert "closing pool failed: socket already gone" in caplog.text


def test_what_a_runtime_reports_lands_in_the_result_and_the_report(
    tmp_path: object,
) -> None:
    """``ctx.meta`` becomes ``NodeResult.meta`` and the report's ``meta``."""
    from pathlib import Path

    from maidit_jupyter.execution.executor import RunOptions, execute
    from maidit_jupyter.reporting.report import run_report
    from maidit_jupyter.runtimes.base import NodeContext
    from maidit_jupyter.runtimes.registry import RuntimeRegistry
    from maidit_jupyter.validation.validator import check_document

    class Counting:
        async def run(self, ctx: NodeContext) -> object:
            ctx.meta["usage"] = {"tokens": 12}
            return "ok"

    text = (
        "---\nname: m\nversion: 1.0.0\n---\n<workflow>\n"
        '<transform id="t" type="template"><template>x</template></transform>\n'
        "</workflow>\n"
    )
    checked = check_document(text)
    assert checked.workflow is not None
    assert checked.plan is not None
    registry = RuntimeRegistry.default()
    registry.register("transform:template", Counting())
    workflow, plan = checked.workflow, checked.plan
    record = anyio.run(
        lambda: execute(
            workflow, plan, RunOptions(base_dir=Path(str(tmp_path))), registry=registry
        )
    )
    assert record.results["t"].output == "ok"
    assert record.results["t"].meta == {"usage": {"tokens": 12}}
    report = run_report(record, plan=plan.waves)
    assert report["nodes"]["t"]["meta"] == {"usage": {"tokens": 12}}
