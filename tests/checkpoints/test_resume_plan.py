"""The resume plan decided in-process, reason by reason (the CLI tests see it through a
child process, where a broken reason would not fail a test of this process)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import maidit_jupyter
from maidit_jupyter.checkpoints import load_checkpoint
from maidit_jupyter.checkpoints.document import Checkpoint, StoredResult
from maidit_jupyter.checkpoints.hashing import node_hashes
from maidit_jupyter.checkpoints.resume import ResumePlan, plan_resume
from maidit_jupyter.execution.state import Intent, NodeError, NodeStatus
from maidit_jupyter.validation.validator import check_document

TEXT = (
    "---\nname: plan\nversion: 1.0.0\n---\n<workflow>\n"
    '<transform id="a" type="template"><template>a</template></transform>\n'
    '<transform id="b" type="template" input="a"><template>b</template></transform>\n'
    '<transform id="c" type="template" input="b"><template>c</template></transform>\n'
    "</workflow>\n"
)


@pytest.fixture
def stored(tmp_path: Path) -> Checkpoint:
    """The checkpoint of a completed run of :data:`TEXT` (every node succeeded)."""
    flow = tmp_path / "plan.flow.md"
    flow.write_text(TEXT)
    path = maidit_jupyter.run_sync(flow).checkpoint_path
    assert path is not None
    return load_checkpoint(path)


def decide(checkpoint: Checkpoint, text: str = TEXT) -> ResumePlan:
    checked = check_document(text)
    assert checked.workflow is not None
    assert checked.plan is not None
    hashes = node_hashes(checked.workflow, checked.plan, {}, salt=checkpoint.run_id)
    return plan_resume(checkpoint, checked.plan, hashes, checkpoint.flow_hash)


def reasons(plan: ResumePlan) -> dict[str, str]:
    return {d.node_id: d.reason for d in plan.decisions}


def set_result(checkpoint: Checkpoint, node_id: str, **changes: object) -> None:
    old = checkpoint.results[node_id]
    result = replace(old.result, **changes)  # type: ignore[arg-type]
    checkpoint.results[node_id] = StoredResult(
        result=result, hashes=old.hashes, stored=old.stored, not_stored=old.not_stored
    )


def test_an_unchanged_completed_run_reuses_everything(stored: Checkpoint) -> None:
    plan = decide(stored)
    assert plan.rerun == ()
    assert set(reasons(plan).values()) == {"succeeded, unchanged"}


def test_a_node_without_a_result_did_not_run_or_is_new(stored: Checkpoint) -> None:
    del stored.results["c"]
    assert reasons(decide(stored))["c"] == "did not run"
    del stored.node_hashes["c"]
    assert reasons(decide(stored))["c"] == "new node"


def test_the_reason_of_each_status_that_is_not_success(stored: Checkpoint) -> None:
    set_result(
        stored,
        "a",
        status=NodeStatus.FAILED,
        error=NodeError(message="boom", code="X"),
    )
    set_result(stored, "b", status=NodeStatus.WAITING, reason=None)
    set_result(stored, "c", status=NodeStatus.SKIPPED, reason="cancelled")
    assert reasons(decide(stored)) == {
        "a": "failed: boom",
        "b": "waiting for an answer",
        "c": "skipped: cancelled",
    }
    set_result(stored, "a", status=NodeStatus.FAILED, error=None)
    set_result(stored, "b", status=NodeStatus.WAITING, reason="at 'ask'")
    set_result(stored, "c", status=NodeStatus.SKIPPED, reason=None)
    assert reasons(decide(stored)) == {
        "a": "failed: no message",
        "b": "at 'ask'",
        "c": "skipped",
    }


def test_an_edit_reruns_the_node_and_what_follows(stored: Checkpoint) -> None:
    plan = decide(
        stored, TEXT.replace("<template>b</template>", "<template>B</template>")
    )
    assert reasons(plan) == {
        "a": "succeeded, unchanged",
        "b": "definition changed",
        "c": "upstream changed",
    }
    assert plan.rerun == ("b", "c")
    assert set(plan.carried) == {"a"}


def test_warnings_name_the_node_and_join_when_there_are_several(
    stored: Checkpoint,
) -> None:
    del stored.results["b"]
    stored.in_flight = (
        Intent(node="b", what="sends an email", owner="b"),
        Intent(node="inner", what="posts", owner="b", block="b", index=0),
        Intent(node="gone", what="posts", owner="not-in-the-flow"),
    )
    plan = decide(stored)
    (warned,) = [d for d in plan.decisions if d.warning is not None]
    assert warned.node_id == "b"
    assert warned.warning == (
        "it was running when the run stopped and sends an email: running it again may "
        "do that twice; 'inner' inside it was running when the run stopped and posts: "
        "running it again may do that twice"
    )
    assert [i.node for i in plan.in_flight] == ["b", "inner"]  # carried while b reruns


def test_intents_of_nodes_that_are_reused_are_dropped(stored: Checkpoint) -> None:
    stored.in_flight = (Intent(node="a", what="posts", owner="a"),)
    plan = decide(stored)  # a succeeded after the intent: nothing to warn about
    assert plan.in_flight == ()
    assert all(d.warning is None for d in plan.decisions)


def test_nested_results_follow_their_owner(tmp_path: Path) -> None:
    text = (
        "---\nname: nest\nversion: 1.0.0\n---\n<workflow>\n"
        '<if id="gate" condition="true"><then>'
        '<transform id="inner" type="template"><template>i</template></transform>'
        "</then></if>\n"
        '<transform id="after" type="template" input="gate"><template>x</template>'
        "</transform>\n</workflow>\n"
    )
    flow = tmp_path / "nest.flow.md"
    flow.write_text(text)
    path = maidit_jupyter.run_sync(flow).checkpoint_path
    assert path is not None
    checkpoint = load_checkpoint(path)
    checkpoint.results["ghost"] = checkpoint.results["inner"]
    plan = decide(checkpoint, text)
    assert "inner" in plan.carried  # its owner is reused
    assert plan.dropped == ("ghost",)
    edited = decide(load_checkpoint(path), text.replace("<template>i<", "<template>j<"))
    assert "inner" not in edited.carried  # its owner runs again


def test_a_result_that_is_not_success_keeps_its_reason_through_reuse_of_others(
    stored: Checkpoint,
) -> None:
    set_result(
        stored, "c", status=NodeStatus.FAILED, error=NodeError(message="x", code="Y")
    )
    plan = decide(stored)
    assert plan.rerun == ("c",)
    reused = plan.reused
    assert set(reused) == {"a", "b"}
    assert all(r.reused for r in reused.values())
