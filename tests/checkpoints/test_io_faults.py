"""I/O faults in the durable-write layer during real runs (design/reliability.md A4,
figure 4).

Every reference flow (``reference_flows.py``) runs in-process with its sink files
already holding old content, and with a :class:`FaultyOps` as the engine's ``FileOps``
(``durable._DEFAULT_OPS``, the seam every checkpoint and sink write goes through). A
clean run lists the ops it makes; then for every op index n (a stride at the unit
level), the n-th op of that kind fails with each errno that kind can raise (``ENOSPC``,
``EIO``, ``EACCES`` for open/write/replace; ``EIO`` for fsync, a directory fsync, close,
chmod, truncate and unlink), either **transient** (that call only) or **persistent**
(every call of that kind from then on). For every trial:

* the run ends with a :class:`PersistenceError` (a fault before the first snapshot), a
  failed run (``CHECKPOINT_FAILED`` or the sink node's failure), or a completed run whose
  final checkpoint write failed (``checkpoint_error``), and that error names the op,
  the errno and the file; never another exception (**unhandled**);
* a failed fsync is never followed by a write, fsync or rename of the same file, and a
  run never reports success with no error after one (fsyncgate; **unhandled**);
* the checkpoint on disk loads (or is absent, when the first snapshot failed) and is
  consistent, and every sink file is absent, old or complete new (**invalid**);
* with the fault cleared, a resume (or a fresh run when nothing was checkpointed)
  completes, runs no node or iteration the checkpoint held, leaves no temp file, and the
  outputs equal the golden run's (**unresumed**).

A run may also complete without an error when the engine ignores the fault by design (a
failed close of the journal, whose records were already written); it must then have
the golden outputs and a complete checkpoint like any other. The summary lists them.
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

from maidit_jupyter.checkpoints import can_resume, journal_path, load_checkpoint, writer
from maidit_jupyter.errors import PersistenceError
from maidit_jupyter.execution.launch import (
    PreparedRun,
    launch,
    prepare_resume,
    prepare_run,
)
from maidit_jupyter.execution.state import NodeStatus, RunRecord, RunStatus
from maidit_jupyter.persistence import durable
from tests import figures
from tests.checkpoints.reference_flows import (
    CONCURRENCY,
    FLOW_FILE,
    FLOWS,
    LEDGER,
    ReferenceFlow,
)

OLD = b"old content\n"
RUN_ID = "io-fault-run"
TEMP_SUFFIX = ".maidit-tmp"
#: the errnos each kind of op is failed with.
ERRNOS = {
    "open": (errno.ENOSPC, errno.EIO, errno.EACCES),
    "write": (errno.ENOSPC, errno.EIO, errno.EACCES),
    "replace": (errno.ENOSPC, errno.EIO, errno.EACCES),
    "fsync": (errno.EIO,),
    "fsync_dir": (errno.EIO,),
    "close": (errno.EIO,),
    "chmod": (errno.EIO,),
    "truncate": (errno.EIO,),
    "unlink": (errno.EIO,),
}
#: words of the engine's message that name each kind of op (durable.py's steps).
OP_WORDS = {
    "open": ("creating the temp file", "opening the journal"),
    "write": ("writing the temp file", "appending a record"),
    "replace": ("renaming the temp file",),
    "fsync": ("fsync",),
    "fsync_dir": ("fsync of the directory",),
    "close": ("closing the temp file",),
    "chmod": ("setting the temp file's mode",),
    "truncate": ("truncating", "emptying the journal"),
    "unlink": ("cannot remove",),
}
MODES = ("transient", "persistent")
#: every ``UNIT_STRIDE``-th op index at the unit level, one errno and mode each.
UNIT_STRIDE = 9

SUMMARY: dict[str, Any] = {}


# -- the fault-injecting FileOps -------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One call through :class:`FaultyOps`: its kind, file and whether it failed."""

    kind: str
    path: Path
    fd: int | None
    failed: int = 0  # the injected errno, 0 when the call went through


def real(path: Path) -> Path:
    """``path`` with a ``/proc/self/fd/N`` prefix resolved: sinks write through a
    descriptor of their directory (no symlink race), so their paths arrive that way."""
    text = str(path)
    if text.startswith("/proc/self/fd/"):
        return Path(os.path.realpath(text))
    return path


