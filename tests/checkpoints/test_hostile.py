"""Damaged and hostile checkpoints (design/reliability.md A6): refused before anything runs.

The sample is a real checkpoint of a run that crashed twice inside a foreach (snapshot
with results, iterations and intents, plus a journal after it). Every damage of a field
the loader checks gives a :class:`CheckpointError` naming the problem; random structural
and byte mutations give a checkpoint or that error, never another exception; and a resume
refused for damage runs nothing (the ledger does not grow).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import maidit_jupyter
from maidit_jupyter import CheckpointError, MaiditError
from maidit_jupyter.checkpoints import journal_path, load_checkpoint
from tests import figures
from tests.flows import write_flow_with_module
from tests.runs import CRASHING_SENDER, maidit_until_killed, sent

BODY = """
<transform id="first" type="template"><template>go</template></transform>
<foreach id="each" input="first" collection="['x', 'y', 'z']" item="who" concurrency="1">
  <sink id="mail" type="python" function="fx:send"><arg name="name" value="{{ $item }}"/></sink>
</foreach>
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the flow, its module and a checkpoint left by two crashes."""
    folder = tmp_path_factory.mktemp("hostile")
    flow = write_flow_with_module(folder, "hs", "fx", CRASHING_SENDER, BODY)
    (folder / "crash-y").touch()
    maidit_until_killed(["run", "--no-log", str(flow)], folder)
    (checkpoint,) = (folder / ".maidit-state" / "hs").glob("*.json")
    (folder / "crash-y").unlink()
    (folder / "crash-z").touch()
    maidit_until_killed(["resume", "--no-log", str(checkpoint)], folder)
    (folder / "crash-z").unlink()
    loaded = load_checkpoint(checkpoint)
    assert loaded.results
    assert loaded.iterations
    assert loaded.in_flight
    assert journal_path(checkpoint).stat().st_size > 0
    return folder


def copy_of(sample: Path, where: Path) -> Path:
    """A fresh copy of the sample folder; its checkpoint's path."""
    if where.exists():
        shutil.rmtree(where)
    shutil.copytree(sample, where)
    (checkpoint,) = (where / ".maidit-state" / "hs").glob("*.json")
    return checkpoint


# -- every check of the loader --------------------------------------------------------

Edit = Callable[[dict[str, Any]], None]


def setter(*path: str | int, value: Any) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def deleter(*path: str | int) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return edit


def first_result(data: dict[str, Any]) -> str:
    return str(next(iter(data["results"])))


def in_result(key: str, value: Any) -> Edit:
    return lambda data: data["results"][first_result(data)].__setitem__(key, value)


def in_iteration(key: str, value: Any) -> Edit:
    return lambda data: data["iterations"]["each"][0].__setitem__(key, value)


DAMAGES: list[tuple[str, Edit, str]] = [
    ("no flow", deleter("flow"), "'flow' is missing"),
    ("flow hash", setter("flow", "hash", value=3), "'hash' has the wrong type"),
    ("plan", setter("plan", value=[["first", 3]]), "'plan' is not a list of lists"),
    ("plan type", setter("plan", value="first"), "'plan' has the wrong type"),
    ("secrets", setter("secrets", value=[1]), "'secrets' is not a list of names"),
    ("input", setter("input", value=[]), "'input' has the wrong type"),
    ("input stored", setter("input", "stored", value=1), "'stored' has the wrong type"),
    (
        "bool as number",
        setter("created_at", value=True),
        "'created_at' has the wrong type",
    ),
    ("resumes", setter("resumes", value=-1), "'resumes' is negative"),
    ("hashes", setter("nodes", "first", value=[]), "hashes are not an object"),
    ("hash text", setter("nodes", "first", "definition", value=1), "wrong type"),
    ("run error", setter("error", value="boom"), "'error' is not an object"),
    ("run error code", setter("error", value={"message": "m"}), "'code' is missing"),
    ("result", lambda d: d["results"].__setitem__("first", 7), "is not an object"),
    ("status", in_result("status", "exploded"), "unknown status 'exploded'"),
    ("result error", in_result("error", 5), "'error' is not an object"),
    ("attempts", in_result("attempts", -2), "'attempts' is negative"),
    ("iterations", setter("iterations", "each", value={}), "are not a list"),
    ("iteration", lambda d: d["iterations"]["each"].__setitem__(0, 1), "not an object"),
    ("iteration index", in_iteration("index", "0"), "'index' has the wrong type"),
    ("iteration state", in_iteration("state", [1]), "'state' is not an object"),
    ("iteration item", in_iteration("item", None), "'item' has the wrong type"),
    ("in flight", setter("in_flight", value={"a": 1}), "'in_flight' is not a list"),
    ("iterations type", setter("iterations", value=True), "'iterations' is not an obj"),
    ("journal seq", setter("journal_seq", value=-1), "'journal_seq' is negative"),
]


@pytest.mark.parametrize(
    ("edit", "message"), [d[1:] for d in DAMAGES], ids=[d[0] for d in DAMAGES]
)
def test_each_damaged_field_is_named(
    sample: Path, tmp_path: Path, edit: Edit, message: str
) -> None:
    checkpoint = copy_of(sample, tmp_path / "copy")
    data = json.loads(checkpoint.read_text())
    edit(data)
    checkpoint.write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint(checkpoint)
    assert str(checkpoint) in str(info.value)
    before = sent(tmp_path / "copy")
    with pytest.raises(CheckpointError):
        maidit_jupyter.resume_sync(checkpoint, flow=tmp_path / "copy" / "hs.flow.md")
    assert sent(tmp_path / "copy") == before  # refused before anything ran


