"""The checkpoint's less travelled paths: values it cannot store, writes after a failure,
a state folder it cannot create, journals it cannot read, and what a resume plan prints.
"""

from __future__ import annotations

import decimal
import json
from pathlib import Path

import pytest

import maidit_jupyter
from maidit_jupyter import CheckpointError, NodeStatus, RunStatus
from maidit_jupyter.checkpoints import (
    can_resume,
    document as document_module,
    journal_path,
    load_checkpoint,
)
from maidit_jupyter.checkpoints.document import (
    encode_iteration,
    encode_output,
    encode_result,
    item_hash,
)
from maidit_jupyter.checkpoints.hashing import _canonical, flow_hash, node_hashes
from maidit_jupyter.checkpoints.writer import CheckpointWriter
from maidit_jupyter.errors import PersistenceError
from maidit_jupyter.execution.state import Intent, NodeResult
from maidit_jupyter.expressions.values import UNDEFINED
from maidit_jupyter.persistence.lock import RunLock
from maidit_jupyter.redaction import SecretMask
from maidit_jupyter.validation.validator import check_document
from tests.flows import write_flow_with_module

NO_SECRETS = SecretMask(())


class Opaque:
    """A Python object a checkpoint cannot hold."""


def simple_flow(tmp_path: Path) -> Path:
    return write_flow_with_module(
        tmp_path,
        "edges",
        "edgefns",
        "def fail(data=None):\n    raise ValueError('no')\n",
        '<transform id="a" type="template"><template>x</template></transform>\n'
        '<transform id="b" type="python" input="a" function="edgefns:fail"/>',
    )


# -- what can be stored ---------------------------------------------------------------


def test_items_and_outputs_that_are_not_json_are_not_recorded() -> None:
    """A foreach item or iteration output that is not JSON has no hash and no record:
    a resume runs that iteration again instead of trusting a lossy copy."""
    assert item_hash({"a": [1, 2]}) == item_hash({"a": [1, 2]})
    assert item_hash(Opaque()) is None
    assert item_hash({"deep": [float("nan")]}) is None
    assert item_hash([UNDEFINED]) == item_hash([None])  # undefined is stored as null
    assert encode_iteration(0, "h", Opaque(), NO_SECRETS) is None
    assert encode_iteration(0, "h", 1, NO_SECRETS, {"vars": Opaque()}) is None
    stored = encode_iteration(0, "h", 1, NO_SECRETS, {"vars": {"n": 1}})
    assert stored is not None
    assert json.loads(stored) == {
        "index": 0,
        "item": "h",
        "output": 1,
        "state": {"vars": {"n": 1}},
    }


def test_a_reused_result_says_so_in_the_checkpoint() -> None:
    result = NodeResult(node_id="a", status=NodeStatus.SUCCESS, output=1, reused=True)
    entry = json.loads(encode_result(result, None, NO_SECRETS))
    assert entry["reused"] is True
    fresh = NodeResult(node_id="a", status=NodeStatus.SUCCESS, output=1)
    assert "reused" not in json.loads(encode_result(fresh, None, NO_SECRETS))


def test_definition_hashes_ignore_positions_and_hash_unknown_values_by_repr() -> None:
    assert _canonical(decimal.Decimal("1.50")) == "Decimal('1.50')"
    assert _canonical({"k": [1, {2}]}) == (("k", (1, ("2",))),)


def test_a_node_a_checkpoint_routes_to_is_part_of_the_checkpoints_hash() -> None:
    """Editing the node an action jumps to re-runs the checkpoint node on resume."""
    template = (
        "---\nname: r\nversion: 1.0.0\n---\n<workflow>\n"
        '<checkpoint id="ask"><prompt>go?</prompt>'
        '<action id="yes" label="Yes" goto="post"/></checkpoint>\n'
        '<transform id="post" type="template"><template>{text}</template></transform>\n'
        "</workflow>\n"
    )

    def hashes(text: str) -> dict[str, str]:
        checked = check_document(template.format(text=text))
        assert checked.workflow is not None
        assert checked.plan is not None
        found = node_hashes(checked.workflow, checked.plan, {})
        return {node_id: h.effective for node_id, h in found.items()}

    before, after = hashes("posted"), hashes("posted again")
    assert before["ask"] != after["ask"]


