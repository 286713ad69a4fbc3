"""Durable writes: whole files replaced atomically, and an append-only journal.

:func:`write_atomic` is the one way the engine replaces a file (the checkpoint, a sink file):
the bytes go to a fresh temp file in the same directory, which is fsynced, renamed over the
target with ``os.replace`` and made durable by an fsync of the directory. A crash or an I/O
error at any point leaves either the previous content or the new one, never a mix. Every
failure raises :class:`~maidit_jupyter.errors.PersistenceError` naming the file, the step and
the OS error; a failed fsync is never retried ("fsyncgate": the kernel may already have
dropped the dirty pages and a second fsync would lie).

The journal (:class:`JournalWriter`, :func:`append_durable`, :func:`read_journal`) frames each
record as a 16-byte header (magic, payload length, CRC32 of the payload, CRC32 of the header)
followed by the payload. The reader returns every intact record and stops at the first
damaged one; :func:`scan_journal` says why it stopped:

* ``torn``: the file ends inside a record (a crash mid-append): an incomplete header, a
  payload shorter than its length, a bad last record, or a tail of zero bytes. Normal after a
  crash; the next writer truncates it away.
* ``corrupt``: a damaged record *followed by more data*. Not a crash artefact; the reader
  still returns the records before it, but writers refuse to append (new records would be
  unreadable behind the damage).

All OS calls go through :class:`FileOps`, so tests can inject ``ENOSPC``, ``EIO``, a failed
fsync, short writes, or a crash hook (:class:`CrashPoint`) at every step.
"""

from __future__ import annotations

import enum
import errno
import os
import secrets
import stat
import struct
import zlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from maidit_jupyter.errors import PersistenceError

__all__ = [
    "CrashPoint",
    "FileOps",
    "JournalScan",
    "JournalWriter",
    "append_durable",
    "default_ops",
    "read_journal",
    "remove_stale_temps",
    "scan_journal",
    "write_atomic",
]

#: A callback told the name of each durable step just after it completes.
StepHook = Callable[[str], None]

_TEMP_SUFFIX = ".maidit-tmp"
_TEMP_TOKEN_HEX = 12
_MAX_NAME_IN_TEMP = 200  # keeps ".<name>.<token>.maidit-tmp" under NAME_MAX (255)
_NEW_FILE_MODE = 0o600

_MAGIC = b"MJR1"
_HEADER = struct.Struct("<4sIII")  # magic, payload length, payload CRC32, header CRC32
_HEADER_BODY = struct.Struct("<4sII")
_MAX_RECORD = 0xFFFF_FFFF


class CrashPoint(enum.StrEnum):
    """The named durable steps; :meth:`FileOps.on_step` is called just after each."""

    TEMP_OPEN = "temp-open"
    TEMP_WRITTEN = "temp-written"
    TEMP_SYNCED = "temp-synced"
    REPLACED = "replaced"
    DIR_SYNCED = "dir-synced"
    RECORD_WRITTEN = "record-written"
    RECORD_SYNCED = "record-synced"
    JOURNAL_RESET = "journal-reset"


class FileOps:
    """The OS calls behind every durable write; subclass it to inject faults or crashes.

    Each method calls the matching ``os`` function and raises its ``OSError``. Steps that
    are skipped (the fsyncs when ``fsync=False``) are not reported to :meth:`on_step`.

    Args:
        on_step: called with a :class:`CrashPoint` name just after each step completes
            (a crash test can ``os._exit`` there).
    """

    def __init__(self, on_step: StepHook | None = None) -> None:
        self._hook = on_step

    def on_step(self, name: str) -> None:
        """Report that the step ``name`` has just completed."""
        if self._hook is not None:
            self._hook(name)

    def open(self, path: Path, flags: int, mode: int = _NEW_FILE_MODE) -> int:
        """Open ``path`` with ``os.open`` and return the descriptor."""
        return os.open(path, flags, mode)

    def write(self, fd: int, data: bytes | memoryview) -> int:
        """Write some of ``data`` and return how many bytes were written."""
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        """Flush a file's data and metadata to stable storage."""
        os.fsync(fd)

    def close(self, fd: int) -> None:
        """Close a descriptor."""
        os.close(fd)

    def chmod(self, fd: int, mode: int) -> None:
        """Set the permission bits of an open file."""
        os.fchmod(fd, mode)

    def truncate(self, fd: int, length: int) -> None:
        """Cut an open file to ``length`` bytes."""
        os.ftruncate(fd, length)

    def replace(self, src: Path, dst: Path) -> None:
        """Rename ``src`` over ``dst`` atomically."""
        os.replace(src, dst)

    def fsync_dir(self, path: Path) -> None:
        """Make the entries of the directory ``path`` durable.

        ``EINVAL`` is ignored: some file systems cannot fsync a directory at all
        (PostgreSQL does the same).
        """
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
        finally:
            os.close(fd)

    def unlink(self, path: Path) -> None:
        """Remove a file."""
        os.unlink(path)


