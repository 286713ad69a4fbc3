"""Golden files: the flow file after ``maidit run`` appended its log, for the examples.

Run ids, timestamps and durations vary between runs; they are replaced by fixed
placeholders before comparing. Regenerate with ``MAIDIT_UPDATE_GOLDEN=1`` after a
deliberate format change, and review the diff.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from maidit_jupyter.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "golden"

_VARYING = [
    (re.compile(r"\*\*Run ID:\*\* `[0-9a-f]+`"), "**Run ID:** `RUN_ID`"),
    (re.compile(r"\*\*Timestamp:\*\* \S+"), "**Timestamp:** TIMESTAMP"),
    (re.compile(r"\*\*Duration:\*\* \d+\.\d\ds"), "**Duration:** D.DDs"),
    (re.compile(r"\| \d+\.\d\ds \|"), "| D.DDs |"),
    (re.compile(r'\{"path":"[^|]*\|$', re.MULTILINE), '{"path":"PATH... |'),
]


def normalise(text: str) -> str:
    for pattern, replacement in _VARYING:
        text = pattern.sub(replacement, text)
    return text


@pytest.mark.parametrize(
    ("flow", "args", "golden"),
    [
        ("grades.flow.md", ["-c", "pass_mark=80"], "grades-after-run.flow.md"),
        ("grades.flow.md", ["-c", "pass_mark=101"], "grades-none-passed.flow.md"),
    ],
)
def test_the_log_appended_to_the_flow_matches_the_golden_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flow: str,
    args: list[str],
    golden: str,
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    path = tmp_path / "examples" / flow
    main(["run", str(path), "--no-checkpoint", *args])
    main(
        ["run", str(path), "--no-checkpoint", *args]
    )  # the second log replaces the first
    capsys.readouterr()
    got = normalise(path.read_text())
    expected_path = GOLDEN / golden
    if os.environ.get("MAIDIT_UPDATE_GOLDEN"):
        expected_path.write_text(got)
    assert got == expected_path.read_text()
