"""Helpers that build small flow documents for the front-end tests."""

from __future__ import annotations

from pathlib import Path

from maidit_jupyter.errors import Diagnostic, ErrorCode
from maidit_jupyter.parsing.parser import ParseResult, parse_document
from maidit_jupyter.syntax.nodes import Node
from maidit_jupyter.syntax.workflow import Workflow

#: the frontmatter of every document built here: three lines after the opening ``---``.
HEADER = "---\nname: demo\nversion: 1.0.0\n"
#: the line the first line of ``body`` lands on in :func:`document`.
BODY_LINE = 6


def document(body: str, *, frontmatter: str = "") -> str:
    """A whole document: name, version, ``frontmatter`` lines, then ``body`` in a workflow.

    ``body``'s first line is line :data:`BODY_LINE` when ``frontmatter`` is empty.
    """
    return f"{HEADER}{frontmatter}---\n<workflow>\n{body}\n</workflow>\n"


def parse(body: str, *, frontmatter: str = "") -> ParseResult:
    """Parse :func:`document` of ``body``."""
    return parse_document(document(body, frontmatter=frontmatter), path="t.flow.md")


def workflow(body: str, *, frontmatter: str = "") -> Workflow:
    """Parse a body that must give a workflow without errors."""
    result = parse(body, frontmatter=frontmatter)
    assert result.workflow is not None, result.diagnostics
    assert not result.errors, [str(d) for d in result.errors]
    return result.workflow


def node(body: str, node_id: str | None = None) -> Node:
    """The node ``node_id`` (default: the first top-level node) of an error-free body."""
    flow = workflow(body)
    if node_id is None:
        return flow.nodes[0]
    return next(n for n in flow.walk() if n.id == node_id)


def codes(diagnostics: tuple[Diagnostic, ...]) -> list[str]:
    """The codes of some diagnostics, in order."""
    return [str(d.code) for d in diagnostics]


def only(diagnostics: tuple[Diagnostic, ...], code: ErrorCode) -> Diagnostic:
    """The one diagnostic with ``code``."""
    found = [d for d in diagnostics if d.code is code]
    assert len(found) == 1, [str(d) for d in diagnostics]
    return found[0]


def write_flow_with_module(
    directory: Path,
    name: str,
    module: str,
    module_text: str,
    body: str,
    front: str = "",
) -> Path:
    """Write ``<name>.flow.md`` (``body`` in a workflow, ``front`` lines in the
    frontmatter) and the python module ``<module>.py`` its nodes call, side by side."""
    (directory / f"{module}.py").write_text(module_text)
    flow = directory / f"{name}.flow.md"
    flow.write_text(
        f"---\nname: {name}\nversion: 1.0.0\n{front}---\n<workflow>\n{body}\n</workflow>\n"
    )
    return flow
