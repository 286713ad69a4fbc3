"""Figure 17 of design/reliability.md §3: branch coverage of the critical modules.

Runs the unit tests under coverage.py (branch mode) in a child process and counts the
lines and branches of the critical modules that no test reaches: the checkpoint
package, the durable-write layer, the redactor, the path resolver, the egress policy and
the expression evaluator. Only the suites that reach these modules run (see ``TESTS``);
tests that time themselves are left out (coverage slows every line down; they run in
``make test``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import figures

ROOT = Path(__file__).resolve().parent.parent

#: the critical modules, by what reliability.md calls them.
CRITICAL = {
    "checkpoint": [
        "maidit_jupyter/checkpoints/__init__.py",
        "maidit_jupyter/checkpoints/document.py",
        "maidit_jupyter/checkpoints/hashing.py",
        "maidit_jupyter/checkpoints/resume.py",
        "maidit_jupyter/checkpoints/writer.py",
    ],
    "durable writes": [
        "maidit_jupyter/persistence/durable.py",
        "maidit_jupyter/persistence/lock.py",
    ],
    "redactor": ["maidit_jupyter/redaction.py"],
    "path resolver": [
        "maidit_jupyter/runtimes/files.py",
        "maidit_jupyter/runtimes/beneath.py",
    ],
    "egress policy": ["maidit_jupyter/runtimes/egress.py"],
    "evaluator": ["maidit_jupyter/expressions/evaluator.py"],
}

#: the tests that reach the critical modules (the parser, planner, validator, notebook
#: and the other connectors' suites add time, not coverage of these modules; the crash
#: tests run the engine in child processes, which coverage does not follow).
TESTS = [
    "tests/checkpoints",
    "tests/persistence",
    "tests/expressions",
    "tests/execution",
    "tests/cli",
    "tests/reporting",
    "tests/runtimes/test_files.py",
    "tests/runtimes/test_formats.py",
    "tests/runtimes/test_path_escapes.py",
    "tests/runtimes/test_confinement_edges.py",
    "tests/runtimes/test_http.py",
    "tests/runtimes/test_http_egress.py",
    "tests/runtimes/test_python.py",
    "tests/test_redaction.py",
    "tests/test_secret_canary.py",
    "tests/test_attacks.py",
]
#: timed tests (their budgets assume no tracing).
TIMED = "not refused_quickly"


@pytest.mark.reliability
@pytest.mark.skipif(
    not figures.LEVEL, reason="runs the unit suite again: make reliability measures it"
)
def test_critical_modules_are_covered_branch_by_branch(tmp_path: Path) -> None:
    data, report = tmp_path / "coverage.data", tmp_path / "coverage.json"
    files = [path for group in CRITICAL.values() for path in group]
    run = subprocess.run(
        [
            *(sys.executable, "-m", "coverage", "run", "--branch"),
            *(f"--data-file={data}", "--source=maidit_jupyter"),
            *("-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"),
            *("-k", TIMED, "--ignore=tests/checkpoints/test_crash.py"),
            *TESTS,
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "MAIDIT_RELIABILITY": "",
            "HYPOTHESIS_PROFILE": "deterministic",
            "TZ": "UTC",
        },
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    subprocess.run(
        [
            *(sys.executable, "-m", "coverage", "json", f"--data-file={data}"),
            *("-o", str(report), "--include=" + ",".join(files)),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    measured = json.loads(report.read_text())["files"]
    missing_lines = missing_branches = 0
    lowest = 100.0
    gaps: list[str] = []
    for path in files:
        summary = measured[path]["summary"]
        missing_lines += summary["missing_lines"]
        missing_branches += summary["missing_branches"]
        lowest = min(lowest, summary["percent_covered"])
        if summary["missing_lines"] or summary["missing_branches"]:
            lines = measured[path]["missing_lines"]
            gaps.append(
                f"{path}: lines {lines}, {summary['missing_branches']} branches"
            )
    figures.count(
        "coverage",
        modules=len(files),
        missing_lines=missing_lines,
        missing_branches=missing_branches,
        lowest_pct=lowest,
    )
    assert not gaps, "\n".join(gaps)
