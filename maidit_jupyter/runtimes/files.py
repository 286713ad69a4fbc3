"""The data side of ``file:source`` and ``file:sink``: paths, reading and writing.

Pure functions, no executor: :func:`resolve_path` confines a path to the flow's
directory, :func:`read_data` reads and parses a file, :func:`write_data` renders and
writes one atomically. The formats themselves live in
:mod:`maidit_jupyter.runtimes.formats` (:func:`detect_format` and :func:`render_data`
are re-exported here).

Path rules (the original's, plus symlinks): a relative path resolves against the base
directory; the result must lie inside it after resolving the symlinks of every existing
prefix, so a symlink inside the base that points outside is rejected. As in the original,
the path is also checked after URL-decoding and turning ``\\`` into ``/`` (``..%2F`` and
``..\\`` are rejected), NUL bytes and Windows drive paths (``C:\\``, ``C:/``) are
rejected, absolute paths inside the base are allowed, and the file opened is the
undecoded path.

Every failure is a :class:`~maidit_jupyter.errors.NodeRuntimeError`, never retryable,
with one of these codes: ``RUNTIME_PATH_TRAVERSAL``, ``ENOENT`` (a missing file, or a
missing directory when not creating it), ``FILE_TOO_LARGE``, ``PARSE_ERROR`` (also
bytes that are not valid in the encoding), ``RUNTIME_INVALID_CONFIG`` (an empty path, an
unknown format or encoding, ``append`` to json or yaml), ``RUNTIME_INVALID_INPUT``
(a value the format cannot hold), ``RUNTIME_NOT_A_FILE`` (a FIFO, a device), or the
``errno`` name of any other OS error (``EISDIR``, ``EACCES``, ``ENOSPC``, ``ELOOP``, ...).
"""

from __future__ import annotations

import codecs
import errno
import os
import re
import stat
from contextlib import suppress
from pathlib import Path
from urllib.parse import unquote

from maidit_jupyter.errors import NodeRuntimeError, PersistenceError
from maidit_jupyter.persistence.durable import remove_stale_temps, write_atomic
from maidit_jupyter.runtimes.beneath import pinned_directory, shown_path
from maidit_jupyter.runtimes.formats import (
    INVALID_CONFIG,
    PARSE_ERROR,
    csv_header,
    detect_format,
    detect_write_format,
    encode_text,
    parse_data,
    render_csv,
    render_data,
    render_text,
)

__all__ = [
    "APPENDABLE",
    "FILE_TOO_LARGE",
    "NOT_A_FILE",
    "NOT_FOUND",
    "PATH_TRAVERSAL",
    "detect_format",
    "detect_write_format",
    "read_data",
    "render_data",
    "resolve_path",
    "write_data",
]

PATH_TRAVERSAL = "RUNTIME_PATH_TRAVERSAL"
NOT_FOUND = "ENOENT"
FILE_TOO_LARGE = "FILE_TOO_LARGE"
NOT_A_FILE = "RUNTIME_NOT_A_FILE"
#: the formats ``append=True`` can extend (json and yaml hold one document).
APPENDABLE = ("text", "lines", "jsonl", "csv")

_DRIVE = re.compile(r"[A-Za-z]:[\\/]")


def _os_error(action: str, path: Path, error: OSError) -> NodeRuntimeError:
    """Return the error for a failed OS call, coded by its ``errno`` name."""
    code = errno.errorcode.get(error.errno or 0, "EIO")
    reason = error.strerror or type(error).__name__
    return NodeRuntimeError(f"Cannot {action} {path}: {reason}", code=code)


def _traversal(path_text: str) -> NodeRuntimeError:
    return NodeRuntimeError(
        f"Path traversal not allowed: {path_text}", code=PATH_TRAVERSAL
    )


def resolve_path(path_text: str, base_dir: Path) -> Path:
    """Resolve a file path and confine it to ``base_dir``.

    Args:
        path_text: the path as the node gave it (rendered); relative to ``base_dir``
            unless absolute.
        base_dir: the flow file's directory (for a notebook cell, the working
            directory).

    Returns:
        The absolute path with every symlink of its existing prefix resolved: the file
        to open or replace.

    Raises:
        NodeRuntimeError: ``RUNTIME_PATH_TRAVERSAL`` (``"Path traversal not allowed:
            <p>"``) for a path outside ``base_dir``, through ``..`` (plain, encoded or
            with backslashes) or a symlink, or with a NUL byte or a drive letter;
            ``RUNTIME_INVALID_CONFIG`` for an empty path.
    """
    text = str(path_text)
    if not text:
        raise NodeRuntimeError("File path is empty", code=INVALID_CONFIG)
    decoded = unquote(text)
    if any("\0" in t or _DRIVE.match(t) for t in (text, decoded)):
        raise _traversal(text)
    base = _realpath(Path(base_dir))
    resolved = _realpath(base / text)
    for candidate in (text, text.replace("\\", "/"), decoded.replace("\\", "/")):
        # realpath resolves the symlinks of the existing prefix, then ".." lexically.
        where = resolved if candidate is text else _realpath(base / candidate)
        if not Path(where).is_relative_to(base):
            raise _traversal(text)
    return resolved


