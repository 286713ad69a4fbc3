"""maidit_jupyter: FlowScript workflows in Jupyter and on the command line.

The front end, as a library::

    from maidit_jupyter import check_document

    checked = check_document(text, path="report.flow.md")
    for diagnostic in checked.report.diagnostics:
        print(diagnostic)
    if checked.plan is not None:
        print(checked.plan.waves)

``load_workflow(path)`` is the strict form: it returns the workflow, its plan and the
report, or raises :class:`WorkflowError` with every diagnostic attached.
"""

from __future__ import annotations

from maidit_jupyter.errors import (
    CheckpointError,
    Diagnostic,
    ErrorCode,
    ExpressionError,
    ExpressionSyntaxError,
    LockedError,
    MaiditError,
    Severity,
    WorkflowError,
    WorkflowSyntaxError,
    WorkflowValidationError,
)
from maidit_jupyter.execution.api import (
    can_resume,
    resume,
    resume_sync,
    run,
    run_sync,
)
from maidit_jupyter.execution.flow_run import FlowRun
from maidit_jupyter.execution.inputs import RunInputError
from maidit_jupyter.execution.state import NodeResult, NodeStatus, RunRecord, RunStatus
from maidit_jupyter.parsing.parser import ParseResult, parse_document, parse_workflow
from maidit_jupyter.planning.plan import ExecutionPlan, PlanCycleError, plan
from maidit_jupyter.source import SourcePosition, SourceSpan
from maidit_jupyter.syntax.workflow import Workflow
from maidit_jupyter.validation.report import ValidationReport
from maidit_jupyter.validation.validator import (
    CheckedDocument,
    check_document,
    load_workflow,
    validate,
)

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext maidit_jupyter``: the ``%%flow`` and ``%maidit`` magics."""
    from maidit_jupyter.notebook import load

    load(ipython)  # type: ignore[arg-type]  # an InteractiveShell; typed in notebook/


def unload_ipython_extension(ipython: object) -> None:
    """``%unload_ext maidit_jupyter``."""
    from maidit_jupyter.notebook import unload

    unload(ipython)  # type: ignore[arg-type]


__all__ = [
    "CheckedDocument",
    "CheckpointError",
    "Diagnostic",
    "ErrorCode",
    "ExecutionPlan",
    "ExpressionError",
    "ExpressionSyntaxError",
    "FlowRun",
    "LockedError",
    "MaiditError",
    "NodeResult",
    "NodeStatus",
    "ParseResult",
    "PlanCycleError",
    "RunInputError",
    "RunRecord",
    "RunStatus",
    "Severity",
    "SourcePosition",
    "SourceSpan",
    "ValidationReport",
    "Workflow",
    "WorkflowError",
    "WorkflowSyntaxError",
    "WorkflowValidationError",
    "can_resume",
    "check_document",
    "load_ipython_extension",
    "load_workflow",
    "parse_document",
    "parse_workflow",
    "plan",
    "resume",
    "resume_sync",
    "run",
    "run_sync",
    "unload_ipython_extension",
    "validate",
]
