"""The markdown execution log: render a run, and put the log after a flow's workflow.

The format is the original engine's (dialect §8), with its defects fixed: newlines and
``|`` in a cell are escaped *before* the cell is cut to 50 characters and a cut never
splits an escape; secret values are redacted everywhere; ``Waves`` counts the waves that
ran; and replacing an earlier log only ever touches text after ``</workflow>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from maidit_jupyter.execution.state import NodeResult, NodeStatus, RunRecord, RunStatus
from maidit_jupyter.redaction import SecretMask, as_mask
from maidit_jupyter.reporting.preview import preview

__all__ = ["append_execution_log", "format_execution_log"]

CELL_WIDTH = 50
_HEADING = "## Execution Log"
_ESCAPES = {"|": "\\|", "\n": "\\n", "\r": "\\r"}
_NEEDS_ESCAPE = re.compile(r"[|\r\n]")


def _cell(text: str, width: int = CELL_WIDTH) -> str:
    """Escape ``|`` and line breaks, then cut to ``width`` without splitting an escape."""
    units = (
        [_ESCAPES.get(char, char) for char in text]
        if _NEEDS_ESCAPE.search(text)
        else list(text)
    )
    if sum(len(unit) for unit in units) <= width:
        return "".join(units)
    kept: list[str] = []
    length = 0
    for unit in units:
        if length + len(unit) > width - 3:
            break
        kept.append(unit)
        length += len(unit)
    return "".join(kept) + "..."


def _output(result: NodeResult, mask: SecretMask) -> str:
    if result.status is NodeStatus.FAILED and result.error is not None:
        return mask.redact(f"Error: {result.error.message}")
    if result.status is NodeStatus.SKIPPED:
        return mask.redact(f"Skipped: {result.reason}" if result.reason else "Skipped")
    # enough text for the cell even after escaping; never the whole output
    return preview(result.output, 4 * CELL_WIDTH, mask, quote=True)


def _timestamp(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_execution_log(
    record: RunRecord,
    *,
    secrets: Iterable[str] | SecretMask = (),
    now: float | None = None,
) -> str:
    """Render ``record`` as the markdown execution log (ends with a newline).

    Args:
        record: the run.
        secrets: secret values to redact from every cell and message.
        now: the time to measure an unfinished run's duration against (epoch seconds).
    """
    mask = as_mask(secrets)
    finished = record.finished_at if record.finished_at is not None else now
    duration = max(
        0.0,
        (finished if finished is not None else record.started_at) - record.started_at,
    )
    status = (
        record.status if record.status is not RunStatus.RUNNING else RunStatus.FAILED
    )
    lines = [
        "---",
        "",
        _HEADING,
        "",
        f"**Run ID:** `{record.run_id}`",
        f"**Workflow:** {record.workflow}",
        f"**Timestamp:** {_timestamp(record.started_at)}",
        f"**Duration:** {duration:.2f}s",
        f"**Status:** {status}",
        f"**Waves:** {record.waves_executed}",
    ]
    if record.error is not None:
        lines.append(f"**Error:** {_cell(mask.redact(record.error.message), 200)}")
    lines += [
        "",
        "### Node Results",
        "",
        "| Node | Status | Duration | Output |",
        "|------|--------|----------|--------|",
    ]
    ordered = sorted(
        record.results.values(),
        key=lambda r: (r.started_at is None, r.started_at or 0.0),
    )
    for result in ordered:
        output = _cell(_output(result, mask))
        node = _cell(mask.redact(result.node_id))
        lines.append(
            f"| {node} | {result.status} | {result.duration_ms / 1000:.2f}s | {output} |"
        )
    return "\n".join(lines) + "\n"


def append_execution_log(text: str, log: str, *, workflow_end: int) -> str:
    """Put ``log`` after the workflow of a flow document, replacing an earlier log.

    Only text after ``workflow_end`` (the offset just after ``</workflow>``) is searched
    and replaced, so a ``## Execution Log`` written inside the workflow is never cut.
    An earlier log is replaced from its ``---`` rule (or an ``<!--`` opening just before
    the heading) to the end of the document.
    """
    footer = text[workflow_end:]
    found = footer.find(_HEADING)
    if found == -1:
        head = text if text.endswith("\n") else text + "\n"
        return head + "\n" + log
    before = footer[:found]
    cut = found
    comment = re.search(r"<!--\s*$", before)
    rule = re.search(r"---\s*\n+$", before)
    if comment is not None:
        cut = comment.start()
    elif rule is not None:
        cut = rule.start()
    return (text[:workflow_end] + footer[:cut]).rstrip() + "\n\n" + log
