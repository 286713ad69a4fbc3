"""The markdown execution log: exact format, escaping, redaction, replacement."""

from __future__ import annotations

from maidit_jupyter.execution.state import (
    NodeError,
    NodeResult,
    NodeStatus,
    RunRecord,
    RunStatus,
)
from maidit_jupyter.expressions.values import UNDEFINED
from maidit_jupyter.reporting.markdown import append_execution_log, format_execution_log

START = 1_770_472_037.573  # 2026-02-07T13:47:17.573Z


def record(**kwargs: object) -> RunRecord:
    results = {
        "write": NodeResult(
            node_id="write",
            status=NodeStatus.SUCCESS,
            output={"bytes": 12},
            wave=1,
            attempts=1,
            started_at=START + 0.5,
            finished_at=START + 0.75,
        ),
        "read": NodeResult(
            node_id="read",
            status=NodeStatus.SUCCESS,
            output=[1, 2],
            wave=0,
            attempts=1,
            started_at=START,
            finished_at=START + 0.25,
        ),
        "shout": NodeResult(
            node_id="shout",
            status=NodeStatus.FAILED,
            wave=1,
            attempts=3,
            error=NodeError(message="bad | thing\nsecond line", code="EXPR_EVAL_ERROR"),
            started_at=START + 0.5,
            finished_at=START + 0.5,
        ),
        "later": NodeResult(
            node_id="later", status=NodeStatus.SKIPPED, reason="upstream 'shout' failed"
        ),
        "nothing": NodeResult(
            node_id="nothing",
            status=NodeStatus.SUCCESS,
            output=UNDEFINED,
            started_at=START + 0.1,
            finished_at=START + 0.1,
        ),
    }
    fields: dict[str, object] = {
        "run_id": "r-1",
        "workflow": "grades",
        "status": RunStatus.FAILED,
        "started_at": START,
        "finished_at": START + 1.234,
        "waves_executed": 2,
        "results": results,
    }
    fields.update(kwargs)
    return RunRecord(**fields)  # type: ignore[arg-type]


def test_log_has_the_exact_format() -> None:
    """Header fields, then one row per node sorted by start time (unstarted last)."""
    assert format_execution_log(record()) == (
        "---\n"
        "\n"
        "## Execution Log\n"
        "\n"
        "**Run ID:** `r-1`\n"
        "**Workflow:** grades\n"
        "**Timestamp:** 2026-02-07T13:47:17.573Z\n"
        "**Duration:** 1.23s\n"
        "**Status:** failed\n"
        "**Waves:** 2\n"
        "\n"
        "### Node Results\n"
        "\n"
        "| Node | Status | Duration | Output |\n"
        "|------|--------|----------|--------|\n"
        "| read | success | 0.25s | [1,2] |\n"
        "| nothing | success | 0.00s | - |\n"
        '| write | success | 0.25s | {"bytes":12} |\n'
        "| shout | failed | 0.00s | Error: bad \\| thing\\nsecond line |\n"
        "| later | skipped | 0.00s | Skipped: upstream 'shout' failed |\n"
    )


def test_cells_are_escaped_before_they_are_cut() -> None:
    """A 50-character cut never splits an escape and ends with '...'."""
    text = "x" * 46 + "|" + "y" * 20
    results = {
        "n": NodeResult(
            node_id="n",
            status=NodeStatus.SUCCESS,
            output=text,
            started_at=START,
            finished_at=START,
        )
    }
    row = format_execution_log(record(results=results)).splitlines()[-1]
    cell = row.split(" | ")[-1].removesuffix(" |")
    assert cell == '"' + "x" * 46 + "..."
    assert len(cell) <= 50


def test_secret_values_are_redacted_everywhere() -> None:
    """Secret values vanish from outputs and errors."""
    results = {
        "n": NodeResult(
            node_id="n",
            status=NodeStatus.SUCCESS,
            output={"token": "s3cr3t-value"},
            started_at=START,
            finished_at=START,
        ),
        "m": NodeResult(
            node_id="m",
            status=NodeStatus.FAILED,
            started_at=START,
            finished_at=START,
            error=NodeError(message="401 for s3cr3t-value", code="RUNTIME_HTTP_ERROR"),
        ),
    }
    log = format_execution_log(
        record(
            results=results, error=NodeError(message="s3cr3t-value leaked", code="X")
        ),
        secrets=["s3cr3t-value"],
    )
    assert "s3cr3t" not in log
    assert "***" in log


FLOW = "---\nname: f\nversion: 1.0.0\n---\n<workflow>\n<transform id='t'><template>## Execution Log</template></transform>\n</workflow>\n"


def test_log_is_appended_after_the_workflow_and_replaced_later() -> None:
    """The first run appends; the next replaces only the log after </workflow>."""
    end = FLOW.index("</workflow>") + len("</workflow>")
    first = append_execution_log(
        FLOW, "---\n\n## Execution Log\n\nrun 1\n", workflow_end=end
    )
    assert first == FLOW + "\n---\n\n## Execution Log\n\nrun 1\n"
    second = append_execution_log(
        first + "user notes after the log\n",
        "---\n\n## Execution Log\n\nrun 2\n",
        workflow_end=end,
    )
    assert second == FLOW.rstrip() + "\n\n---\n\n## Execution Log\n\nrun 2\n"
    assert "<template>## Execution Log</template>" in second


def test_log_in_an_html_comment_is_replaced() -> None:
    """An older log inside ``<!-- ... -->`` is replaced from the comment opening."""
    end = FLOW.index("</workflow>") + len("</workflow>")
    old = FLOW + "\n<!--\n## Execution Log\nold\n-->\n"
    new = append_execution_log(old, "LOG\n", workflow_end=end)
    assert new == FLOW.rstrip() + "\n\nLOG\n"
