"""What validation returns: findings of the passes, and the report a caller sees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from maidit_jupyter.errors import Diagnostic, ErrorCode, Severity
from maidit_jupyter.source import SourceSpan

__all__ = ["Finding", "ValidationReport"]


class Finding(NamedTuple):
    """A diagnostic as a pass yields it; the validator adds the document path."""

    code: ErrorCode
    message: str
    span: SourceSpan | None
    hints: tuple[str, ...] = ()
    severity: Severity = Severity.ERROR

    def diagnostic(self, path: str) -> Diagnostic:
        """Make the diagnostic of this finding."""
        return Diagnostic(
            code=self.code,
            message=self.message,
            severity=self.severity,
            span=self.span,
            hints=self.hints,
            path=path,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationReport:
    """All diagnostics of one document, parse-stage ones included, in document order."""

    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The errors."""
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """The warnings."""
        return tuple(d for d in self.diagnostics if d.severity is Severity.WARNING)

    @property
    def valid(self) -> bool:
        """Whether there is no error (warnings allowed)."""
        return not self.errors
