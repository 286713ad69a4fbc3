"""Nodes that act outside the run and were running when it stopped: flagged on resume.

A result is recorded once, but an effect (a mail, a POST, a Python call) happens at
least once: the node runs again on resume. These tests stop runs inside such a node (the
process dies, or the run is cancelled) and check that the resume runs it again *and says
so*, that the flag survives a resume that did not get to run it, and that nodes whose
effect repeats without harm are never flagged.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import maidit_jupyter
from maidit_jupyter import CheckpointError, NodeStatus, RunStatus
from maidit_jupyter.checkpoints import journal_path, load_checkpoint
from maidit_jupyter.checkpoints.document import InFlight
from maidit_jupyter.execution.state import Intent
from maidit_jupyter.runtimes.effects import outside_effect
from maidit_jupyter.validation.validator import check_document
from tests.flows import write_flow_with_module
from tests.runs import (
    CRASHING_SENDER,
    maidit_until_killed,
    run_cancelled_after,
    sent,
)

EFFECTS = CRASHING_SENDER + textwrap.dedent(
    """
    import asyncio

    async def slow(data=None):
        with (HERE / "sent.txt").open("a") as handle:
            handle.write("slow\\n")
        await asyncio.sleep(30)

    def gate(data=None, fail="no"):
        if fail == "yes":
            raise ValueError("the gate is closed")
        return data
    """
)


def write_flow(tmp_path: Path, body: str, front: str = "") -> Path:
    return write_flow_with_module(tmp_path, "effects", "effects", EFFECTS, body, front)


def crash_run(flow: Path) -> Path:
    """Run ``flow`` in a child process that dies inside a node; its checkpoint."""
    maidit_until_killed(["run", "--no-log", str(flow)], flow.parent)
    (path,) = (flow.parent / ".maidit-state" / "effects").glob("*.json")
    return path


SEND = (
    '<sink id="notify" type="python" function="effects:send">'
    '<arg name="name" value="notify"/></sink>'
)


def test_a_node_running_when_the_process_died_is_flagged_on_resume(
    tmp_path: Path,
) -> None:
    flow = write_flow(
        tmp_path,
        '<transform id="prepare" type="template"><template>ready</template></transform>\n'
        + SEND.replace('<sink id="notify"', '<sink id="notify" input="prepare"'),
    )
    (tmp_path / "crash-notify").touch()
    path = crash_run(flow)
    checkpoint = load_checkpoint(path)
    assert checkpoint.status is RunStatus.RUNNING
    assert checkpoint.in_flight == (
        Intent(
            node="notify",
            what="calls effects:send, whose effects the run cannot see",
            owner="notify",
        ),
    )
    (tmp_path / "crash-notify").unlink()

    done = subprocess.run(
        [
            *(sys.executable, "-m", "maidit_jupyter", "resume"),
            *("--format", "json", "--no-log", str(path)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    decisions = {entry["node"]: entry for entry in json.loads(done.stdout)["resume"]}
    assert decisions["prepare"]["warning"] is None
    assert decisions["notify"]["rerun"] is True
    assert decisions["notify"]["warning"] == (
        "it was running when the run stopped and calls effects:send, whose effects "
        "the run cannot see: running it again may do that twice"
    )
    assert sent(tmp_path) == ["notify", "notify"]  # the effect did happen twice
    # once it ran to the end, nothing is in flight any more
    assert load_checkpoint(path).in_flight == ()


def test_the_text_plan_prints_the_warning(tmp_path: Path) -> None:
    flow = write_flow(tmp_path, SEND)
    (tmp_path / "crash-notify").touch()
    path = crash_run(flow)
    (tmp_path / "crash-notify").unlink()
    done = subprocess.run(
        [sys.executable, "-m", "maidit_jupyter", "resume", "--no-log", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    at = lines.index("run   notify: did not run")
    assert lines[at + 1].startswith("  warning: it was running when the run stopped")


def test_a_node_inside_a_foreach_flags_the_foreach(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path,
        "<foreach id=\"each\" collection=\"['x', 'y', 'z']\" item=\"who\">\n"
        '  <sink id="mail" type="python" function="effects:send">'
        '<arg name="name" value="{{ $item }}"/></sink>\n'
        "</foreach>",
    )
    (tmp_path / "crash-y").touch()
    path = crash_run(flow)
    (tmp_path / "crash-y").unlink()
    again = maidit_jupyter.resume_sync(path)
    assert again.status is RunStatus.COMPLETED
    (decision,) = again.resume_plan
    assert decision.node_id == "each"
    assert decision.warning is not None
    assert decision.warning.startswith(
        "'mail' inside it was running when the run stopped"
    )
    # x was recorded before the crash and is not sent again; y is, once more
    assert sent(tmp_path) == ["x", "y", "y", "z"]


def test_a_node_cancelled_while_running_is_flagged(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path, '<sink id="slow" type="python" function="effects:slow"/>'
    )
    first, seconds = run_cancelled_after(flow, 0.5)
    assert first.status is RunStatus.CANCELLED
    assert seconds < 10
    assert first.results["slow"].status is NodeStatus.SKIPPED
    assert first.checkpoint_path is not None
    stored = load_checkpoint(first.checkpoint_path)
    assert [(i.node, i.what) for i in stored.in_flight] == [
        ("slow", "calls effects:slow, whose effects the run cannot see")
    ]
    (tmp_path / "effects.py").write_text(
        EFFECTS.replace("await asyncio.sleep(30)", "return 'done'")
    )
    again = maidit_jupyter.resume_sync(first.checkpoint_path)
    assert again.status is RunStatus.COMPLETED
    assert again.resume_plan[0].warning is not None
    assert sent(tmp_path) == ["slow", "slow"]


def test_the_flag_survives_a_resume_that_did_not_run_the_node(tmp_path: Path) -> None:
    """The second run stops before the node: the third still warns (the first may have
    acted), because the flag is carried into the new checkpoint until the node settles."""
    flow = write_flow(
        tmp_path,
        '<transform id="gate" type="python" function="effects:gate">'
        '<arg name="fail" value="{{ $config.fail }}"/></transform>\n'
        + SEND.replace('<sink id="notify"', '<sink id="notify" input="gate"'),
        "config:\n  fail:\n    type: string\n    default: 'no'\n",
    )
    (tmp_path / "crash-notify").touch()
    path = crash_run(flow)
    (tmp_path / "crash-notify").unlink()

    second = maidit_jupyter.resume_sync(path, config={"fail": "yes"})
    assert second.status is RunStatus.FAILED
    assert second.results["notify"].status is NodeStatus.SKIPPED
    assert [i.node for i in load_checkpoint(path).in_flight] == ["notify"]
    third = maidit_jupyter.resume_sync(path, config={"fail": "no"})
    assert third.status is RunStatus.COMPLETED
    warned = {d.node_id: d.warning for d in third.resume_plan}
    assert warned["gate"] is None
    assert warned["notify"] is not None
    assert sent(tmp_path) == ["notify", "notify"]


def test_nodes_that_finished_are_not_flagged(tmp_path: Path) -> None:
    """A failed run whose effect nodes all finished: nothing in flight, no warning."""
    flow = write_flow(
        tmp_path,
        SEND + '\n<transform id="gate" type="python" input="notify" '
        'function="effects:gate"><arg name="fail" value="yes"/></transform>',
    )
    first = maidit_jupyter.run_sync(flow)
    assert first.status is RunStatus.FAILED
    assert first.checkpoint_path is not None
    assert load_checkpoint(first.checkpoint_path).in_flight == ()
    again = maidit_jupyter.resume_sync(first.checkpoint_path)
    assert all(d.warning is None for d in again.resume_plan)


def test_damaged_in_flight_records_are_refused(tmp_path: Path) -> None:
    flow = write_flow(tmp_path, SEND)
    (tmp_path / "crash-notify").touch()
    path = crash_run(flow)
    data = json.loads(path.read_text())
    for damaged, message in [
        ({"notify": "x"}, "'in_flight' is not a list"),
        ([3], "an 'in_flight' entry is not an object"),
        (
            [{"node": "n", "what": "w", "owner": "n", "block": "b"}],
            "'index' is missing",
        ),
        (
            [{"node": "n", "what": "w", "owner": "n", "block": "b", "index": None}],
            "'block' and 'index' do not match",
        ),
        (
            [{"node": "n", "what": 1, "owner": "n", "block": None, "index": None}],
            "'what' has the wrong type",
        ),
    ]:
        data["in_flight"] = damaged
        path.write_text(json.dumps(data))
        with pytest.raises(CheckpointError, match=message):
            load_checkpoint(path)
    data["in_flight"] = []
    path.write_text(json.dumps(data))
    # the journal holds the intent written before the node ran
    assert [i.node for i in load_checkpoint(path).in_flight] == ["notify"]
    assert b'"effect":{"node":"notify"' in journal_path(path).read_bytes()


# -- when an intent settles -----------------------------------------------------------


def intent(
    node: str, owner: str | None = None, at: tuple[str, int] | None = None
) -> Intent:
    return Intent(
        node=node,
        what="acts",
        owner=owner or node,
        block=at[0] if at else None,
        index=at[1] if at else None,
    )


def test_a_scheduled_node_settles_by_its_own_result() -> None:
    for status, settled in [
        (NodeStatus.SUCCESS, True),
        (NodeStatus.FAILED, True),  # the failure is known and reported
        (NodeStatus.SKIPPED, False),  # cancelled while running: it may have acted
    ]:
        flight = InFlight([intent("a")])
        flight.finished("a", status)
        assert (flight.intents == ()) is settled


def test_a_nested_node_settles_by_its_iteration_or_its_owner_succeeding() -> None:
    flight = InFlight(
        [
            intent("mail", "each", ("each", 0)),
            intent("mail", "each", ("each", 1)),
            intent("post", "both"),  # in a parallel branch: no recorded iteration
        ]
    )
    flight.finished("mail", NodeStatus.SUCCESS)  # its own result is not enough:
    assert len(list(flight.intents)) == 3  # the iteration reruns on resume
    flight.iteration_finished("each", 0)
    assert [i.index for i in flight.intents if i.owner == "each"] == [1]
    flight.finished("each", NodeStatus.FAILED)  # the owner failed: item 1 reruns
    assert len(list(flight.intents)) == 2
    flight.finished("each", NodeStatus.SUCCESS)
    flight.finished("both", NodeStatus.SUCCESS)
    assert flight.intents == ()


# -- which nodes are flagged ----------------------------------------------------------

CASES = [
    ('<sink id="n" type="email" to="a@example.com"/>', "sends an email"),
    ('<transform id="n" type="ai" prompt="hi"/>', "calls a language model"),
    ('<source id="n" type="python" function="m:f"/>', "calls m:f"),
    ('<sink id="n" type="file"><path>o.json</path></sink>', None),
    ('<sink id="n" type="file" append="false"><path>o.txt</path></sink>', None),
    ('<sink id="n" type="file" append="true"><path>o.txt</path></sink>', "appends"),
    (
        '<sink id="n" type="file" append="{{ $config.a }}"><path>o</path></sink>',
        "appends",
    ),
    ('<source id="n" type="http" url="http://h/"/>', None),
    ('<source id="n" type="http" url="http://h/" method="head"/>', None),
    ('<source id="n" type="http" url="http://h/" method="POST"/>', "HTTP POST"),
    ('<sink id="n" type="http" url="http://h/"/>', "HTTP POST"),
    ('<sink id="n" type="http" url="http://h/" method="PATCH"/>', "HTTP PATCH"),
    ('<sink id="n" type="http" url="http://h/" method="PUT"/>', None),
    ('<sink id="n" type="http" url="http://h/" method="DELETE"/>', None),
    (
        '<sink id="n" type="http" url="http://h/" method="{{ $config.m }}"/>',
        "HTTP request",
    ),
    (
        (
            '<sink id="n" type="http" url="http://h/">'
            "<headers><Idempotency-Key>k1</Idempotency-Key></headers></sink>"
        ),
        None,
    ),
    (
        '<sink id="n" type="database" connection="sqlite::memory:" table="t"/>',
        "writes rows",
    ),
    (
        (
            '<sink id="n" type="database" connection="sqlite::memory:" table="t" '
            'operation="upsert" conflictColumns="id"/>'
        ),
        None,
    ),
    (
        '<source id="n" type="database" connection="sqlite::memory:" query="SELECT 1"/>',
        None,
    ),
    (
        (
            '<source id="n" type="database" connection="sqlite::memory:" '
            'query="DELETE FROM t RETURNING id"/>'
        ),
        "runs SQL that may change",
    ),
    ('<include id="n" workflow="child.flow.md"/>', "runs the flow child.flow.md"),
    ('<transform id="n" type="template"><template>x</template></transform>', None),
    ('<transform id="n" type="map" expression="item"/>', None),
    ('<delay id="n" duration="1ms"/>', None),
]


@pytest.mark.parametrize(("body", "expected"), CASES)
def test_which_nodes_act_outside_the_run(body: str, expected: str | None) -> None:
    checked = check_document(
        f"---\nname: x\nversion: 1.0.0\n---\n<workflow>\n{body}\n</workflow>\n"
    )
    assert checked.workflow is not None
    (node,) = checked.workflow.nodes
    effect = outside_effect(node)
    if expected is None:
        assert effect is None
    else:
        assert effect is not None
        assert expected in effect


def test_a_failed_owner_settles_only_its_own_intent() -> None:
    """A parallel whose own effect failed: the effect of a node in one of its branches
    may still have happened, so it stays in flight."""
    flight = InFlight([intent("both"), intent("post", "both")])
    flight.finished("both", NodeStatus.FAILED)
    assert [i.node for i in flight.intents] == ["post"]
