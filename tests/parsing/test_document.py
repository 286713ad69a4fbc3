"""Tests of split_document: where frontmatter and body are, and why a file cannot be split."""

from __future__ import annotations

import pytest

from maidit_jupyter.errors import ErrorCode
from maidit_jupyter.parsing.document import (
    DocumentRegions,
    SplitProblem,
    split_document,
)
from maidit_jupyter.parsing.parser import parse_document

BODY = "<workflow/>\n"


def regions(text: str) -> DocumentRegions:
    """Split a text that must split."""
    result = split_document(text)
    assert isinstance(result, DocumentRegions), result
    return result


def problem(text: str) -> SplitProblem:
    """Split a text that must not split."""
    result = split_document(text)
    assert isinstance(result, SplitProblem), result
    return result


def test_regions_are_offsets_of_frontmatter_and_body() -> None:
    """The frontmatter region lies between the delimiters; the body follows the second."""
    text = "---\nname: a\n---\n" + BODY
    found = regions(text)
    assert (found.frontmatter_start, found.frontmatter_end, found.body_start) == (
        4,
        12,
        16,
    )
    assert text[found.frontmatter_start : found.frontmatter_end] == "name: a\n"
    assert text[found.body_start :] == BODY


@pytest.mark.parametrize(
    ("text", "frontmatter", "body"),
    [
        pytest.param(
            "\ufeff---\nname: a\n---\n" + BODY, "name: a\n", BODY, id="byte-order-mark"
        ),
        pytest.param(
            "---\r\nname: a\r\n---\r\n<workflow/>\r\n",
            "name: a\r\n",
            "<workflow/>\r\n",
            id="crlf",
        ),
        pytest.param(
            "---\nname: a\n---  \t\n" + BODY,
            "name: a\n",
            BODY,
            id="closing-trailing-blanks",
        ),
        pytest.param(
            "---   \nname: a\n---\n" + BODY,
            "name: a\n",
            BODY,
            id="opening-trailing-blanks",
        ),
        pytest.param(
            "---\nname: a\n---\n<workflow/>",
            "name: a\n",
            "<workflow/>",
            id="no-final-newline",
        ),
        pytest.param(
            "---\nx: ---\ny: ----\n ---\n---\n" + BODY,
            "x: ---\ny: ----\n ---\n",
            BODY,
            id="dashes-that-are-not-delimiters",
        ),
        pytest.param(
            "---\nname: a\n---\n<workflow/>\n---\n## Log\n",
            "name: a\n",
            "<workflow/>\n---\n## Log\n",
            id="first-closing-delimiter-wins",
        ),
    ],
)
def test_documents_that_split(text: str, frontmatter: str, body: str) -> None:
    """Each layout splits into the expected frontmatter and body texts."""
    found = regions(text)
    assert text[found.frontmatter_start : found.frontmatter_end] == frontmatter
    assert text[found.body_start :] == body


def test_byte_order_mark_shifts_every_offset_by_one() -> None:
    """A leading BOM is skipped: the regions are those of the same text without it."""
    text = "---\nname: a\n---\n" + BODY
    plain, marked = regions(text), regions("\ufeff" + text)
    assert marked.frontmatter_start == plain.frontmatter_start + 1
    assert marked.frontmatter_end == plain.frontmatter_end + 1
    assert marked.body_start == plain.body_start + 1


def test_crlf_offsets_count_both_characters() -> None:
    """With CRLF line ends the delimiters are five characters long."""
    found = regions("---\r\nname: a\r\n---\r\n" + BODY)
    assert (found.frontmatter_start, found.frontmatter_end, found.body_start) == (
        5,
        14,
        19,
    )