def target_of(path: Path) -> Path:
    """The file a temp file of ``write_atomic`` stands for (else ``path`` itself)."""
    name = path.name
    if name.startswith(".") and name.endswith(TEMP_SUFFIX):
        return path.with_name(name[1 : -len(TEMP_SUFFIX)].rsplit(".", 1)[0])
    return path


class FaultyOps(durable.FileOps):
    """Fails the ``nth`` call of ``kind`` with ``err`` (``persistent``: every call of
    that kind from then on) and logs every call. ``kind=None`` only logs.

    The fsyncs are checked and logged but flush nothing: what is under test is how the
    engine handles errors, not durability against power loss (``crash_child``'s runs
    keep the real flushes), and a disk flush per op would make the ci level's two
    thousand runs take minutes.
    """

    def __init__(
        self,
        kind: str | None = None,
        nth: int = 0,
        err: int = errno.EIO,
        *,
        persistent: bool = False,
    ) -> None:
        super().__init__()
        self.kind, self.nth, self.err, self.persistent = kind, nth, err, persistent
        self.calls: Counter[str] = Counter()
        self.log: list[Op] = []
        self.paths: dict[int, Path] = {}
        self.guard = threading.Lock()  # sinks write from worker threads

    def _gate(self, kind: str, path: Path, fd: int | None = None) -> None:
        """Log the call; raise the injected error when this call is to fail."""
        path = real(path)
        with self.guard:
            self.calls[kind] += 1
            count = self.calls[kind]
            fails = kind == self.kind and (
                count == self.nth or (self.persistent and count > self.nth)
            )
            self.log.append(Op(kind, path, fd, self.err if fails else 0))
        if fails:
            raise OSError(self.err, f"injected {os.strerror(self.err)}", str(path))

    def _path(self, fd: int) -> Path:
        return self.paths.get(fd, Path(f"<fd {fd}>"))

    @property
    def failures(self) -> list[Op]:
        return [op for op in self.log if op.failed]

    def open(self, path: Path, flags: int, mode: int = 0o600) -> int:
        self._gate("open", path)
        fd = super().open(path, flags, mode)
        self.paths[fd] = real(path)
        return fd

    def write(self, fd: int, data: bytes | memoryview) -> int:
        self._gate("write", self._path(fd), fd)
        return super().write(fd, data)

    def fsync(self, fd: int) -> None:
        self._gate("fsync", self._path(fd), fd)

    def close(self, fd: int) -> None:
        path = self.paths.pop(fd, Path(f"<fd {fd}>"))
        super().close(fd)  # close(2) releases the descriptor even when it fails
        self._gate("close", path, fd)

    def chmod(self, fd: int, mode: int) -> None:
        self._gate("chmod", self._path(fd), fd)
        super().chmod(fd, mode)

    def truncate(self, fd: int, length: int) -> None:
        self._gate("truncate", self._path(fd), fd)
        super().truncate(fd, length)

    def replace(self, src: Path, dst: Path) -> None:
        self._gate("replace", src)
        super().replace(src, dst)

    def fsync_dir(self, path: Path) -> None:
        self._gate("fsync_dir", path)

    def unlink(self, path: Path) -> None:
        self._gate("unlink", path)
        super().unlink(path)


# -- running a flow in-process ---------------------------------------------------------


@dataclass
class Ended:
    """How a run under a fault ended: the exception it raised, or its record."""

    raised: BaseException | None = None
    record: RunRecord | None = None
    checkpoint_error: PersistenceError | None = None

    def messages(self) -> list[str]:
        """Every error the run reported."""
        found = [str(self.raised)] if self.raised is not None else []
        if self.record is not None and self.record.error is not None:
            found.append(self.record.error.message)
        if self.checkpoint_error is not None:
            found.append(str(self.checkpoint_error))
        return found


def prepare_workdir(flow: ReferenceFlow, workdir: Path) -> Path:
    """The flow and its module, and every sink file holding :data:`OLD`."""
    path = flow.write(workdir)
    for relative in flow.sinks:
        (workdir / relative).parent.mkdir(parents=True, exist_ok=True)
        (workdir / relative).write_bytes(OLD)
    return path


