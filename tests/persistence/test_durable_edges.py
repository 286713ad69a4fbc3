"""Edge cases of the durable-write layer and the run lock: the rarer OS errors, races
and interruptions that the main test files do not reach."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from maidit_jupyter.errors import LockedError, PersistenceError
from maidit_jupyter.persistence import lock as lock_module
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
from maidit_jupyter.persistence.lock import RunLock

OLD = b"old content\n" * 100
NEW = b"N" * 5000
RECORDS = [b"first", b'{"node": "a"}', b"third record" * 20]
MAX_RECORD = 0xFFFF_FFFF  # the journal's 32-bit length field


def open_fds() -> set[str]:
    """The descriptors this process has open (to check that nothing leaks)."""
    return set(os.listdir("/proc/self/fd"))


def listing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


def make_journal(path: Path, records: list[bytes]) -> None:
    with JournalWriter(path) as writer:
        for record in records:
            writer.append(record)


class RecordingOps(FileOps):
    """Real file operations that note every unlink and can interrupt at one step."""

    def __init__(self, interrupt_at: str = "") -> None:
        super().__init__()
        self.interrupt_at = interrupt_at
        self.steps: list[str] = []
        self.unlinked: list[Path] = []

    def on_step(self, name: str) -> None:
        self.steps.append(name)
        if name == self.interrupt_at:
            raise KeyboardInterrupt

    def unlink(self, path: Path) -> None:
        self.unlinked.append(path)
        super().unlink(path)


# -- write_atomic and remove_stale_temps ------------------------------------------------


def test_directory_fsync_error_other_than_einval_fails_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory fsync failing with EIO (not the tolerated EINVAL) is reported, after the
    rename, naming the file and the step, and the directory descriptor is closed."""
    real_fsync = os.fsync

    def fsync_fails_on_directories(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    target = tmp_path / "state.json"
    target.write_bytes(OLD)
    before = open_fds()
    monkeypatch.setattr(os, "fsync", fsync_fails_on_directories)
    with pytest.raises(PersistenceError) as info:
        write_atomic(target, NEW)
    monkeypatch.undo()
    assert str(info.value) == (
        f"cannot write {str(target)!r}: fsync of the directory (after the rename) "
        f"failed: EIO ({os.strerror(errno.EIO)})"
    )
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.__cause__.errno == errno.EIO
    assert target.read_bytes() == NEW
    assert listing(tmp_path) == ["state.json"]
    assert open_fds() == before


def test_interrupt_just_after_the_rename_keeps_the_new_content(tmp_path: Path) -> None:
    """An interrupt right after the rename propagates unchanged, leaves the new content
    in place and deletes nothing (there is no temp file left to clean up)."""
    target = tmp_path / "state.json"
    target.write_bytes(OLD)
    ops = RecordingOps(interrupt_at=CrashPoint.REPLACED)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, NEW, ops=ops)
    assert target.read_bytes() == NEW
    assert listing(tmp_path) == ["state.json"]
    assert ops.unlinked == []
    assert ops.steps[-1] == CrashPoint.REPLACED
    assert CrashPoint.DIR_SYNCED not in ops.steps


def _in_missing_directory(directory: Path) -> Path:
    return directory / "missing" / "state.json"


def _under_a_file(directory: Path) -> Path:
    (directory / "file").write_bytes(b"")
    return directory / "file" / "state.json"


@pytest.mark.parametrize(
    ("make", "code"),
    [
        pytest.param(_in_missing_directory, "ENOENT", id="missing-directory"),
        pytest.param(_under_a_file, "ENOTDIR", id="parent-is-a-file"),
    ],
)
def test_remove_stale_temps_unlistable_directory_raises_persistence_error(
    tmp_path: Path, make: Callable[[Path], Path], code: str
) -> None:
    """Cleaning temps in a directory that cannot be listed raises PersistenceError naming
    the directory and the errno, never a raw OSError."""
    target = make(tmp_path)
    with pytest.raises(PersistenceError) as info:
        remove_stale_temps(target)
    message = str(info.value)
    assert message.startswith(f"cannot list {str(target.parent)!r}: {code} (")
    assert isinstance(info.value.__cause__, OSError)