@pytest.mark.parametrize(
    ("text", "code", "message", "offset"),
    [
        pytest.param(
            "name: a\n---\n" + BODY,
            ErrorCode.PARSE_MISSING_FRONTMATTER,
            "File must start with YAML frontmatter (---)",
            0,
            id="no-opening",
        ),
        pytest.param(
            "\n---\nname: a\n---\n" + BODY,
            ErrorCode.PARSE_MISSING_FRONTMATTER,
            "File must start with YAML frontmatter (---)",
            0,
            id="blank-line-before-opening",
        ),
        pytest.param(
            "----\nname: a\n---\n" + BODY,
            ErrorCode.PARSE_MISSING_FRONTMATTER,
            "File must start with YAML frontmatter (---)",
            0,
            id="four-dashes",
        ),
        pytest.param(
            "\ufeffname: a\n",
            ErrorCode.PARSE_MISSING_FRONTMATTER,
            "File must start with YAML frontmatter (---)",
            1,
            id="byte-order-mark-then-no-opening",
        ),
        pytest.param(
            "---\nname: a\n" + BODY,
            ErrorCode.PARSE_MISSING_FRONTMATTER,
            "Could not find closing frontmatter delimiter (---)",
            0,
            id="no-closing",
        ),
        pytest.param(
            "---\nname: a\n--- x\n" + BODY,
            ErrorCode.PARSE_MISSING_FRONTMATTER,
            "Could not find closing frontmatter delimiter (---)",
            0,
            id="closing-with-text-after",
        ),
        pytest.param(
            "---\n---\n" + BODY,
            ErrorCode.PARSE_MISSING_FRONTMATTER,
            "frontmatter is empty",
            0,
            id="empty-frontmatter",
        ),
        pytest.param(
            "---\n\n   \n---\n" + BODY,
            ErrorCode.PARSE_MISSING_FRONTMATTER,
            "frontmatter is empty",
            0,
            id="blank-frontmatter",
        ),
        pytest.param(
            "---\nname: a\n---",
            ErrorCode.PARSE_MISSING_BODY,
            "File must contain XML body after frontmatter",
            12,
            id="closing-at-end-of-file",
        ),
        pytest.param(
            "---\nname: a\n---\n",
            ErrorCode.PARSE_MISSING_BODY,
            "File must contain XML body after frontmatter",
            12,
            id="closing-then-newline",
        ),
        pytest.param(
            "---\nname: a\n---\n  \n\t\n",
            ErrorCode.PARSE_MISSING_BODY,
            "File must contain XML body after frontmatter",
            12,
            id="blank-body",
        ),
    ],
)
def test_documents_that_do_not_split(
    text: str, code: ErrorCode, message: str, offset: int
) -> None:
    """Each broken layout gives its code, message and offset, with a hint."""
    found = problem(text)
    assert (found.code, found.message, found.offset) == (str(code), message, offset)
    assert found.hints


@pytest.mark.parametrize(
    ("text", "code", "line", "column"),
    [
        pytest.param(
            "---\nname: a\n---",
            ErrorCode.PARSE_MISSING_BODY,
            3,
            1,
            id="missing-body-at-closing-line",
        ),
        pytest.param(
            "---\n---\n<workflow/>\n",
            ErrorCode.PARSE_MISSING_FRONTMATTER,
            1,
            1,
            id="empty-frontmatter-at-opening",
        ),
        pytest.param(
            "# title\n", ErrorCode.PARSE_MISSING_FRONTMATTER, 1, 1, id="no-frontmatter"
        ),
    ],
)
def test_split_problems_are_located_diagnostics(
    text: str, code: ErrorCode, line: int, column: int
) -> None:
    """parse_document reports a split problem as one located diagnostic and no workflow."""
    result = parse_document(text)
    assert result.workflow is None
    assert [(d.code, d.line, d.column) for d in result.diagnostics] == [
        (code, line, column)
    ]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "\ufeff---\nname: a\nversion: 1.0.0\n---\n<workflow/>\n", id="bom"
        ),
        pytest.param(
            "---\r\nname: a\r\nversion: 1.0.0\r\n---\r\n<workflow/>\r\n", id="crlf"
        ),
        pytest.param(
            "---\nname: a\nversion: 1.0.0\n--- \n<workflow/>", id="trailing-blanks"
        ),
    ],
)
def test_unusual_layouts_parse_without_diagnostics(text: str) -> None:
    """BOM, CRLF and a closing delimiter with trailing blanks read as a normal document."""
    result = parse_document(text)
    assert result.ok, [str(d) for d in result.diagnostics]
    assert result.workflow is not None
    assert result.workflow.frontmatter.name == "a"


def test_crlf_document_locates_nodes_on_their_lines() -> None:
    """Line numbers of a CRLF document count each CRLF once."""
    text = (
        "---\r\nname: a\r\nversion: 1.0.0\r\n---\r\n<workflow>\r\n"
        '  <source id="s" type="file" path="x"/>\r\n</workflow>\r\n'
    )
    result = parse_document(text)
    assert result.workflow is not None
    span = result.workflow.nodes[0].span
    assert (span.line, span.column) == (6, 3)