def run_once(flow_path: Path, checkpoint: Path | None) -> Ended:
    """Run (or resume ``checkpoint``) with a group fsync per wave; catch what escapes."""
    ended = Ended()
    prepared: PreparedRun | None = None
    try:
        if checkpoint is None:
            prepared = prepare_run(
                flow_path,
                state_dir=flow_path.parent / "state",
                run_id=RUN_ID,
                concurrency=CONCURRENCY,
                sync_interval=0.0,
            )
        else:
            prepared = prepare_resume(checkpoint, sync_interval=0.0)
        ended.record = anyio.run(launch, prepared)
        ended.checkpoint_error = prepared.checkpoint_error
    except Exception as exc:  # noqa: BLE001 - judged by the caller
        ended.raised = exc
        if prepared is not None:
            prepared.close()
    return ended


def find_checkpoint(flow: ReferenceFlow, workdir: Path) -> Path | None:
    found = sorted((workdir / "state" / flow.name).glob("*.json"))
    return found[0] if found else None


def read_ledger(workdir: Path) -> list[str]:
    path = workdir / LEDGER
    return path.read_text().split() if path.exists() else []


def temp_files(directory: Path) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.rglob(f"*{TEMP_SUFFIX}"))


@dataclass(frozen=True)
class Golden:
    """A clean run's outputs and the kinds of the ops it made, in order."""

    outputs: dict[str, bytes]
    kinds: list[str]


@pytest.fixture
def flow_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Restore the engine's FileOps and compaction threshold after the test."""
    monkeypatch.setattr(durable, "_DEFAULT_OPS", durable.FileOps())
    monkeypatch.setattr(writer, "COMPACT_MIN_BYTES", writer.COMPACT_MIN_BYTES)
    return monkeypatch


def clean_run(flow: ReferenceFlow, workdir: Path, mp: pytest.MonkeyPatch) -> Golden:
    ops = FaultyOps()
    mp.setattr(durable, "_DEFAULT_OPS", ops)
    ended = run_once(prepare_workdir(flow, workdir), None)
    assert ended.raised is None, ended.raised
    assert ended.record is not None
    assert ended.record.status is RunStatus.COMPLETED, ended.record.error
    assert ended.checkpoint_error is None
    outputs = {relative: (workdir / relative).read_bytes() for relative in flow.sinks}
    assert OLD not in outputs.values()
    return Golden(outputs, [op.kind for op in ops.log])


# -- one trial -------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    kind: str
    nth: int
    err: int
    mode: str

    def __str__(self) -> str:
        return f"{self.kind}#{self.nth}-{errno.errorcode[self.err]}-{self.mode}"


@dataclass
class Verdict:
    """What one trial found wrong, by figure column."""

    fault: Fault
    problems: dict[str, list[str]] = field(default_factory=dict)
    #: the run completed with no error: the engine absorbed the fault
    absorbed: bool = False
    #: the fault hit an op (else the clean run's op list did not hold for this run)
    fired: bool = True

    def add(self, column: str, message: str) -> None:
        self.problems.setdefault(column, []).append(message)


def judge_the_end(ended: Ended, ops: FaultyOps, verdict: Verdict) -> None:
    """A clear error naming the op, errno and file; nothing but PersistenceError raised;
    no success after a failed fsync."""
    if ended.raised is not None and not isinstance(ended.raised, PersistenceError):
        kind = type(ended.raised).__name__
        verdict.add("unhandled", f"{kind} escaped: {ended.raised}")
        return
    failures = ops.failures
    if not failures:
        verdict.fired = False
        return
    fsync_failed = any(op.kind in ("fsync", "fsync_dir") for op in failures)
    messages = ended.messages()
    if not messages:
        verdict.absorbed = True
        if fsync_failed:
            verdict.add("unhandled", "a failed fsync and the run reports no error")
    elif not any(names_a_failure(message, failures) for message in messages):
        verdict.add("unnamed", f"no op, errno and file named in {messages}")
    for problem in success_after_failed_fsync(ops.log):
        verdict.add("unhandled", problem)


