"""Each file of tests/data/invalid/ must give exactly the diagnostics of its .expect file.

An ``.expect`` line reads ``SEVERITY CODE LINE:COLUMN`` (1-based), in document order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from maidit_jupyter.errors import ErrorCode
from maidit_jupyter.validation.validator import check_document

DATA = Path(__file__).resolve().parent.parent / "data" / "invalid"
CASES = sorted(DATA.glob("*.flow.md"))

#: every error class of the reference (§3) and the dialect (§1–2) has a file.
REQUIRED_CODES = {
    ErrorCode.PARSE_MISSING_FRONTMATTER,
    ErrorCode.PARSE_MISSING_BODY,
    ErrorCode.PARSE_YAML_INVALID,
    ErrorCode.PARSE_XML_INVALID,
    ErrorCode.VALID_MISSING_REQUIRED_FIELD,
    ErrorCode.VALID_INVALID_FIELD_TYPE,
    ErrorCode.VALID_UNKNOWN_NODE_TYPE,
    ErrorCode.VALID_UNDEFINED_NODE_REF,
    ErrorCode.VALID_UNDEFINED_SECRET_REF,
    ErrorCode.VALID_DUPLICATE_NODE_ID,
    ErrorCode.VALID_CIRCULAR_DEPENDENCY,
    ErrorCode.VALID_INVALID_SCHEMA,
    ErrorCode.VALID_UNKNOWN_FIELD,
    ErrorCode.EXPR_PARSE_ERROR,
    ErrorCode.EXPR_UNDEFINED_FUNCTION,
}


def expected(path: Path) -> list[str]:
    expect = path.with_name(path.name.removesuffix(".flow.md") + ".expect")
    return [line.strip() for line in expect.read_text().splitlines() if line.strip()]


def actual(path: Path) -> list[str]:
    checked = check_document(path.read_text(encoding="utf-8"), path=path.name)
    return [
        f"{d.severity} {d.code} {d.line}:{d.column}" for d in checked.report.diagnostics
    ]


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=p.name.removesuffix(".flow.md")) for p in CASES]
)
def test_invalid_document_gives_its_diagnostics(path: Path) -> None:
    """The document gives exactly the expected codes at the expected places."""
    assert actual(path) == expected(path)


def test_every_error_class_has_a_document() -> None:
    """The corpus covers every code a document can cause."""
    covered = {line.split()[1] for path in CASES for line in expected(path)}
    assert {str(code) for code in REQUIRED_CODES} <= covered


def test_every_document_has_an_error_or_warning() -> None:
    """No corpus file is accidentally valid."""
    assert all(expected(path) for path in CASES)
