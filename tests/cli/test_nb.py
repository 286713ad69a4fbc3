"""``maidit nb run|export|import``: notebooks as files, flow cells run headless."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from maidit_jupyter.cli.main import main

FLOWS = [
    (
        "%%flow first\n---\nname: first\nversion: 1.0.0\n---\n<workflow>\n"
        '<transform id="a" type="template"><template>one</template></transform>\n'
        "</workflow>\n"
    ),
    (
        "%%flow second -c word=hi\n---\nname: second\nversion: 1.0.0\nconfig:\n"
        "  word:\n    type: string\n    default: x\n---\n<workflow>\n"
        '<transform id="b" type="template"><template>{{ $config.word }}</template></transform>\n'
        "</workflow>\n"
    ),
    (
        "%%flow third --answer ok=approve\n---\nname: third\nversion: 1.0.0\n---\n<workflow>\n"
        '<include id="inc" workflow="cell:first"/>\n'
        '<checkpoint id="ok" input="inc"><prompt>Go?</prompt></checkpoint>\n'
        "</workflow>\n"
    ),
]


def notebook_with_flows(path: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Three flows")]
    for flow in FLOWS:
        notebook.cells.append(nbformat.v4.new_code_cell(flow))
        notebook.cells.append(nbformat.v4.new_code_cell("x = 1"))
    nbformat.write(notebook, path)
    return path


def test_nb_run_writes_one_log_cell_per_flow_and_is_idempotent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = notebook_with_flows(tmp_path / "three.ipynb")
    assert main(["nb", "run", str(path)]) == 0
    first = nbformat.read(path, as_version=4)
    logs = [c for c in first.cells if "maidit_log_for" in c.metadata]
    assert len(logs) == 3
    assert all("## Execution Log" in cell.source for cell in logs)
    assert "**Status:** completed" in logs[2].source
    # each log sits right after its flow cell
    for index, cell in enumerate(first.cells):
        if cell.cell_type == "code" and cell.source.startswith("%%flow"):
            follower = first.cells[index + 1]
            assert follower.metadata["maidit_log_for"] == cell.id
    assert '"hi"' in logs[1].source
    assert main(["nb", "run", str(path)]) == 0
    again = nbformat.read(path, as_version=4)
    assert len(again.cells) == len(first.cells)
    assert sum("maidit_log_for" in c.metadata for c in again.cells) == 3
    assert "cell 2: completed" in capsys.readouterr().out


def test_nb_run_reports_a_broken_flow_in_its_log_cell(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(FLOWS[0].replace('id="a"', 'id="a" input="nope"'))
    ]
    path = tmp_path / "broken.ipynb"
    nbformat.write(notebook, path)
    assert main(["nb", "run", str(path)]) == 1
    log = nbformat.read(path, as_version=4).cells[1]
    assert log.source.startswith("**error:**")
    assert "VALID_UNDEFINED_NODE_REF" in log.source


def test_nb_export_and_import_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = notebook_with_flows(tmp_path / "three.ipynb")
    assert main(["nb", "export", str(path), str(tmp_path / "flows")]) == 0
    exported = sorted(p.name for p in (tmp_path / "flows").iterdir())
    assert exported == ["first.flow.md", "second.flow.md", "third.flow.md"]
    assert main(["validate", str(tmp_path / "flows" / "second.flow.md")]) == 0
    target = tmp_path / "new.ipynb"
    assert (
        main(["nb", "import", str(tmp_path / "flows" / "first.flow.md"), str(target)])
        == 0
    )
    cells = nbformat.read(target, as_version=4).cells
    assert cells[0].source.startswith("%%flow first\n---\nname: first")
    capsys.readouterr()