def names_a_failure(message: str, failures: list[Op]) -> bool:
    """Whether ``message`` names the kind, errno and file of one of the failed ops."""
    for op in failures:
        file = target_of(op.path)
        named_file = str(file) in message
        if op.kind == "fsync_dir":
            named_file = f"{file}{os.sep}" in message
        named_error = errno.errorcode[op.failed] in message or (
            os.strerror(op.failed) in message
        )
        if (
            named_file
            and named_error
            and any(words in message for words in OP_WORDS[op.kind])
        ):
            return True
    return False


def success_after_failed_fsync(log: list[Op]) -> Iterator[str]:
    """A write, fsync or rename of a file after its fsync failed, through any
    descriptor (retrying an fsync would report data durable that the kernel may have
    dropped; a sink that tries again writes a new temp file, which is fine)."""
    for index, op in enumerate(log):
        if not (op.failed and op.kind == "fsync"):
            continue
        for later in log[index + 1 :]:
            again = later.kind in ("write", "fsync", "replace")
            if again and later.path == op.path and not later.failed:
                yield f"{later.kind} of {op.path} after its fsync failed"


@dataclass(frozen=True)
class Held:
    """What the checkpoint left by a fault holds."""

    ledger: frozenset[str]
    complete: bool


def judge_the_disk(
    flow: ReferenceFlow, workdir: Path, golden: Golden, ended: Ended, verdict: Verdict
) -> Held | None:
    """The checkpoint loads (or is absent, when the first snapshot failed) and is
    consistent; every sink file is old or complete new. Returns what the checkpoint
    holds (None: absent or invalid)."""
    for relative in flow.sinks:
        path = workdir / relative
        if path.exists() and path.read_bytes() not in (OLD, golden.outputs[relative]):
            verdict.add("invalid", f"{relative} is neither old nor complete new")
    checkpoint = find_checkpoint(flow, workdir)
    if checkpoint is None:
        if ended.raised is None:
            verdict.add("invalid", "the run went ahead without a checkpoint")
        return None
    try:
        loaded = load_checkpoint(checkpoint)
    except PersistenceError as exc:
        verdict.add("invalid", f"the checkpoint does not load: {exc}")
        return None
    done = {
        node_id
        for node_id, stored in loaded.results.items()
        if node_id in flow.deps and stored.result.status is NodeStatus.SUCCESS
    }
    for node_id in done:
        if missing := flow.deps[node_id] - done:
            verdict.add("invalid", f"{node_id} recorded without its inputs {missing}")
    for relative in flow.covered_sinks(done, loaded.iterations):
        if (workdir / relative).read_bytes() != golden.outputs[relative]:
            verdict.add("invalid", f"{relative} is recorded but not written")
    complete = loaded.status is RunStatus.COMPLETED
    if complete and done != flow.deps.keys():
        verdict.add("invalid", "complete without every node")
    if not complete and not can_resume(checkpoint):
        verdict.add("invalid", f"a {loaded.status} checkpoint is not resumable")
    return Held(frozenset(flow.covered_ledger(done, loaded.iterations)), complete)


def judge_the_recovery(
    flow: ReferenceFlow,
    workdir: Path,
    golden: Golden,
    held: Held | None,
    reported: bool,
    verdict: Verdict,
) -> None:
    """With the fault cleared, resume (or run again when nothing was checkpointed) to
    the golden outputs. A complete checkpoint is resumed too when the run reported an
    error (its final write may not be durable): that runs nothing again."""
    before = len(read_ledger(workdir))
    checkpoint = find_checkpoint(flow, workdir)
    if held is None or not held.complete or reported:
        resume = checkpoint if held is not None else None
        ended = run_once(workdir / FLOW_FILE, resume)
        if ended.messages() or ended.record is None:
            verdict.add("unresumed", f"the recovery failed: {ended.messages()}")
            return
        if ended.record.status is not RunStatus.COMPLETED:
            verdict.add("unresumed", f"the recovery ended {ended.record.status}")
            return
    again = set(read_ledger(workdir)[before:]) & (held.ledger if held else set())
    if again:
        verdict.add("unresumed", f"recorded nodes ran again: {sorted(again)}")
    outputs = {relative: (workdir / relative).read_bytes() for relative in flow.sinks}
    if outputs != golden.outputs:
        verdict.add("unresumed", "the outputs differ from the golden run")
    if set(read_ledger(workdir)) != flow.ledger.keys():
        verdict.add("unresumed", "not every ledger node ran")
    final = find_checkpoint(flow, workdir)
    if final is None or load_checkpoint(final).status is not RunStatus.COMPLETED:
        verdict.add("unresumed", "the final checkpoint is not complete")
    elif journal_path(final).exists():
        verdict.add("unresumed", "the completed run left its journal")
    if left := temp_files(workdir / "out") + temp_files(workdir / "state"):
        verdict.add("unresumed", f"temp files left: {left}")


