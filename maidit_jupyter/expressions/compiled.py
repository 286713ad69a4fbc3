"""Compile once, evaluate many times: the entry points the executor uses.

:class:`ExpressionCompiler` parses each distinct text once (per flow: it knows the flow's
node ids, for dashed ids such as ``fetch-data``). A :class:`CompiledExpression` is a bare
expression (conditions, map/filter/reduce bodies, ``collection``); a
:class:`CompiledTemplate` is text with ``{{ }}`` parts:

* a template that is exactly one ``{{ expr }}`` (surrounding white space allowed) keeps
  the value's type through :meth:`CompiledTemplate.value` (objects, lists, numbers);
* otherwise it renders to a string: null and undefined as ``""``, arrays and objects as
  compact JSON, everything else as JavaScript's ``String(x)``;
* ``\\{{`` is a literal ``{{``; each part is evaluated exactly once per call, and what it
  returns is never evaluated again (data that contains ``{{ }}`` is data).
"""

from __future__ import annotations

from dataclasses import dataclass

from maidit_jupyter.errors import ExpressionError, ExpressionLimitError
from maidit_jupyter.expressions.closures import Code, compile_code
from maidit_jupyter.expressions.evaluator import Evaluator
from maidit_jupyter.expressions.nodes import Expr
from maidit_jupyter.expressions.parser import parse_expression
from maidit_jupyter.expressions.scope import Scope
from maidit_jupyter.expressions.template import TextSegment, parse_template
from maidit_jupyter.expressions.values import Value, to_display

__all__ = ["CompiledExpression", "CompiledTemplate", "ExpressionCompiler"]


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    """A parsed bare expression and its compiled closure."""

    source: str
    expr: Expr
    code: Code

    def evaluate(self, scope: Scope, evaluator: Evaluator) -> Value:
        """Evaluate in ``scope``.

        Raises:
            ExpressionError: located in :attr:`source`.
        """
        return evaluator.run(self.code, scope)


@dataclass(frozen=True, slots=True)
class _Part:
    expression: CompiledExpression
    offset: int  # where the expression text starts in the template


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """A parsed template: literal text and ``{{ }}`` parts."""

    text: str
    parts: tuple[str | _Part, ...]
    single: bool

    def render(self, scope: Scope, evaluator: Evaluator) -> str:
        """The template as text (what the template transform outputs)."""
        pieces: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                pieces.append(part)
            else:
                value = self._evaluate(part, scope, evaluator)
                try:
                    pieces.append(to_display(value))
                except RecursionError:
                    raise ExpressionLimitError(
                        "the value nests too deeply to render",
                        expression=self.text,
                        start=part.offset,
                        end=part.offset + len(part.expression.source),
                    ) from None
        return "".join(pieces)

    def value(self, scope: Scope, evaluator: Evaluator) -> Value:
        """The value of a single-expression template (typed); otherwise the text."""
        if self.single:
            part = next(p for p in self.parts if isinstance(p, _Part))
            return self._evaluate(part, scope, evaluator)
        return self.render(scope, evaluator)

    def _evaluate(self, part: _Part, scope: Scope, evaluator: Evaluator) -> Value:
        try:
            return part.expression.evaluate(scope, evaluator)
        except ExpressionError as exc:
            # Offsets relative to the whole template, so the caller maps them once.
            exc.expression = self.text
            exc.start += part.offset
            exc.end += part.offset
            raise


class ExpressionCompiler:
    """Parses expressions and templates, each distinct text once.

    Args:
        node_ids: the flow's node ids (dashed ids read as one name).
    """

    def __init__(self, node_ids: frozenset[str] = frozenset()) -> None:
        self.node_ids = node_ids
        self._expressions: dict[str, CompiledExpression] = {}
        self._templates: dict[str, CompiledTemplate] = {}

    def expression(self, text: str) -> CompiledExpression:
        """Compile a bare expression.

        Raises:
            ExpressionSyntaxError: it does not parse.
        """
        found = self._expressions.get(text)
        if found is None:
            expr = parse_expression(text, node_ids=self.node_ids)
            code = compile_code(expr, text)
            found = self._expressions[text] = CompiledExpression(text, expr, code)
        return found

    def template(self, text: str) -> CompiledTemplate:
        """Compile a template.

        Raises:
            ExpressionSyntaxError: a ``{{ }}`` part does not parse (offsets relative to
                the template).
        """
        found = self._templates.get(text)
        if found is None:
            found = self._templates[text] = self._compile_template(text)
        return found

    def _compile_template(self, text: str) -> CompiledTemplate:
        if "{{" not in text:
            return CompiledTemplate(text, (text,) if text else (), False)
        parsed = parse_template(text, node_ids=self.node_ids)
        parts: list[str | _Part] = []
        for part in parsed.segments:
            if isinstance(part, TextSegment):
                parts.append(part.text)
                continue
            source = part.segment.source
            compiled = self._expressions.get(source)
            if compiled is None:
                compiled = CompiledExpression(
                    source, part.expr, compile_code(part.expr, source)
                )
                self._expressions[source] = compiled
            parts.append(_Part(compiled, part.segment.source_start))
        return CompiledTemplate(text, tuple(parts), parsed.single_expression)
