"""Positions in a flow document: offsets, lines and columns, located strings, excerpts.

Every diagnostic and every AST node points back into the text it came from. Offsets are
indexes into the whole document string (frontmatter included). Lines and columns are
**1-based** everywhere in our own output (the original engine's columns were 0-based).
"""

from __future__ import annotations

import bisect
from typing import Self

from maidit_jupyter._records import record

__all__ = [
    "LineIndex",
    "LocatedStr",
    "SourcePosition",
    "SourceSpan",
    "join_located",
    "render_excerpt",
]


@record
class SourcePosition:
    """One point in a document.

    :ivar offset: index into the document string.
    :ivar line: 1-based line number.
    :ivar column: 1-based column (in characters).
    """

    offset: int
    line: int
    column: int


@record
class SourceSpan:
    """A half-open range ``[start, end)`` of a document."""

    start: SourcePosition
    end: SourcePosition

    @property
    def line(self) -> int:
        """The line the span starts on."""
        return self.start.line

    @property
    def column(self) -> int:
        """The 1-based column the span starts at."""
        return self.start.column


class LineIndex:
    """Map offsets of one text to line/column positions in O(log lines)."""

    __slots__ = ("_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self._starts = starts

    @property
    def line_count(self) -> int:
        """How many lines the text has (a trailing newline opens an empty last line)."""
        return len(self._starts)

    def position(self, offset: int) -> SourcePosition:
        """Return the position of ``offset`` (clamped into the text)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset)
        return SourcePosition(
            offset=offset, line=line, column=offset - self._starts[line - 1] + 1
        )

    def span(self, start: int, end: int | None = None) -> SourceSpan:
        """Return the span ``[start, end)``; an absent or smaller end means ``start + 1``."""
        if end is None or end <= start:
            end = min(start + 1, len(self.text))
        return SourceSpan(
            start=self.position(start), end=self.position(max(start, end))
        )

    def line_start(self, line: int) -> int:
        """Return the offset of the first character of a 1-based line."""
        return self._starts[max(1, min(line, len(self._starts))) - 1]

    def line_text(self, line: int) -> str:
        """Return the text of a 1-based line without its line break."""
        start = self.line_start(line)
        end = self.text.find("\n", start)
        text = self.text[start:] if end == -1 else self.text[start:end]
        return text.removesuffix("\r")


class LocatedStr(str):
    """A ``str`` that remembers where each of its characters came from.

    It is an ordinary string for every other purpose (equality, hashing, JSON), so
    configuration values can stay plain data while the validator can still point at
    the column of an expression inside an attribute value.

    The mapping is exact even when the text was decoded (``&lt;`` became ``<``) or
    stitched from pieces: ``marks`` lists ``(index, offset)`` anchors, and character
    ``i`` lies at ``offset + (i - index)`` of the last anchor at or before ``i``.
    """

    offset: int
    marks: tuple[tuple[int, int], ...]

    def __new__(
        cls, text: str, offset: int, marks: tuple[tuple[int, int], ...] = ()
    ) -> Self:
        """Create a located string whose first character sits at ``offset``."""
        self = super().__new__(cls, text)
        self.offset = offset
        self.marks = marks
        return self

    def offset_of(self, index: int) -> int:
        """Return the document offset of character ``index`` (``len`` gives the end)."""
        if not self.marks:
            return self.offset + index
        base_index, base_offset = 0, self.offset
        for mark_index, mark_offset in self.marks:
            if mark_index > index:
                break
            base_index, base_offset = mark_index, mark_offset
        return base_offset + (index - base_index)

    def sub(self, start: int, end: int | None = None) -> LocatedStr:
        """Return ``self[start:end]`` as a located string."""
        stop = len(self) if end is None else end
        if not self.marks:
            return LocatedStr(
                str.__getitem__(self, slice(start, stop)), self.offset + start
            )
        marks = tuple(
            (index - start, offset)
            for index, offset in self.marks
            if start < index <= stop
        )
        return LocatedStr(
            str.__getitem__(self, slice(start, stop)), self.offset_of(start), marks
        )

    def stripped(self) -> LocatedStr:
        """Return the string without surrounding white space, still located."""
        text = str(self)
        start = len(text) - len(text.lstrip())
        end = len(text.rstrip())
        if start == 0 and end == len(text):
            return self
        if end <= start:
            return LocatedStr("", self.offset_of(start))
        return self.sub(start, end)

    def dedented(self) -> LocatedStr:
        """Return the text without blank edge lines and common indentation, still located.

        Used for YAML written inside an element, which is indented with the XML.
        """
        pieces: list[LocatedStr] = []
        start = 0
        text = str(self)
        for line in text.split("\n"):
            pieces.append(self.sub(start, start + len(line)))
            start += len(line) + 1
        while pieces and not pieces[0].strip():
            pieces.pop(0)
        while pieces and not pieces[-1].strip():
            pieces.pop()
        indents = [len(p) - len(p.lstrip()) for p in pieces if p.strip()]
        cut = min(indents, default=0)
        trimmed = [p.sub(min(cut, len(p))).rstrip_located() for p in pieces]
        return join_located(trimmed, "\n", self.offset)

    def rstrip_located(self) -> LocatedStr:
        """Return the string without trailing white space, still located."""
        return self.sub(0, len(str(self).rstrip()))

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        """Pickle and deep-copy as a plain string."""
        return (str, (str(self),))


def join_located(pieces: list[LocatedStr], separator: str, offset: int) -> LocatedStr:
    """Join located strings with ``separator``; each piece keeps its own locations.

    ``offset`` locates the result when there are no pieces. Separator characters are
    located just after the piece before them.
    """
    if not pieces:
        return LocatedStr("", offset)
    marks: list[tuple[int, int]] = []
    index = 0
    for piece in pieces:
        marks.append((index, piece.offset))
        marks.extend((index + i, o) for i, o in piece.marks)
        index += len(piece) + len(separator)
    text = separator.join(str(piece) for piece in pieces)
    return LocatedStr(
        text, pieces[0].offset, tuple(marks[1:]) if marks[0][0] == 0 else tuple(marks)
    )


def render_excerpt(
    index: LineIndex,
    span: SourceSpan,
    *,
    label: str = "",
    context: int = 1,
    gutter: bool = True,
) -> str:
    """Render the lines around ``span`` with a caret line under it.

    Example::

         3 |   <transform id="b" input="c"/>
           |                           ^^^ undefined node

    Args:
        index: the line index of the document.
        span: what to underline (only its first line is underlined).
        label: text printed after the carets.
        context: how many lines to show before the span's line.
        gutter: prefix lines with their numbers.
    """
    line = span.start.line
    first = max(1, line - context)
    width = len(str(line))
    out: list[str] = []
    for number in range(first, line + 1):
        text = index.line_text(number).expandtabs(1)
        prefix = f"{number:>{width}} | " if gutter else ""
        out.append(f"{prefix}{text}".rstrip())
    line_text = index.line_text(line)
    start_col = span.start.column
    if span.end.line == line:
        end_col = max(span.end.column, start_col + 1)
    else:
        end_col = max(len(line_text) + 1, start_col + 1)
    carets = "^" * min(end_col - start_col, 120)
    prefix = f"{'':>{width}} | " if gutter else ""
    pad = " " * (start_col - 1)
    out.append(f"{prefix}{pad}{carets} {label}".rstrip())
    return "\n".join(out)