def io_fault_trial(
    flow: ReferenceFlow,
    workdir: Path,
    golden: Golden,
    fault: Fault,
    mp: pytest.MonkeyPatch,
) -> Verdict:
    """Run ``flow`` under ``fault``, judge how it ended and what it left, then recover."""
    verdict = Verdict(fault)
    flow_path = prepare_workdir(flow, workdir)
    ops = FaultyOps(
        fault.kind, fault.nth, fault.err, persistent=fault.mode == "persistent"
    )
    mp.setattr(durable, "_DEFAULT_OPS", ops)
    ended = run_once(flow_path, None)
    mp.setattr(durable, "_DEFAULT_OPS", FaultyOps())  # the fault clears
    judge_the_end(ended, ops, verdict)
    held = judge_the_disk(flow, workdir, golden, ended, verdict)
    judge_the_recovery(flow, workdir, golden, held, bool(ended.messages()), verdict)
    return verdict


def planned_faults(kinds: list[str]) -> list[Fault]:
    """Every op index × errno × mode (ci, long), or a stride of op indexes with one
    errno and mode each (unit)."""
    seen: Counter[str] = Counter()
    faults = []
    unit = not figures.LEVEL
    for index, kind in enumerate(kinds):
        seen[kind] += 1
        if unit and index % UNIT_STRIDE:
            continue
        plans = [(err, mode) for err in ERRNOS[kind] for mode in MODES]
        if unit:
            plans = [plans[(index // UNIT_STRIDE) % len(plans)]]
        faults += [Fault(kind, seen[kind], err, mode) for err, mode in plans]
    return faults


# -- the test --------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def summary() -> Iterator[dict[str, Any]]:
    yield SUMMARY
    print("\nI/O fault trials:")
    for key, value in sorted(SUMMARY.items()):
        print(f"  {key}: {value}")


@pytest.mark.reliability
@pytest.mark.parametrize("name", FLOWS)
def test_io_faults_end_in_a_clear_error_and_resume(
    name: str, tmp_path: Path, flow_env: pytest.MonkeyPatch
) -> None:
    """ENOSPC, EIO or EACCES on the n-th open/write/rename, EIO on the n-th fsync (file
    or directory), close, chmod or truncate, transient or persistent: a clear error
    naming op, errno and file; a loadable checkpoint; no partial sink file; no success
    after a failed fsync; and a resume to the golden outputs once the fault clears."""
    flow = FLOWS[name]
    if flow.compact_bytes is not None:
        flow_env.setattr(writer, "COMPACT_MIN_BYTES", flow.compact_bytes)
    golden = clean_run(flow, tmp_path / "golden", flow_env)
    faults = planned_faults(golden.kinds)
    verdicts = []
    for number, fault in enumerate(faults):
        workdir = tmp_path / f"{number}-{fault}"
        verdicts.append(io_fault_trial(flow, workdir, golden, fault, flow_env))
        if not verdicts[-1].problems:
            shutil.rmtree(workdir)  # kept when the trial failed, to be looked at
    columns = ("unhandled", "invalid", "unnamed", "unresumed")
    failed = [v for v in verdicts if v.problems]
    fired = [v for v in verdicts if v.fired]
    figures.count(
        "io faults",
        faults=len(fired),
        **{c: sum(c in v.problems for v in verdicts) for c in columns},
    )
    SUMMARY[f"{name}_ops"] = dict(Counter(golden.kinds))
    SUMMARY[f"{name}_faults"] = len(verdicts)
    SUMMARY[f"{name}_absorbed"] = [str(v.fault) for v in verdicts if v.absorbed]
    assert len(fired) == len(verdicts), "some faults never fired: the op list is stale"
    assert not failed, (
        f"{len(failed)} of {len(verdicts)} faults mishandled:\n"
        + "\n".join(f"{v.fault}: {v.problems}" for v in failed[:15])
    )