def test_a_number_too_large_for_a_float_is_named(sample: Path, tmp_path: Path) -> None:
    checkpoint = copy_of(sample, tmp_path / "copy")
    text = re.sub(
        r'"updated_at": [0-9.e+]+', '"updated_at": 1e400', checkpoint.read_text()
    )
    checkpoint.write_text(text)
    with pytest.raises(CheckpointError, match="'updated_at' is not a finite number"):
        load_checkpoint(checkpoint)


JOURNAL_DAMAGES: list[tuple[str, bytes, str]] = [
    ("not an object", b"[1]", "a journal record is not an object"),
    ("no seq", b'{"node":"first"}', "'seq' is missing"),
    ("intent", b'{"seq":99,"effect":[]}', "a journal intent is not an object"),
    ("not JSON", b"{", "is not valid JSON"),
]


@pytest.mark.parametrize(
    ("record", "message"),
    [d[1:] for d in JOURNAL_DAMAGES],
    ids=[d[0] for d in JOURNAL_DAMAGES],
)
def test_damaged_journal_records_are_named(
    sample: Path, tmp_path: Path, record: bytes, message: str
) -> None:
    from maidit_jupyter.persistence.durable import JournalWriter

    checkpoint = copy_of(sample, tmp_path / "copy")
    journal = JournalWriter(journal_path(checkpoint), fsync=False)
    journal.append(record)
    journal.close()
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(checkpoint)


def test_a_damaged_record_in_the_middle_of_the_journal_is_refused(
    sample: Path, tmp_path: Path
) -> None:
    checkpoint = copy_of(sample, tmp_path / "copy")
    path = journal_path(checkpoint)
    data = bytearray(path.read_bytes())
    data[20] ^= 0xFF  # inside the first record's payload: its checksum fails
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="damaged record followed by more data"):
        load_checkpoint(checkpoint)


def test_a_checkpoint_that_is_a_directory_or_unreadable_is_named(
    sample: Path, tmp_path: Path
) -> None:
    checkpoint = copy_of(sample, tmp_path / "copy")
    checkpoint.unlink()
    checkpoint.mkdir()
    with pytest.raises(CheckpointError, match="cannot read the checkpoint"):
        load_checkpoint(checkpoint)


# -- random damage ----------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


@st.composite
def structural_damage(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    damaged: dict[str, Any] = json.loads(json.dumps(data))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(damaged)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = damaged
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            parent[path[-1]] = draw(JSON_VALUES)
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    return damaged


TRIALS = figures.scale(unit=150, ci=2000, long=20000)


@pytest.mark.reliability
def test_random_structural_damage_is_a_checkpoint_error_or_a_checkpoint(
    sample: Path, tmp_path: Path
) -> None:
    checkpoint = copy_of(sample, tmp_path / "base")
    original = json.loads(checkpoint.read_text())
    outcomes = {"refused": 0, "loaded": 0}

    @settings(
        max_examples=TRIALS,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(structural_damage(original))
    def check(damaged: dict[str, Any]) -> None:
        checkpoint.write_text(json.dumps(damaged))
        try:
            load_checkpoint(checkpoint)
        except CheckpointError:
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1

    check()
    assert outcomes["refused"] > outcomes["loaded"] > 0


@pytest.mark.reliability
def test_random_byte_damage_never_escapes_as_another_exception(
    sample: Path, tmp_path: Path
) -> None:
    checkpoint = copy_of(sample, tmp_path / "base")
    snapshot, journal = checkpoint.read_bytes(), journal_path(checkpoint).read_bytes()

    @settings(max_examples=TRIALS, deadline=None)
    @given(
        st.sampled_from(["snapshot", "journal"]),
        st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4),
        st.integers(0, 10**6),
    )
    def check(which: str, flips: list[tuple[int, int]], cut: int) -> None:
        data = bytearray(snapshot if which == "snapshot" else journal)
        for at, value in flips:
            data[at % len(data)] = value
        data = data[: max(1, len(data) - cut % len(data))]
        checkpoint.write_bytes(snapshot if which == "journal" else bytes(data))
        journal_path(checkpoint).write_bytes(
            journal if which == "snapshot" else bytes(data)
        )
        with contextlib.suppress(CheckpointError):
            load_checkpoint(checkpoint)

    check()


@pytest.mark.reliability
def test_a_damaged_checkpoint_that_still_loads_resumes_cleanly_or_refuses(
    sample: Path, tmp_path: Path
) -> None:
    """Damage that the loader accepts (a forged result for a node not in the flow, an
    edited output) is dropped or re-planned; the resume ends or says why, nothing else."""
    checkpoint = copy_of(sample, tmp_path / "copy")
    data = json.loads(checkpoint.read_text())
    forged = dict(data["results"]["first"], output="forged")
    data["results"]["ghost"] = forged  # a node that is not in the flow
    data["iterations"]["ghost"] = []
    checkpoint.write_text(json.dumps(data))
    try:
        again = maidit_jupyter.resume_sync(
            checkpoint, flow=tmp_path / "copy" / "hs.flow.md"
        )
    except MaiditError:
        pytest.fail("a loadable checkpoint must resume")
    assert again.status.value == "completed"
    assert "ghost" not in again.results
    assert sorted(sent(tmp_path / "copy")) == ["x", "y", "y", "z", "z"]
