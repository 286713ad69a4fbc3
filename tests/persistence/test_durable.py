"""Tests of the durable-write layer: atomic replacement, fault and crash injection, journal."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from maidit_jupyter.errors import PersistenceError
from maidit_jupyter.persistence.durable import (
    CrashPoint,
    FileOps,
    JournalWriter,
    append_durable,
    read_journal,
    remove_stale_temps,
    scan_journal,
    write_atomic,
)

OLD = b"old content\n" * 1000
NEW = b"N" * 30_000
HEADER = 16  # magic, length, payload CRC32, header CRC32


class FaultyOps(FileOps):
    """Records every call and fails the chosen operation with the chosen errno.

    A failing ``write`` first writes half of its buffer, as a disk filling up would.
    """

    def __init__(self, fail: str = "", err: int = errno.EIO) -> None:
        super().__init__()
        self.fail, self.err = fail, err
        self.calls: list[str] = []
        self.steps: list[str] = []
        self._wrote_half = False

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name == self.fail:
            raise OSError(self.err, os.strerror(self.err))

    def on_step(self, name: str) -> None:
        self.steps.append(name)

    def open(self, path: Path, flags: int, mode: int = 0o600) -> int:
        self._call("open")
        return super().open(path, flags, mode)

    def write(self, fd: int, data: bytes | memoryview) -> int:
        if self.fail == "write" and not self._wrote_half:
            self._wrote_half = True
            return super().write(fd, data[: max(1, len(data) // 2)])
        self._call("write")
        return super().write(fd, data)

    def fsync(self, fd: int) -> None:
        self._call("fsync")
        super().fsync(fd)

    def close(self, fd: int) -> None:
        self._call("close")
        super().close(fd)

    def chmod(self, fd: int, mode: int) -> None:
        self._call("chmod")
        super().chmod(fd, mode)

    def truncate(self, fd: int, length: int) -> None:
        self._call("truncate")
        super().truncate(fd, length)

    def replace(self, src: Path, dst: Path) -> None:
        self._call("replace")
        super().replace(src, dst)

    def fsync_dir(self, path: Path) -> None:
        self._call("fsync_dir")
        super().fsync_dir(path)

    def unlink(self, path: Path) -> None:
        self._call("unlink")
        super().unlink(path)


class TrickleOps(FileOps):
    """Writes at most seven bytes per call, to exercise the short-write loop."""

    def write(self, fd: int, data: bytes | memoryview) -> int:
        return super().write(fd, data[:7])


def listing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


# -- write_atomic -----------------------------------------------------------------------


def test_write_atomic_creates_a_private_file(tmp_path: Path) -> None:
    """A new file holds exactly the data, has mode 0o600, and no temp file remains."""
    target = tmp_path / "state.json"
    write_atomic(target, NEW)
    assert target.read_bytes() == NEW
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert listing(tmp_path) == ["state.json"]


def test_write_atomic_replaces_content_and_keeps_mode(tmp_path: Path) -> None:
    """Replacing an existing file swaps the content and keeps its permission bits."""
    target = tmp_path / "state.json"
    target.write_bytes(OLD)
    target.chmod(0o640)
    write_atomic(target, NEW)
    write_atomic(target, b"")
    assert target.read_bytes() == b""
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert listing(tmp_path) == ["state.json"]


@pytest.mark.parametrize(
    ("fsync", "steps", "syncs"),
    [
        pytest.param(
            True,
            ["temp-open", "temp-written", "temp-synced", "replaced", "dir-synced"],
            ["fsync", "fsync_dir"],
            id="fsync",
        ),
        pytest.param(
            False, ["temp-open", "temp-written", "replaced"], [], id="no-fsync"
        ),
    ],
)
def test_write_atomic_reports_each_step(
    tmp_path: Path, fsync: bool, steps: list[str], syncs: list[str]
) -> None:
    """The crash hook sees every step in order; fsync=False makes no fsync at all."""
    ops = FaultyOps()
    write_atomic(tmp_path / "f", NEW, fsync=fsync, ops=ops)
    assert ops.steps == steps
    assert [c for c in ops.calls if c.startswith("fsync")] == syncs
    assert set(CrashPoint) >= {CrashPoint(step) for step in steps}


def test_write_atomic_completes_short_writes(tmp_path: Path) -> None:
    """Short writes are continued until every byte is written."""
    target = tmp_path / "f"
    write_atomic(target, NEW[:1001], ops=TrickleOps())
    assert target.read_bytes() == NEW[:1001]


FAULTS = [
    pytest.param("open", errno.ENOSPC, id="open-enospc"),
    pytest.param("open", errno.EACCES, id="open-eacces"),
    pytest.param("chmod", errno.EPERM, id="chmod-eperm"),
    pytest.param("write", errno.ENOSPC, id="write-enospc-after-partial"),
    pytest.param("write", errno.EIO, id="write-eio-after-partial"),
    pytest.param("fsync", errno.EIO, id="fsync-eio"),
    pytest.param("fsync", errno.ENOSPC, id="fsync-enospc"),
    pytest.param("close", errno.EIO, id="close-eio"),
    pytest.param("replace", errno.EIO, id="replace-eio"),
    pytest.param("replace", errno.EXDEV, id="replace-exdev"),
]


@pytest.mark.parametrize(("op", "err"), FAULTS)
@pytest.mark.parametrize(
    "existed", [pytest.param(True, id="old"), pytest.param(False, id="new")]
)
def test_write_atomic_failure_keeps_previous_content(
    tmp_path: Path, op: str, err: int, existed: bool
) -> None:
    """Every injected fault raises PersistenceError naming file, step and errno; old content survives."""
    target = tmp_path / "state.json"
    if existed:
        target.write_bytes(OLD)
    ops = FaultyOps(op, err)
    if op == "chmod" and not existed:
        write_atomic(target, NEW, ops=ops)  # a new file needs no chmod
        assert target.read_bytes() == NEW
        return
    with pytest.raises(PersistenceError) as info:
        write_atomic(target, NEW, ops=ops)
    message = str(info.value)
    assert str(target) in message
    assert errno.errorcode[err] in message
    assert isinstance(info.value.__cause__, OSError)
    assert listing(tmp_path) == (["state.json"] if existed else [])
    if existed:
        assert target.read_bytes() == OLD
    assert ops.steps[-1:] != ["replaced"]


def test_write_atomic_failed_directory_fsync_is_reported(tmp_path: Path) -> None:
    """If only the directory fsync fails the new content is in place, but the call still fails."""
    target = tmp_path / "state.json"
    target.write_bytes(OLD)
    with pytest.raises(PersistenceError, match="fsync of the directory"):
        write_atomic(target, NEW, ops=FaultyOps("fsync_dir"))
    assert target.read_bytes() == NEW
    assert listing(tmp_path) == ["state.json"]


def test_write_atomic_rejects_a_write_without_progress(tmp_path: Path) -> None:
    """A write that returns 0 is an I/O error, not an endless loop."""

    class StuckOps(FileOps):
        def write(self, fd: int, data: bytes | memoryview) -> int:
            return 0

    target = tmp_path / "f"
    target.write_bytes(OLD)
    with pytest.raises(PersistenceError, match="EIO"):
        write_atomic(target, NEW, ops=StuckOps())
    assert target.read_bytes() == OLD
    assert listing(tmp_path) == ["f"]


def test_write_atomic_interrupt_removes_temp(tmp_path: Path) -> None:
    """A KeyboardInterrupt mid-write propagates unchanged and the temp file is removed."""

    def interrupt(name: str) -> None:
        if name == CrashPoint.TEMP_WRITTEN:
            raise KeyboardInterrupt

    target = tmp_path / "f"
    target.write_bytes(OLD)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, NEW, ops=FileOps(on_step=interrupt))
    assert target.read_bytes() == OLD
    assert listing(tmp_path) == ["f"]


def test_write_atomic_cleanup_failure_keeps_the_original_error(tmp_path: Path) -> None:
    """When the temp file cannot be removed, the error reported is still the first one."""

    class NoUnlink(FaultyOps):
        def unlink(self, path: Path) -> None:
            raise OSError(errno.EROFS, "read-only")

    target = tmp_path / "f"
    target.write_bytes(OLD)
    with pytest.raises(PersistenceError, match="ENOSPC"):
        write_atomic(target, NEW, ops=NoUnlink("write", errno.ENOSPC))
    assert target.read_bytes() == OLD
    assert remove_stale_temps(target) != []
    assert listing(tmp_path) == ["f"]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda d: d / "missing" / "f", id="missing-directory"),
        pytest.param(
            lambda d: (d / "sub").mkdir() or d / "sub", id="target-is-directory"
        ),
        pytest.param(
            lambda d: (d / "file").write_bytes(b"") or d / "file" / "f",
            id="parent-is-a-file",
        ),
    ],
)
def test_write_atomic_bad_target_raises_persistence_error(tmp_path: Path, make) -> None:
    """An impossible target is a PersistenceError, never a raw OSError, and leaves no temp."""
    target = make(tmp_path)
    with pytest.raises(PersistenceError):
        write_atomic(target, NEW)
    assert all(not name.endswith(".maidit-tmp") for name in listing(tmp_path))


def test_write_atomic_replaces_a_symlink_not_its_target(tmp_path: Path) -> None:
    """A symlink at the path is replaced by a regular file; the file it pointed to is untouched."""
    victim = tmp_path / "victim"
    victim.write_bytes(OLD)
    target = tmp_path / "f"
    target.symlink_to(victim)
    write_atomic(target, NEW)
    assert not target.is_symlink()
    assert (target.read_bytes(), victim.read_bytes()) == (NEW, OLD)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_write_atomic_handles_the_longest_name(tmp_path: Path) -> None:
    """A 255-byte file name still gets a temp name the file system accepts."""
    target = tmp_path / ("x" * 255)
    write_atomic(target, NEW)
    assert target.read_bytes() == NEW


def test_fsync_dir_tolerates_einval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system that cannot fsync directories (EINVAL) does not fail the write."""

    def no_dir_fsync(fd: int) -> None:
        raise OSError(errno.EINVAL, "not supported")

    monkeypatch.setattr(os, "fsync", no_dir_fsync)
    FileOps().fsync_dir(tmp_path)


