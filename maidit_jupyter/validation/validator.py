"""Run every validation pass over a parsed workflow and collect the diagnostics.

Passes: structure of each node, expression syntax and functions, references (ids, inputs,
routing targets, secrets), then cycles of the dependency graph. Unlike the original, every
pass always runs, so one report holds every mistake of the document.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from maidit_jupyter._gc import gc_paused
from maidit_jupyter.errors import (
    Diagnostic,
    ErrorCode,
    WorkflowSyntaxError,
    WorkflowValidationError,
    sort_diagnostics,
)
from maidit_jupyter.parsing.parser import ParseResult, parse_document, read_document
from maidit_jupyter.planning.analysis import Analysis, analyze
from maidit_jupyter.planning.plan import (
    ExecutionPlan,
    PlanCycleError,
    build_graph,
    plan,
)
from maidit_jupyter.syntax.workflow import Workflow
from maidit_jupyter.validation.expressions import check_expressions
from maidit_jupyter.validation.references import check_references
from maidit_jupyter.validation.report import Finding, ValidationReport
from maidit_jupyter.validation.structural import check_structure

__all__ = ["CheckedDocument", "check_document", "load_workflow", "validate"]


def validate(
    workflow: Workflow, *, analysis: Analysis | None = None
) -> ValidationReport:
    """Validate a parsed workflow (parse diagnostics are not included)."""
    diagnostics, _ = _validate(workflow, analysis or analyze(workflow))
    return ValidationReport(diagnostics=tuple(sort_diagnostics(diagnostics)))


class CheckedDocument:
    """A document parsed, validated and (when valid) planned, with every diagnostic.

    :ivar analysis: the parsed facts of every expression (None if there is no workflow).
    """

    def __init__(
        self,
        parsed: ParseResult,
        diagnostics: Iterable[Diagnostic],
        plan: ExecutionPlan | None,
        analysis: Analysis | None = None,
    ) -> None:
        self.parsed = parsed
        self.workflow = parsed.workflow
        self.report = ValidationReport(diagnostics=tuple(sort_diagnostics(diagnostics)))
        self.plan = plan
        self.analysis = analysis


def check_document(text: str, *, path: str = "<flow>") -> CheckedDocument:
    """Parse, validate and plan ``text``, collecting the diagnostics of every stage."""
    with gc_paused():
        return _check_document(text, path)


def _check_document(text: str, path: str) -> CheckedDocument:
    parsed = parse_document(text, path=path)
    diagnostics = list(parsed.diagnostics)
    if parsed.workflow is None:
        return CheckedDocument(parsed, diagnostics, None)
    analysis = analyze(parsed.workflow)
    found, execution_plan = _validate(parsed.workflow, analysis)
    diagnostics.extend(found)
    if any(d.is_error for d in diagnostics):
        execution_plan = None
    return CheckedDocument(parsed, diagnostics, execution_plan, analysis)


def _validate(
    workflow: Workflow, analysis: Analysis
) -> tuple[list[Diagnostic], ExecutionPlan | None]:
    path = workflow.path
    findings: list[Finding] = []
    findings.extend(check_structure(workflow))
    findings.extend(check_expressions(workflow, analysis))
    graph = build_graph(workflow, analysis)
    findings.extend(check_references(workflow, analysis, graph))
    execution_plan: ExecutionPlan | None = None
    try:
        execution_plan = plan(workflow, analysis, graph=graph)
    except PlanCycleError as exc:
        first = next(node for node in workflow.nodes if node.id == exc.cycle[1])
        edge = next(
            (d for d in exc.graph.edges[exc.cycle[1]] if d.on == exc.cycle[0]), None
        )
        findings.append(
            Finding(
                ErrorCode.VALID_CIRCULAR_DEPENDENCY,
                "Circular dependency detected: " + " -> ".join(exc.cycle),
                workflow.lines.span(edge.start, edge.end)
                if edge is not None
                else first.span,
                (
                    "Break the cycle by removing one of the input references",
                    "Nodes involved: " + ", ".join(dict.fromkeys(exc.cycle)),
                ),
            )
        )
    return [finding.diagnostic(path) for finding in findings], execution_plan


def load_workflow(path: str | Path) -> tuple[Workflow, ExecutionPlan, ValidationReport]:
    """Read, validate and plan a flow file; the strict API edge.

    Returns the workflow, its plan and the report (which may hold warnings).

    Raises:
        OSError: the file cannot be read.
        WorkflowSyntaxError: the document cannot be read as a flow.
        WorkflowValidationError: it was read but has errors.
    """
    text = read_document(path)
    checked = check_document(text, path=str(path))
    if checked.workflow is None or checked.parsed.errors:
        raise WorkflowSyntaxError(checked.report.diagnostics, source=text)
    if checked.plan is None:
        raise WorkflowValidationError(checked.report.diagnostics, source=text)
    return checked.workflow, checked.plan, checked.report
