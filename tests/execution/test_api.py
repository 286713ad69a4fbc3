"""The Python API: run() and run_sync(), the workflow-level error handler."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

import maidit_jupyter
from maidit_jupyter import RunInputError, RunStatus, WorkflowValidationError
from maidit_jupyter.checkpoints import load_checkpoint
from maidit_jupyter.errors import PersistenceError
from maidit_jupyter.execution import flow_run as flow_run_module
from maidit_jupyter.execution.state import NodeError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_run_sync_runs_a_flow_file_with_config(tmp_path: Path) -> None:
    """run_sync reads, checks and runs a flow; config overrides are typed and checked."""
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    flow = tmp_path / "examples" / "grades.flow.md"
    record = maidit_jupyter.run_sync(flow, config={"pass_mark": 90})
    assert record.status is RunStatus.COMPLETED
    assert record.results["summary"].output == "1 of 5 passed; best: Ada"
    with pytest.raises(RunInputError, match="must be a number"):
        maidit_jupyter.run_sync(flow, config={"pass_mark": "high"})


def test_run_accepts_text_and_input(tmp_path: Path) -> None:
    """``await run(..., text=...)`` runs a flow given as text, with $input."""
    text = (
        "---\nname: hello\nversion: 1.0.0\n---\n<workflow>\n"
        '<transform id="greet" type="template"><template>Hello {{ $input.name }}</template></transform>\n'
        "</workflow>\n"
    )

    async def main() -> maidit_jupyter.FlowRun:
        return await maidit_jupyter.run(
            tmp_path / "cell.flow.md", text=text, workflow_input={"name": "Ada"}
        )

    record = anyio.run(main)
    assert record.results["greet"].output == "Hello Ada"


def test_invalid_flow_raises_with_every_diagnostic(tmp_path: Path) -> None:
    """An invalid flow raises WorkflowValidationError carrying its diagnostics."""
    text = "---\nname: bad\nversion: 1.0.0\n---\n<workflow><delay id='d' duration='1s' input='x'/></workflow>\n"
    with pytest.raises(WorkflowValidationError) as info:
        maidit_jupyter.run_sync(tmp_path / "bad.flow.md", text=text)
    assert info.value.diagnostics[0].code == "VALID_UNDEFINED_NODE_REF"


def test_run_sync_inside_an_event_loop_points_to_await() -> None:
    """Calling run_sync from async code says to use ``await run``."""

    async def main() -> None:
        maidit_jupyter.run_sync("never.flow.md")

    with pytest.raises(RuntimeError, match=r"await maidit_jupyter\.run"):
        anyio.run(main)


FAILING = (
    "---\nname: failing\nversion: 1.0.0\nsecrets:\n  - TOKEN\n---\n<workflow>\n"
    '<source id="load" type="file"><path>missing-{{ $secrets.TOKEN }}.json</path></source>\n'
    '<transform id="after" type="template" input="load"><template>x</template></transform>\n'
    "</workflow>\n"
)


def test_the_error_handler_is_called_once_when_a_run_fails(tmp_path: Path) -> None:
    """on_error gets the redacted error and the run, after the checkpoint is written."""
    flow = tmp_path / "failing.flow.md"
    flow.write_text(FAILING)
    calls: list[tuple[str, str, bool]] = []

    def handler(error: NodeError, run: maidit_jupyter.FlowRun) -> None:
        assert run.checkpoint_path is not None
        calls.append((error.code, error.message, run.checkpoint_path.exists()))

    run = maidit_jupyter.run_sync(
        flow, secrets={"TOKEN": "tok-12345"}, on_error=handler
    )
    assert run.status is RunStatus.FAILED
    assert len(calls) == 1
    code, message, saved = calls[0]
    assert code == "ENOENT"
    assert "tok-12345" not in message
    assert "missing-***.json" in message
    assert saved

    ok = maidit_jupyter.run_sync(EXAMPLES / "grades.flow.md", on_error=handler)
    assert ok.status is RunStatus.COMPLETED
    assert len(calls) == 1


def test_an_async_handler_is_awaited_and_a_failing_one_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An async handler is awaited; a handler that raises never masks the run's error."""
    flow = tmp_path / "failing.flow.md"
    flow.write_text(FAILING)
    seen: list[str] = []

    async def notify(error: NodeError, run: maidit_jupyter.FlowRun) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append(error.code)

    run = maidit_jupyter.run_sync(flow, secrets={"TOKEN": "tok-12345"}, on_error=notify)
    assert seen == ["ENOENT"]

    def broken(error: NodeError, run: maidit_jupyter.FlowRun) -> None:
        raise RuntimeError("pager down for tok-12345")

    run = maidit_jupyter.run_sync(flow, secrets={"TOKEN": "tok-12345"}, on_error=broken)
    assert run.status is RunStatus.FAILED
    assert run.error is not None
    assert run.error.code == "ENOENT"
    assert isinstance(run.error_handler_failure, RuntimeError)
    assert "Error handler failed: RuntimeError: pager down for ***" in caplog.text


SLOW = """---
name: slow
version: 1.0.0
---
<workflow>
  <transform id="first" type="template"><template>one</template></transform>
  <delay id="wait" input="first" duration="10s"/>
  <transform id="last" type="template" input="wait"><template>two</template></transform>
</workflow>
"""


@pytest.mark.parametrize("how", ["task-cancel", "move-on-after"])
def test_cancelling_the_awaiting_task_cancels_the_run_cleanly(
    tmp_path: Path, how: str
) -> None:
    """An outside cancellation (a kernel interrupt, a timeout around ``await run``)
    ends the run ``cancelled`` with its checkpoint written, then propagates; the run
    resumes to completion."""
    flow = tmp_path / "slow.flow.md"
    flow.write_text(SLOW)
    started: list[maidit_jupyter.FlowRun] = []

    async def main() -> bool:
        if how == "move-on-after":
            with anyio.move_on_after(0.3) as scope:
                await maidit_jupyter.run(flow, on_start=started.append)
            return scope.cancelled_caught
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: maidit_jupyter.run(flow, on_start=started.append))
            await anyio.sleep(0.3)
            group.cancel_scope.cancel()
        return True

    assert anyio.run(main)
    [flow_run] = started
    assert flow_run.status is RunStatus.CANCELLED
    assert flow_run.results["first"].status.value == "success"
    assert flow_run.checkpoint_path is not None
    assert maidit_jupyter.can_resume(flow_run.checkpoint_path)
    stored = load_checkpoint(flow_run.checkpoint_path)
    assert stored.status is RunStatus.CANCELLED
    flow.write_text(SLOW.replace("10s", "1ms"))
    resumed = maidit_jupyter.resume_sync(flow_run.checkpoint_path)
    assert resumed.status is RunStatus.COMPLETED
    assert resumed.results["first"].reused
    assert resumed.outputs["last"] == "two"


def test_an_engine_error_is_raised_as_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error escaping the engine reaches the caller as is (not in a group)."""

    async def broken(*args: object, **kwargs: object) -> None:
        raise PersistenceError("the disk is gone")

    monkeypatch.setattr(flow_run_module, "launch", broken)
    flow = tmp_path / "slow.flow.md"
    flow.write_text(SLOW)
    with pytest.raises(PersistenceError, match="the disk is gone"):
        maidit_jupyter.run_sync(flow)