# -- the journal ------------------------------------------------------------------------


class Oversized(bytes):
    """A payload whose length does not fit the frame's 32-bit length field.

    Allocating 4 GiB for real would make the test slow and memory-hungry; only the
    length matters, since the limit is checked before any byte is framed or written.
    """

    def __len__(self) -> int:
        return MAX_RECORD + 1


def test_journal_refuses_a_record_too_long_for_its_frame(tmp_path: Path) -> None:
    """A record longer than the 32-bit length field is refused before anything is
    written; the journal is unchanged and the writer stays usable."""
    journal = tmp_path / "run.journal"
    make_journal(journal, RECORDS)
    before = journal.read_bytes()
    with JournalWriter(journal) as writer:
        with pytest.raises(
            PersistenceError, match=f"a journal record is at most {MAX_RECORD} bytes"
        ):
            writer.append(Oversized(b"x"))
        assert not writer.closed
        assert journal.read_bytes() == before
        writer.append(b"after")
    assert read_journal(journal) == [*RECORDS, b"after"]


def test_journal_interrupt_mid_append_cuts_the_record_and_closes(
    tmp_path: Path,
) -> None:
    """An interrupt after a record is written but before its fsync propagates unchanged,
    cuts that record off again and closes the writer; the next writer carries on."""
    journal = tmp_path / "run.journal"
    make_journal(journal, RECORDS)
    before = journal.read_bytes()
    writer = JournalWriter(journal, ops=RecordingOps(CrashPoint.RECORD_WRITTEN))
    with pytest.raises(KeyboardInterrupt):
        writer.append(b"interrupted")
    assert writer.closed
    assert journal.read_bytes() == before
    with pytest.raises(PersistenceError, match="closed"):
        writer.append(b"again")
    append_durable(journal, b"resumed")
    assert read_journal(journal) == [*RECORDS, b"resumed"]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(JournalWriter.sync, id="sync"),
        pytest.param(JournalWriter.reset, id="reset"),
    ],
)
def test_journal_sync_or_reset_after_close_is_refused(
    tmp_path: Path, call: Callable[[JournalWriter], None]
) -> None:
    """sync() and reset() on a closed writer raise PersistenceError naming the journal,
    and leave its records untouched (a closed writer never empties the journal)."""
    journal = tmp_path / "run.journal"
    make_journal(journal, RECORDS)
    before = journal.read_bytes()
    writer = JournalWriter(journal)
    writer.close()
    with pytest.raises(PersistenceError) as info:
        call(writer)
    assert str(info.value) == f"the journal writer of {str(journal)!r} is closed"
    assert writer.closed
    assert journal.read_bytes() == before


def test_journal_that_shrinks_while_opening_is_read_to_its_new_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal cut short (mid-record) between its size check and its read is read up
    to its new end, without looping; the torn tail is repaired and appends carry on."""
    journal = tmp_path / "run.journal"
    make_journal(journal, RECORDS)
    full = journal.read_bytes()
    first_two = len(full) - (16 + len(RECORDS[2]))
    cut = first_two + 10  # inside the third record's header
    real_pread = os.pread
    reads: list[tuple[int, int]] = []

    def pread_after_a_shrink(fd: int, length: int, offset: int) -> bytes:
        if not reads:
            os.ftruncate(fd, cut)  # another process cuts the file after the fstat
        reads.append((length, offset))
        return real_pread(fd, length, offset)

    monkeypatch.setattr(os, "pread", pread_after_a_shrink)
    writer = JournalWriter(journal)
    monkeypatch.undo()
    assert reads == [(len(full), 0), (len(full) - cut, cut)]
    assert writer.size == first_two
    assert journal.stat().st_size == first_two
    with writer:
        writer.append(b"after the shrink")
    assert read_journal(journal) == [*RECORDS[:2], b"after the shrink"]
    scan = scan_journal(journal)
    assert (scan.torn, scan.corrupt) == (False, False)


# -- the run lock -----------------------------------------------------------------------


def test_lock_flock_failure_is_a_persistence_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flock that fails for another reason than contention (ENOLCK, as on some network
    file systems) raises PersistenceError, not LockedError; nothing is held or leaked."""
    real_flock = fcntl.flock

    def flock_without_locks(fd: int, operation: int) -> None:
        if operation & fcntl.LOCK_EX:
            raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))
        real_flock(fd, operation)

    checkpoint = tmp_path / "run.json"
    lock = RunLock(checkpoint)
    before = open_fds()
    monkeypatch.setattr(fcntl, "flock", flock_without_locks)
    with pytest.raises(PersistenceError) as info:
        lock.acquire()
    monkeypatch.undo()
    assert not isinstance(info.value, LockedError)
    assert str(info.value).startswith(f"cannot lock {str(checkpoint)!r}: ")
    assert os.strerror(errno.ENOLCK) in str(info.value)
    assert not lock.locked
    assert open_fds() == before
    with lock:
        assert lock.holder() == os.getpid()