def _realpath(path: Path) -> Path:
    """``os.path.realpath``, whose lookups can fail while the tree changes (a symlink
    removed between its ``lstat`` and ``readlink``): such a failure is the node's."""
    try:
        return Path(os.path.realpath(path))
    except OSError as error:
        raise _os_error("resolve", path, error) from None


def _codec(encoding: str) -> str:
    """Return the codec name to decode with (``utf-8-sig`` for UTF-8: BOM stripped)."""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise NodeRuntimeError(
            f"Unknown text encoding: {encoding!r}", code=INVALID_CONFIG
        ) from None
    return "utf-8-sig" if info.name == "utf-8" else info.name


def _decode(data: bytes, encoding: str, path: Path) -> str:
    try:
        return data.decode(_codec(encoding))
    except LookupError:  # a codec that is not a text encoding (base64, ...)
        raise NodeRuntimeError(
            f"Unknown text encoding: {encoding!r}", code=INVALID_CONFIG
        ) from None
    except UnicodeDecodeError as error:
        raise NodeRuntimeError(
            f"Cannot decode {path} as {encoding}: byte 0x{data[error.start]:02x} "
            f"at offset {error.start}",
            code=PARSE_ERROR,
        ) from None


#: the largest file an appending sink reads back (as a file source by default).
APPEND_MAX_BYTES = 100_000_000


def _read_bytes(target: Path, max_bytes: int, path: Path, nofollow: bool) -> bytes:
    """Read a regular file of at most ``max_bytes`` bytes (``target``: where to open
    it; ``path``: its name in messages; ``nofollow``: a symlink there is a traversal)."""
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK  # a FIFO must not block
    if nofollow:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(target, flags)
    except (FileNotFoundError, NotADirectoryError):
        raise NodeRuntimeError(f"File not found: {path}", code=NOT_FOUND) from None
    except OSError as error:
        if nofollow and error.errno == errno.ELOOP:
            raise _traversal(str(path)) from None
        raise _os_error("read", path, error) from None
    too_large = NodeRuntimeError(
        f"File too large: {path} is over the limit of {max_bytes} bytes",
        code=FILE_TOO_LARGE,
    )
    try:
        info = os.fstat(fd)
        # checked before open(): it refuses a directory without closing ``fd``
        if stat.S_ISDIR(info.st_mode):
            raise NodeRuntimeError(f"Not a file: {path} is a directory", code="EISDIR")
        if not stat.S_ISREG(info.st_mode):
            raise NodeRuntimeError(f"Not a regular file: {path}", code=NOT_A_FILE)
        if info.st_size > max_bytes:
            raise too_large
        with open(fd, "rb", closefd=True) as file:
            fd = -1  # the file object owns it now
            data = file.read(max_bytes + 1)  # the file may have grown since fstat
    except OSError as error:
        raise _os_error("read", path, error) from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > max_bytes:
        raise too_large
    return data


def read_data(
    path: Path,
    fmt: str | None,
    *,
    encoding: str = "utf-8",
    max_bytes: int = 100_000_000,
    base: Path | None = None,
    shown: str = "",
) -> object:
    """Read and parse a file.

    Args:
        path: the file, as :func:`resolve_path` returned it.
        fmt: one of ``json csv yaml text lines jsonl``, or ``None``/``"auto"`` to
            detect by extension (see :mod:`~maidit_jupyter.runtimes.formats`).
        encoding: the text encoding; a UTF-8 byte order mark is dropped.
        max_bytes: the largest file read.
        base: the directory ``path`` was confined to: the file is then opened through
            its directory opened beneath ``base`` (:mod:`~maidit_jupyter.runtimes.beneath`),
            so a directory swapped for a symlink after the check is refused.
        shown: the path as the flow wrote it (for a traversal error).

    Returns:
        The parsed data (see :func:`~maidit_jupyter.runtimes.formats.parse_data`).

    Raises:
        NodeRuntimeError: ``ENOENT`` (``"File not found: <p>"``), ``FILE_TOO_LARGE``,
            ``PARSE_ERROR`` and the codes listed in the module docstring.
    """
    name = detect_format(path, fmt)
    _codec(encoding)  # an unknown encoding is reported before the file is read
    if base is None:
        data = _read_bytes(path, max_bytes, path, nofollow=False)
    else:
        try:
            with pinned_directory(path, base, create=False, shown=shown) as target:
                data = _read_bytes(target, max_bytes, path, nofollow=True)
        except (FileNotFoundError, NotADirectoryError):
            raise NodeRuntimeError(f"File not found: {path}", code=NOT_FOUND) from None
        except OSError as error:
            raise _os_error("read", path, error) from None
    return parse_data(_decode(data, encoding, path), name, source=str(path))


