"""Malformed and mutated documents give diagnostics, never any other exception.

Each document counts towards figure 6 of design/reliability.md §3 (documents tried,
exceptions other than diagnostics, error diagnostics without a line and column, p99 time).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from maidit_jupyter.validation.validator import check_document
from tests import figures

ROOT = Path(__file__).resolve().parent
SEEDS = [
    path.read_text(encoding="utf-8")
    for path in sorted((ROOT.parent / "examples").glob("*.flow.md"))
    + sorted((ROOT / "data" / "valid").glob("*.flow.md"))
]
FRAGMENTS = [
    "<",
    ">",
    "&",
    "&amp;",
    "&#0;",
    "&#x110000;",
    '"',
    "'",
    "{{",
    "}}",
    "\\{{",
    "---\n",
    "</workflow>",
    "<workflow>",
    "</x>",
    "<x>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE a>",
    "<?x?>",
    "&x;",
    "\n",
    "  ",
    ": ",
    "- ",
    "*a",
    "&a ",
    "!!str ",
    "=>",
    "...",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "$item",
    "a-b",
    "\x00",
    "\ufeff",
    "é",
    'id="a"',
    'input="a, b"',
    "<if>",
    "<then>",
    '<case when="x">',
    "<on-error>",
]

mutation = st.tuples(
    st.sampled_from(["insert", "delete", "replace", "duplicate"]),
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=0, max_value=40),
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)),
)


def mutate(text: str, edits: list[tuple[str, float, int, str]]) -> str:
    for kind, where, size, fragment in edits:
        at = int(where * len(text))
        if kind == "insert":
            text = text[:at] + fragment + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + size :]
        elif kind == "replace":
            text = text[:at] + fragment + text[at + len(fragment) :]
        else:
            text = text[:at] + text[at : at + size] * 2 + text[at + size :]
    return text


def assert_only_diagnostics(text: str) -> None:
    started = time.perf_counter()
    try:
        checked = check_document(text, path="fuzz.flow.md")
    except Exception:
        figures.count("malformed flows", tried=1, crashes=1)
        raise
    figures.sample("malformed flows", ms=(time.perf_counter() - started) * 1000)
    unlocated = [d for d in checked.report.errors if d.span is None]
    figures.count("malformed flows", tried=1, unlocated=len(unlocated))
    assert not unlocated, unlocated
    for diagnostic in checked.report.diagnostics:
        assert diagnostic.message
        if diagnostic.span is not None:
            assert 0 <= diagnostic.span.start.offset <= len(text)
            str(diagnostic)
    if checked.workflow is not None and checked.report.valid:
        assert checked.plan is not None


FUZZ = settings(
    max_examples=figures.scale(unit=5000, ci=10_000, long=50_000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@pytest.mark.reliability
@FUZZ
@given(st.sampled_from(SEEDS), st.lists(mutation, min_size=1, max_size=6))
def test_mutated_documents_only_give_diagnostics(
    seed: str, edits: list[tuple[str, float, int, str]]
) -> None:
    """5,000 mutated real documents per run (more under make reliability):
    diagnostics, never a crash."""
    assert_only_diagnostics(mutate(seed, edits))


@pytest.mark.reliability
@FUZZ
@given(
    st.lists(
        st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=40
    ).map("".join)
)
def test_random_fragment_documents_only_give_diagnostics(body: str) -> None:
    """5,000 documents built from markup fragments: diagnostics, never a crash."""
    assert_only_diagnostics("---\nname: f\nversion: 1.0.0\n---\n" + body)
    assert_only_diagnostics(body)


ATHERIS_RUNS = figures.scale(unit=300, ci=5_000, long=1_000_000)


@pytest.mark.reliability
def test_coverage_guided_fuzzing_finds_no_crash(tmp_path: Path) -> None:
    """libFuzzer (atheris) mutates the seed documents guided by coverage
    (``tests/fuzz_target.py``): no exception, no unlocated error (figure 6)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for number, seed in enumerate(SEEDS):
        (corpus / f"seed-{number}.flow.md").write_text(seed, encoding="utf-8")
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz_target",
            str(corpus),
            f"-atheris_runs={ATHERIS_RUNS}",
            f"-artifact_prefix={tmp_path}/",
        ],
        cwd=ROOT.parent,
        capture_output=True,
        text=True,
        timeout=None if figures.LEVEL == "long" else 600,
        check=False,
    )
    done = re.search(r"^Done (\d+) ", finished.stderr, re.MULTILINE)
    crashes = sorted(tmp_path.glob("crash-*"))
    figures.count(
        "malformed flows",
        fuzzed=int(done.group(1)) if done else 0,
        crashes=len(crashes) or int(finished.returncode != 0),
    )
    report = f"atheris found a crash, saved in {crashes}:\n{finished.stderr[-3000:]}"
    assert not crashes, report
    assert finished.returncode == 0, report
    assert done is not None, finished.stderr[-3000:]