def test_lock_file_deleted_before_flock_is_created_again_and_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the lock file is deleted between open and flock, the lock retries and ends up
    holding the file the lock path names, so a second RunLock is refused."""
    real_flock = fcntl.flock
    calls: list[int] = []
    checkpoint = tmp_path / "run.json"
    lock = RunLock(checkpoint)

    def flock_after_a_delete(fd: int, operation: int) -> None:
        calls.append(operation)
        if len(calls) == 1:
            lock.lock_path.unlink()  # another process removes the file we opened
        real_flock(fd, operation)

    before = open_fds()
    monkeypatch.setattr(fcntl, "flock", flock_after_a_delete)
    lock.acquire()
    monkeypatch.undo()
    try:
        assert len(calls) == 2
        assert lock.locked
        assert lock.holder() == os.getpid()
        with pytest.raises(LockedError, match="this process"):
            RunLock(checkpoint).acquire()
    finally:
        lock.release()
    assert open_fds() == before


def test_lock_gives_up_when_the_lock_file_keeps_changing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the lock file is replaced before every flock, the lock gives up after a bounded
    number of attempts with a PersistenceError; nothing is held or leaked."""
    real_flock = fcntl.flock
    calls: list[int] = []
    checkpoint = tmp_path / "run.json"
    lock = RunLock(checkpoint)

    def flock_after_a_replace(fd: int, operation: int) -> None:
        calls.append(operation)
        fresh = tmp_path / "fresh"
        fresh.write_bytes(b"")
        os.replace(fresh, lock.lock_path)  # another process swaps the file in
        real_flock(fd, operation)

    before = open_fds()
    monkeypatch.setattr(fcntl, "flock", flock_after_a_replace)
    with pytest.raises(PersistenceError) as info:
        lock.acquire()
    monkeypatch.undo()
    assert not isinstance(info.value, LockedError)
    assert str(info.value) == (
        f"cannot lock {str(checkpoint)!r}: the lock file keeps changing"
    )
    assert len(calls) == lock_module._ATTEMPTS
    assert not lock.locked
    assert open_fds() == before
    with lock:
        assert lock.holder() == os.getpid()


def test_locked_error_without_a_holder_record_says_pid_unknown(tmp_path: Path) -> None:
    """When the holder has not (yet) recorded itself in the lock file, the refusal says
    the pid is unknown instead of guessing."""
    checkpoint = tmp_path / "run.json"
    with RunLock(checkpoint) as first:
        first.lock_path.write_bytes(b"")  # as between the holder's flock and its record
        second = RunLock(checkpoint)
        with pytest.raises(LockedError) as info:
            second.acquire()
        assert str(info.value) == (
            f"{str(checkpoint)!r} is locked by another run (pid unknown)"
        )
        assert not second.locked
        assert first.locked


def test_locked_error_names_a_holder_on_another_host(tmp_path: Path) -> None:
    """A lock held from another host (a shared file system) is reported with that host,
    since its pid means nothing here."""
    checkpoint = tmp_path / "run.json"
    with RunLock(checkpoint) as first:
        record = {"pid": 4242, "host": "elsewhere.example"}
        first.lock_path.write_text(json.dumps(record) + "\n")
        with pytest.raises(LockedError) as info:
            RunLock(checkpoint).acquire()
        assert str(info.value) == (
            f"{str(checkpoint)!r} is locked by another run "
            "(pid 4242 on host elsewhere.example)"
        )
        assert first.holder() == 4242