def test_remove_stale_temps_removes_only_our_temps(tmp_path: Path) -> None:
    """Only '.<name>.<12 hex>.maidit-tmp' files of this target are removed."""
    target = tmp_path / "state.json"
    ours = tmp_path / ".state.json.0123456789ab.maidit-tmp"
    others = [
        ".state.json.zz23456789ab.maidit-tmp",
        ".other.json.0123456789ab.maidit-tmp",
    ]
    for name in [ours.name, *others, "state.json"]:
        (tmp_path / name).write_bytes(b"x")
    assert remove_stale_temps(target) == [ours]
    assert listing(tmp_path) == sorted([*others, "state.json"])


# A child process whose file operations die (exit 137) at the step named by argv[2].
CRASHING_OPS = """
import os, sys
from pathlib import Path
from maidit_jupyter.persistence.durable import FileOps, JournalWriter, write_atomic

class Crashing(FileOps):
    def on_step(self, name):
        if name == sys.argv[2]:
            os._exit(137)
    def write(self, fd, data):
        if sys.argv[2] == "mid-write":
            os.write(fd, bytes(data[: len(data) // 2]))
            os._exit(137)
        return super().write(fd, data)
"""

CRASH_WRITE = (
    CRASHING_OPS
    + """
write_atomic(Path(sys.argv[1]), b"N" * 300_000, ops=Crashing())
"""
)

