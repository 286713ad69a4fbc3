"""``%%flow`` in a real kernel (ipykernel through nbclient), as a notebook runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

FLOW = """%%flow --answer ok=approve
---
name: kernel-demo
version: 1.0.0
---
<workflow>
  <transform id="numbers" type="template"><template>{{ [1, 2, 3] }}</template></transform>
  <foreach id="each" collection="[1, 2, 3]" concurrency="3">
    <delay id="wait" duration="20ms"/>
  </foreach>
  <checkpoint id="ok" input="numbers"><prompt>Go on?</prompt></checkpoint>
  <transform id="done" type="template" input="ok"><template>{{ input.action }}</template></transform>
</workflow>
"""


def execute(tmp_path: Path, *sources: str) -> Any:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    client = NotebookClient(
        notebook,
        timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    return notebook


def test_a_flow_cell_runs_in_a_real_kernel(tmp_path: Path) -> None:
    notebook = execute(
        tmp_path,
        "%load_ext maidit_jupyter",
        FLOW,
        "print(_.status, _.outputs['done'])",
    )
    flow_outputs = notebook.cells[1].outputs
    bundle = next(o for o in flow_outputs if o.output_type == "execute_result")
    assert "## Execution Log" in bundle.data["text/markdown"]
    assert "**Status:** completed" in bundle.data["text/markdown"]
    assert "text/html" in bundle.data
    printed = notebook.cells[2].outputs[0].text
    assert printed.strip() == "completed approve"
    assert (tmp_path / ".maidit-state" / "kernel-demo").is_dir()


def test_an_invalid_flow_shows_the_cell_line_and_no_traceback(tmp_path: Path) -> None:
    broken = FLOW.replace('input="numbers"', 'input="numbrs"')
    with pytest.raises(CellExecutionError) as info:
        execute(tmp_path, "%load_ext maidit_jupyter", broken)
    text = str(info.value)
    assert "error[VALID_UNDEFINED_NODE_REF]" in text
    assert "cell kernel-demo:11:" in text
    assert "Traceback" not in text
