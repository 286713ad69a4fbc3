"""Every file of tests/data/valid/ validates cleanly and plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from maidit_jupyter.validation.validator import check_document

VALID = sorted(
    (Path(__file__).resolve().parent.parent / "data" / "valid").glob("*.flow.md")
)


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in VALID])
def test_valid_document_has_no_diagnostics_and_a_plan(path: Path) -> None:
    """No error, no warning, and a plan."""
    checked = check_document(path.read_text(encoding="utf-8"), path=path.name)
    assert [str(d) for d in checked.report.diagnostics] == []
    assert checked.plan is not None


def test_every_node_kind_is_in_the_valid_corpus() -> None:
    """The corpus uses every node element of the dialect."""
    text = "".join(path.read_text() for path in VALID)
    for tag in (
        "source",
        "transform",
        "sink",
        "ai",
        "if",
        "branch",
        "loop",
        "while",
        "foreach",
        "parallel",
        "timeout",
        "phase",
        "context",
        "set",
        "delay",
        "checkpoint",
        "include",
        "call",
        "on-error",
    ):
        assert f"<{tag}" in text, tag
