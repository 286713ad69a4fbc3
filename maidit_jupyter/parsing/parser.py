"""Read a flow document: text in, :class:`Workflow` and diagnostics out.

:func:`parse_document` never raises for a bad document: it returns every problem it
found, and a workflow whenever the document could be read at all, so that validation can
report the remaining mistakes in the same pass. :func:`parse_workflow` is the strict
edge for callers that want an exception instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from maidit_jupyter.errors import Diagnostic, ErrorCode, WorkflowSyntaxError
from maidit_jupyter.parsing.body import build_nodes
from maidit_jupyter.parsing.document import SplitProblem, split_document
from maidit_jupyter.parsing.frontmatter import read_frontmatter
from maidit_jupyter.parsing.xml import read_workflow
from maidit_jupyter.parsing.yaml_loader import YamlLimits, load_yaml
from maidit_jupyter.source import LineIndex
from maidit_jupyter.syntax.workflow import Workflow

__all__ = [
    "ParseLimits",
    "ParseResult",
    "parse_document",
    "parse_workflow",
    "read_document",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ParseLimits:
    """Bounds on what the parser reads, so hostile input costs little."""

    max_document_chars: int = 16_000_000
    max_frontmatter_chars: int = 1_000_000
    max_depth: int = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class ParseResult:
    """What reading a document gave: maybe a workflow, and every diagnostic."""

    workflow: Workflow | None
    diagnostics: tuple[Diagnostic, ...] = ()
    source: str = field(default="", repr=False)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The error-severity diagnostics."""
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def ok(self) -> bool:
        """Whether the document was read without errors."""
        return self.workflow is not None and not self.errors


def parse_document(
    text: str, *, path: str = "<flow>", limits: ParseLimits | None = None
) -> ParseResult:
    """Parse a flow document, collecting all problems.

    Args:
        text: the whole document.
        path: its name in diagnostics (a file path or ``<cell>``).
        limits: size and depth bounds.
    """
    limits = limits or ParseLimits()
    lines = LineIndex(text)

    def problem(
        code: ErrorCode, message: str, offset: int, hints: tuple[str, ...] = ()
    ) -> ParseResult:
        diagnostic = Diagnostic(
            code=code, message=message, span=lines.span(offset), hints=hints, path=path
        )
        return ParseResult(workflow=None, diagnostics=(diagnostic,), source=text)

    if len(text) > limits.max_document_chars:
        return problem(
            ErrorCode.PARSE_XML_INVALID,
            f"document is {len(text)} characters; the limit is {limits.max_document_chars}",
            limits.max_document_chars,
            ("Split the flow into smaller flows with <include> or <call>",),
        )
    regions = split_document(text)
    if isinstance(regions, SplitProblem):
        return problem(
            ErrorCode(regions.code), regions.message, regions.offset, regions.hints
        )

    diagnostics: list[Diagnostic] = []
    yaml_text = text[regions.frontmatter_start : regions.frontmatter_end]
    loaded = load_yaml(
        yaml_text,
        offset=regions.frontmatter_start,
        limits=YamlLimits(max_chars=limits.max_frontmatter_chars),
    )
    for yaml_problem in loaded.problems:
        diagnostics.append(
            Diagnostic(
                code=ErrorCode.PARSE_YAML_INVALID,
                message=f"Invalid YAML in frontmatter: {yaml_problem.message}",
                span=lines.span(yaml_problem.start, yaml_problem.end),
                hints=yaml_problem.hints
                or ("Check YAML syntax", "Ensure proper indentation"),
                path=path,
            )
        )
    frontmatter, found = read_frontmatter(
        loaded, source=text, lines=lines, start=regions.frontmatter_start, path=path
    )
    if not (loaded.problems and not isinstance(loaded.value, dict)):
        # When the YAML could not be read, what is missing from it is no news.
        diagnostics.extend(found)

    document = read_workflow(text, regions.body_start, max_depth=limits.max_depth)
    for xml_problem in document.problems:
        diagnostics.append(
            Diagnostic(
                code=ErrorCode.PARSE_XML_INVALID,
                message=xml_problem.message,
                span=lines.span(xml_problem.start, xml_problem.end),
                hints=xml_problem.hints,
                path=path,
            )
        )
    if document.root is None:
        diagnostics.append(
            Diagnostic(
                code=ErrorCode.PARSE_XML_INVALID,
                message="XML body must contain a <workflow> root element",
                span=lines.span(regions.body_start),
                hints=("Wrap nodes in <workflow>...</workflow>",),
                path=path,
            )
        )
        return ParseResult(workflow=None, diagnostics=tuple(diagnostics), source=text)
    nodes, found = build_nodes(document.root, lines, path)
    diagnostics.extend(found)
    workflow = Workflow(
        source=text,
        path=path,
        frontmatter=frontmatter,
        nodes=nodes,
        span=lines.span(document.root.start, document.root.start_tag_end),
        body_offset=regions.body_start,
        footer_offset=document.end,
        lines=lines,
    )
    return ParseResult(workflow=workflow, diagnostics=tuple(diagnostics), source=text)


def parse_workflow(text: str, *, path: str = "<flow>") -> Workflow:
    """Parse a document and return its workflow.

    Raises:
        WorkflowSyntaxError: the document has parse errors (all of them are attached).
    """
    result = parse_document(text, path=path)
    if result.workflow is None or result.errors:
        raise WorkflowSyntaxError(result.diagnostics, source=text)
    return result.workflow


def read_document(path: str | Path) -> str:
    """Read a flow file as text (UTF-8; universal newlines are *not* applied).

    Raises:
        OSError: the file cannot be read.
        UnicodeDecodeError: it is not UTF-8.
    """
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()
