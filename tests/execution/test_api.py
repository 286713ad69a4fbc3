"""The Python API: run() and run_sync()."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio
import pytest

import maidit_jupyter
from maidit_jupyter import RunInputError, RunStatus, WorkflowValidationError

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
