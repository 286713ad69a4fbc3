"""``maidit resume``: the printed plan, the report, exit codes, refusals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maidit_jupyter.cli.main import main
from maidit_jupyter.persistence.lock import RunLock

FLOW = """---
name: fragile
version: 1.0.0
config:
  name:
    type: string
    default: missing
---
<workflow>
  <transform id="numbers" type="template"><template>{{ [10, 20] }}</template></transform>
  <source id="load" type="file" input="numbers"><path>data/{{ $config.name }}.json</path></source>
  <transform id="check" type="map" input="load"><expression>$item * 2</expression></transform>
  <transform id="label" type="template" input="numbers"><template>n={{ length(input) }}</template></transform>
  <sink id="save" type="file" input="check"><path>out/result.json</path></sink>
</workflow>
"""


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_run_fails_then_resume_prints_its_plan_and_finishes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A failed run names its checkpoint; resume with a fixed config reuses the rest."""
    flow = tmp_path / "fragile.flow.md"
    flow.write_text(FLOW)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "values.json").write_text("[1, 2]")
    code, out, _ = cli(capsys, "run", str(flow), "--no-log")
    assert code == 1
    assert "Execution failed" in out
    checkpoint = next((tmp_path / ".maidit-state" / "fragile").glob("*.json"))
    assert f"Resume with: maidit resume {checkpoint}" in out

    code, out, err = cli(capsys, "resume", str(checkpoint), "-c", "name=values")
    assert code == 0, err
    assert "reuse numbers: succeeded, unchanged" in err
    assert "reuse label: succeeded, unchanged" in err
    assert "run   load: failed: File not found: " in err
    assert "run   check: skipped: run failed at wave 1" in err
    assert "run   save: skipped: run failed at wave 1" in err
    assert "= numbers (reused from the checkpoint)" in err
    assert "Results: 5 success (2 reused)" in out
    assert json.loads((tmp_path / "out" / "result.json").read_text()) == [2, 4]
    assert "## Execution Log" in flow.read_text()

    code, out, err = cli(capsys, "resume", str(checkpoint), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["status"] == "completed"
    assert all(entry["rerun"] is False for entry in report["resume"])
    assert report["nodes"]["check"]["reused"] is True
    assert report["nodes"]["check"]["output"] == [2, 4]
    assert report["checkpoint"] == str(checkpoint)
    assert "nothing to run" not in err  # json mode prints no plan text


def test_resume_refusals(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Missing checkpoint, a locked one, bad usage: clear errors and exit codes."""
    monkeypatch.chdir(tmp_path)
    flow = tmp_path / "fragile.flow.md"
    flow.write_text(FLOW)
    assert cli(capsys, "run", str(flow), "--no-log", "--state-dir", "st")[0] == 1
    checkpoint = next((Path("st") / "fragile").glob("*.json"))
    code, _, err = cli(capsys, "resume", str(tmp_path / "missing.json"))
    assert code == 1
    assert "error: checkpoint not found" in err
    with RunLock(checkpoint.resolve()):
        code, _, err = cli(capsys, "resume", str(checkpoint), "--no-log")
    assert code == 1
    assert "is locked by another run (pid" in err
    assert cli(capsys, "resume", str(checkpoint), "--concurrency", "0")[0] == 2
    code, _, err = cli(capsys, "resume", str(checkpoint), "-c", "nope=1")
    assert code == 1
    assert "--config sets 'nope', which the flow does not declare" in err


def test_sigterm_leaves_a_resumable_run(tmp_path: Path) -> None:
    """SIGTERM cancels the run cleanly; `maidit resume` then completes it."""
    flow = tmp_path / "slow.flow.md"
    flow.write_text(
        "---\nname: slow\nversion: 1.0.0\n---\n<workflow>\n"
        '<transform id="first" type="template"><template>ok</template></transform>\n'
        '<delay id="wait" input="first" duration="30s"/>\n'
        '<transform id="after" type="template" input="wait"><template>done</template>'
        "</transform>\n</workflow>\n"
    )
    script = Path(sys.executable).with_name("maidit")
    process = subprocess.Popen(
        [str(script), "run", str(flow), "--format", "json", "--no-log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 1, err
    report = json.loads(out)
    assert report["status"] == "cancelled"
    flow.write_text(flow.read_text().replace("30s", "1ms"))
    resumed = subprocess.run(
        [str(script), "resume", report["checkpoint"], "--format", "json", "--no-log"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    final = json.loads(resumed.stdout)
    assert final["nodes"]["first"]["reused"] is True
    assert final["nodes"]["after"]["output"] == "done"
