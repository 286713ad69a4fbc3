"""One run owns a checkpoint at a time: an exclusive ``flock`` on ``<checkpoint>.lock``.

The kernel holds the lock for the open file, so it disappears when the owning process
dies, however it dies (``kill -9`` included): a lock file left by a dead run is simply
locked again, no stale-PID guessing. The owner writes its pid and host into the file after
locking, so a refused run can say who owns the checkpoint.

The lock file is never deleted (deleting it while a run holds it would let a second run
lock a new file); after locking, the owner checks that the path still names the file it
locked and retries otherwise. A symlink, a hard link or a non-regular file at the lock path
is refused, so nothing is ever written through a planted link.

Caveats: ``flock`` is per open file description, so a second :class:`RunLock` in the same
process conflicts too (as wanted), but a child made by ``fork()`` without ``exec`` shares
the lock and keeps it alive while it runs. Network file systems may not honour ``flock``.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import stat
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Self

from maidit_jupyter.errors import LockedError, PersistenceError

__all__ = ["RunLock"]

_ATTEMPTS = 8
_HOLDER_BYTES = 4096


class RunLock:
    """An exclusive, non-blocking lock on a run's checkpoint, released by the kernel on death.

    Use it as a context manager, or call :meth:`acquire` and :meth:`release`. It is not
    re-entrant: acquiring a held lock raises :class:`LockedError`, even in the owning
    process.

    Args:
        path: the checkpoint the lock protects; the lock file is ``<path>.lock`` next to
            it (its directory must exist).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._fd: int | None = None

    @property
    def locked(self) -> bool:
        """Whether this object currently holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock now, or fail at once.

        Raises:
            LockedError: another open of the lock file (another process, or another
                :class:`RunLock` here) holds it; the message names the holder's pid when
                it is known.
            PersistenceError: the lock file cannot be opened or locked, or is a link.
        """
        if self._fd is not None:
            raise LockedError(f"{self._name} is already locked by this RunLock")
        for _ in range(_ATTEMPTS):
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise LockedError(
                    f"{self._name} is locked by another run ({_who(holder)})"
                ) from None
            except OSError as exc:
                os.close(fd)
                raise PersistenceError(f"cannot lock {self._name}: {exc}") from exc
            if self._still_names(fd):
                self._fd = fd
                _write_holder(fd)
                return
            os.close(fd)  # the file was replaced between open and flock: go again
        raise PersistenceError(
            f"cannot lock {self._name}: the lock file keeps changing"
        )

    def release(self) -> None:
        """Give the lock up (idempotent); the lock file stays, emptied."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            with suppress(OSError):  # closing releases the lock anyway
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def holder(self) -> int | None:
        """Return the pid recorded in the lock file, or None if none is recorded.

        The pid is only meaningful while the lock is held (see :meth:`acquire`).
        """
        try:
            fd = os.open(self.lock_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            info = _read_holder(fd)
        finally:
            os.close(fd)
        pid = info.get("pid")
        return pid if isinstance(pid, int) else None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    @property
    def _name(self) -> str:
        return repr(str(self.path))

    def _open(self) -> int:
        """Open (or create) the lock file, refusing links and non-regular files."""
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(self.lock_path, flags, 0o600)
        except OSError as exc:
            raise PersistenceError(
                f"cannot open the lock file {str(self.lock_path)!r}: {exc}"
            ) from exc
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            os.close(fd)
            raise PersistenceError(
                f"refusing the lock file {str(self.lock_path)!r}: "
                "not a regular file with a single link"
            )
        return fd

    def _still_names(self, fd: int) -> bool:
        """Whether the lock path still names the file open as ``fd``."""
        try:
            current = os.stat(self.lock_path, follow_symlinks=False)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (current.st_dev, current.st_ino) == (mine.st_dev, mine.st_ino)


def _write_holder(fd: int) -> None:
    """Record this process as the holder; best effort (the lock itself is what counts)."""
    record = json.dumps({"pid": os.getpid(), "host": socket.gethostname()}) + "\n"
    with suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode(), 0)


def _read_holder(fd: int) -> dict[str, object]:
    """Read the holder record; empty if missing, partial or unreadable."""
    try:
        raw = os.pread(fd, _HOLDER_BYTES, 0)
        data = json.loads(raw)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _who(holder: dict[str, object]) -> str:
    pid, host = holder.get("pid"), holder.get("host")
    if not isinstance(pid, int):
        return "pid unknown"
    here = socket.gethostname()
    if isinstance(host, str) and host != here:
        return f"pid {pid} on host {host}"
    if pid == os.getpid():
        return f"pid {pid}, this process"
    return f"pid {pid}"
