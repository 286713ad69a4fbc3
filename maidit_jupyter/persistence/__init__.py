"""Durable state on disk: atomic file replacement, an append-only journal, the run lock.

Everything the engine persists goes through this package:

* :func:`write_atomic` replaces a whole file (temp file, fsync, ``os.replace``, directory
  fsync), so a crash leaves the old or the new content, never a mix;
* :class:`JournalWriter` / :func:`append_durable` append checksummed records that
  :func:`read_journal` reads back, ignoring a torn last record;
* :class:`RunLock` makes one process the owner of a run's checkpoint, with a kernel lock
  that dies with the process.

:class:`FileOps` is the seam for fault and crash injection in tests.
"""

from __future__ import annotations

from maidit_jupyter.persistence.durable import (
    CrashPoint,
    FileOps,
    JournalScan,
    JournalWriter,
    append_durable,
    read_journal,
    remove_stale_temps,
    scan_journal,
    write_atomic,
)
from maidit_jupyter.persistence.lock import RunLock

__all__ = [
    "CrashPoint",
    "FileOps",
    "JournalScan",
    "JournalWriter",
    "RunLock",
    "append_durable",
    "read_journal",
    "remove_stale_temps",
    "scan_journal",
    "write_atomic",
]
