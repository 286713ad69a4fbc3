"""Checkpoints written by runs, and resuming from them through the Python API."""

from __future__ import annotations

import errno
import json
import textwrap
from pathlib import Path

import anyio
import pytest

import maidit_jupyter
from maidit_jupyter import (
    CheckpointError,
    FlowRun,
    LockedError,
    NodeStatus,
    RunInputError,
    RunStatus,
)
from maidit_jupyter.checkpoints import journal_path, load_checkpoint
from maidit_jupyter.execution.events import NodeFinished, RunEvent
from maidit_jupyter.persistence import durable
from maidit_jupyter.persistence.lock import RunLock
from tests.flows import write_flow_with_module

STEPS = textwrap.dedent(
    """
    from pathlib import Path

    LEDGER = Path(__file__).with_name("ledger.txt")

    def step(data=None, name="", fail="no"):
        with LEDGER.open("a") as handle:
            handle.write(name + "\\n")
        if fail == "yes":
            raise ValueError(f"{name} was told to fail")
        return {"name": name, "seen": data}

    def marked(data=None, name=""):
        with LEDGER.open("a") as handle:
            handle.write(name + "\\n")
        if LEDGER.with_name("broken-" + name).exists():
            raise ValueError(f"{name} is marked broken")
        return {"name": name}

    class Frame:
        def __repr__(self):
            return "Frame()"

    def frame(data=None):
        with LEDGER.open("a") as handle:
            handle.write("frame\\n")
        return Frame()
    """
)

BODY = """
<source id="a" type="python" function="steps:step"><arg name="name" value="a"/></source>
<transform id="b" type="python" input="a" function="steps:step">
  <arg name="name" value="b"/><arg name="fail" value="{{ $config.fail }}"/>
</transform>
<transform id="c" type="python" input="b" function="steps:step"><arg name="name" value="c"/></transform>
<transform id="d" type="python" input="a" function="steps:step"><arg name="name" value="d"/></transform>
"""

FRONT = "config:\n  fail:\n    type: string\n    default: 'yes'\n"


def write_flow(tmp_path: Path, body: str = BODY, front: str = FRONT) -> Path:
    return write_flow_with_module(tmp_path, "steps", "steps", STEPS, body, front)


def ledger(tmp_path: Path) -> list[str]:
    path = tmp_path / "ledger.txt"
    return path.read_text().split() if path.exists() else []


def checkpoint_of(run: FlowRun) -> Path:
    assert run.checkpoint_path is not None
    return run.checkpoint_path


def test_a_run_writes_a_checkpoint_that_reads_back(tmp_path: Path) -> None:
    """A finished run leaves one JSON snapshot (no journal) holding every result."""
    flow = write_flow(tmp_path)
    run = maidit_jupyter.run_sync(flow, config={"fail": "no"})
    assert run.status is RunStatus.COMPLETED
    path = checkpoint_of(run)
    assert path.parent == tmp_path / ".maidit-state" / "steps"
    assert path.name == f"{run.run_id}.json"
    assert not journal_path(path).exists()
    stored = load_checkpoint(path)
    assert stored.status is RunStatus.COMPLETED
    assert stored.run_id == run.run_id
    assert stored.flow_path == str(flow.resolve())
    assert stored.config == {"fail": "no"}
    assert set(stored.results) == {"a", "b", "c", "d"}
    assert stored.results["c"].result.output == run.outputs["c"]
    assert stored.plan == (("a",), ("b", "d"), ("c",))
    assert json.loads(path.read_text())["format_version"] == 1
    assert not maidit_jupyter.can_resume(path)


def test_a_failed_run_resumes_and_reuses_what_succeeded(tmp_path: Path) -> None:
    """Resume runs the failed node and its descendants only; config may change."""
    flow = write_flow(tmp_path)
    first = maidit_jupyter.run_sync(flow)
    assert first.status is RunStatus.FAILED
    assert first.error is not None
    assert "b was told to fail" in first.error.message
    assert sorted(ledger(tmp_path)) == ["a", "b", "d"]
    path = checkpoint_of(first)
    assert maidit_jupyter.can_resume(path)
    assert first.can_resume

    second = maidit_jupyter.resume_sync(path, config={"fail": "no"})
    assert second.status is RunStatus.COMPLETED
    assert second.run_id == first.run_id
    assert sorted(ledger(tmp_path)) == ["a", "b", "b", "c", "d"]
    reasons = {d.node_id: (d.rerun, d.reason) for d in second.resume_plan}
    assert reasons["a"] == (False, "succeeded, unchanged")
    assert reasons["d"] == (False, "succeeded, unchanged")
    assert reasons["b"] == (
        True,
        "failed: steps:step raised ValueError: b was told to fail",
    )
    assert reasons["c"] == (True, "skipped: run failed at wave 1")
    assert second.results["a"].reused
    assert not second.results["c"].reused
    assert second.outputs.c == {"name": "c", "seen": second.outputs["b"]}
    stored = load_checkpoint(path)
    assert stored.status is RunStatus.COMPLETED
    assert stored.resumes == 1
    assert not maidit_jupyter.can_resume(path)


