"""Reach a confined file through its directory opened beneath the base, never by name.

:func:`~maidit_jupyter.runtimes.files.resolve_path` checks a path once; a directory on
it could still be swapped for a symlink to somewhere else before the file is opened
(a check-then-use race). :func:`pinned_directory` closes that window the way rsync does
without ``openat2``: it opens the base directory, then each directory of the path below
it with ``O_NOFOLLOW | O_DIRECTORY`` relative to the one before (creating missing ones
when asked), and hands back the file's path *through that open directory*
(``/proc/self/fd/N/name``). Every later call (the temp file, the rename, the directory
fsync, a read with ``O_NOFOLLOW``) then happens in the directory that was checked,
whatever is renamed or replaced meanwhile. A symlink met on the way is refused as a
path traversal.

Where ``/proc/self/fd`` does not exist (not Linux), the checked path is used as is.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from maidit_jupyter.errors import NodeRuntimeError

__all__ = ["pinned_directory", "shown_path"]

_FD_DIR = Path("/proc/self/fd")
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
#: what opening a component with O_NOFOLLOW | O_DIRECTORY gives for a symlink.
_SYMLINK_ERRNOS = {errno.ELOOP, errno.ENOTDIR}


@contextmanager
def pinned_directory(
    path: Path, base: Path, *, create: bool, shown: str
) -> Iterator[Path]:
    """Open the directory of ``path`` beneath ``base``; yield ``path`` through it.

    Args:
        path: the file, as ``resolve_path`` returned it (inside ``base``, symlinks of
            its existing prefix resolved).
        base: the confining directory.
        create: make missing directories (as ``mkdir -p`` would).
        shown: the path as the flow wrote it, for the traversal error.

    Raises:
        NodeRuntimeError: ``RUNTIME_PATH_TRAVERSAL`` when a directory on the way is a
            symlink (it was swapped in after the check).
        OSError: ``FileNotFoundError`` for a missing directory when not creating, and
            any other failure of ``open`` or ``mkdir``.
    """
    if not _FD_DIR.is_dir():
        # no /proc (not Linux): the path as resolve_path checked it
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        yield path
        return
    real_base = Path(os.path.realpath(base))
    fd = os.open(real_base, _DIRECTORY)
    try:
        for part in path.parent.relative_to(real_base).parts:
            child = _descend(fd, part, create, shown)
            os.close(fd)
            fd = child
        yield _FD_DIR / str(fd) / path.name
    finally:
        os.close(fd)


def shown_path(text: str, pinned: Path, path: Path) -> str:
    """``text`` (an error message) with the pinned directory written as the real one."""
    return text.replace(str(pinned.parent), str(path.parent))


def _descend(fd: int, part: str, create: bool, shown: str) -> int:
    """Open the directory ``part`` inside ``fd`` without following a symlink."""
    try:
        try:
            return os.open(part, _DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise
            # made meanwhile by someone else: opened below like any other
            with suppress(FileExistsError):
                os.mkdir(part, dir_fd=fd)
            return os.open(part, _DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
    except OSError as error:
        if error.errno in _SYMLINK_ERRNOS and _is_symlink(fd, part):
            raise NodeRuntimeError(
                f"Path traversal not allowed: {shown}", code="RUNTIME_PATH_TRAVERSAL"
            ) from None
        raise


def _is_symlink(fd: int, part: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode)
    except OSError:
        return False
