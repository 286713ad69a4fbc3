"""The ``maidit`` command: validate, plan, parse, exit codes and help."""

from __future__ import annotations

import io
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maidit_jupyter.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.flow.md"))
INVALID = ROOT / "tests" / "data" / "invalid"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in EXAMPLES])
def test_every_example_validates(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    """Each example flow is valid."""
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 0, out
    assert f"Valid {path}" in out or "passed with" in out


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in EXAMPLES])
def test_every_example_plans_as_json(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    """``plan --format json`` prints the waves of each example."""
    code, out, _ = run(capsys, "plan", "--format", "json", str(path))
    assert code == 0
    data = json.loads(out)
    assert data["waves"]
    assert all(wave["nodes"] for wave in data["waves"])


def test_resilient_example_plan_text(capsys: pytest.CaptureFixture[str]) -> None:
    """The text plan lists waves, labels, dependencies and routed nodes."""
    code, out, _ = run(capsys, "plan", str(ROOT / "examples" / "resilient.flow.md"))
    assert code == 0
    assert "Waves: 2" in out
    assert "• prices (source:http)" in out
    assert "• stats (parallel) ← prices" in out
    assert "• cached-prices (from prices)" in out
    assert "• give-up (from slow-part)" in out


def test_validate_reports_errors_with_excerpt_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An invalid file prints code, location, caret excerpt and hint; exit code 1."""
    path = INVALID / "undefined_input.flow.md"
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 1
    assert "error[VALID_UNDEFINED_NODE_REF]" in out
    assert f"--> {path}:7:" in out
    assert "^" in out
    assert "hint: Did you mean: scores?" in out


def test_validate_json_is_one_document_for_many_files(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Several files in JSON form one parseable document."""
    files = [str(EXAMPLES[0]), str(INVALID / "duplicate_id.flow.md"), "missing.flow.md"]
    code, out, _ = run(capsys, "validate", "--format", "json", *files)
    assert code == 1
    data = json.loads(out)
    assert [f["valid"] for f in data["files"]] == [True, False, False]
    assert data["files"][2]["errors"][0]["code"] == "FILE_NOT_FOUND"
    assert data["files"][1]["errors"][0]["location"]["line"] == 7


def test_strict_fails_on_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    """--strict turns a warning into exit code 1, and says so."""
    path = str(INVALID / "sink_without_input.flow.md")
    assert run(capsys, "validate", path)[0] == 0
    code, out, _ = run(capsys, "validate", "--strict", path)
    assert code == 1
    assert "failed (--strict)" in out


def test_plan_of_invalid_file_prints_diagnostics_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Plan refuses an invalid flow with exit 1 and keeps stdout empty."""
    code, out, err = run(capsys, "plan", str(INVALID / "cycle_input.flow.md"))
    assert code == 1
    assert out == ""
    assert "Circular dependency detected" in err


def test_parse_prints_the_tree_with_locations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``parse`` prints nodes with kind, id and 1-based location."""
    code, out, _ = run(capsys, "parse", str(ROOT / "examples" / "grades.flow.md"))
    assert code == 0
    data = json.loads(out)
    first = data["nodes"][0]
    assert (first["kind"], first["id"], first["span"]["line"]) == (
        "source",
        "scores",
        11,
    )
    assert data["metadata"]["config"]["pass_mark"]["default"] == 50


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown commands and missing arguments are usage errors."""
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == 2


def test_module_and_console_script_print_help() -> None:
    """``python -m maidit_jupyter --help`` works and lists the commands."""
    result = subprocess.run(
        [sys.executable, "-m", "maidit_jupyter", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    for command in ("validate", "plan", "parse"):
        assert command in result.stdout
    script = Path(sys.executable).with_name("maidit")
    assert script.exists()
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, check=False
    )
    assert result.stdout.startswith("maidit ")


def test_validate_reads_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``maidit validate -`` checks the document given on standard input."""
    text = (INVALID / "duplicate_id.flow.md").read_text()
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code, out, _ = run(capsys, "validate", "-")
    assert code == 1
    assert "--> -:7:1" in out


def test_plan_shows_warnings_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """A valid flow with warnings is planned; the warnings go to stderr."""
    code, out, err = run(capsys, "plan", str(INVALID / "loop_no_exit.flow.md"))
    assert code == 0
    assert "Wave 0 (1 node):" in out
    assert "warning[VALID_MISSING_REQUIRED_FIELD]" in err


def test_inspect_shows_nodes_dependencies_and_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """inspect lists nodes, dependencies (template references too), config and secrets."""
    code, out, _ = run(
        capsys,
        "inspect",
        "--deps",
        "--schema",
        str(ROOT / "examples" / "grades.flow.md"),
    )
    assert code == 0
    assert "  • passing (transform:filter) ← scores" in out
    assert "  summary ← graded, scores" in out
    assert "  pass_mark: number (default: 50)" in out
    assert out.rstrip().endswith("✓ Validation passed")


def test_inspect_json_and_invalid_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    """inspect --format json carries validation; an invalid flow exits 1."""
    code, out, _ = run(
        capsys,
        "inspect",
        "--format",
        "json",
        "--deps",
        str(INVALID / "undefined_input.flow.md"),
    )
    assert code == 1
    data = json.loads(out)
    assert data["valid"] is False
    assert data["errors"][0]["code"] == "VALID_UNDEFINED_NODE_REF"
    assert data["dependencies"]["m"] == []
    assert [node["id"] for node in data["nodes"]] == ["scores", "m"]


def copy_examples(tmp_path: Path) -> Path:
    target = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", target)
    return target


def test_run_prints_the_json_report_and_appends_the_log(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``maidit run --format json`` runs the flow, prints the report, writes the log."""
    base = copy_examples(tmp_path)
    flow_path = base / "grades.flow.md"
    before = flow_path.read_text()
    code, out, _ = run(
        capsys, "run", str(flow_path), "--format", "json", "-c", "pass_mark=80"
    )
    assert code == 0
    report = json.loads(out)
    assert report["status"] == "completed"
    assert report["plan"] == [["scores"], ["passing"], ["graded"], ["summary", "save"]]
    assert report["nodes"]["summary"]["output"] == "2 of 5 passed; best: Ada"
    after = flow_path.read_text()
    assert after.startswith(before.rstrip())
    assert "## Execution Log" in after
    code, _, _ = run(capsys, "run", str(flow_path), "--no-log")
    assert code == 0
    assert flow_path.read_text() == after
    assert (base / "out" / "graded.csv").exists()


def test_run_refuses_bad_inputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Wrong config types, unknown keys and bad usage are refused before running."""
    base = copy_examples(tmp_path)
    flow_path = str(base / "grades.flow.md")
    code, _, err = run(capsys, "run", flow_path, "-c", "pass_mark=high", "--no-log")
    assert code == 1
    assert (
        "config 'pass_mark' must be a number, but --config pass_mark gives 'high'"
        in err
    )
    assert run(capsys, "run", flow_path, "-c", "novalue", "--no-log")[0] == 2
    assert run(capsys, "run", flow_path, "--input", "{bad", "--no-log")[0] == 2
    code, out, _ = run(
        capsys, "run", str(INVALID / "cycle_input.flow.md"), "--format", "json"
    )
    assert code == 1
    assert json.loads(out)["status"] == "invalid"


def test_sigint_cancels_the_run_and_still_writes_the_log(tmp_path: Path) -> None:
    """Ctrl-C ends the run as cancelled, quickly, with the report and the log."""
    flow_path = tmp_path / "slow.flow.md"
    flow_path.write_text(
        "---\nname: slow\nversion: 1.0.0\n---\n<workflow>\n"
        '<delay id="wait" duration="30s"/>\n<delay id="after" duration="1ms" input="wait"/>\n'
        "</workflow>\n"
    )
    script = Path(sys.executable).with_name("maidit")
    process = subprocess.Popen(
        [str(script), "run", str(flow_path), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 1, err
    report = json.loads(out)
    assert report["status"] == "cancelled"
    assert report["nodes"]["wait"]["reason"] == "cancelled"
    assert report["nodes"]["after"]["status"] == "skipped"
    assert "**Status:** cancelled" in flow_path.read_text()