def test_resuming_a_completed_run_runs_nothing(tmp_path: Path) -> None:
    """A completed, unchanged run resumes as a no-op: every node reused."""
    flow = write_flow(tmp_path)
    first = maidit_jupyter.run_sync(flow, config={"fail": "no"})
    again = maidit_jupyter.resume_sync(checkpoint_of(first))
    assert again.status is RunStatus.COMPLETED
    assert all(result.reused for result in again.results.values())
    assert again.record is not None
    assert again.record.waves_executed == 0
    assert len(ledger(tmp_path)) == 4


def test_an_edited_node_and_its_descendants_run_again(tmp_path: Path) -> None:
    """Changing b's definition re-runs b and c; moving text around changes nothing."""
    flow = write_flow(tmp_path)
    path = checkpoint_of(maidit_jupyter.run_sync(flow, config={"fail": "no"}))
    text = flow.read_text()
    flow.write_text(text.replace("<source", "\n\n   <source"))
    unchanged = maidit_jupyter.resume_sync(path)
    assert unchanged.status is RunStatus.COMPLETED
    assert not any(d.rerun for d in unchanged.resume_plan)
    assert len(ledger(tmp_path)) == 4

    flow.write_text(text.replace('value="b"/>', 'value="b2"/>'))
    edited = maidit_jupyter.resume_sync(path)
    reasons = {d.node_id: d.reason for d in edited.resume_plan if d.rerun}
    assert reasons == {"b": "definition changed", "c": "upstream changed"}
    assert ledger(tmp_path)[4:] == ["b2", "c"]
    assert edited.outputs["c"]["seen"]["name"] == "b2"


def test_a_config_change_reruns_the_nodes_that_read_it(tmp_path: Path) -> None:
    """Only nodes whose $config values changed (and their descendants) run again."""
    body = BODY + (
        '<transform id="e" type="template" input="d">'
        "<template>{{ $config.label }}</template></transform>"
    )
    front = FRONT + "  label:\n    type: string\n    default: one\n"
    flow = write_flow(tmp_path, body, front)
    path = checkpoint_of(maidit_jupyter.run_sync(flow, config={"fail": "no"}))
    resumed = maidit_jupyter.resume_sync(path, config={"label": "two"})
    reasons = {d.node_id: d.reason for d in resumed.resume_plan if d.rerun}
    assert reasons == {"e": "the config values it reads changed"}
    assert resumed.outputs["e"] == "two"
    assert len(ledger(tmp_path)) == 4


def test_an_output_that_is_not_json_is_recomputed_when_needed(tmp_path: Path) -> None:
    """A non-JSON output is not stored; its producer re-runs for a node that needs it."""
    body = (
        '<source id="f" type="python" function="steps:frame"/>\n'
        '<transform id="g" type="python" input="f" function="steps:step">'
        '<arg name="name" value="g"/><arg name="fail" value="{{ $config.fail }}"/>'
        "</transform>"
    )
    flow = write_flow(tmp_path, body)
    first = maidit_jupyter.run_sync(flow)
    path = checkpoint_of(first)
    stored = load_checkpoint(path)
    assert not stored.results["f"].stored
    assert (stored.results["f"].not_stored or "").startswith("not JSON (")
    assert (stored.results["f"].not_stored or "").endswith(".Frame)")
    resumed = maidit_jupyter.resume_sync(path, config={"fail": "no"})
    assert resumed.status is RunStatus.COMPLETED
    reasons = {d.node_id: d.reason for d in resumed.resume_plan if d.rerun}
    assert reasons["f"].startswith("its output was not stored (not JSON")
    assert reasons["f"].endswith("and 'g' needs it")
    assert ledger(tmp_path) == ["frame", "g", "frame", "g"]