WRITE_STEPS = [
    pytest.param("mid-write", False, id="mid-write"),
    pytest.param(CrashPoint.TEMP_OPEN, False, id="temp-open"),
    pytest.param(CrashPoint.TEMP_WRITTEN, False, id="temp-written"),
    pytest.param(CrashPoint.TEMP_SYNCED, False, id="temp-synced"),
    pytest.param(CrashPoint.REPLACED, True, id="replaced"),
    pytest.param(CrashPoint.DIR_SYNCED, True, id="dir-synced"),
]


@pytest.mark.parametrize(("step", "new_visible"), WRITE_STEPS)
@pytest.mark.parametrize(
    "existed", [pytest.param(True, id="old"), pytest.param(False, id="new")]
)
def test_crash_at_each_step_leaves_old_or_new(
    tmp_path: Path, step: str, new_visible: bool, existed: bool
) -> None:
    """A process killed (os._exit) at any step leaves the complete old or new content."""
    target = tmp_path / "state.json"
    old = b"o" * 200_000
    if existed:
        target.write_bytes(old)
    result = subprocess.run(
        [sys.executable, "-c", CRASH_WRITE, str(target), str(step)],
        capture_output=True,
        check=False,
    )
    assert result.returncode == 137, result.stderr
    if new_visible:
        assert target.read_bytes() == b"N" * 300_000
    elif existed:
        assert target.read_bytes() == old
    else:
        assert not target.exists()
    leftovers = remove_stale_temps(target)
    assert len(leftovers) == (0 if new_visible else 1)
    assert listing(tmp_path) == (["state.json"] if existed or new_visible else [])


