"""Diagnostics and the exceptions the engine raises on purpose.

Mistakes in a flow document are *diagnostics*: values with a code, a message, a location
and hints, collected and returned, never raised one by one. Exceptions exist for the API
edge (a caller asked for a parsed workflow and the document has errors) and, later, for
runs. The tree::

    MaiditError                        root of everything raised on purpose
    ├── WorkflowError                  a document is wrong; carries .diagnostics
    │   ├── WorkflowSyntaxError        the YAML or XML could not be read
    │   └── WorkflowValidationError    the validator found errors
    └── ExpressionError                an expression is wrong; carries .expression, .start, .end
        ├── ExpressionSyntaxError      it does not parse (EXPR_PARSE_ERROR)
        ├── ExpressionEvalError        it failed while evaluating (EXPR_EVAL_ERROR)
        │   ├── ExpressionTypeError    a value of the wrong type (EXPR_TYPE_ERROR)
        │   └── UndefinedFunctionError no such function (EXPR_UNDEFINED_FUNCTION)
        ├── SandboxViolation           a blocked name such as __proto__ (EXPR_BLOCKED_ACCESS)
        └── ExpressionLimitError       a size or step limit (EXPR_LIMIT_EXCEEDED)
    NodeRuntimeError                   a runtime could not do its work; carries .code, .retryable
    PersistenceError                   a checkpoint could not be written, read or locked
    ├── LockedError                    another process owns the run
    └── CheckpointError                a checkpoint is missing, damaged or does not fit

Codes keep the original engine's strings (``PARSE_YAML_INVALID``, ...), so outputs stay
comparable with it; codes we added are marked in :class:`ErrorCode`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from maidit_jupyter.source import LineIndex, SourceSpan, render_excerpt

__all__ = [
    "CheckpointError",
    "Diagnostic",
    "ErrorCode",
    "ExpressionError",
    "ExpressionEvalError",
    "ExpressionLimitError",
    "ExpressionSyntaxError",
    "ExpressionTypeError",
    "LockedError",
    "MaiditError",
    "NodeRuntimeError",
    "PersistenceError",
    "Reporter",
    "SandboxViolation",
    "Severity",
    "UndefinedFunctionError",
    "WorkflowError",
    "WorkflowSyntaxError",
    "WorkflowValidationError",
]


class Severity(enum.StrEnum):
    """How bad a diagnostic is: errors stop a run, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


class ErrorCode(enum.StrEnum):
    """Every diagnostic code. Ours (not in the original engine) say so."""

    PARSE_MISSING_FRONTMATTER = "PARSE_MISSING_FRONTMATTER"
    PARSE_MISSING_BODY = "PARSE_MISSING_BODY"
    PARSE_YAML_INVALID = "PARSE_YAML_INVALID"
    PARSE_XML_INVALID = "PARSE_XML_INVALID"
    VALID_MISSING_REQUIRED_FIELD = "VALID_MISSING_REQUIRED_FIELD"
    VALID_INVALID_FIELD_TYPE = "VALID_INVALID_FIELD_TYPE"
    VALID_UNKNOWN_NODE_TYPE = "VALID_UNKNOWN_NODE_TYPE"
    VALID_UNDEFINED_NODE_REF = "VALID_UNDEFINED_NODE_REF"
    VALID_UNDEFINED_SECRET_REF = "VALID_UNDEFINED_SECRET_REF"  # noqa: S105 (a code)
    VALID_DUPLICATE_NODE_ID = "VALID_DUPLICATE_NODE_ID"
    VALID_CIRCULAR_DEPENDENCY = "VALID_CIRCULAR_DEPENDENCY"
    VALID_INVALID_SCHEMA = "VALID_INVALID_SCHEMA"
    VALID_TYPE_MISMATCH = "VALID_TYPE_MISMATCH"
    #: ours: an unknown frontmatter key, attribute or child element (a warning).
    VALID_UNKNOWN_FIELD = "VALID_UNKNOWN_FIELD"
    EXPR_PARSE_ERROR = "EXPR_PARSE_ERROR"
    EXPR_EVAL_ERROR = "EXPR_EVAL_ERROR"
    EXPR_UNDEFINED_VARIABLE = "EXPR_UNDEFINED_VARIABLE"
    EXPR_UNDEFINED_FUNCTION = "EXPR_UNDEFINED_FUNCTION"
    EXPR_BLOCKED_ACCESS = "EXPR_BLOCKED_ACCESS"
    EXPR_TYPE_ERROR = "EXPR_TYPE_ERROR"
    #: ours: an evaluation would exceed a size or step limit.
    EXPR_LIMIT_EXCEEDED = "EXPR_LIMIT_EXCEEDED"
    FILE_NOT_FOUND = "FILE_NOT_FOUND"


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """One problem found in a document.

    ``str(d)`` is compiler style (``flow.md:3:7: error[CODE]: message``); :meth:`render`
    adds the offending lines with a caret and the hints.
    """

    code: ErrorCode
    message: str
    severity: Severity = Severity.ERROR
    span: SourceSpan | None = None
    hints: tuple[str, ...] = ()
    path: str = field(default="<flow>", compare=False)

    @property
    def is_error(self) -> bool:
        """Whether this diagnostic is an error (not a warning)."""
        return self.severity is Severity.ERROR

    @property
    def line(self) -> int | None:
        """The 1-based start line, if located."""
        return self.span.start.line if self.span else None

    @property
    def column(self) -> int | None:
        """The 1-based start column, if located."""
        return self.span.start.column if self.span else None

    def __str__(self) -> str:
        where = self.path
        if self.span is not None:
            where = f"{where}:{self.span.start.line}:{self.span.start.column}"
        return f"{where}: {self.severity}[{self.code}]: {self.message}"

    def render(self, index: LineIndex | None = None) -> str:
        """Render the diagnostic with a source excerpt (when ``index`` is given) and hints."""
        lines = [f"{self.severity}[{self.code}]: {self.message}"]
        if self.span is not None:
            lines.append(
                f"  --> {self.path}:{self.span.start.line}:{self.span.start.column}"
            )
            if index is not None:
                excerpt = render_excerpt(index, self.span)
                lines.extend(f"   {row}" for row in excerpt.splitlines())
        else:
            lines.append(f"  --> {self.path}")
        lines.extend(f"  = hint: {hint}" for hint in self.hints)
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        """Return the JSON form used by ``maidit validate --format json``."""
        location: dict[str, int] | None = None
        if self.span is not None:
            location = {
                "line": self.span.start.line,
                "column": self.span.start.column,
                "endLine": self.span.end.line,
                "endColumn": self.span.end.column,
                "offset": self.span.start.offset,
            }
        return {
            "code": str(self.code),
            "severity": str(self.severity),
            "message": self.message,
            "location": location,
            "hints": list(self.hints),
        }


