"""The JSON run report that ``maidit run --format json`` prints (spec/run-report.md).

One document describes a whole run, or why a flow could not run (``status: invalid``).
Field names are part of the contract: add fields, never rename them. An include/call
node's entry has a ``"run"`` field with its flow's run (its own ``nodes`` table, same
shape); other nodes have none. Outputs that are not JSON (a DataFrame from a python
node) appear as ``{"$repr": ..., "$type": ...}``; secret values are redacted from every
string.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from maidit_jupyter.errors import Diagnostic
from maidit_jupyter.execution.state import NodeResult, RunRecord
from maidit_jupyter.expressions.values import UNDEFINED, FunctionValue
from maidit_jupyter.redaction import SecretMask, as_mask

__all__ = ["dumps", "invalid_report", "run_report"]

_REPR_LIMIT = 200


def _diagnostic(diagnostic: Diagnostic) -> dict[str, Any]:
    return {
        "code": str(diagnostic.code),
        "message": diagnostic.message,
        "severity": str(diagnostic.severity),
        "line": diagnostic.line,
        "column": diagnostic.column,
        "hints": list(diagnostic.hints),
    }


def _json_value(value: Any, mask: SecretMask, depth: int = 0) -> Any:
    """A JSON-safe copy of an output; anything else becomes ``{"$repr", "$type"}``."""
    if value is UNDEFINED or value is None:
        return None
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return mask.redact(value)
    if depth < 100 and isinstance(value, list | tuple):
        return [_json_value(item, mask, depth + 1) for item in value]
    if depth < 100 and isinstance(value, Mapping):
        return {
            mask.redact(str(key)): _json_value(item, mask, depth + 1)
            for key, item in value.items()
            if item is not UNDEFINED and not isinstance(item, FunctionValue)
        }
    kind = type(value)
    text = mask.redact(repr(value))  # before the cut: a cut secret is not masked
    if len(text) > _REPR_LIMIT:
        text = text[: _REPR_LIMIT - 3] + "..."
    return {
        "$repr": text,
        "$type": f"{kind.__module__}.{kind.__qualname__}",
    }


def _node(result: NodeResult, mask: SecretMask) -> dict[str, Any]:
    error = None
    if result.error is not None:
        error = {
            "message": mask.redact(result.error.message),
            "code": result.error.code,
        }
    node = {
        "status": str(result.status),
        "output": _json_value(result.output, mask),
        "error": error,
        "reason": None if result.reason is None else mask.redact(result.reason),
        "wave": result.wave,
        "attempts": result.attempts,
        "duration_ms": round(result.duration_ms, 3),
        "reused": result.reused,
        **({"meta": _json_value(result.meta, mask)} if result.meta else {}),
    }
    if result.child is not None:
        node["run"] = _child_run(result.child, mask)
    return node


def _run_error(record: RunRecord, mask: SecretMask) -> dict[str, Any] | None:
    """The run's error and the node it came from."""
    if record.error is None:
        return None
    failed = next(
        (r.node_id for r in record.results.values() if r.error is record.error),
        None,
    )
    return {
        "message": mask.redact(record.error.message),
        "code": record.error.code,
        "node": failed,
    }


def _child_run(record: RunRecord, mask: SecretMask) -> dict[str, Any]:
    """The run of an include/call node's flow: its own node table, same shape."""
    finished = (
        record.finished_at if record.finished_at is not None else record.started_at
    )
    return {
        "workflow": record.workflow,
        "run_id": record.run_id,
        "status": str(record.status),
        "error": _run_error(record, mask),
        "nodes": {
            node_id: _node(result, mask) for node_id, result in record.results.items()
        },
        "duration_ms": round((finished - record.started_at) * 1000.0, 3),
    }


def run_report(
    record: RunRecord,
    *,
    plan: Sequence[Sequence[str]],
    warnings: Iterable[Diagnostic] = (),
    checkpoint: str | None = None,
    log: str = "",
    secrets: Iterable[str] | SecretMask = (),
) -> dict[str, Any]:
    """The report of a run that started."""
    mask = as_mask(secrets)
    finished = (
        record.finished_at if record.finished_at is not None else record.started_at
    )
    error = _run_error(record, mask)
    return {
        "workflow": record.workflow,
        "run_id": record.run_id,
        "status": str(record.status),
        "waves": len(plan),
        "plan": [list(wave) for wave in plan],
        "error": error,
        "errors": [],
        "warnings": [_diagnostic(d) for d in warnings],
        "nodes": {
            node_id: _node(result, mask) for node_id, result in record.results.items()
        },
        "duration_ms": round((finished - record.started_at) * 1000.0, 3),
        "checkpoint": checkpoint,
        "log": mask.redact(log),
    }


def invalid_report(workflow: str, diagnostics: Iterable[Diagnostic]) -> dict[str, Any]:
    """The report of a flow that could not run: its errors and warnings."""
    found = list(diagnostics)
    return {
        "workflow": workflow,
        "run_id": None,
        "status": "invalid",
        "waves": 0,
        "plan": [],
        "error": None,
        "errors": [_diagnostic(d) for d in found if d.is_error],
        "warnings": [_diagnostic(d) for d in found if not d.is_error],
        "nodes": {},
        "duration_ms": 0.0,
        "checkpoint": None,
        "log": "",
    }


def dumps(report: Mapping[str, Any]) -> str:
    """The report as the JSON text the CLI prints."""
    return json.dumps(report, ensure_ascii=False, indent=2)