# -- the journal ------------------------------------------------------------------------

RECORDS = [b"first", b"", b'{"node": "a", "status": "success"}', bytes(range(256)) * 40]


def frame_ends(records: list[bytes]) -> list[int]:
    ends, total = [], 0
    for record in records:
        total += HEADER + len(record)
        ends.append(total)
    return ends


def make_journal(path: Path, records: list[bytes]) -> None:
    with JournalWriter(path) as writer:
        for record in records:
            writer.append(record)


def test_journal_round_trip(tmp_path: Path) -> None:
    """Records come back in order and unchanged, across writers and append_durable."""
    journal = tmp_path / "run.journal"
    make_journal(journal, RECORDS[:2])
    make_journal(journal, RECORDS[2:])
    append_durable(journal, b"last", fsync=False)
    assert read_journal(journal) == [*RECORDS, b"last"]
    scan = scan_journal(journal)
    assert (scan.torn, scan.corrupt) == (False, False)
    assert scan.valid_length == scan.size == journal.stat().st_size


def test_journal_missing_file_is_empty(tmp_path: Path) -> None:
    """A journal that was never written reads as no records."""
    assert read_journal(tmp_path / "none") == []


def test_journal_unreadable_raises_persistence_error(tmp_path: Path) -> None:
    """A journal path that cannot be read raises PersistenceError, not OSError."""
    with pytest.raises(PersistenceError):
        read_journal(tmp_path)


def test_journal_torn_tail_is_ignored_for_every_cut(tmp_path: Path) -> None:
    """Cutting k bytes off the end, for every k, keeps exactly the records that still fit."""
    journal = tmp_path / "run.journal"
    make_journal(journal, RECORDS)
    full = journal.read_bytes()
    ends = frame_ends(RECORDS)
    for k in range(1, len(full) + 1):
        size = len(full) - k
        journal.write_bytes(full[:size])
        scan = scan_journal(journal)
        kept = [r for r, end in zip(RECORDS, ends, strict=True) if end <= size]
        assert list(scan.records) == kept, k
        assert scan.torn == (size not in [0, *ends]), k
        assert not scan.corrupt, k


def test_journal_zero_filled_tail_is_torn(tmp_path: Path) -> None:
    """Zero bytes after the last record (a crash after the size grew) count as a torn tail."""
    journal = tmp_path / "run.journal"
    make_journal(journal, RECORDS[:2])
    with journal.open("ab") as handle:
        handle.write(bytes(100))
    scan = scan_journal(journal)
    assert (list(scan.records), scan.torn, scan.corrupt) == (RECORDS[:2], True, False)