def _existing(target: Path, path: Path, encoding: str) -> tuple[str, bool]:
    """Return the text of the file for an append ("" when there is none), and whether
    it had a BOM. It is read as a file source reads (a symlink swapped in at ``target``
    is a traversal, a FIFO or a directory is refused, never waited on)."""
    try:
        data = _read_bytes(target, APPEND_MAX_BYTES, path, nofollow=True)
    except NodeRuntimeError as error:
        if error.code == NOT_FOUND:
            return "", False
        raise
    bom = data.startswith(codecs.BOM_UTF8) and _codec(encoding) == "utf-8-sig"
    return _decode(data, encoding, path), bom


def _make_parent(path: Path, create_dirs: bool) -> None:
    parent = path.parent
    if parent.is_dir():
        return
    if not create_dirs:
        raise NodeRuntimeError(f"Directory not found: {parent}", code=NOT_FOUND)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _os_error("create the directory", parent, error) from None


def write_data(
    path: Path,
    value: object,
    fmt: str | None,
    *,
    pretty: bool = True,
    create_dirs: bool = True,
    append: bool = False,
    encoding: str = "utf-8",
    base: Path | None = None,
    shown: str = "",
) -> dict[str, object]:
    """Render ``value`` and write it to ``path`` atomically.

    The bytes go through :func:`maidit_jupyter.persistence.durable.write_atomic` (temp
    file, fsync, rename), so a reader never sees a half-written file. An append
    rewrites the whole file the same way: the old content plus the new.

    Args:
        path: the file, as :func:`resolve_path` returned it.
        value: the data.
        fmt: a format name, or ``None``/``"auto"``: by extension, else ``json`` for an
            object or array and ``text`` otherwise.
        pretty: indent JSON by 2.
        create_dirs: create missing parent directories.
        append: add to the end of the file instead of replacing it (``text``,
            ``lines``, ``jsonl``, ``csv``). A ``lines``/``jsonl``/``csv`` file that
            does not end with a line break gets one first; a CSV file keeps its header:
            rows are written in its columns, and a key outside them is an error.
        encoding: the text encoding.
        base: the directory ``path`` was confined to: the file is then written through
            its directory opened beneath ``base`` (as in :func:`read_data`).
        shown: the path as the flow wrote it (for a traversal error).

    Returns:
        ``{"path": str(path), "bytes": n, "format": fmt}`` where ``n`` is the number of
        bytes written (for an append, the bytes added).

    Raises:
        NodeRuntimeError: ``ENOENT`` when the directory is missing and
            ``create_dirs`` is false, and the codes listed in the module docstring.
    """
    name = detect_write_format(path, fmt, value)
    if append and name not in APPENDABLE:
        raise NodeRuntimeError(
            f"Cannot append to a {name} file; append works for "
            + ", ".join(APPENDABLE),
            code=INVALID_CONFIG,
        )
    _codec(encoding)
    # rendered first: a value the format cannot hold fails before a directory is made
    fresh = render_data(value, name, pretty=pretty, encoding=encoding)
    if base is None:
        _make_parent(path, create_dirs)
        return _write(path, path, value, fresh, name, pretty, append, encoding)
    try:
        with pinned_directory(path, base, create=create_dirs, shown=shown) as target:
            return _write(target, path, value, fresh, name, pretty, append, encoding)
    except (FileNotFoundError, NotADirectoryError):
        raise NodeRuntimeError(
            f"Directory not found: {path.parent}", code=NOT_FOUND
        ) from None
    except OSError as error:
        raise _os_error("create the directory", path.parent, error) from None


def _write(
    target: Path,
    path: Path,
    value: object,
    fresh: bytes,
    name: str,
    pretty: bool,
    append: bool,
    encoding: str,
) -> dict[str, object]:
    """Write ``fresh`` (the rendered value), or append ``value`` to what is there
    (``target``: where; ``path``: its name in the result and in messages)."""
    existing, bom = _existing(target, path, encoding) if append else ("", False)
    if existing:
        columns = csv_header(existing, source=str(path)) if name == "csv" else None
        if columns:  # rows go under the file's header
            added = render_csv(value, columns=columns, header=False)
        else:
            added = render_text(value, name, pretty=pretty)
        if name != "text" and added and not existing.endswith(("\n", "\r")):
            added = "\n" + added
        prefix = codecs.BOM_UTF8 if bom else b""
        content = prefix + encode_text(existing + added, encoding)
        size = len(content) - len(prefix) - len(encode_text(existing, encoding))
    else:
        content = render_data(value, name, pretty=pretty, encoding=encoding)
        size = len(content)
    with suppress(PersistenceError):  # temps of a crashed write: this node rewrites it
        remove_stale_temps(target)
    try:  # the umask decides the new file's mode, as for open()
        write_atomic(target, content, new_file_mode=0o666)
    except PersistenceError as error:  # always caused by the OSError it names
        code = errno.errorcode.get(getattr(error.__cause__, "errno", 0) or 0, "EIO")
        message = shown_path(str(error), target, path)
        raise NodeRuntimeError(message, code=code) from None
    return {"path": str(path), "bytes": size, "format": name}
