"""Write a run's checkpoint as it goes: cheap per node, durable in groups.

The writer owns the run's lock for as long as the run lasts, and:

* at the start writes a snapshot (``status: running``) durably and empties the journal;
* before a node that acts outside the run (a mail, a POST, a Python call; see
  :mod:`maidit_jupyter.runtimes.effects`) starts, appends an *intent* record, so that a
  resume after a crash can say the effect may happen twice;
* after **every node** appends one journal record with ``write(2)``: from then on the
  result survives the process being killed (``SIGKILL``, a kernel restart), because the
  bytes are in the operating system's page cache;
* at a wave boundary, when at least ``sync_interval`` seconds passed since the last
  one, fsyncs the journal (*group commit*): a power loss loses at
  most the nodes of the last interval, which a resume simply runs again; when the
  journal has outgrown the snapshot it writes a fresh snapshot and empties the journal
  (*compaction*), so reading a checkpoint and writing one both stay linear in the state;
* at the end writes the final snapshot durably and removes the journal.

So a 5,000-node chain pays a handful of fsyncs, not 5,000 (PostgreSQL's
``commit_delay`` and SQLite's WAL with ``synchronous=NORMAL`` make the same trade). A
failed write or fsync is never retried: the writer keeps the error in :attr:`failure`
and refuses further writes, and the executor ends the run with that error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio

from maidit_jupyter.checkpoints.document import (
    FORMAT,
    FORMAT_VERSION,
    InFlight,
    encode_intent,
    encode_iteration,
    encode_result,
    item_hash,
    journal_path,
)
from maidit_jupyter.checkpoints.hashing import NodeHashes
from maidit_jupyter.errors import PersistenceError
from maidit_jupyter.execution.state import Intent, NodeResult, NodeStatus, RunRecord
from maidit_jupyter.expressions.values import Value
from maidit_jupyter.persistence.durable import (
    FileOps,
    JournalWriter,
    default_ops,
    remove_stale_temps,
    write_atomic,
)
from maidit_jupyter.persistence.lock import RunLock
from maidit_jupyter.redaction import SecretMask

__all__ = ["CheckpointWriter"]

#: compaction waits until the journal holds at least this many bytes.
COMPACT_MIN_BYTES = 1 << 20


class CheckpointWriter:
    """The checkpoint of one run, written as the run goes.

    Args:
        path: the snapshot file (``<state dir>/<workflow>/<run_id>.json``).
        header: the fields that do not change during the run (run id, workflow, flow,
            plan, node hashes, config, secret names, input, options, ...).
        hashes: the scheduled nodes' hashes, stored with each of their results.
        mask: the run's secrets, kept out of every byte written.
        entries: encoded results carried over from the checkpoint being resumed.
        in_flight: nodes of that checkpoint that may have acted and run again.
        lock: the run's lock when the caller already holds it (a resume).
        sync_interval: seconds between group fsyncs of the journal.
        ops: the OS calls (fault and crash injection in tests).
    """

    def __init__(
        self,
        path: Path,
        *,
        header: Mapping[str, Any],
        hashes: Mapping[str, NodeHashes],
        mask: SecretMask,
        entries: Mapping[str, str] | None = None,
        iterations: Mapping[str, Mapping[int, str]] | None = None,
        in_flight: Iterable[Intent] = (),
        lock: RunLock | None = None,
        journal_seq: int = 0,
        sync_interval: float = 1.0,
        ops: FileOps | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.header = {"format": FORMAT, "format_version": FORMAT_VERSION, **header}
        self.hashes = hashes
        self.mask = mask
        self.entries: dict[str, str] = dict(entries or {})
        #: finished foreach iterations (JSON texts) of nodes that have not finished.
        self.iterations: dict[str, dict[int, str]] = {
            node_id: dict(done) for node_id, done in (iterations or {}).items()
        }
        self.in_flight = InFlight(in_flight)
        self.lock = lock or RunLock(path)
        self.seq = journal_seq
        self.sync_interval = sync_interval
        self.ops = ops
        self.clock = clock
        self.failure: PersistenceError | None = None
        self._journal: JournalWriter | None = None
        self._snapshot_size = 0
        self._last_sync = 0.0

    # -- life cycle ------------------------------------------------------------------

    def open(self) -> None:
        """Lock, write the first snapshot durably, start an empty journal.

        Raises:
            LockedError: another process owns this checkpoint.
            PersistenceError: the directory, snapshot or journal could not be written.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise PersistenceError(
                f"cannot create the state directory {str(self.path.parent)!r}: "
                f"{exc.strerror or exc}"
            ) from exc
        if not self.lock.locked:
            self.lock.acquire()
        try:
            remove_stale_temps(self.path)
            self._write_snapshot("running")
            journal = JournalWriter(journal_path(self.path), fsync=False, ops=self.ops)
            if journal.size:
                journal.reset()
            self._journal = journal
            self._last_sync = self.clock()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the journal and release the lock (idempotent)."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self.lock.locked:
            self.lock.release()

    # -- during the run --------------------------------------------------------------

    def effect_started(self, intent: Intent) -> None:
        """Append an intent: a node that acts outside the run starts."""
        if self.failure is not None:
            return
        intent = replace(intent, what=self.mask.redact(intent.what))
        self.in_flight.started(intent)
        self._append(f'{{"seq":{self.seq + 1},"effect":{encode_intent(intent)}}}')

    def node_finished(self, result: NodeResult) -> None:
        """Append ``result`` to the journal (no fsync; see the module doc)."""
        if self.failure is not None:
            return
        self.in_flight.finished(result.node_id, result.status)
        entry = encode_result(result, self.hashes.get(result.node_id), self.mask)
        self.entries[result.node_id] = entry
        if result.status is NodeStatus.SUCCESS:
            self.iterations.pop(result.node_id, None)  # the node's output holds them
        node = json.dumps(result.node_id, ensure_ascii=False)
        self._append(f'{{"seq":{self.seq + 1},"node":{node},"result":{entry}}}')

    def iteration_finished(
        self, node_id: str, index: int, item: Value, output: Value
    ) -> None:
        """Record one finished foreach iteration, so a resume can skip it.

        Nothing is written when the item or the output is not JSON or holds a secret.
        """
        digest = item_hash(item)
        if self.failure is not None or digest is None:
            return
        entry = encode_iteration(index, digest, output, self.mask)
        if entry is None:
            return
        self.iterations.setdefault(node_id, {})[index] = entry
        self._append_iteration(node_id, entry)
        self.in_flight.iteration_finished(node_id, index)

    def loop_iteration_finished(
        self, node_id: str, index: int, output: Value, state: Mapping[str, Value]
    ) -> None:
        """Record a loop's latest finished iteration and the state the next one starts
        from (only the latest is kept)."""
        if self.failure is not None:
            return
        entry = encode_iteration(index, "", output, self.mask, state)
        if entry is None:
            self.iterations.pop(node_id, None)  # a resume starts the loop again
            return
        self.iterations[node_id] = {index: entry}
        self._append_iteration(node_id, entry)
        self.in_flight.iteration_finished(node_id, index)

    def _append_iteration(self, node_id: str, entry: str) -> None:
        node = json.dumps(node_id, ensure_ascii=False)
        self._append(f'{{"seq":{self.seq + 1},"iteration":{node},"entry":{entry}}}')

    async def wave_finished(self, index: int) -> None:
        """Fsync the journal or compact it when that is due (in a worker thread)."""
        if self.failure is not None or self._journal is None:
            return
        journal = self._journal
        if journal.size > max(COMPACT_MIN_BYTES, self._snapshot_size):
            await anyio.to_thread.run_sync(self._guarded, self._compact)
        elif self.clock() - self._last_sync >= self.sync_interval:
            await anyio.to_thread.run_sync(self._guarded, journal.sync)
            self._last_sync = self.clock()

    async def finish(self, record: RunRecord) -> None:
        """Write the final snapshot durably, remove the journal, release the lock."""
        try:
            if self.failure is None:
                await anyio.to_thread.run_sync(self._guarded, self._final, record)
        finally:
            self.close()

    # -- internals -------------------------------------------------------------------

    def _append(self, text: str) -> None:
        journal = self._journal
        if journal is None:
            return
        try:
            journal.append(text.encode("utf-8", "surrogatepass"))
        except PersistenceError as exc:
            self.failure = exc
            return
        self.seq += 1

    def _guarded(self, action: Callable[..., None], *args: Any) -> None:
        try:
            action(*args)
        except PersistenceError as exc:
            self.failure = exc

    def _compact(self) -> None:
        assert self._journal is not None
        self._journal.sync()
        self._write_snapshot("running")
        self._journal.reset()
        self._last_sync = self.clock()

    def _final(self, record: RunRecord) -> None:
        error = None
        if record.error is not None:
            error = {
                "message": self.mask.redact(record.error.message),
                "code": record.error.code,
            }
        self._write_snapshot(str(record.status), record.finished_at, error)
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        try:
            # the default ops, like every other durable call (not a fresh FileOps())
            (self.ops or default_ops()).unlink(journal_path(self.path))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise PersistenceError(
                f"cannot remove the journal {str(journal_path(self.path))!r}: "
                f"{exc.strerror or exc}"
            ) from exc

    def _write_snapshot(
        self,
        status: str,
        finished_at: float | None = None,
        error: Mapping[str, str] | None = None,
    ) -> None:
        head = {
            **self.header,
            "status": status,
            "updated_at": time.time(),
            "finished_at": finished_at,
            "error": error,
            "journal_seq": self.seq,
        }
        text = json.dumps(head, ensure_ascii=False, allow_nan=False)
        in_flight = ",".join(map(encode_intent, self.in_flight.intents))
        results = ",".join(
            json.dumps(node_id, ensure_ascii=False) + ":" + entry
            for node_id, entry in self.entries.items()
        )
        iterations = ",".join(
            json.dumps(node_id, ensure_ascii=False)
            + ":["
            + ",".join(done.values())
            + "]"
            for node_id, done in self.iterations.items()
        )
        data = (
            text[:-1]
            + ',"results":{'
            + results
            + '},"iterations":{'
            + iterations
            + '},"in_flight":['
            + in_flight
            + "]}"
        ).encode("utf-8", "surrogatepass")
        write_atomic(self.path, data, ops=self.ops)
        self._snapshot_size = len(data)