@pytest.mark.parametrize(
    "offset",
    [
        pytest.param(0, id="magic"),
        pytest.param(5, id="length"),
        pytest.param(9, id="payload-crc"),
        pytest.param(13, id="header-crc"),
        pytest.param(HEADER + 3, id="payload"),
    ],
)
def test_journal_corrupt_middle_record_stops_reading(
    tmp_path: Path, offset: int
) -> None:
    """A damaged record followed by more data: records before it are returned, corrupt is set."""
    journal = tmp_path / "run.journal"
    make_journal(journal, RECORDS)
    data = bytearray(journal.read_bytes())
    start = frame_ends(RECORDS)[1]  # the third record
    data[start + offset] ^= 0x40
    journal.write_bytes(bytes(data))
    scan = scan_journal(journal)
    assert list(scan.records) == RECORDS[:2]
    assert (scan.corrupt, scan.torn, scan.valid_length) == (True, False, start)
    assert read_journal(journal) == RECORDS[:2]
    with pytest.raises(PersistenceError, match=f"damaged record at byte {start}"):
        append_durable(journal, b"more")
    assert journal.read_bytes() == bytes(data)


def test_journal_damaged_last_record_is_torn(tmp_path: Path) -> None:
    """A bad checksum in the last record (nothing after it) is a torn tail, not corruption."""
    journal = tmp_path / "run.journal"
    make_journal(journal, RECORDS)
    data = bytearray(journal.read_bytes())
    data[-1] ^= 0x01
    journal.write_bytes(bytes(data))
    scan = scan_journal(journal)
    assert (list(scan.records), scan.torn, scan.corrupt) == (RECORDS[:3], True, False)


def test_journal_writer_repairs_a_torn_tail(tmp_path: Path) -> None:
    """Opening a writer truncates a torn tail, so the next record is readable."""
    journal = tmp_path / "run.journal"
    make_journal(journal, RECORDS)
    with journal.open("r+b") as handle:
        handle.truncate(journal.stat().st_size - 5)
    append_durable(journal, b"after the crash")
    assert read_journal(journal) == [*RECORDS[:3], b"after the crash"]
    assert not scan_journal(journal).torn


@pytest.mark.parametrize(
    ("op", "err"),
    [
        pytest.param("write", errno.ENOSPC, id="write-enospc-after-partial"),
        pytest.param("write", errno.EIO, id="write-eio-after-partial"),
        pytest.param("fsync", errno.EIO, id="fsync-eio"),
    ],
)
def test_journal_failed_append_is_cut_off_and_closes_writer(
    tmp_path: Path, op: str, err: int
) -> None:
    """A failed append raises, removes its partial record and closes the writer."""
    journal = tmp_path / "run.journal"
    make_journal(journal, RECORDS[:2])
    before = journal.read_bytes()
    writer = JournalWriter(journal, ops=FaultyOps(op, err))
    with pytest.raises(PersistenceError, match=errno.errorcode[err]):
        writer.append(RECORDS[3])
    assert writer.closed
    assert journal.read_bytes() == before
    with pytest.raises(PersistenceError, match="closed"):
        writer.append(b"x")
    append_durable(journal, b"x")
    assert read_journal(journal) == [*RECORDS[:2], b"x"]


@pytest.mark.parametrize(
    ("op", "err"),
    [
        pytest.param("open", errno.EACCES, id="open-eacces"),
        pytest.param("fsync_dir", errno.EIO, id="fsync-dir-eio"),
    ],
)
def test_journal_open_failure_raises_persistence_error(
    tmp_path: Path, op: str, err: int
) -> None:
    """Failing to open or create a journal is a PersistenceError naming the file."""
    journal = tmp_path / "run.journal"
    with pytest.raises(PersistenceError, match=r"run\.journal"):
        JournalWriter(journal, ops=FaultyOps(op, err))


