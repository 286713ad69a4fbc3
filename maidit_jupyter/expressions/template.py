"""Split ``{{ }}`` templates into text and expression segments, and parse them.

The rules are the original engine's (``extractTemplateSegments``), scanning left to
right:

* ``\\{{`` (a backslash and two braces) is a literal ``{{``; the three characters
  become one text segment whose text is ``{{``. There is no escape for ``}}``.
* ``{{`` opens an expression. It ends at the first ``}}`` that is not inside a single-
  or double-quoted string (backslash escapes inside strings are skipped), so
  ``{{ "}}" }}`` works. The expression text is trimmed.
* An unterminated ``{{`` makes the rest of the text one text segment, marked
  ``unterminated`` so a validator can warn.
* An empty template has no segments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from maidit_jupyter.errors import ExpressionSyntaxError
from maidit_jupyter.expressions.nodes import Expr
from maidit_jupyter.expressions.parser import parse_expression

__all__ = [
    "ExprSegment",
    "ParsedSegment",
    "Template",
    "TextSegment",
    "is_single_expression",
    "parse_template",
    "segment_template",
]

_OPEN_RE = re.compile(r"\\?\{\{")
_CLOSE_OR_QUOTE_RE = re.compile(r"\}\}|[\"']")
_STRING_REST_RE = {
    '"': re.compile(r'[^"\\]*+(?:\\[\s\S][^"\\]*+)*+"'),
    "'": re.compile(r"[^'\\]*+(?:\\[\s\S][^'\\]*+)*+'"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TextSegment:
    """Literal text of a template.

    Attributes:
        text: the text to output. For an escaped ``\\{{`` it is ``{{`` while the
            segment spans the three source characters; otherwise it is exactly
            ``template[start:end]``.
        start: offset of the segment in the template.
        end: end offset of the segment in the template.
        unterminated: the segment is the rest of the template after a ``{{`` that was
            never closed (it starts at that ``{{``).
    """

    text: str
    start: int
    end: int
    unterminated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ExprSegment:
    """One ``{{ expression }}`` of a template.

    Attributes:
        source: the expression text between the braces, trimmed.
        start: offset of the opening ``{{``.
        end: offset just after the closing ``}}``.
        source_start: offset of ``source`` in the template; add it to an offset
            inside ``source`` to get an offset in the template.
    """

    source: str
    start: int
    end: int
    source_start: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedSegment:
    """An expression segment with its parsed AST.

    Attributes:
        segment: the segment.
        expr: the AST; its offsets are relative to ``segment.source``.
    """

    segment: ExprSegment
    expr: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    """A template whose expressions all parsed.

    Attributes:
        text: the template text.
        segments: text segments and parsed expression segments, in order.
        single_expression: the template is exactly one ``{{ }}`` with only white space
            around it, so rendering keeps the value's type.
    """

    text: str
    segments: tuple[TextSegment | ParsedSegment, ...]
    single_expression: bool


def segment_template(text: str) -> tuple[TextSegment | ExprSegment, ...]:
    """Split a template into text and expression segments. Never raises.

    Args:
        text: the template text.

    Returns:
        The segments in order; empty for an empty template. Consecutive text
        segments are not merged (an escaped ``\\{{`` is a segment of its own).
    """
    segments: list[TextSegment | ExprSegment] = []
    pending = 0  # start of text not yet put in a segment
    search = _OPEN_RE.search
    opener = search(text)
    while opener is not None:
        at = opener.start()
        if at > pending:
            segments.append(TextSegment(text=text[pending:at], start=pending, end=at))
        if opener.end() - at == 3:
            segments.append(TextSegment(text="{{", start=at, end=at + 3))
            pending = at + 3
        else:
            close = _find_close(text, at + 2)
            if close < 0:
                rest = TextSegment(
                    text=text[at:], start=at, end=len(text), unterminated=True
                )
                segments.append(rest)
                return tuple(segments)
            inner = text[at + 2 : close]
            source = inner.strip()
            lead = len(inner) - len(inner.lstrip())
            segments.append(
                ExprSegment(
                    source=source, start=at, end=close + 2, source_start=at + 2 + lead
                )
            )
            pending = close + 2
        opener = search(text, pending)
    if pending < len(text):
        segments.append(TextSegment(text=text[pending:], start=pending, end=len(text)))
    return tuple(segments)


def _find_close(text: str, pos: int) -> int:
    """Return the offset of the ``}}`` closing an expression that starts at ``pos``.

    Returns -1 when there is none (a string left open also swallows the rest).
    """
    while True:
        found = _CLOSE_OR_QUOTE_RE.search(text, pos)
        if found is None:
            return -1
        mark = found.group()
        if mark == "}}":
            return found.start()
        rest = _STRING_REST_RE[mark].match(text, found.end())
        if rest is None:
            return -1
        pos = rest.end()


def is_single_expression(segments: Iterable[TextSegment | ExprSegment]) -> bool:
    """Whether the segments are exactly one expression with only white space around it.

    Such templates keep the value's type when rendered (a number stays a number).
    """
    expressions = 0
    for segment in segments:
        if isinstance(segment, ExprSegment):
            expressions += 1
        elif not segment.text.isspace():
            return False
    return expressions == 1


def parse_template(text: str, *, node_ids: frozenset[str] = frozenset()) -> Template:
    """Segment a template and parse every expression in it.

    Args:
        text: the template text.
        node_ids: the flow's node ids (for dashed ids such as ``fetch-data``).

    Returns:
        The parsed template.

    Raises:
        ExpressionSyntaxError: an expression does not parse (or is empty). Its
            ``expression`` is the whole template, and ``start``/``end`` are offsets in
            the template.
    """
    segments = segment_template(text)
    parts: list[TextSegment | ParsedSegment] = []
    for segment in segments:
        if isinstance(segment, TextSegment):
            parts.append(segment)
            continue
        try:
            expr = parse_expression(segment.source, node_ids=node_ids)
        except ExpressionSyntaxError as err:
            if segment.source:
                start = segment.source_start + err.start
                end = segment.source_start + err.end
            else:
                start, end = segment.start, segment.end
            raise ExpressionSyntaxError(
                err.message, expression=text, start=start, end=end
            ) from err
        parts.append(ParsedSegment(segment=segment, expr=expr))
    return Template(
        text=text,
        segments=tuple(parts),
        single_expression=is_single_expression(segments),
    )
