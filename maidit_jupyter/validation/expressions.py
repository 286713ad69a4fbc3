"""Pass 2: every expression and template parses, and calls only known functions."""

from __future__ import annotations

from collections.abc import Iterator

from maidit_jupyter.errors import ErrorCode, Severity
from maidit_jupyter.expressions import ALL_FUNCTION_NAMES, suggest_function
from maidit_jupyter.parsing.schema_dsl import SchemaDSLError, parse_schema_dsl
from maidit_jupyter.planning.analysis import Analysis, SiteFacts
from maidit_jupyter.source import LineIndex, SourceSpan
from maidit_jupyter.syntax import nodes as n
from maidit_jupyter.syntax.workflow import Workflow
from maidit_jupyter.validation.report import Finding

__all__ = ["check_expressions"]


def check_expressions(workflow: Workflow, analysis: Analysis) -> Iterator[Finding]:
    """Report syntax errors, misplaced ``{{ }}`` and unknown functions, located inside."""
    lines = workflow.lines
    for facts in analysis.sites:
        yield from _site(facts, lines)
    for node in workflow.walk():
        if isinstance(node, n.TransformNode) and node.type == "ai":
            yield from _output_schema(node)


def _span(facts: SiteFacts, lines: LineIndex, start: int, end: int) -> SourceSpan:
    text = facts.site.text
    return lines.span(text.offset_of(start), text.offset_of(max(start, end)))


def _site(facts: SiteFacts, lines: LineIndex) -> Iterator[Finding]:
    where = f"{facts.node.id}.{facts.site.field}"
    quoted = _quote(str(facts.site.text))
    if facts.braces_in_bare is not None:
        start = facts.braces_in_bare
        yield Finding(
            ErrorCode.EXPR_PARSE_ERROR,
            f"{where} is an expression already; remove the {{{{ }}}} around it",
            _span(facts, lines, start, start + 2),
            (
                f"Write {str(facts.site.text).replace('{{', '').replace('}}', '').strip()!r}",
            ),
        )
    if facts.error is not None:
        error = facts.error
        yield Finding(
            ErrorCode.EXPR_PARSE_ERROR,
            f"Invalid expression syntax in {where}: {error.message}",
            _span(facts, lines, error.start, error.end),
            (f"in {quoted}",),
        )
    if facts.unterminated is not None:
        start = facts.unterminated
        yield Finding(
            ErrorCode.EXPR_PARSE_ERROR,
            f"'{{{{' in {where} is never closed with '}}}}'; the rest is read as text",
            _span(facts, lines, start, start + 2),
            ("Close the template with }}, or write \\{{ for a literal {{",),
            Severity.WARNING,
        )
    for name, start, _ in facts.calls:
        if name in ALL_FUNCTION_NAMES:
            continue
        close = suggest_function(name)
        hints = (
            (f"Did you mean {close}()?",)
            if close
            else ("See the list of built-in functions",)
        )
        yield Finding(
            ErrorCode.EXPR_UNDEFINED_FUNCTION,
            f"Function '{name}' is not defined or not allowed (in {where})",
            _span(facts, lines, start, start + len(name)),
            hints,
        )


def _output_schema(node: n.TransformNode) -> Iterator[Finding]:
    schema = node.config.get("output-schema")
    if not isinstance(schema, str) or not schema.strip():
        return
    try:
        parse_schema_dsl(schema)
    except SchemaDSLError as exc:
        yield Finding(
            ErrorCode.VALID_INVALID_SCHEMA,
            f'AI node "{node.id}" has invalid output-schema: {exc}',
            node.span,
            ("Check the output-schema syntax follows TypeScript-like DSL",),
            Severity.WARNING,
        )


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
