"""Power loss at every durable step (design/reliability.md A3, figure 3).

``kill -9`` leaves the page cache to the kernel, which still writes it out; a power cut
does not. Here a clean in-process run of a reference flow goes through a
:class:`DiskModel`, a ``FileOps`` that performs every call and also keeps what a disk
would hold if the power went at that moment: a file's data is durable once the file is
fsynced, a name (created, renamed, removed) once its directory is fsynced; files that
existed before the run are durable. After every durable step ``k`` it builds three
images of the run's directory, as LazyFS or ALICE would:

* **lost**: only what was made durable (unsynced data and names are gone);
* **torn**: the same, with the last write cut at a seeded random length;
* **unrenamed**: every byte written reached the disk, but names not fsynced into their
  directory did not (renames and new files undone).

Each image is checked: its checkpoint loads (never torn: a damaged snapshot or a
journal damaged anywhere but its tail is a failure), the nodes it holds as done never
shrink from one step to the next (a node once durably recorded is not lost), and
resuming it (or running afresh, when no checkpoint survived) completes with the sink
files of an uninterrupted run.
"""

from __future__ import annotations

import os
import random
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest

from maidit_jupyter.checkpoints import load_checkpoint, writer
from maidit_jupyter.errors import PersistenceError
from maidit_jupyter.execution.launch import launch, prepare_resume
from maidit_jupyter.execution.state import NodeStatus, RunStatus
from maidit_jupyter.persistence import durable
from tests import figures
from tests.checkpoints.reference_flows import FLOW_FILE, FLOWS, ReferenceFlow
from tests.checkpoints.test_io_faults import (
    OLD,
    find_checkpoint,
    prepare_workdir,
    real,
    run_once,
)

MODES = ("lost", "torn", "unrenamed")
#: the folder of the checkpoints under the run's directory (``run_once``'s state_dir).
STATE_DIR = "state"
#: at the unit level every ``UNIT_STRIDE``-th step is imaged, on two flows.
UNIT_STRIDE = 7
UNIT_FLOWS = ("branchy", "chain")


# -- the disk model ------------------------------------------------------------------------


@dataclass
class Inode:
    """A file's bytes as the process sees them and as the disk holds them."""

    volatile: bytes = b""
    durable: bytes = b""


@dataclass
class Event:
    """One durable step: what changed, in model terms."""

    kind: str  # create | data | sync | rename | dirsync | unlink
    path: Path | None = None
    other: Path | None = None
    inode: int = -1
    data: bytes = b""


