"""Checkpoint nodes: approvers, routing, reject, timeout + default, pause and resume."""

from __future__ import annotations

import io
import shutil
import time
from pathlib import Path

import anyio
import pytest

import maidit_jupyter
from maidit_jupyter import FlowRun, NodeStatus, RunStatus
from maidit_jupyter.cli.main import main
from maidit_jupyter.execution.approval import (
    Answer,
    ApprovalRequest,
    Choice,
    PolicyApprover,
    TerminalApprover,
    parse_answer,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

GATE = """
<transform id="draft" type="template"><template>draft of {{ $input }}</template></transform>
<checkpoint id="review" input="draft"{attrs}>
  <prompt>Publish **{{ input }}**?</prompt>
  <action id="approve" label="Publish" goto="publish"/>
  <action id="reject" label="Discard" goto="discard"/>
  <action id="revise" label="Send back" goto="revise-it"/>
</checkpoint>
<transform id="publish" type="template" input="draft"><template>published {{ input }} ({{ $checkpoint.input }})</template></transform>
<transform id="discard" type="template"><template>discarded</template></transform>
<transform id="revise-it" type="template"><template>revise: {{ $checkpoint.input }}</template></transform>
<transform id="after" type="template" input="review"><template>after {{ input.action }}</template></transform>
"""


def run(tmp_path: Path, body: str, **options: object) -> FlowRun:
    flow = tmp_path / "gate.flow.md"
    flow.write_text(
        "---\nname: gate\nversion: 1.0.0\n---\n<workflow>\n" + body + "\n</workflow>\n"
    )
    return maidit_jupyter.run_sync(flow, workflow_input="memo", **options)


def reason(flow_run: FlowRun, node_id: str) -> str | None:
    return flow_run.results[node_id].reason


def test_the_chosen_action_routes_and_the_others_are_skipped(tmp_path: Path) -> None:
    flow_run = run(
        tmp_path,
        GATE.replace("{attrs}", ' allow-input="true"'),
        answers={"review": "approve:ship it"},
    )
    assert flow_run.status is RunStatus.COMPLETED
    outcome = flow_run.outputs["review"]
    assert outcome["action"] == "approve"
    assert outcome["input"] == "ship it"
    assert outcome["goto"] == "publish"
    assert outcome["timedOut"] is False
    assert flow_run.outputs["publish"] == "published draft of memo (ship it)"
    assert flow_run.outputs["after"] == "after approve"
    assert reason(flow_run, "discard") == "not chosen at checkpoint 'review'"
    assert reason(flow_run, "revise-it") == "not chosen at checkpoint 'review'"


def test_reject_fails_the_checkpoint_and_skips_its_descendants(tmp_path: Path) -> None:
    flow_run = run(tmp_path, GATE.replace("{attrs}", ""), answers={"review": "reject"})
    assert flow_run.status is RunStatus.FAILED
    error = flow_run.results["review"].error
    assert error is not None
    assert error.code == "CHECKPOINT_REJECTED"
    assert error.message == "checkpoint 'review' was rejected"
    assert flow_run.outputs["discard"] == "discarded"  # reject's own target ran
    assert flow_run.results["after"].status is NodeStatus.SKIPPED
    assert reason(flow_run, "publish") == "not chosen at checkpoint 'review'"


def test_a_false_condition_skips_the_gate(tmp_path: Path) -> None:
    body = GATE.replace("{attrs}", ' condition="length(input) > 100"')
    flow_run = run(tmp_path, body)  # nobody answers, yet nothing waits
    assert flow_run.status is RunStatus.COMPLETED
    assert flow_run.outputs["review"]["skipped"] is True
    assert flow_run.outputs["after"] == "after approve"
    assert reason(flow_run, "publish") == "not chosen at checkpoint 'review'"


class Silent:
    """An approver that never answers."""

    async def ask(self, request: ApprovalRequest) -> Answer | None:
        await anyio.sleep(30)
        return None


def test_the_timeout_takes_the_default_action(tmp_path: Path) -> None:
    body = GATE.replace("{attrs}", ' timeout="0.1" default="revise"')
    started = time.perf_counter()
    flow_run = run(tmp_path, body, approver=Silent())
    assert time.perf_counter() - started < 2
    assert flow_run.outputs["review"]["action"] == "revise"
    assert flow_run.outputs["review"]["timedOut"] is True
    assert flow_run.outputs["revise-it"] == "revise: "
    no_default = run(
        tmp_path, GATE.replace("{attrs}", ' timeout="0.1"'), approver=Silent()
    )
    error = no_default.results["review"].error
    assert error is not None
    assert (
        error.message
        == "checkpoint 'review' was rejected by its default after the timeout"
    )


def test_an_unknown_action_is_a_clear_failure(tmp_path: Path) -> None:
    flow_run = run(tmp_path, GATE.replace("{attrs}", ""), answers={"review": "maybe"})
    error = flow_run.results["review"].error
    assert error is not None
    assert error.code == "CHECKPOINT_UNKNOWN_ACTION"
    assert (
        "has no action 'maybe'; its actions are approve, reject, revise"
        in error.message
    )


def test_without_an_answer_the_run_pauses_and_resumes_with_one(tmp_path: Path) -> None:
    paused = run(tmp_path, GATE.replace("{attrs}", ""))
    assert paused.status is RunStatus.PAUSED
    assert paused.results["review"].status is NodeStatus.WAITING
    assert paused.results["after"].reason == "paused at checkpoint 'review'"
    assert paused.can_resume
    assert paused.checkpoint_path is not None
    resumed = maidit_jupyter.resume_sync(
        paused.checkpoint_path, answers={"review": "approve"}
    )
    assert resumed.status is RunStatus.COMPLETED
    assert resumed.results["draft"].reused
    assert resumed.outputs["publish"].startswith("published draft of memo")


def test_policies_answer_every_checkpoint(tmp_path: Path) -> None:
    body = GATE.replace("{attrs}", ' default="revise"')
    assert (
        run(tmp_path, body, checkpoint_policy="approve").status is RunStatus.COMPLETED
    )
    assert run(tmp_path, body, checkpoint_policy="reject").status is RunStatus.FAILED
    assert (
        run(tmp_path, body, checkpoint_policy="default").outputs["review"]["action"]
        == "revise"
    )
    with pytest.raises(ValueError, match="unknown checkpoint policy 'maybe'"):
        PolicyApprover("maybe")


def test_a_checkpoint_inside_a_foreach_pauses_the_run(tmp_path: Path) -> None:
    body = (
        '<foreach id="each" collection="[1, 2]">'
        '<checkpoint id="ok"><prompt>item {{ item }}?</prompt></checkpoint>'
        "</foreach>"
    )
    flow_run = run(tmp_path, body)
    assert flow_run.status is RunStatus.PAUSED
    assert flow_run.results["each"].status is NodeStatus.WAITING
    assert run(tmp_path, body, answers={"ok": "approve"}).status is RunStatus.COMPLETED


def test_the_terminal_approver_asks_until_it_gets_an_answer() -> None:
    lines = iter(["nonsense\n", "2\n", "because\n"])
    out = io.StringIO()
    approver = TerminalApprover(read_line=lambda: next(lines), out=out)
    request = ApprovalRequest(
        node_id="review",
        prompt="Publish **it**?",
        choices=(
            Choice(id="approve", label="Publish"),
            Choice(id="reject", label="Discard"),
        ),
        allow_input=True,
    )
    answer = anyio.run(approver.ask, request)
    assert answer == Answer(action="reject", text="because")
    shown = out.getvalue()
    assert "Publish **it**?" in shown
    assert "[1] Publish (approve)" in shown
    assert "not one of the actions" in shown
    closed = TerminalApprover(read_line=lambda: "", out=io.StringIO())
    assert anyio.run(closed.ask, request) is None  # end of input: pause


def test_parse_answer() -> None:
    assert parse_answer("review=approve") == ("review", Answer(action="approve"))
    assert parse_answer("r=reject:too: long") == (
        "r",
        Answer(action="reject", text="too: long"),
    )
    with pytest.raises(ValueError, match="NODE=ACTION"):
        parse_answer("review")


def test_the_review_example_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    flow = tmp_path / "examples" / "review.flow.md"
    report = tmp_path / "examples" / "out" / "report.lines"
    assert (
        main(["run", str(flow), "--no-log", "--answer", "approve-report=reject"]) == 1
    )
    out = capsys.readouterr().out
    assert "Error: checkpoint 'approve-report' was rejected" in out
    assert not report.exists()
    assert main(["run", str(flow), "--no-log", "--checkpoints", "pause"]) == 1
    out = capsys.readouterr().out
    assert "Execution paused" in out
    assert "Waiting at: approve-report" in out
    checkpoint = out.split("Resume with: maidit resume ")[1].split()[0]
    assert not report.exists()
    code = main(
        ["resume", checkpoint, "--no-log", "--answer", "approve-report=approve"]
    )
    assert code == 0
    assert report.read_text().splitlines()[0] == "Ada (math): 93"
    assert main(["run", str(flow), "--no-log", "--answer", "nonsense"]) == 2