def test_a_cancelled_run_is_resumable(tmp_path: Path) -> None:
    """Cancelling mid-run leaves a resumable checkpoint; resume finishes the rest."""
    body = (
        '<source id="a" type="python" function="steps:step"><arg name="name" value="a"/></source>\n'
        '<delay id="wait" input="a" duration="5s"/>\n'
        '<transform id="z" type="python" input="wait" function="steps:step">'
        '<arg name="name" value="z"/></transform>'
    )
    flow = write_flow(tmp_path, body, "")
    holder: list[FlowRun] = []

    def cancel_after_a(event: RunEvent) -> None:
        if isinstance(event, NodeFinished) and event.result.node_id == "a":
            holder[0].cancel()

    async def main() -> FlowRun:
        return await maidit_jupyter.run(
            flow, observers=[cancel_after_a], on_start=holder.append
        )

    first = anyio.run(main)
    assert first.status is RunStatus.CANCELLED
    assert first.results["wait"].status is NodeStatus.SKIPPED
    assert first.results["wait"].reason == "cancelled"
    path = checkpoint_of(first)
    assert load_checkpoint(path).status is RunStatus.CANCELLED
    assert maidit_jupyter.can_resume(path)
    text = flow.read_text().replace('duration="5s"', 'duration="1ms"')
    flow.write_text(text)
    second = maidit_jupyter.resume_sync(path)
    assert second.status is RunStatus.COMPLETED
    assert ledger(tmp_path) == ["a", "z"]


def test_a_locked_checkpoint_is_refused(tmp_path: Path) -> None:
    """While another owner holds the lock, resume fails naming it; can_resume is False."""
    flow = write_flow(tmp_path)
    path = checkpoint_of(maidit_jupyter.run_sync(flow))
    with RunLock(path), pytest.raises(LockedError, match="locked by another run"):
        maidit_jupyter.resume_sync(path)
    assert maidit_jupyter.can_resume(path)


def test_a_checkpoint_of_a_crashed_run_is_resumable(tmp_path: Path) -> None:
    """status "running" with a free lock is a crashed run: resumable, journal replayed."""
    flow = write_flow(tmp_path)
    path = checkpoint_of(maidit_jupyter.run_sync(flow))
    data = json.loads(path.read_text())
    data["status"] = "running"
    path.write_text(json.dumps(data))
    assert maidit_jupyter.can_resume(path)
    with RunLock(path):
        assert not maidit_jupyter.can_resume(path)


def test_resume_refuses_another_workflow(tmp_path: Path) -> None:
    """Resuming with a flow of another name is a CheckpointError; nothing runs."""
    flow = write_flow(tmp_path)
    path = checkpoint_of(maidit_jupyter.run_sync(flow))
    other = tmp_path / "other.flow.md"
    other.write_text(flow.read_text().replace("name: steps", "name: other"))
    with pytest.raises(CheckpointError, match="workflow 'steps'"):
        maidit_jupyter.resume_sync(path, flow=other)
    assert sorted(ledger(tmp_path)) == ["a", "b", "d"]


