"""Split a flow document into frontmatter, XML body and footer regions.

A document is ``---`` + YAML + ``---`` + the XML body (one ``<workflow>``) + optional
markdown. Unlike the original, an empty frontmatter block is recognised (and reported as
empty), a closing ``---`` with trailing spaces or at the very end counts, and a missing
body gets its own code, ``PARSE_MISSING_BODY``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DocumentRegions", "SplitProblem", "split_document"]

#: a line holding only ``---`` (trailing blanks allowed), with or without its line break.
_DELIMITER = re.compile(r"^---[ \t]*(?:\r?\n|\Z)", re.MULTILINE)
#: the same, matched at a given offset: ``^`` would not match after a byte-order mark.
_OPENING = re.compile(r"---[ \t]*(?:\r?\n|\Z)")


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRegions:
    """Offsets of the parts of a document (``[start, end)`` each)."""

    frontmatter_start: int
    frontmatter_end: int
    body_start: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitProblem:
    """Why a document could not be split: a code name, a message, an offset, hints."""

    code: str
    message: str
    offset: int
    hints: tuple[str, ...] = ()


def split_document(text: str) -> DocumentRegions | SplitProblem:
    """Find the frontmatter and body regions of ``text``.

    A leading UTF-8 byte-order mark is skipped. Returns the regions, or the problem
    that prevents reading the document at all.
    """
    start = 1 if text.startswith("\ufeff") else 0
    opening = _OPENING.match(text, start)
    if opening is None:
        return SplitProblem(
            code="PARSE_MISSING_FRONTMATTER",
            message="File must start with YAML frontmatter (---)",
            offset=start,
            hints=(
                (
                    "Start the file with a line '---', the YAML settings "
                    "(name, version), and another line '---'"
                ),
            ),
        )
    closing = _DELIMITER.search(text, opening.end())
    if closing is None:
        return SplitProblem(
            code="PARSE_MISSING_FRONTMATTER",
            message="Could not find closing frontmatter delimiter (---)",
            offset=start,
            hints=("End the frontmatter with a line holding only '---'",),
        )
    regions = DocumentRegions(
        frontmatter_start=opening.end(),
        frontmatter_end=closing.start(),
        body_start=closing.end(),
    )
    if not text[regions.frontmatter_start : regions.frontmatter_end].strip():
        return SplitProblem(
            code="PARSE_MISSING_FRONTMATTER",
            message="frontmatter is empty",
            offset=opening.start(),
            hints=('Add at least name: "my-flow" and version: "1.0.0"',),
        )
    if not text[regions.body_start :].strip():
        return SplitProblem(
            code="PARSE_MISSING_BODY",
            message="File must contain XML body after frontmatter",
            offset=closing.start(),
            hints=("Add a <workflow>...</workflow> element after the frontmatter",),
        )
    return regions