# -- loading ----------------------------------------------------------------------------


def test_a_missing_checkpoint_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"checkpoint not found: .*nope\.json"):
        load_checkpoint(tmp_path / "nope.json")


def test_a_checkpoint_over_the_size_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = maidit_jupyter.run_sync(simple_flow(tmp_path)).checkpoint_path
    assert path is not None
    monkeypatch.setattr(document_module, "MAX_BYTES", 64)
    with pytest.raises(CheckpointError, match="is larger than 2 GiB"):
        load_checkpoint(path)


def test_a_journal_that_cannot_be_read_is_a_checkpoint_error(tmp_path: Path) -> None:
    path = maidit_jupyter.run_sync(simple_flow(tmp_path)).checkpoint_path
    assert path is not None
    journal_path(path).mkdir()  # something is there, but not a journal
    with pytest.raises(CheckpointError, match="journal"):
        load_checkpoint(path)


def test_can_resume_is_false_when_the_lock_cannot_be_taken(tmp_path: Path) -> None:
    """A crashed run whose lock file is not a file: not resumable (and no exception)."""
    path = maidit_jupyter.run_sync(simple_flow(tmp_path)).checkpoint_path
    assert path is not None
    data = json.loads(path.read_text())
    data["status"] = "running"
    path.write_text(json.dumps(data))
    lock = path.with_name(path.name + ".lock")
    lock.unlink()
    lock.mkdir()
    assert can_resume(path) is False


# -- the resume plan as printed ---------------------------------------------------------


def test_the_plan_names_a_changed_flow_and_dropped_nodes(tmp_path: Path) -> None:
    flow = simple_flow(tmp_path)
    first = maidit_jupyter.run_sync(flow)
    assert first.status is RunStatus.FAILED
    assert first.checkpoint_path is not None
    flow.write_text(
        flow.read_text().replace(
            '<transform id="b" type="python" input="a" function="edgefns:fail"/>', ""
        )
    )
    again = maidit_jupyter.resume_sync(first.checkpoint_path)
    assert again.status is RunStatus.COMPLETED
    assert [d.node_id for d in again.resume_plan] == ["a"]


def test_describe_lists_the_flow_change_and_the_dropped_nodes(tmp_path: Path) -> None:
    from maidit_jupyter.checkpoints.resume import plan_resume

    flow = simple_flow(tmp_path)
    first = maidit_jupyter.run_sync(flow)
    assert first.checkpoint_path is not None
    stored = load_checkpoint(first.checkpoint_path)
    text = flow.read_text().replace(
        '<transform id="b" type="python" input="a" function="edgefns:fail"/>', ""
    )
    checked = check_document(text)
    assert checked.workflow is not None
    assert checked.plan is not None
    hashes = node_hashes(checked.workflow, checked.plan, {})
    plan = plan_resume(stored, checked.plan, hashes, "another flow")
    lines = plan.describe()
    assert lines[0] == "the flow file changed since the checkpoint was written"
    assert "drop  b: no longer in the flow" in lines


def test_a_result_stored_without_hashes_runs_again(tmp_path: Path) -> None:
    flow = simple_flow(tmp_path)
    first = maidit_jupyter.run_sync(flow)
    assert first.checkpoint_path is not None
    data = json.loads(first.checkpoint_path.read_text())
    data["results"]["a"]["hashes"] = None
    first.checkpoint_path.write_text(json.dumps(data))
    again = maidit_jupyter.resume_sync(first.checkpoint_path)
    reasons = {d.node_id: d.reason for d in again.resume_plan}
    assert reasons["a"] == "no definition hash was stored"


