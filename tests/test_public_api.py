"""The package root exports a curated, sorted and complete public API."""

from __future__ import annotations

from types import ModuleType

import pytest

import maidit_jupyter


def test_all_is_complete() -> None:
    """``__all__`` lists every public name of the root once (ruff RUF022 keeps it sorted)."""
    public = {
        name
        for name, value in vars(maidit_jupyter).items()
        if not name.startswith("_")
        and not isinstance(value, ModuleType)  # subpackages, imported or not
        and name != "annotations"  # from __future__
    }
    assert len(set(maidit_jupyter.__all__)) == len(maidit_jupyter.__all__)
    assert set(maidit_jupyter.__all__) == public


def test_load_workflow_returns_plan_or_raises(tmp_path) -> None:
    """``load_workflow`` returns a plan for a valid flow and raises with diagnostics."""
    good = tmp_path / "good.flow.md"
    good.write_text(
        "---\nname: g\nversion: 1.0.0\n---\n<workflow><delay id='d' duration='1s'/></workflow>\n"
    )
    workflow, execution_plan, report = maidit_jupyter.load_workflow(good)
    assert (workflow.name, execution_plan.waves, report.valid) == ("g", (("d",),), True)
    bad = tmp_path / "bad.flow.md"
    bad.write_text(
        "---\nname: b\nversion: 1.0.0\n---\n<workflow><delay id='d' input='x' duration='1s'/></workflow>\n"
    )
    with pytest.raises(maidit_jupyter.WorkflowValidationError) as info:
        maidit_jupyter.load_workflow(bad)
    first = info.value.diagnostics[0]
    assert first.code is maidit_jupyter.ErrorCode.VALID_UNDEFINED_NODE_REF
    assert "bad.flow.md:5:" in str(info.value)
    rendered = info.value._render_traceback_()
    assert rendered[0].startswith("error[VALID_UNDEFINED_NODE_REF]")