def test_missing_and_damaged_checkpoints_are_errors(tmp_path: Path) -> None:
    """Missing, truncated, foreign, future-version and NaN checkpoints: clear errors."""
    flow = write_flow(tmp_path)
    path = checkpoint_of(maidit_jupyter.run_sync(flow))
    good = path.read_text()
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        maidit_jupyter.resume_sync(tmp_path / "nope.json")
    cases = {
        good[: len(good) // 2]: "is not valid JSON",
        "[]": "is not a maidit checkpoint",
        good.replace(
            '"format_version": 1', '"format_version": 99'
        ): "format version 99",
        good.replace('"resumes": 0', '"resumes": NaN'): "NaN is not JSON",
        good.replace(
            '"status": "failed"', '"status": "exploded"'
        ): "unknown run status",
        good.replace('"run_id"', '"run"'): "'run_id' is missing",
    }
    for text, message in cases.items():
        path.write_text(text)
        with pytest.raises(CheckpointError, match=message):
            maidit_jupyter.resume_sync(path)
        assert not maidit_jupyter.can_resume(path)
    assert sorted(ledger(tmp_path)) == ["a", "b", "d"]


def test_an_input_that_holds_a_secret_is_not_stored(tmp_path: Path) -> None:
    """The run's input is stored unless it holds a secret; then resume needs it again."""
    front = FRONT + "secrets:\n  - TOKEN\n"
    body = BODY + (
        '<transform id="t" type="template"><template>{{ $secrets.TOKEN }}</template>'
        "</transform>"
    )
    flow = write_flow(tmp_path, body, front)
    secret = "hunter2-is-a-secret"
    first = maidit_jupyter.run_sync(
        flow, secrets={"TOKEN": secret}, workflow_input={"token": secret}
    )
    path = checkpoint_of(first)
    assert secret not in path.read_text()
    stored = load_checkpoint(path)
    assert not stored.input_stored
    assert stored.results["t"].not_stored == "holds a secret value"
    assert stored.secrets == ("TOKEN",)
    with pytest.raises(RunInputError, match="input was not stored"):
        maidit_jupyter.resume_sync(path, secrets={"TOKEN": secret})
    resumed = maidit_jupyter.resume_sync(
        path,
        secrets={"TOKEN": secret},
        workflow_input={"token": secret},
        config={"fail": "no"},
    )
    assert resumed.status is RunStatus.COMPLETED
    assert resumed.results["t"].reused


def test_runs_without_a_checkpoint(tmp_path: Path) -> None:
    """checkpoint=False writes nothing; such a run cannot be resumed."""
    flow = write_flow(tmp_path)
    run = maidit_jupyter.run_sync(flow, checkpoint=False, config={"fail": "no"})
    assert run.status is RunStatus.COMPLETED
    assert run.checkpoint_path is None
    assert not (tmp_path / ".maidit-state").exists()
    assert not run.can_resume


def test_state_dir_puts_checkpoints_elsewhere(tmp_path: Path) -> None:
    """state_dir chooses the directory; odd workflow names become safe folder names."""
    flow = write_flow(tmp_path)
    flow.write_text(flow.read_text().replace("name: steps", "name: ../My Flow/x"))
    run = maidit_jupyter.run_sync(flow, state_dir=tmp_path / "states")
    assert checkpoint_of(run).parent == tmp_path / "states" / "My-Flow-x"


def test_a_foreach_resumes_at_the_item_that_failed(tmp_path: Path) -> None:
    """Finished iterations are checkpointed; a resume runs only the rest."""
    body = (
        '<foreach id="each" collection="$input">'
        '<transform id="work" type="python" function="steps:marked">'
        '<arg name="name" value="item-{{ item }}"/></transform></foreach>'
    )
    flow = write_flow(tmp_path, body, "")
    (tmp_path / "broken-item-3").touch()
    first = maidit_jupyter.run_sync(flow, workflow_input=[0, 1, 2, 3, 4])
    assert first.status is RunStatus.FAILED
    assert ledger(tmp_path) == ["item-0", "item-1", "item-2", "item-3"]
    stored = load_checkpoint(checkpoint_of(first))
    assert sorted(stored.iterations["each"]) == [0, 1, 2]
    (tmp_path / "broken-item-3").unlink()
    second = maidit_jupyter.resume_sync(checkpoint_of(first))
    assert second.status is RunStatus.COMPLETED
    assert ledger(tmp_path)[4:] == ["item-3", "item-4"]
    names = [output["name"] for output in second.outputs["each"]]
    assert names == ["item-0", "item-1", "item-2", "item-3", "item-4"]
    assert load_checkpoint(checkpoint_of(first)).iterations == {}


def test_changed_items_are_not_skipped_on_resume(tmp_path: Path) -> None:
    """An iteration is reused only for the same item at the same index."""
    body = (
        '<foreach id="each" collection="$input">'
        '<transform id="work" type="python" function="steps:marked">'
        '<arg name="name" value="item-{{ item }}"/></transform></foreach>'
    )
    flow = write_flow(tmp_path, body, "")
    (tmp_path / "broken-item-c").touch()
    first = maidit_jupyter.run_sync(flow, workflow_input=["a", "b", "c"])
    assert ledger(tmp_path) == ["item-a", "item-b", "item-c"]
    resumed = maidit_jupyter.resume_sync(
        checkpoint_of(first), workflow_input=["a", "x", "d"]
    )
    assert resumed.status is RunStatus.COMPLETED
    assert ledger(tmp_path)[3:] == ["item-x", "item-d"]


def test_a_changed_foreach_starts_over(tmp_path: Path) -> None:
    """When the foreach itself changed, its finished iterations are not reused."""
    body = (
        '<foreach id="each" collection="$input">'
        '<transform id="work" type="python" function="steps:marked">'
        '<arg name="name" value="item-{{ item }}"/></transform></foreach>'
    )
    flow = write_flow(tmp_path, body, "")
    (tmp_path / "broken-item-1").touch()
    first = maidit_jupyter.run_sync(flow, workflow_input=[0, 1])
    (tmp_path / "broken-item-1").unlink()
    flow.write_text(flow.read_text().replace("item-{{ item }}", "v2-{{ item }}"))
    resumed = maidit_jupyter.resume_sync(checkpoint_of(first))
    assert resumed.status is RunStatus.COMPLETED
    assert ledger(tmp_path)[2:] == ["v2-0", "v2-1"]


def test_a_loop_resumes_at_the_iteration_that_failed(tmp_path: Path) -> None:
    """A loop checkpoints each finished iteration; a resume starts after the last one."""
    body = (
        '<loop id="each" max="5">'
        '<transform id="work" type="python" function="steps:marked">'
        '<arg name="name" value="it-{{ $iteration }}"/></transform></loop>'
    )
    flow = write_flow(tmp_path, body, "")
    (tmp_path / "broken-it-3").touch()
    first = maidit_jupyter.run_sync(flow)
    assert first.status is RunStatus.FAILED
    assert ledger(tmp_path) == ["it-0", "it-1", "it-2", "it-3"]
    (tmp_path / "broken-it-3").unlink()
    second = maidit_jupyter.resume_sync(checkpoint_of(first))
    assert second.status is RunStatus.COMPLETED
    assert ledger(tmp_path)[4:] == ["it-3", "it-4"]
    assert second.outputs["each"] == {"name": "it-4"}


def test_a_while_resumes_with_the_variables_its_iterations_left(tmp_path: Path) -> None:
    """The state after the last finished iteration (variables, outputs) comes back."""
    body = (
        '<while id="count" condition="($vars.n || 0) &lt; 5" max="10">'
        '<set id="n" value="{{ ($vars.n || 0) + 1 }}"/>'
        '<transform id="work" type="python" function="steps:marked" input="n">'
        '<arg name="name" value="w-{{ $vars.n }}"/></transform></while>'
    )
    flow = write_flow(tmp_path, body, "")
    (tmp_path / "broken-w-3").touch()
    first = maidit_jupyter.run_sync(flow)
    assert ledger(tmp_path) == ["w-1", "w-2", "w-3"]
    (tmp_path / "broken-w-3").unlink()
    second = maidit_jupyter.resume_sync(checkpoint_of(first))
    assert second.status is RunStatus.COMPLETED
    assert ledger(tmp_path)[3:] == ["w-3", "w-4", "w-5"]


def test_a_loop_resumed_after_its_last_iteration_keeps_its_nested_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped between the record of a loop's last iteration and the loop's own record
    (here the journal write of that record fails), the resume runs no iteration again
    and still reports the nested nodes as an uninterrupted run does: succeeded, with the
    last iteration's output (they were "skipped: never reached")."""
    body = (
        '<loop id="each" max="3">'
        '<transform id="work" type="python" function="steps:marked">'
        '<arg name="name" value="it-{{ $iteration }}"/></transform></loop>'
    )
    flow = write_flow(tmp_path, body, "")

    class FailTheLoopRecord(durable.FileOps):
        def write(self, fd: int, data: bytes | memoryview) -> int:
            if b'"node":"each"' in bytes(data):
                raise OSError(errno.ENOSPC, "injected")
            return super().write(fd, data)

    monkeypatch.setattr(durable, "_DEFAULT_OPS", FailTheLoopRecord())
    first = maidit_jupyter.run_sync(flow)
    assert first.error is not None
    assert first.error.code == "CHECKPOINT_FAILED"
    monkeypatch.setattr(durable, "_DEFAULT_OPS", durable.FileOps())
    stored = load_checkpoint(checkpoint_of(first))
    assert "each" not in stored.results
    assert max(stored.iterations["each"]) == 2
    second = maidit_jupyter.resume_sync(checkpoint_of(first))
    assert second.status is RunStatus.COMPLETED
    assert ledger(tmp_path) == ["it-0", "it-1", "it-2"]
    assert second.results["work"].status is NodeStatus.SUCCESS
    assert second.outputs["work"] == {"name": "it-2"}
    assert second.outputs["each"] == {"name": "it-2"}
