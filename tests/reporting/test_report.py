"""The JSON run report: every documented field, non-JSON outputs, redaction."""

from __future__ import annotations

import json
import math

from maidit_jupyter.execution.state import (
    NodeError,
    NodeResult,
    NodeStatus,
    RunRecord,
    RunStatus,
)
from maidit_jupyter.reporting.report import dumps, invalid_report, run_report
from maidit_jupyter.validation.validator import check_document

START = 1_770_472_037.5


class Frame:
    """Stands for a non-JSON output such as a DataFrame."""

    def __repr__(self) -> str:
        return "Frame(rows=3, token=s3cret-token)"


def test_report_of_a_failed_run_has_every_field() -> None:
    """The document matches spec/run-report.md, field by field."""
    error = NodeError(message="HTTP 500 for s3cret-token", code="RUNTIME_HTTP_ERROR")
    record = RunRecord(
        run_id="r1",
        workflow="demo",
        status=RunStatus.FAILED,
        started_at=START,
        finished_at=START + 0.0153,
        waves_executed=2,
        error=error,
        results={
            "a": NodeResult(
                node_id="a",
                status=NodeStatus.SUCCESS,
                output={"x": [1, math.nan]},
                wave=0,
                attempts=1,
                started_at=START,
                finished_at=START + 0.0012,
            ),
            "frame": NodeResult(
                node_id="frame",
                status=NodeStatus.SUCCESS,
                output=Frame(),
                wave=0,
                attempts=1,
                started_at=START,
                finished_at=START,
            ),
            "b": NodeResult(
                node_id="b",
                status=NodeStatus.FAILED,
                error=error,
                wave=1,
                attempts=3,
                started_at=START,
                finished_at=START,
            ),
            "c": NodeResult(
                node_id="c",
                status=NodeStatus.SKIPPED,
                reason="upstream 'b' failed",
                wave=2,
            ),
        },
    )
    report = json.loads(
        dumps(
            run_report(
                record,
                plan=[["a", "frame"], ["b"], ["c"]],
                checkpoint=".maidit-state/demo/r1.json",
                log="log with s3cret-token",
                secrets=["s3cret-token"],
            )
        )
    )
    assert list(report) == [
        "workflow",
        "run_id",
        "status",
        "waves",
        "plan",
        "error",
        "errors",
        "warnings",
        "nodes",
        "duration_ms",
        "checkpoint",
        "log",
    ]
    assert report["status"] == "failed"
    assert report["waves"] == 3
    assert report["error"] == {
        "message": "HTTP 500 for ***",
        "code": "RUNTIME_HTTP_ERROR",
        "node": "b",
    }
    assert report["nodes"]["a"] == {
        "status": "success",
        "output": {"x": [1, None]},
        "error": None,
        "reason": None,
        "wave": 0,
        "attempts": 1,
        "duration_ms": 1.2,
        "reused": False,
    }
    assert report["nodes"]["frame"]["output"] == {
        "$repr": "Frame(rows=3, token=***)",
        "$type": f"{__name__}.Frame",
    }
    assert report["nodes"]["c"]["reason"] == "upstream 'b' failed"
    assert report["duration_ms"] == 15.3
    assert "s3cret" not in dumps(
        run_report(record, plan=[], log="s3cret-token", secrets=["s3cret-token"])
    )


def test_invalid_report_lists_errors_and_warnings() -> None:
    """A flow that cannot run reports status invalid with located diagnostics."""
    text = (
        "---\nname: bad\nversion: 1.0.0\nextra: 1\n---\n<workflow>\n"
        '<delay id="d" duration="1s" input="nope"/>\n</workflow>\n'
    )
    checked = check_document(text, path="bad.flow.md")
    report = invalid_report("bad", checked.report.diagnostics)
    assert report["status"] == "invalid"
    assert report["errors"][0]["code"] == "VALID_UNDEFINED_NODE_REF"
    assert report["errors"][0]["line"] == 7
    assert report["warnings"][0]["code"] == "VALID_UNKNOWN_FIELD"
