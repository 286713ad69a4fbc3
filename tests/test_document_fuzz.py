"""Malformed and mutated documents give diagnostics, never any other exception."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from maidit_jupyter.validation.validator import check_document

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
    checked = check_document(text, path="fuzz.flow.md")
    for diagnostic in checked.report.diagnostics:
        assert diagnostic.message
        if diagnostic.span is not None:
            assert 0 <= diagnostic.span.start.offset <= len(text)
            str(diagnostic)
    if checked.workflow is not None and checked.report.valid:
        assert checked.plan is not None


FUZZ = settings(
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(mutation, min_size=1, max_size=6))
def test_mutated_documents_only_give_diagnostics(
    seed: str, edits: list[tuple[str, float, int, str]]
) -> None:
    """5,000 mutated real documents per run: diagnostics, never a crash."""
    assert_only_diagnostics(mutate(seed, edits))


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