# -- the writer -------------------------------------------------------------------------


def writer_at(path: Path) -> CheckpointWriter:
    return CheckpointWriter(
        path,
        header={"run_id": "r", "workflow": "w", "plan": [["a"]], "nodes": {}},
        hashes={},
        mask=NO_SECRETS,
    )


def test_a_state_folder_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where the folder goes")
    writer = writer_at(tmp_path / "taken" / "w" / "r.json")
    with pytest.raises(PersistenceError, match="cannot create the state directory"):
        writer.open()
    writer.close()  # nothing was opened: closing is harmless


def test_after_a_failed_write_nothing_more_is_written(tmp_path: Path) -> None:
    """A writer that failed once keeps its error and writes nothing after it (the run
    stops with that error; later records must not land after a gap)."""
    path = tmp_path / "w" / "r.json"
    writer = writer_at(path)
    writer.open()
    size = journal_path(path).stat().st_size
    writer.failure = PersistenceError("disk full")
    writer.effect_started(Intent(node="a", what="sends an email", owner="a"))
    writer.node_finished(NodeResult(node_id="a", status=NodeStatus.SUCCESS, output=1))
    writer.iteration_finished("each", 0, "item", "out")
    writer.loop_iteration_finished("loop", 0, "out", {"vars": {}})
    assert journal_path(path).stat().st_size == size
    writer.close()


def test_iterations_the_checkpoint_cannot_hold_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "w" / "r.json"
    writer = writer_at(path)
    writer.open()
    writer.iteration_finished("each", 0, "item", Opaque())  # output not JSON
    assert "each" not in writer.iterations
    writer.loop_iteration_finished("loop", 0, 1, {"vars": {}})
    assert 0 in writer.iterations["loop"]
    writer.loop_iteration_finished("loop", 1, Opaque(), {"vars": {}})
    assert "loop" not in writer.iterations  # a resume starts that loop again
    writer.close()
    writer.node_finished(NodeResult(node_id="a", status=NodeStatus.SUCCESS, output=1))
    assert writer.failure is None  # after close: kept in memory, nothing written


def test_a_vanished_journal_does_not_stop_the_final_snapshot(tmp_path: Path) -> None:
    import anyio

    from maidit_jupyter.execution.state import RunRecord

    path = tmp_path / "w" / "r.json"
    writer = writer_at(path)
    writer.open()
    journal_path(path).unlink()  # someone removed it: the final snapshot still lands
    record = RunRecord(
        run_id="r",
        workflow="w",
        status=RunStatus.COMPLETED,
        started_at=0.0,
        finished_at=1.0,
        waves_executed=1,
        results={},
    )
    anyio.run(writer.finish, record)
    assert json.loads(path.read_text())["status"] == "completed"
    assert writer.failure is None
    with RunLock(path):  # the writer released its lock
        pass
    anyio.run(writer.finish, record)  # finishing again rewrites the same snapshot
    assert json.loads(path.read_text())["status"] == "completed"
    assert writer.failure is None


def test_describe_prints_a_warning_under_its_node() -> None:
    from maidit_jupyter.checkpoints.resume import NodeDecision, ResumePlan

    plan = ResumePlan(
        decisions=(
            NodeDecision(node_id="a", rerun=False, reason="succeeded, unchanged"),
            NodeDecision(
                node_id="mail", rerun=True, reason="did not run", warning="may repeat"
            ),
        )
    )
    assert plan.describe() == [
        "reuse a: succeeded, unchanged",
        "run   mail: did not run",
        "  warning: may repeat",
    ]


def test_an_item_hash_ignores_key_order_and_takes_any_text() -> None:
    """The same foreach item read again with its keys in another order is the same item
    (its finished iteration is reused); text from a non-UTF-8 source hashes too."""
    assert item_hash({"b": 1, "a": [2, 3]}) == item_hash({"a": [2, 3], "b": 1})
    assert item_hash({"b": 1}) != item_hash({"b": 2})
    assert item_hash("caf\udce9") is not None