class Reporter:
    """Collects the diagnostics of one document (a base for the readers)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []

    def report(
        self,
        code: ErrorCode,
        message: str,
        span: SourceSpan | None,
        hints: Iterable[str] = (),
        severity: Severity = Severity.ERROR,
    ) -> None:
        """Record one diagnostic."""
        self.diagnostics.append(
            Diagnostic(
                code=code,
                message=message,
                severity=severity,
                span=span,
                hints=tuple(hints),
                path=self.path,
            )
        )


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Order diagnostics by position (unlocated first), keeping ties in found order."""
    return sorted(
        diagnostics,
        key=lambda d: d.span.start.offset if d.span else -1,
    )


class MaiditError(Exception):
    """Root of every exception maidit_jupyter raises on purpose."""


class WorkflowError(MaiditError):
    """A flow document has errors; ``diagnostics`` lists all of them.

    In IPython the exception prints as its rendered diagnostics, without a traceback
    (``_render_traceback_``).
    """

    def __init__(
        self,
        diagnostics: Sequence[Diagnostic],
        *,
        source: str | None = None,
    ) -> None:
        self.diagnostics = tuple(diagnostics)
        self.source = source
        errors = [d for d in self.diagnostics if d.is_error]
        first = (
            errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        )
        summary = f"{len(errors)} error(s)"
        super().__init__(f"{summary}: {first}" if first else summary)

    def render(self) -> str:
        """Render every diagnostic with excerpts."""
        index = LineIndex(self.source) if self.source is not None else None
        return "\n\n".join(d.render(index) for d in self.diagnostics)

    def _render_traceback_(self) -> list[str]:
        return self.render().splitlines()


class WorkflowSyntaxError(WorkflowError):
    """The frontmatter or the XML body could not be read."""


class WorkflowValidationError(WorkflowError):
    """The document parsed, but the validator found errors."""


class ExpressionError(MaiditError):
    """An expression is wrong.

    :ivar expression: the expression text (empty until the evaluator locates it).
    :ivar start: offset of the problem inside ``expression``.
    :ivar end: end offset of the problem inside ``expression``.
    """

    code = ErrorCode.EXPR_EVAL_ERROR

    def __init__(
        self, message: str, *, expression: str = "", start: int = 0, end: int = 0
    ) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.start = start
        self.end = max(end, start)

    def locate(self, expression: str, start: int, end: int) -> ExpressionError:
        """Attach the expression and offsets, unless a deeper frame already did."""
        if not self.expression:
            self.expression = expression
            self.start = start
            self.end = max(end, start)
        return self


class ExpressionSyntaxError(ExpressionError):
    """An expression does not parse."""

    code = ErrorCode.EXPR_PARSE_ERROR


class ExpressionEvalError(ExpressionError):
    """Evaluating an expression failed."""

    code = ErrorCode.EXPR_EVAL_ERROR


class ExpressionTypeError(ExpressionEvalError):
    """An operation or function got a value of a type it cannot use."""

    code = ErrorCode.EXPR_TYPE_ERROR


class UndefinedFunctionError(ExpressionEvalError):
    """A call names a function that does not exist."""

    code = ErrorCode.EXPR_UNDEFINED_FUNCTION


class SandboxViolation(ExpressionError):
    """An expression reached for a blocked name (``__proto__``, ``constructor``, ...)."""

    code = ErrorCode.EXPR_BLOCKED_ACCESS


class ExpressionLimitError(ExpressionError):
    """An evaluation would exceed a size limit or its step budget."""

    code = ErrorCode.EXPR_LIMIT_EXCEEDED


class NodeRuntimeError(MaiditError):
    """A runtime could not do its work: a file is missing, a path escapes, a format is bad.

    :ivar code: a stable code such as ``RUNTIME_PATH_TRAVERSAL``, ``ENOENT`` or
        ``PARSE_ERROR`` (the original engine's codes where it had them).
    :ivar retryable: whether trying again may succeed (timeouts, HTTP 429/5xx).
    :ivar retry_after_ms: how long the other side asked to wait before a retry (an
        HTTP ``Retry-After``); the executor waits at least that long, up to its cap.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        retryable: bool = False,
        retry_after_ms: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.retry_after_ms = retry_after_ms


class PersistenceError(MaiditError):
    """A checkpoint or state file could not be written, read or locked."""


class LockedError(PersistenceError):
    """Another live process owns the run's checkpoint (its lock is held)."""


class CheckpointError(PersistenceError):
    """A checkpoint cannot be used: missing, unreadable, damaged, of an unknown format
    version, or not the checkpoint of the flow it is resumed with."""