_DEFAULT_OPS = FileOps()


def default_ops() -> FileOps:
    """The OS calls used when none are given (a test may swap them for faulty ones)."""
    return _DEFAULT_OPS


def _describe(exc: OSError) -> str:
    """Return ``ENOSPC (No space left on device)`` style text for an OS error."""
    name = errno.errorcode.get(exc.errno or 0, "")
    text = exc.strerror or str(exc) or type(exc).__name__
    return f"{name} ({text})" if name else text


def _fail(path: Path, step: str, exc: OSError) -> PersistenceError:
    return PersistenceError(
        f"cannot write {str(path)!r}: {step} failed: {_describe(exc)}"
    )


def _write_all(ops: FileOps, fd: int, data: bytes) -> None:
    """Write every byte of ``data``, looping on short writes."""
    view = memoryview(data)
    while view:
        written = ops.write(fd, view)
        if written <= 0:
            raise OSError(errno.EIO, "write made no progress")
        view = view[written:]


def _temp_path(path: Path) -> Path:
    token = secrets.token_hex(_TEMP_TOKEN_HEX // 2)
    return path.with_name(f".{path.name[:_MAX_NAME_IN_TEMP]}.{token}{_TEMP_SUFFIX}")


def _is_temp_of(path: Path, candidate: str) -> bool:
    prefix = f".{path.name[:_MAX_NAME_IN_TEMP]}."
    if not (candidate.startswith(prefix) and candidate.endswith(_TEMP_SUFFIX)):
        return False
    token = candidate[len(prefix) : -len(_TEMP_SUFFIX)]
    return len(token) == _TEMP_TOKEN_HEX and all(c in "0123456789abcdef" for c in token)


def _kept_mode(path: Path) -> int | None:
    """Return the permission bits of an existing regular file at ``path``, else None."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else None


def write_atomic(
    path: Path,
    data: bytes,
    *,
    fsync: bool = True,
    ops: FileOps | None = None,
    new_file_mode: int = _NEW_FILE_MODE,
) -> None:
    """Replace the content of ``path`` with ``data`` atomically (and durably).

    A new file gets ``new_file_mode`` (``0o600`` by default: state files are private;
    user data files pass ``0o666`` and get the umask's usual result); an existing
    regular file keeps its mode (not its owner). A symlink at ``path`` is replaced by
    the file, never written through.

    Args:
        path: the file to create or replace; its directory must exist.
        data: the complete new content.
        fsync: fsync the temp file and the directory. ``False`` keeps atomicity against
            process crashes but not against power loss, and costs no disk flush.
        ops: the OS calls to use (a fault-injecting fake in tests).

    Raises:
        PersistenceError: the write failed; ``path`` still holds its previous content,
            and the temp file is removed. Exception: if only the final directory fsync
            fails, ``path`` already holds the new content, durability unknown.
    """
    ops = ops or _DEFAULT_OPS
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    temp: Path | None = None
    step = "reading the target's mode"
    try:
        mode = _kept_mode(path)
        step = "creating the temp file"
        temp = _temp_path(path)
        fd = ops.open(temp, flags, new_file_mode)
        try:
            if mode is not None:
                step = "setting the temp file's mode"
                ops.chmod(fd, mode)
            ops.on_step(CrashPoint.TEMP_OPEN)
            step = "writing the temp file"
            _write_all(ops, fd, data)
            ops.on_step(CrashPoint.TEMP_WRITTEN)
            if fsync:
                step = "fsync of the temp file"
                ops.fsync(fd)
                ops.on_step(CrashPoint.TEMP_SYNCED)
        except BaseException:
            with suppress(OSError):
                ops.close(fd)
            raise
        step = "closing the temp file"
        ops.close(fd)
        step = "renaming the temp file over the target"
        ops.replace(temp, path)
        temp = None
        ops.on_step(CrashPoint.REPLACED)
    except OSError as exc:
        if temp is not None and step != "creating the temp file":
            _discard(ops, temp)
        raise _fail(path, step, exc) from exc
    except BaseException:
        if temp is not None:
            _discard(ops, temp)
        raise
    if fsync:
        try:
            ops.fsync_dir(path.parent)
        except OSError as exc:
            raise _fail(path, "fsync of the directory (after the rename)", exc) from exc
        ops.on_step(CrashPoint.DIR_SYNCED)


def _discard(ops: FileOps, temp: Path) -> None:
    """Remove a temp file, ignoring errors (the original error matters more)."""
    with suppress(OSError):
        ops.unlink(temp)


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove the temp files a crashed :func:`write_atomic` of ``path`` left behind.

    Only call it while no other process writes ``path`` (hold the run's lock).

    Returns:
        The removed files.
    """
    removed: list[Path] = []
    try:
        names = os.listdir(path.parent)
    except OSError as exc:
        raise PersistenceError(
            f"cannot list {str(path.parent)!r}: {_describe(exc)}"
        ) from exc
    for name in names:
        if _is_temp_of(path, name):
            candidate = path.with_name(name)
            with suppress(FileNotFoundError):
                candidate.unlink()
                removed.append(candidate)
    return removed


# -- the journal ---------------------------------------------------------------------


def _frame(payload: bytes) -> bytes:
    if len(payload) > _MAX_RECORD:
        raise PersistenceError(f"a journal record is at most {_MAX_RECORD} bytes")
    body = _HEADER_BODY.pack(_MAGIC, len(payload), zlib.crc32(payload))
    return body + struct.pack("<I", zlib.crc32(body)) + payload


@dataclass(frozen=True, slots=True)
class JournalScan:
    """What :func:`scan_journal` found.

    Attributes:
        records: the payloads of the intact records, in order.
        valid_length: bytes from the start covered by those records.
        size: the file's size (0 if it does not exist).
        torn: the file ends inside a record (normal after a crash mid-append).
        corrupt: a damaged record is followed by more data; reading stopped there.
    """

    records: tuple[bytes, ...]
    valid_length: int
    size: int
    torn: bool
    corrupt: bool


def _scan(data: bytes) -> JournalScan:
    records: list[bytes] = []
    pos, size = 0, len(data)
    torn = corrupt = False
    while pos < size:
        rest = size - pos
        if rest < _HEADER.size:
            torn = True
            break
        magic, length, payload_crc, header_crc = _HEADER.unpack_from(data, pos)
        header_ok = magic == _MAGIC and header_crc == zlib.crc32(
            data[pos : pos + _HEADER_BODY.size]
        )
        if not header_ok:
            torn = data.count(0, pos) == rest  # zero fill past a crash, else damage
            corrupt = not torn
            break
        end = pos + _HEADER.size + length
        if end > size:
            torn = True
            break
        payload = data[pos + _HEADER.size : end]
        if zlib.crc32(payload) != payload_crc:
            torn = end == size
            corrupt = not torn
            break
        records.append(payload)
        pos = end
    return JournalScan(tuple(records), pos, size, torn, corrupt)


def scan_journal(path: Path) -> JournalScan:
    """Read a journal and report its intact records and how it ends.

    A missing file is an empty journal. Never raises for torn or corrupt content.

    Raises:
        PersistenceError: the file exists but cannot be read.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return JournalScan((), 0, 0, torn=False, corrupt=False)
    except OSError as exc:
        raise PersistenceError(f"cannot read {str(path)!r}: {_describe(exc)}") from exc
    return _scan(data)


def read_journal(path: Path) -> list[bytes]:
    """Return the payloads of every intact record, stopping at the first damaged one.

    A torn tail (crash mid-append) is ignored; use :func:`scan_journal` to learn whether
    the journal was torn or corrupt.
    """
    return list(scan_journal(path).records)


class JournalWriter:
    """Appends framed records to a journal file; one writer per journal (hold the lock).

    Opening repairs a torn tail (truncates it, so new records are not hidden behind it)
    and refuses a corrupt journal. After any failed append the writer is closed: a failed
    fsync cannot be retried safely. The failed record is cut off again when possible; if
    not, it may still be read after a crash, so records should be safe to see twice.

    Args:
        path: the journal file (created if missing; its directory must exist; a
            symlink there is refused).
        fsync: fsync after each record (and the directory when the file is created);
            ``False``: only :meth:`sync` and :meth:`reset` fsync (the first also the
            directory of a file this writer created, so its name survives power loss).
        ops: the OS calls to use.
    """

    def __init__(
        self, path: Path, *, fsync: bool = True, ops: FileOps | None = None
    ) -> None:
        self.path = path
        self.fsync = fsync
        self._ops = ops or _DEFAULT_OPS
        self._fd: int | None = None
        self._size = 0
        self._open()

    def _open(self) -> None:
        ops, path = self._ops, self.path
        flags = os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
        step = "opening the journal"
        try:
            try:
                fd = ops.open(path, flags | os.O_CREAT | os.O_EXCL)
                created = True
            except FileExistsError:
                fd = ops.open(path, flags)
                created = False
        except OSError as exc:
            raise _fail(path, step, exc) from exc
        try:
            step = "reading the journal"
            scan = _scan(_read_fd(fd))
            if scan.corrupt:
                raise PersistenceError(
                    f"cannot append to {str(path)!r}: a damaged record at byte "
                    f"{scan.valid_length} is followed by more data"
                )
            if scan.torn:
                step = "truncating the torn tail"
                ops.truncate(fd, scan.valid_length)
                if self.fsync:
                    ops.fsync(fd)
            if created and self.fsync:
                step = "fsync of the directory"
                ops.fsync_dir(path.parent)
        except BaseException as exc:
            with suppress(OSError):
                ops.close(fd)
            if isinstance(exc, OSError):
                raise _fail(path, step, exc) from exc
            raise
        self._fd, self._size = fd, scan.valid_length
        #: a new file's directory entry is durable only once its directory is fsynced;
        #: a group-committing writer does that at its first sync
        self._entry_durable = not created or self.fsync

    @property
    def closed(self) -> bool:
        """Whether the writer is closed (explicitly, or after a failed append)."""
        return self._fd is None

    def append(self, payload: bytes) -> None:
        """Append one record and, if ``fsync``, make it durable before returning.

        Raises:
            PersistenceError: the record could not be written or synced; the writer is
                closed.
        """
        fd = self._fd
        if fd is None:
            raise PersistenceError(
                f"the journal writer of {str(self.path)!r} is closed"
            )
        frame = _frame(payload)
        ops = self._ops
        step = "appending a record"
        try:
            _write_all(ops, fd, frame)
            ops.on_step(CrashPoint.RECORD_WRITTEN)
            if self.fsync:
                step = "fsync of the journal"
                ops.fsync(fd)
                ops.on_step(CrashPoint.RECORD_SYNCED)
        except BaseException as exc:
            with suppress(OSError):
                ops.truncate(fd, self._size)
            self.close()
            if isinstance(exc, OSError):
                raise _fail(self.path, step, exc) from exc
            raise
        self._size += len(frame)

    @property
    def size(self) -> int:
        """Bytes of intact records in the journal."""
        return self._size

    def sync(self) -> None:
        """Make every record appended so far durable (one fsync; for ``fsync=False``
        writers that commit in groups).

        Raises:
            PersistenceError: the fsync failed; the writer is closed (never retried).
        """
        self._sync_or_close("fsync of the journal", CrashPoint.RECORD_SYNCED, None)

    def reset(self) -> None:
        """Empty the journal durably (after a snapshot made its records redundant).

        Raises:
            PersistenceError: the truncation or its fsync failed; the writer is closed.
        """
        self._sync_or_close("emptying the journal", CrashPoint.JOURNAL_RESET, 0)
        self._size = 0

    def _sync_or_close(self, step: str, point: CrashPoint, length: int | None) -> None:
        fd = self._fd
        if fd is None:
            raise PersistenceError(
                f"the journal writer of {str(self.path)!r} is closed"
            )
        try:
            if length is not None:
                self._ops.truncate(fd, length)
            self._ops.fsync(fd)
            if not self._entry_durable:
                step = "fsync of the directory"
                self._ops.fsync_dir(self.path.parent)
                self._entry_durable = True
        except OSError as exc:
            self.close()
            raise _fail(self.path, step, exc) from exc
        self._ops.on_step(point)

    def close(self) -> None:
        """Close the file (idempotent); close errors are ignored, appends were synced."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with suppress(OSError):
                self._ops.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _read_fd(fd: int) -> bytes:
    """Read a whole file through ``fd`` from offset 0."""
    size = os.fstat(fd).st_size
    chunks: list[bytes] = []
    offset = 0
    while offset < size:
        chunk = os.pread(fd, size - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def append_durable(
    path: Path, data: bytes, *, fsync: bool = True, ops: FileOps | None = None
) -> None:
    """Append one record to the journal at ``path`` (opened and closed for this call).

    Opening scans the journal to repair a torn tail, so this costs a read of the whole
    file; keep a :class:`JournalWriter` open for many appends.

    Raises:
        PersistenceError: the journal is corrupt, or the record could not be written.
    """
    with JournalWriter(path, fsync=fsync, ops=ops) as writer:
        writer.append(data)
