"""The checkpoint document: what it holds, how a node result is encoded, how it is read.

A checkpoint is two files next to each other:

* ``<run_id>.json``: the **snapshot**, one JSON document (format below), replaced
  atomically;
* ``<run_id>.journal``: records appended since that snapshot, one per finished node,
  each framed and checksummed (:mod:`maidit_jupyter.persistence`).

Reading takes the snapshot and applies the journal records whose sequence number is
above the snapshot's ``journal_seq``; a torn last record (a crash mid-append) is
ignored. The snapshot's shape (``format_version`` 1)::

    {"format": "maidit-checkpoint", "format_version": 1,
     "run_id": "...", "workflow": "...", "flow": {"path": "/abs/x.flow.md", "hash": "..."},
     "status": "running|completed|failed|cancelled|paused",
     "created_at": 0.0, "updated_at": 0.0, "finished_at": null, "resumes": 0,
     "plan": [["a"], ["b", "c"]],
     "nodes": {"a": {"definition": "...", "config": "...", "effective": "..."}},
     "config": {...}, "secrets": ["NAME"], "input": {"stored": true, "value": ...},
     "options": {"concurrency": 10, "keep_going": false, "timeout_ms": null},
     "error": null, "journal_seq": 0,
     "in_flight": [{"node": "notify", "what": "sends an email", "owner": "notify",
                    "block": null, "index": null}],
     "results": {"a": {"status": "success", "wave": 0, "attempts": 1,
                       "started_at": 0.0, "finished_at": 0.0, "reason": null,
                       "error": null, "hashes": {...} | null,
                       "stored": true, "not_stored": null, "output": ...}}}

``in_flight`` lists the *intents* of nodes that act outside the run
(:mod:`maidit_jupyter.runtimes.effects`) that have not settled (:class:`InFlight`): the
node was running when the process stopped (an intent record in the journal and nothing
after it that makes its effect count as done) or was cancelled while running. A resume
runs their owners again and warns that those effects may happen twice.

Secrets appear by name only. An output that is not JSON, or that holds a secret's value
in any encoding, is not stored (``"stored": false`` and why); a resume re-runs that node
when a node that runs needs its output. Loading validates every field and raises
:class:`~maidit_jupyter.errors.CheckpointError` naming the file and the problem; it never
runs anything.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maidit_jupyter._records import record
from maidit_jupyter.checkpoints.hashing import NodeHashes
from maidit_jupyter.errors import CheckpointError, PersistenceError
from maidit_jupyter.execution.state import (
    Intent,
    NodeError,
    NodeResult,
    NodeStatus,
    RunStatus,
)
from maidit_jupyter.expressions.values import UNDEFINED, Value
from maidit_jupyter.persistence.durable import scan_journal
from maidit_jupyter.redaction import SecretMask

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Checkpoint",
    "InFlight",
    "StoredIteration",
    "StoredResult",
    "encode_intent",
    "encode_iteration",
    "encode_output",
    "encode_result",
    "item_hash",
    "journal_path",
    "load_checkpoint",
]

FORMAT = "maidit-checkpoint"
FORMAT_VERSION = 1
#: the largest checkpoint (snapshot or journal) a loader reads.
MAX_BYTES = 2**31


def journal_path(path: Path) -> Path:
    """The journal next to the snapshot ``path`` (``<run_id>.journal``)."""
    return path.with_name(path.stem + ".journal")


@record
class StoredResult:
    """A node result as the checkpoint holds it.

    :ivar hashes: the node's hashes when it ran (scheduled nodes only).
    :ivar stored: whether the output was stored (False: not JSON, or holds a secret).
    :ivar not_stored: why the output was not stored.
    """

    result: NodeResult
    hashes: NodeHashes | None = None
    stored: bool = True
    not_stored: str | None = None


class InFlight:
    """Intents of nodes acting outside the run that have not settled (see above).

    An intent settles when what makes its node's effect count as done is recorded:
    for a scheduled node its own result (``success``, or ``failed``: the failure is
    known), for a nested node the end of the iteration it ran in or its owner's success.
    A ``skipped`` result (cancelled while running) settles nothing. The writer and the
    loader apply the same records in the same order.
    """

    def __init__(self, intents: Iterable[Intent] = ()) -> None:
        #: owner → (block, index) → node → intent
        self._held: dict[str, dict[tuple[str | None, int | None], dict[str, Intent]]]
        self._held = {}
        #: (block, index) → owner, for the iterations holding intents
        self._owners: dict[tuple[str, int], str] = {}
        for intent in intents:
            self.started(intent)

    @property
    def intents(self) -> tuple[Intent, ...]:
        """Every unsettled intent."""
        return tuple(
            intent
            for where in self._held.values()
            for nodes in where.values()
            for intent in nodes.values()
        )

    def started(self, intent: Intent) -> None:
        where = self._held.setdefault(intent.owner, {})
        where.setdefault((intent.block, intent.index), {})[intent.node] = intent
        if intent.block is not None and intent.index is not None:
            self._owners[intent.block, intent.index] = intent.owner

    def finished(self, node_id: str, status: NodeStatus) -> None:
        """A result was recorded for ``node_id``."""
        where = self._held.get(node_id)
        if where is None:
            return
        if status is NodeStatus.SUCCESS:
            del self._held[node_id]
            for block, index in where:
                if block is not None and index is not None:
                    self._owners.pop((block, index), None)
        elif status is NodeStatus.FAILED:
            own = where.get((None, None))
            if own is not None:
                own.pop(node_id, None)
                if not own:
                    del where[None, None]
            if not where:
                del self._held[node_id]

    def iteration_finished(self, block: str, index: int) -> None:
        """The end of iteration ``index`` of ``block`` was recorded."""
        owner = self._owners.pop((block, index), None)
        where = self._held.get(owner) if owner is not None else None
        if where is None:
            return
        where.pop((block, index), None)
        if not where:
            del self._held[owner]  # type: ignore[arg-type]


@record
class StoredIteration:
    """A finished iteration of a block that did not finish.

    :ivar item: for ``foreach``, the hash of the item (it is reused only for the same
        item); for loops, empty.
    :ivar state: for loops, what the next iteration starts from: the outputs of the
        iteration's nodes and the run's variables.
    """

    item: str
    output: Value
    state: Mapping[str, Any] | None = None


@dataclass(kw_only=True)
class Checkpoint:
    """A checkpoint as read from disk (snapshot plus journal)."""

    path: Path
    run_id: str
    workflow: str
    flow_path: str
    flow_hash: str
    status: RunStatus
    created_at: float
    updated_at: float
    finished_at: float | None
    resumes: int
    plan: tuple[tuple[str, ...], ...]
    node_hashes: dict[str, NodeHashes]
    config: dict[str, Any]
    secrets: tuple[str, ...]
    input_stored: bool
    input: Value
    options: dict[str, Any]
    error: NodeError | None
    journal_seq: int
    results: dict[str, StoredResult] = field(default_factory=dict)
    #: finished iterations of foreach nodes that did not finish: node → index →
    #: (item hash, output).
    iterations: dict[str, dict[int, StoredIteration]] = field(default_factory=dict)
    #: whether the journal ended in a torn record (a crash mid-append).
    journal_torn: bool = False
    #: intents of nodes acting outside the run that may have acted, unsettled.
    in_flight: tuple[Intent, ...] = ()


# -- encoding ------------------------------------------------------------------------


def encode_output(value: Value, mask: SecretMask) -> tuple[str | None, str | None]:
    """The JSON text of an output, or ``None`` and why it cannot be stored."""
    if value is UNDEFINED:
        return None, None
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=_refuse)
    except (TypeError, ValueError, RecursionError):
        kind = type(value)
        return None, f"not JSON ({kind.__module__}.{kind.__qualname__})"
    if mask.contains(text):
        return None, "holds a secret value"
    return text, None


def item_hash(item: Value) -> str | None:
    """A hash of a foreach item (None when it is not JSON)."""
    try:
        text = json.dumps(item, sort_keys=True, allow_nan=False, default=_refuse)
    except (TypeError, ValueError, RecursionError):
        return None
    return hashlib.blake2b(
        text.encode("utf-8", "surrogatepass"), digest_size=16
    ).hexdigest()


def encode_intent(intent: Intent) -> str:
    """An intent as JSON (snapshot ``in_flight`` entries and journal records)."""
    return json.dumps(
        {
            "node": intent.node,
            "what": intent.what,
            "owner": intent.owner,
            "block": intent.block,
            "index": intent.index,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def encode_iteration(
    index: int,
    item: str,
    output: Value,
    mask: SecretMask,
    state: Mapping[str, Any] | None = None,
) -> str | None:
    """The JSON text of a finished iteration (``item``: the item's hash, or empty), or
    None if its output or state is not JSON or holds a secret."""
    text, not_stored = encode_output(output, mask)
    if not_stored is not None:
        return None
    value = "null" if text is None else text
    entry = f'{{"index":{index},"item":{json.dumps(item)},"output":{value}'
    if state is not None:
        state_text, not_stored = encode_output(state, mask)
        if not_stored is not None or state_text is None:
            return None
        entry += f',"state":{state_text}'
    return entry + "}"


def _refuse(value: Any) -> Any:
    """``json.dumps`` fallback: ``undefined`` inside an output is stored as null (the
    value JSON can hold); anything else that is not JSON stops the encoding."""
    if value is UNDEFINED:
        return None
    raise TypeError(type(value).__name__)


def encode_result(
    result: NodeResult,
    hashes: NodeHashes | None,
    mask: SecretMask,
    *,
    not_stored: str | None = None,
) -> str:
    """The JSON text of one result entry (messages redacted; output stored if safe).

    ``not_stored`` keeps a carried-over result's output out, with that reason.
    """
    output: str | None = None
    if not_stored is None:
        output, not_stored = encode_output(result.output, mask)
    entry: dict[str, Any] = {
        "status": str(result.status),
        "wave": result.wave,
        "attempts": result.attempts,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "reason": None if result.reason is None else mask.redact(result.reason),
        "error": None
        if result.error is None
        else {"message": mask.redact(result.error.message), "code": result.error.code},
        "hashes": None if hashes is None else _hashes_json(hashes),
        "stored": not_stored is None,
        "not_stored": not_stored,
    }
    if result.reused:
        entry["reused"] = True
    text = json.dumps(entry, ensure_ascii=False, allow_nan=False)
    if output is None:
        return text
    return text[:-1] + ',"output":' + output + "}"


def _hashes_json(hashes: NodeHashes) -> dict[str, str]:
    return {
        "definition": hashes.definition,
        "config": hashes.config,
        "effective": hashes.effective,
    }


# -- decoding ------------------------------------------------------------------------


class _Reader:
    """Typed field access that raises :class:`CheckpointError` naming the file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, what: str) -> CheckpointError:
        return CheckpointError(f"checkpoint {str(self.path)!r} is damaged: {what}")

    def get(
        self,
        data: Mapping[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        where: str,
    ) -> Any:
        if key not in data:
            raise self.fail(f"{where}: {key!r} is missing")
        value = data[key]
        if isinstance(value, bool) and bool not in (
            kind if isinstance(kind, tuple) else (kind,)
        ):
            raise self.fail(f"{where}: {key!r} has the wrong type")
        if not isinstance(value, kind):
            raise self.fail(f"{where}: {key!r} has the wrong type")
        return value

    def number(
        self, data: Mapping[str, Any], key: str, where: str, *, optional: bool = False
    ) -> float | None:
        kinds: tuple[type, ...] = (int, float, type(None)) if optional else (int, float)
        value = self.get(data, key, kinds, where)
        if value is None:
            return None
        if not math.isfinite(value):
            raise self.fail(f"{where}: {key!r} is not a finite number")
        return float(value)

    def count(self, data: Mapping[str, Any], key: str, where: str) -> int:
        value = self.get(data, key, int, where)
        if value < 0:
            raise self.fail(f"{where}: {key!r} is negative")
        return int(value)

    def text(
        self, data: Mapping[str, Any], key: str, where: str, *, optional: bool = False
    ) -> str | None:
        value = self.get(data, key, (str, type(None)) if optional else str, where)
        return None if value is None else str(value)

    def hashes(self, value: Any, where: str) -> NodeHashes:
        if not isinstance(value, Mapping):
            raise self.fail(f"{where}: hashes are not an object")
        return NodeHashes(
            definition=self.get(value, "definition", str, where),
            config=self.get(value, "config", str, where),
            effective=self.get(value, "effective", str, where),
        )

    def error(self, value: Any, where: str) -> NodeError | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(f"{where}: 'error' is not an object")
        return NodeError(
            message=self.get(value, "message", str, where),
            code=self.get(value, "code", str, where),
        )

    def intent(self, value: Any, where: str) -> Intent:
        if not isinstance(value, Mapping):
            raise self.fail(f"{where} is not an object")
        block = self.get(value, "block", (str, type(None)), where)
        index = self.get(value, "index", (int, type(None)), where)
        if (block is None) != (index is None) or (index is not None and index < 0):
            raise self.fail(f"{where}: 'block' and 'index' do not match")
        return Intent(
            node=self.get(value, "node", str, where),
            what=self.get(value, "what", str, where),
            owner=self.get(value, "owner", str, where),
            block=block,
            index=index,
        )

    def result(self, node_id: str, entry: Any) -> StoredResult:
        where = f"result of {node_id!r}"
        if not isinstance(entry, Mapping):
            raise self.fail(f"{where} is not an object")
        try:
            status = NodeStatus(self.get(entry, "status", str, where))
        except ValueError:
            raise self.fail(f"{where}: unknown status {entry['status']!r}") from None
        hashes = entry.get("hashes")
        stored = self.get(entry, "stored", bool, where)
        result = NodeResult(
            node_id=node_id,
            status=status,
            output=entry["output"] if stored and "output" in entry else UNDEFINED,
            error=self.error(entry.get("error"), where),
            reason=self.text(entry, "reason", where, optional=True),
            wave=self.count(entry, "wave", where),
            attempts=self.count(entry, "attempts", where),
            started_at=self.number(entry, "started_at", where, optional=True),
            finished_at=self.number(entry, "finished_at", where, optional=True),
            reused=entry.get("reused") is True,
        )
        return StoredResult(
            result=result,
            hashes=None if hashes is None else self.hashes(hashes, where),
            stored=stored,
            not_stored=self.text(entry, "not_stored", where, optional=True),
        )


def _parse_json(data: bytes, reader: _Reader, what: str) -> Any:
    def reject(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    try:
        return json.loads(data.decode("utf-8"), parse_constant=reject)
    except (ValueError, RecursionError) as exc:
        raise reader.fail(f"{what} is not valid JSON ({exc})") from None


def _read_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint not found: {str(path)!r}") from None
    except OSError as exc:
        raise CheckpointError(
            f"cannot read the checkpoint {str(path)!r}: {exc.strerror or exc}"
        ) from None
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"checkpoint {str(path)!r} is larger than 2 GiB")
    return data


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read and check the checkpoint at ``path`` (snapshot plus journal).

    Raises:
        CheckpointError: the file is missing, unreadable, not a checkpoint, of another
            format version, or damaged (every field is checked).
    """
    path = Path(path)
    reader = _Reader(path)
    data = _parse_json(_read_bytes(path), reader, "the file")
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise CheckpointError(f"{str(path)!r} is not a maidit checkpoint")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {str(path)!r} has format version {version!r}; this version of "
            f"maidit_jupyter reads version {FORMAT_VERSION}"
        )
    get = reader.get
    flow = get(data, "flow", Mapping, "checkpoint")
    status_text = get(data, "status", str, "checkpoint")
    try:
        status = RunStatus(status_text)
    except ValueError:
        raise reader.fail(f"unknown run status {status_text!r}") from None
    plan_data = get(data, "plan", list, "checkpoint")
    if not all(
        isinstance(wave, list) and all(isinstance(node, str) for node in wave)
        for wave in plan_data
    ):
        raise reader.fail("'plan' is not a list of lists of node ids")
    nodes = get(data, "nodes", Mapping, "checkpoint")
    secrets = get(data, "secrets", list, "checkpoint")
    if not all(isinstance(name, str) for name in secrets):
        raise reader.fail("'secrets' is not a list of names")
    input_data = get(data, "input", Mapping, "checkpoint")
    results = get(data, "results", Mapping, "checkpoint")
    checkpoint = Checkpoint(
        path=path,
        run_id=get(data, "run_id", str, "checkpoint"),
        workflow=get(data, "workflow", str, "checkpoint"),
        flow_path=get(flow, "path", str, "flow"),
        flow_hash=get(flow, "hash", str, "flow"),
        status=status,
        created_at=reader.number(data, "created_at", "checkpoint") or 0.0,
        updated_at=reader.number(data, "updated_at", "checkpoint") or 0.0,
        finished_at=reader.number(data, "finished_at", "checkpoint", optional=True),
        resumes=reader.count(data, "resumes", "checkpoint"),
        plan=tuple(tuple(wave) for wave in plan_data),
        node_hashes={
            str(node_id): reader.hashes(value, f"hashes of {node_id!r}")
            for node_id, value in nodes.items()
        },
        config=dict(get(data, "config", Mapping, "checkpoint")),
        secrets=tuple(secrets),
        input_stored=get(input_data, "stored", bool, "input"),
        input=input_data.get("value", UNDEFINED),
        options=dict(get(data, "options", Mapping, "checkpoint")),
        error=reader.error(data.get("error"), "checkpoint"),
        journal_seq=reader.count(data, "journal_seq", "checkpoint"),
        results={
            str(node_id): reader.result(str(node_id), entry)
            for node_id, entry in results.items()
        },
    )
    in_flight = data.get("in_flight", [])  # both absent from older checkpoints
    if not isinstance(in_flight, list):
        raise reader.fail("'in_flight' is not a list")
    checkpoint.in_flight = tuple(
        reader.intent(entry, "an 'in_flight' entry") for entry in in_flight
    )
    iterations = data.get("iterations", {})
    if not isinstance(iterations, Mapping):
        raise reader.fail("'iterations' is not an object")
    for node_id, entries in iterations.items():
        if not isinstance(entries, list):
            raise reader.fail(f"iterations of {node_id!r} are not a list")
        for entry in entries:
            _add_iteration(checkpoint, reader, str(node_id), entry)
    _replay_journal(checkpoint, reader)
    return checkpoint


def _add_iteration(
    checkpoint: Checkpoint, reader: _Reader, node_id: str, entry: Any
) -> int:
    where = f"an iteration of {node_id!r}"
    if not isinstance(entry, Mapping):
        raise reader.fail(f"{where} is not an object")
    index = reader.count(entry, "index", where)
    state = entry.get("state")
    if state is not None and not isinstance(state, Mapping):
        raise reader.fail(f"{where}: 'state' is not an object")
    checkpoint.iterations.setdefault(node_id, {})[index] = StoredIteration(
        item=reader.get(entry, "item", str, where),
        output=entry.get("output"),
        state=state,
    )
    return index


def _replay_journal(checkpoint: Checkpoint, reader: _Reader) -> None:
    """Apply the journal records written after the snapshot."""
    path = journal_path(checkpoint.path)
    if not path.exists():
        return
    try:
        scan = scan_journal(path)
    except PersistenceError as exc:
        raise CheckpointError(str(exc)) from None
    if scan.corrupt:
        raise reader.fail(
            f"its journal {str(path)!r} has a damaged record followed by more data"
        )
    checkpoint.journal_torn = scan.torn
    in_flight = InFlight(checkpoint.in_flight)
    for payload in scan.records:
        item = _parse_json(payload, reader, "a journal record")
        if not isinstance(item, Mapping):
            raise reader.fail("a journal record is not an object")
        seq = reader.count(item, "seq", "journal record")
        if seq <= checkpoint.journal_seq:
            continue
        checkpoint.journal_seq = seq
        if "iteration" in item:
            node_id = reader.get(item, "iteration", str, "journal record")
            index = _add_iteration(checkpoint, reader, node_id, item.get("entry"))
            in_flight.iteration_finished(node_id, index)
            continue
        if "effect" in item:
            in_flight.started(reader.intent(item["effect"], "a journal intent"))
            continue
        node_id = reader.get(item, "node", str, "journal record")
        stored = reader.result(node_id, item.get("result"))
        checkpoint.results[node_id] = stored
        in_flight.finished(node_id, stored.result.status)
        if stored.result.status is NodeStatus.SUCCESS:
            checkpoint.iterations.pop(node_id, None)
    checkpoint.in_flight = in_flight.intents