def test_outputs_json_cannot_hold_are_not_stored_and_say_why() -> None:
    assert encode_output(float("nan"), NO_SECRETS) == (
        None,
        "not JSON (builtins.float)",
    )
    assert encode_output(Opaque(), NO_SECRETS)[1] == (
        f"not JSON ({Opaque.__module__}.Opaque)"
    )
    assert encode_output({"x": UNDEFINED}, NO_SECRETS) == ('{"x": null}', None)
    assert encode_output(UNDEFINED, NO_SECRETS) == (None, None)
    mask = SecretMask(["hunter22"])
    assert encode_output({"pw": "hunter22"}, mask) == (None, "holds a secret value")


def test_a_result_without_a_reason_stores_null() -> None:
    result = NodeResult(node_id="a", status=NodeStatus.SUCCESS, output=1)
    assert json.loads(encode_result(result, None, NO_SECRETS))["reason"] is None


def test_the_flow_hash_does_not_see_line_endings() -> None:
    """A flow saved again with Windows or old Mac line endings is the same flow: its
    resume does not report "the flow file changed"."""
    head = "---\nname: le\nversion: 1.0.0\n---\n"
    body = (
        '<workflow>\n<transform id="a" type="template"><template>x</template>'
        "</transform>\n</workflow>\n"
    )

    def hash_of(source: str) -> str:
        checked = check_document(source)
        assert checked.workflow is not None
        return flow_hash(checked.workflow)

    unix = hash_of(head + body)
    assert unix.startswith("blake2b:")
    assert hash_of((head + body).replace("\n", "\r\n")) == unix
    assert hash_of(head + body.replace("\n", "\r")) == unix
    assert hash_of(head + body.replace("<template>x", "<template>y")) != unix


def test_moving_a_node_keeps_its_hashes_and_editing_it_does_not() -> None:
    """Positions and the whitespace between nodes are not part of a node's definition:
    a node moved down, or re-indented, is reused on resume; an edit is not."""
    head = "---\nname: mv\nversion: 1.0.0\nconfig:\n  who:\n    type: string\n---\n"
    node_a = '<transform id="a" type="template"><template>{{ $config.who }}</template>'
    node_b = '<transform id="b" type="template" input="a"><template>b</template>'

    def hashes(body: str, config: dict[str, str]) -> dict[str, tuple[str, str, str]]:
        checked = check_document(head + f"<workflow>\n{body}\n</workflow>\n")
        assert checked.workflow is not None
        assert checked.plan is not None
        found = node_hashes(checked.workflow, checked.plan, config, salt="run")
        return {k: (h.definition, h.config, h.effective) for k, h in found.items()}

    plain = hashes(f"{node_a}</transform>\n{node_b}</transform>", {"who": "x"})
    moved = hashes(
        f"\n\n   {node_a}</transform>\n\n\n      {node_b}</transform>", {"who": "x"}
    )
    assert moved == plain
    edited = hashes(
        f"{node_a}</transform>\n{node_b.replace('>b<', '>c<')}</transform>",
        {"who": "x"},
    )
    assert edited["a"] == plain["a"]
    assert edited["b"][0] != plain["b"][0]
    other_config = hashes(f"{node_a}</transform>\n{node_b}</transform>", {"who": "y"})
    assert other_config["a"][1] != plain["a"][1]  # a reads $config.who
    assert other_config["b"][1] == plain["b"][1]  # b does not...
    assert other_config["b"][2] != plain["b"][2]  # ...but its upstream changed
    # a config value from a non-UTF-8 environment (surrogates) hashes too
    lone = hashes(f"{node_a}</transform>\n{node_b}</transform>", {"who": "x\udce9"})
    assert lone["a"][1] != plain["a"][1]