class DiskModel(durable.FileOps):
    """Performs every call and records what a disk would make of it."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []
        self.initial: dict[
            Path, bytes
        ] = {}  # files present before the run touched them
        self.inode_of: dict[Path, int] = {}  # the process's view of names
        self.fd_inode: dict[int, tuple[int, Path]] = {}
        self.count = 0
        self.guard = threading.RLock()  # sinks write from worker threads

    def _known(self, path: Path) -> int | None:
        """The inode ``path`` names now, registering a file that predates the run."""
        if path in self.inode_of:
            return self.inode_of[path]
        if os.path.lexists(path):
            self.count += 1
            self.inode_of[path] = self.count
            self.initial[path] = path.read_bytes() if path.is_file() else b""
            self.events.append(Event("exists", path, inode=self.count))
            return self.count
        return None

    def open(self, path: Path, flags: int, mode: int = 0o600) -> int:
        path = real(path)
        with self.guard:
            known = self._known(path)
            fd = super().open(path, flags, mode)
            if known is None:
                self.count += 1
                known = self.inode_of[path] = self.count
                self.events.append(Event("create", path, inode=known))
            self.fd_inode[fd] = (known, path)
        return fd

    def _data(self, fd: int) -> None:
        inode, path = self.fd_inode[fd]
        self.events.append(Event("data", path, inode=inode, data=path.read_bytes()))

    def write(self, fd: int, data: bytes | memoryview) -> int:
        with self.guard:
            written = super().write(fd, data)
            self._data(fd)
        return written

    def truncate(self, fd: int, length: int) -> None:
        with self.guard:
            super().truncate(fd, length)
            self._data(fd)

    def fsync(self, fd: int) -> None:
        with self.guard:
            super().fsync(fd)
            inode, path = self.fd_inode[fd]
            self.events.append(Event("sync", path, inode=inode))

    def close(self, fd: int) -> None:
        with self.guard:
            self.fd_inode.pop(fd, None)
            super().close(fd)

    def replace(self, src: Path, dst: Path) -> None:
        src, dst = real(src), real(dst)
        with self.guard:
            self._known(dst)
            super().replace(src, dst)
            inode = self.inode_of.pop(src)
            self.inode_of[dst] = inode
            self.events.append(Event("rename", src, dst, inode=inode))

    def fsync_dir(self, path: Path) -> None:
        path = real(path)
        with self.guard:
            super().fsync_dir(path)
            self.events.append(Event("dirsync", path))

    def on_step(self, name: str) -> None:
        """Where the engine counts on what it wrote being durable: a group commit of
        the journal, or a checkpoint snapshot in place (not a sink file's)."""
        with self.guard:
            last = self.events[-1] if self.events else None
            snapshot = (
                name == durable.CrashPoint.DIR_SYNCED
                and last is not None
                and last.kind == "dirsync"
                and last.path is not None
                and STATE_DIR in last.path.parts
            )
            if name == durable.CrashPoint.RECORD_SYNCED or snapshot:
                self.events.append(Event("claim"))

    def unlink(self, path: Path) -> None:
        path = real(path)
        with self.guard:
            self._known(path)
            super().unlink(path)
            self.inode_of.pop(path, None)
            self.events.append(Event("unlink", path))


@dataclass
class Disk:
    """The model replayed up to a step: names and bytes, volatile and durable."""

    names: dict[Path, int] = field(default_factory=dict)  # the process's view
    durable_names: dict[Path, int] = field(default_factory=dict)
    inodes: dict[int, Inode] = field(default_factory=dict)
    last_write: int | None = None

    def apply(self, event: Event) -> None:
        kind, path = event.kind, event.path
        assert path is not None or kind in ("dirsync", "claim")
        if kind == "claim":
            return
        if kind == "exists":
            content = event.data
            self.inodes[event.inode] = Inode(content, content)
            self.names[path] = self.durable_names[path] = event.inode  # type: ignore[index]
        elif kind == "create":
            self.inodes[event.inode] = Inode()
            self.names[path] = event.inode  # type: ignore[index]
        elif kind == "data":
            self.inodes[event.inode].volatile = event.data
            self.last_write = event.inode
        elif kind == "sync":
            inode = self.inodes[event.inode]
            inode.durable = inode.volatile
        elif kind == "rename":
            self.names[event.other] = self.names.pop(path)  # type: ignore[index,arg-type]
        elif kind == "unlink":
            self.names.pop(path, None)  # type: ignore[arg-type]
        else:  # dirsync: the directory's names as the process sees them become durable
            for name in {*self.names, *self.durable_names}:
                if name.parent == path:
                    if name in self.names:
                        self.durable_names[name] = self.names[name]
                    else:
                        self.durable_names.pop(name, None)

    def image(self, mode: str, rng: random.Random) -> dict[Path, bytes | None]:
        """Every file the run touched, as the disk would hold it (None: absent);
        ``mode="process"``: as the process sees it (no power lost)."""
        files: dict[Path, bytes | None] = dict.fromkeys(
            {*self.names, *self.durable_names}
        )
        if mode == "process":
            for name, number in self.names.items():
                files[name] = self.inodes[number].volatile
            return files
        for name, number in self.durable_names.items():
            inode = self.inodes[number]
            files[name] = inode.volatile if mode == "unrenamed" else inode.durable
        if mode == "torn" and self.last_write is not None:
            inode = self.inodes[self.last_write]
            tail = inode.volatile
            if tail.startswith(inode.durable) and len(tail) > len(inode.durable):
                cut = rng.randrange(len(inode.durable), len(tail) + 1)
                for name, number in self.durable_names.items():
                    if number == self.last_write:
                        files[name] = tail[:cut]
        return files


def with_exists_data(model: DiskModel) -> list[Event]:
    """The events, each 'exists' carrying the file's bytes from before the run."""
    for event in model.events:
        if event.kind == "exists" and event.path is not None:
            event.data = model.initial[event.path]
    return model.events


# -- one image ---------------------------------------------------------------------------


@dataclass
class Tally:
    images: int = 0
    torn: int = 0
    lost: int = 0
    problems: list[str] = field(default_factory=list)


def materialise(
    pristine: Path, target: Path, workdir: Path, files: dict[Path, bytes | None]
) -> None:
    """``target``: the run's directory before it started, then ``files`` on top."""
    shutil.copytree(pristine, target)
    for path, content in files.items():
        where = target / path.relative_to(workdir)
        if where.exists() or where.is_symlink():
            where.unlink()
        if content is not None:
            where.parent.mkdir(parents=True, exist_ok=True)
            where.write_bytes(content)


def resumed_status(checkpoint: Path | None, flow_path: Path) -> RunStatus | str:
    """How resuming the image's checkpoint (or running afresh without one) ends."""
    if checkpoint is None:
        ended = run_once(flow_path, None)
        return ended.record.status if ended.record is not None else repr(ended.raised)
    try:
        prepared = prepare_resume(checkpoint, flow=flow_path, sync_interval=0.0)
        return anyio.run(launch, prepared).status
    except Exception as exc:  # noqa: BLE001 - reported as the image's failure
        return repr(exc)


def done_nodes(checkpoint: Path) -> frozenset[str]:
    loaded = load_checkpoint(checkpoint)
    return frozenset(
        node_id
        for node_id, stored in loaded.results.items()
        if stored.result.status is NodeStatus.SUCCESS
    )


def judge(
    flow: ReferenceFlow,
    image_dir: Path,
    golden: dict[str, bytes],
    label: str,
    tally: Tally,
) -> frozenset[str] | None:
    """Load, resume and compare one image; returns the nodes its checkpoint holds."""
    tally.images += 1
    checkpoint = find_checkpoint(flow, image_dir)
    held: frozenset[str] | None = None
    if checkpoint is not None:
        try:
            held = done_nodes(checkpoint)
        except PersistenceError as exc:
            tally.torn += 1
            tally.problems.append(f"{label}: the checkpoint does not load: {exc}")
            return None
    status = resumed_status(checkpoint, image_dir / FLOW_FILE)
    outputs = {rel: (image_dir / rel).read_bytes() for rel in flow.sinks}
    if status is not RunStatus.COMPLETED or outputs != golden:
        tally.lost += 1
        tally.problems.append(f"{label}: the resume ended {status}, outputs differ")
    return held


def claimed_nodes(
    flow: ReferenceFlow, pristine: Path, workdir: Path, disk: Disk, where: Path
) -> frozenset[str]:
    """The nodes the checkpoint holds as the process sees it right after a sync: what
    the engine counts on having made durable (a group commit, a snapshot)."""
    materialise(pristine, where, workdir, disk.image("process", random.Random()))
    try:
        checkpoint = find_checkpoint(flow, where)
        return frozenset() if checkpoint is None else done_nodes(checkpoint)
    finally:
        shutil.rmtree(where)


# -- the test ------------------------------------------------------------------------------


def chosen_flows() -> Iterator[ReferenceFlow]:
    for flow in FLOWS.values():
        if figures.LEVEL or flow.name in UNIT_FLOWS:
            yield flow


@pytest.fixture
def engine_ops(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Restore the engine's FileOps and compaction threshold after the test."""
    monkeypatch.setattr(durable, "_DEFAULT_OPS", durable.FileOps())
    monkeypatch.setattr(writer, "COMPACT_MIN_BYTES", writer.COMPACT_MIN_BYTES)
    return monkeypatch


@pytest.mark.reliability
@pytest.mark.parametrize("flow", list(chosen_flows()), ids=lambda flow: flow.name)
def test_every_power_loss_state_resumes(
    flow: ReferenceFlow, tmp_path: Path, engine_ops: pytest.MonkeyPatch
) -> None:
    workdir, pristine = tmp_path / "run", tmp_path / "pristine"
    flow_path = prepare_workdir(flow, workdir)
    shutil.copytree(workdir, pristine)
    model = DiskModel()
    engine_ops.setattr(durable, "_DEFAULT_OPS", model)
    ended = run_once(flow_path, None)
    assert ended.record is not None, ended.raised
    assert ended.record.status is RunStatus.COMPLETED
    golden = {rel: (workdir / rel).read_bytes() for rel in flow.sinks}
    assert OLD not in golden.values()
    engine_ops.setattr(
        durable, "_DEFAULT_OPS", durable.FileOps()
    )  # resumes run plainly

    events = with_exists_data(model)
    steps = [i for i, e in enumerate(events) if e.kind not in ("exists", "claim")]
    stride = 1 if figures.LEVEL else UNIT_STRIDE
    rng = random.Random(f"power-loss-{flow.name}")
    tally, disk, held_before = Tally(), Disk(), frozenset[str]()
    claimed = frozenset[str]()  # what the engine had made durable by its own account
    chosen = set(steps[::stride]) | {steps[-1]}
    for index, event in enumerate(events):
        disk.apply(event)
        if event.kind == "claim":
            claimed = claimed_nodes(flow, pristine, workdir, disk, tmp_path / "claim")
        if index not in chosen:
            continue
        for mode in MODES:
            label = f"{flow.name} step {index} ({event.kind} {event.path}) {mode}"
            image_dir = tmp_path / f"image-{index}-{mode}"
            materialise(pristine, image_dir, workdir, disk.image(mode, rng))
            held = judge(flow, image_dir, golden, label, tally)
            if mode == "lost":
                held = held or frozenset()
                if not (held_before | claimed) <= held:
                    tally.lost += 1
                    missing = sorted((held_before | claimed) - held)
                    tally.problems.append(f"{label}: durable nodes lost: {missing}")
                held_before = held | held_before
            shutil.rmtree(image_dir)
    figures.count("power loss", states=tally.images, torn=tally.torn, lost=tally.lost)
    assert not tally.problems, "\n".join(tally.problems[:20])
    assert tally.images >= 3 * len(chosen)