def test_journal_refuses_a_symlink(tmp_path: Path) -> None:
    """A symlink planted at the journal path is refused; nothing is written through it."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (tmp_path / "run.journal").symlink_to(victim)
    with pytest.raises(PersistenceError, match="ELOOP"):
        append_durable(tmp_path / "run.journal", b"x")
    assert victim.read_bytes() == b"precious"


@pytest.mark.parametrize(
    ("fsync", "syncs"),
    [
        pytest.param(True, ["fsync_dir", "fsync", "fsync"], id="fsync"),
        pytest.param(False, [], id="no-fsync"),
    ],
)
def test_journal_fsyncs_only_when_asked(
    tmp_path: Path, fsync: bool, syncs: list[str]
) -> None:
    """A new journal fsyncs its directory once and each record once; fsync=False never."""
    ops = FaultyOps()
    with JournalWriter(tmp_path / "j", fsync=fsync, ops=ops) as writer:
        writer.append(b"a")
        writer.append(b"b")
    assert [c for c in ops.calls if c.startswith("fsync")] == syncs
    expected = ["record-written", "record-synced"] if fsync else ["record-written"]
    assert ops.steps == expected * 2


def test_a_group_committing_journal_makes_its_name_durable_at_the_first_sync(
    tmp_path: Path,
) -> None:
    """With ``fsync=False`` a new journal's directory entry is fsynced with the first
    group commit (else power loss could drop the whole file, its synced records with
    it), and only then; a journal that existed already needs no directory fsync."""
    ops = FaultyOps()
    with JournalWriter(tmp_path / "j", fsync=False, ops=ops) as writer:
        writer.append(b"a")
        assert [c for c in ops.calls if c.startswith("fsync")] == []
        writer.sync()
        writer.append(b"b")
        writer.sync()
    assert [c for c in ops.calls if c.startswith("fsync")] == [
        "fsync",
        "fsync_dir",
        "fsync",
    ]
    again = FaultyOps()
    with JournalWriter(tmp_path / "j", fsync=False, ops=again) as writer:
        writer.append(b"c")
        writer.sync()
    assert [c for c in again.calls if c.startswith("fsync")] == ["fsync"]


CRASH_APPEND = (
    CRASHING_OPS
    + """
JournalWriter(Path(sys.argv[1]), ops=Crashing()).append(b"R" * 5000)
"""
)


@pytest.mark.parametrize(
    ("step", "kept"),
    [
        pytest.param("mid-write", False, id="mid-write"),
        pytest.param(CrashPoint.RECORD_WRITTEN, True, id="record-written"),
        pytest.param(CrashPoint.RECORD_SYNCED, True, id="record-synced"),
    ],
)
def test_crash_during_append_keeps_complete_records(
    tmp_path: Path, step: str, kept: bool
) -> None:
    """A process killed mid-append leaves the earlier records, and the next writer carries on."""
    journal = tmp_path / "run.journal"
    make_journal(journal, RECORDS)
    result = subprocess.run(
        [sys.executable, "-c", CRASH_APPEND, str(journal), str(step)],
        capture_output=True,
        check=False,
    )
    assert result.returncode == 137, result.stderr
    scan = scan_journal(journal)
    assert list(scan.records) == RECORDS + ([b"R" * 5000] if kept else [])
    assert scan.torn == (not kept)
    append_durable(journal, b"resumed")
    assert read_journal(journal)[-1] == b"resumed"


def test_journal_frame_layout(tmp_path: Path) -> None:
    """The frame is magic, length, payload CRC32, header CRC32, payload (little-endian)."""
    journal = tmp_path / "j"
    append_durable(journal, b"abc", fsync=False)
    data = journal.read_bytes()
    assert data[:4] == b"MJR1"
    assert int.from_bytes(data[4:8], "little") == 3
    assert int.from_bytes(data[8:12], "little") == zlib.crc32(b"abc")
    assert int.from_bytes(data[12:16], "little") == zlib.crc32(data[:12])
    assert data[16:] == b"abc"
