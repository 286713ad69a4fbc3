"""Every block kind under cancellation, and resumed after a failure inside its body."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import maidit_jupyter
from maidit_jupyter import NodeStatus, RunStatus
from tests.runs import run_cancelled_after

STEP = textwrap.dedent(
    """
    from pathlib import Path

    HERE = Path(__file__).parent

    def step(data=None, name=""):
        with (HERE / "ledger.txt").open("a") as handle:
            handle.write(name + "\\n")
        if (HERE / ("broken-" + name)).exists():
            raise ValueError(name + " is broken")
        return name
    """
)


def inner(name: str) -> str:
    return (
        f'<transform id="{name}" type="python" function="step:step">'
        f'<arg name="name" value="{name}"/></transform>'
    )


#: each block around a body that contains the node ``x`` (the one we break or wait in)
BLOCKS = {
    "if": '<if id="blk" condition="true"><then>{body}</then></if>',
    "branch": '<branch id="blk"><case when="true">{body}</case></branch>',
    "loop": '<loop id="blk" max="2">{body}</loop>',
    "while": '<while id="blk" condition="($vars.turns || 0) &lt; 2" max="5">'
    '{body}<set id="turns" value="{{{{ ($vars.turns || 0) + 1 }}}}"/></while>',
    "foreach": '<foreach id="blk" collection="[1, 2]">{body}</foreach>',
    "parallel": '<parallel id="blk"><branch>{body}</branch><branch>'
    + inner("other")
    + "</branch></parallel>",
    "timeout": '<timeout id="blk" duration="30s">{body}</timeout>',
    "phase": '<phase id="blk">{body}</phase>',
}


def write(tmp_path: Path, block: str, body: str) -> Path:
    (tmp_path / "step.py").write_text(STEP)
    flow = tmp_path / "life.flow.md"
    flow.write_text(
        "---\nname: life\nversion: 1.0.0\n---\n<workflow>\n"
        + inner("before")
        + "\n"
        + BLOCKS[block].format(body=body)
        + '\n<transform id="after" type="template" input="blk"><template>ok</template>'
        "</transform>\n</workflow>\n"
    )
    return flow


def ledger(tmp_path: Path) -> list[str]:
    path = tmp_path / "ledger.txt"
    return path.read_text().split() if path.exists() else []


@pytest.mark.parametrize("block", sorted(BLOCKS))
def test_a_failure_inside_the_body_resumes(tmp_path: Path, block: str) -> None:
    """The block fails with the inner node's error; after the fix a resume reuses what
    ran before the block and completes."""
    flow = write(tmp_path, block, inner("x"))
    (tmp_path / "broken-x").touch()
    first = maidit_jupyter.run_sync(flow)
    assert first.status is RunStatus.FAILED
    error = first.results["blk"].error
    assert error is not None
    assert "x is broken" in error.message
    assert first.results["after"].status is NodeStatus.SKIPPED
    (tmp_path / "broken-x").unlink()
    assert first.checkpoint_path is not None
    second = maidit_jupyter.resume_sync(first.checkpoint_path)
    assert second.status is RunStatus.COMPLETED, second.error
    assert second.results["before"].reused
    assert ledger(tmp_path).count("before") == 1
    assert second.outputs["after"] == "ok"


@pytest.mark.parametrize("block", sorted(BLOCKS))
def test_cancel_inside_the_body(tmp_path: Path, block: str) -> None:
    """A cancel while the body waits ends the run cancelled at once, resumable."""
    flow = write(tmp_path, block, '<delay id="x" duration="30s"/>')
    flow_run, elapsed = run_cancelled_after(flow, 0.3)
    assert elapsed < 3
    assert flow_run.status is RunStatus.CANCELLED
    assert flow_run.results["x"].reason == "cancelled"
    assert flow_run.results["blk"].reason == "cancelled"
    assert flow_run.can_resume
