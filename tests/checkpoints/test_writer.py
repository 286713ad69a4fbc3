"""The checkpoint writer: cheap per node, durable in groups, fatal on a failed write."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

import maidit_jupyter
from maidit_jupyter import NodeStatus, RunStatus
from maidit_jupyter.checkpoints import (
    journal_path,
    load_checkpoint,
    writer as writer_module,
)
from maidit_jupyter.persistence import durable
from maidit_jupyter.persistence.durable import FileOps


class Counting(FileOps):
    """Counts fsyncs and journal records; can fail the n-th write with an errno."""

    def __init__(self, fail_write: int = 0, err: int = errno.ENOSPC) -> None:
        super().__init__()
        self.fsyncs = 0
        self.writes = 0
        self.bytes = 0
        self.fail_write = fail_write
        self.err = err

    def fsync(self, fd: int) -> None:
        self.fsyncs += 1
        super().fsync(fd)

    def fsync_dir(self, path: Path) -> None:
        self.fsyncs += 1
        super().fsync_dir(path)

    def write(self, fd: int, data: bytes | memoryview) -> int:
        self.writes += 1
        if self.writes == self.fail_write:
            raise OSError(self.err, "injected")
        written = super().write(fd, data)
        self.bytes += written
        return written


def chain(tmp_path: Path, length: int) -> Path:
    nodes = ['<transform id="n0" type="template"><template>0</template></transform>']
    nodes += [
        f'<transform id="n{i}" type="template" input="n{i - 1}">'
        f"<template>{i}</template></transform>"
        for i in range(1, length)
    ]
    flow = tmp_path / "chain.flow.md"
    flow.write_text(
        "---\nname: chain\nversion: 1.0.0\n---\n<workflow>\n"
        + "\n".join(nodes)
        + "\n</workflow>\n"
    )
    return flow


def test_a_long_chain_pays_a_handful_of_fsyncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1,000 waves, 1,000 node records: the fsyncs come from snapshots, not per node."""
    ops = Counting()
    monkeypatch.setattr(durable, "_DEFAULT_OPS", ops)
    run = maidit_jupyter.run_sync(chain(tmp_path, 1000))
    assert run.status is RunStatus.COMPLETED
    # open: snapshot (file + dir) and journal creation (dir); end: snapshot (file + dir)
    assert ops.fsyncs <= 8, ops.fsyncs
    assert ops.writes >= 1000  # one record per node
    assert run.checkpoint_path is not None
    stored = load_checkpoint(run.checkpoint_path)
    assert len(stored.results) == 1000


def test_compaction_keeps_checkpoint_writes_linear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Snapshots are rewritten only when the journal outgrows them, so all the bytes a
    run writes stay within a small multiple of its final checkpoint."""
    monkeypatch.setattr(writer_module, "COMPACT_MIN_BYTES", 2000)
    ops = Counting()
    monkeypatch.setattr(durable, "_DEFAULT_OPS", ops)
    compactions: list[int] = []
    real = writer_module.CheckpointWriter._compact

    def spy(self: writer_module.CheckpointWriter) -> None:
        real(self)
        compactions.append(self.seq)

    monkeypatch.setattr(writer_module.CheckpointWriter, "_compact", spy)
    run = maidit_jupyter.run_sync(chain(tmp_path, 1500))
    assert run.status is RunStatus.COMPLETED
    assert compactions
    assert run.checkpoint_path is not None
    final = run.checkpoint_path.stat().st_size
    assert ops.bytes < 6 * final, (ops.bytes, final)
    assert len(load_checkpoint(run.checkpoint_path).results) == 1500


def test_a_failed_journal_write_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC on a journal append: the run fails with CHECKPOINT_FAILED naming the file,
    the rest is skipped, and the checkpoint stays readable (and resumable)."""
    ops = Counting(fail_write=12)
    monkeypatch.setattr(durable, "_DEFAULT_OPS", ops)
    run = maidit_jupyter.run_sync(chain(tmp_path, 30))
    assert run.status is RunStatus.FAILED
    assert run.error is not None
    assert run.error.code == "CHECKPOINT_FAILED"
    assert ".journal" in run.error.message
    assert "appending a record failed: ENOSPC" in run.error.message
    statuses = [result.status for result in run.results.values()]
    assert NodeStatus.SKIPPED in statuses
    skipped = [r for r in run.results.values() if r.status is NodeStatus.SKIPPED]
    assert skipped[0].reason == "cancelled: the checkpoint could not be written"
    assert run.checkpoint_path is not None
    monkeypatch.setattr(durable, "_DEFAULT_OPS", FileOps())
    stored = load_checkpoint(run.checkpoint_path)
    assert stored.status is RunStatus.RUNNING
    assert maidit_jupyter.can_resume(run.checkpoint_path)
    resumed = maidit_jupyter.resume_sync(run.checkpoint_path)
    assert resumed.status is RunStatus.COMPLETED
    assert resumed.outputs["n29"] == "29"


def test_the_journal_is_replayed_over_the_snapshot(tmp_path: Path) -> None:
    """A checkpoint left mid-run (snapshot + journal, torn last record) reads back."""
    run = maidit_jupyter.run_sync(chain(tmp_path, 5))
    assert run.checkpoint_path is not None
    path = run.checkpoint_path
    data = json.loads(path.read_text())
    results = data.pop("results")
    data.update(status="running", journal_seq=3, results={"n0": results["n0"]})
    path.write_text(json.dumps(data))
    with durable.JournalWriter(journal_path(path), fsync=False) as journal:
        # records up to seq 3 are in the snapshot already and must be skipped
        journal.append(b'{"seq":3,"node":"n0","result":' + b"{}" + b"}")
        for seq, node in enumerate(["n1", "n2"], start=4):
            entry = json.dumps(results[node]).encode()
            journal.append(
                b'{"seq":%d,"node":"%s","result":%s}' % (seq, node.encode(), entry)
            )
    with journal_path(path).open("ab") as handle:
        handle.write(b"MJR1\x10\x00")  # a torn record: the crash hit mid-append
    stored = load_checkpoint(path)
    assert list(stored.results) == ["n0", "n1", "n2"]
    assert stored.journal_torn
    assert stored.journal_seq == 5
    resumed = maidit_jupyter.resume_sync(path)
    assert resumed.status is RunStatus.COMPLETED
    assert [r.node_id for r in resumed.results.values() if r.reused] == [
        "n0",
        "n1",
        "n2",
    ]
    assert not journal_path(path).exists()
