"""A strict but tolerant reader for the XML body of a flow document.

Flow documents are written by hand and hold expressions in attribute values and element
text (``condition="a < 2 && b"``), so the reader accepts a raw ``<``, ``>`` or ``&``
wherever it cannot be markup, and reports every real mistake as an :class:`XmlProblem`
with document offsets instead of stopping at the first one:

- markup starts only at a ``<`` followed by a letter, ``_``, ``/``, ``!`` or ``?``;
  ``a < 2``, ``x <= 3`` and ``<$x`` are text, and so is every ``>``;
- ``&lt; &gt; &amp; &quot; &apos;`` and character references are decoded in text and
  attribute values; an ``&`` that starts no well-formed reference is literal; unknown
  entities and invalid characters are reported and kept as written;
- comments are dropped, CDATA is raw text; DOCTYPE, entity and other declarations and
  processing instructions are reported and skipped: nothing is expanded or fetched;
- a mismatched end tag closes the open elements up to its own (each reported) or, if
  none matches, is reported and ignored; elements still open at the end are reported;
- reading stops right after the end tag of the first top-level root element, so the
  markdown after it is never scanned; nesting deeper than a limit stops it too.

It never raises and runs in linear time: ``str.find`` and compiled regular expressions
jump from one ``<`` to the next and read whole tags at once, and open elements are kept
on an explicit stack. Every offset is an index into the whole document string, and
decoded strings are :class:`~maidit_jupyter.source.LocatedStr`, so a diagnostic can
point at one character of an attribute value even after ``&lt;`` was decoded to ``<``.
"""

from __future__ import annotations

from dataclasses import dataclass

from maidit_jupyter._records import record
from maidit_jupyter.source import LocatedStr

__all__ = [
    "XmlAttribute",
    "XmlDocument",
    "XmlElement",
    "XmlProblem",
    "read_workflow",
]


@record
class XmlAttribute:
    """One attribute of a start tag.

    Attributes:
        name: the attribute name as written.
        value: the decoded value; its offsets point at the raw characters.
        start: offset of the attribute name.
        end: offset just after the closing quote (or the unquoted value).
    """

    name: str
    value: LocatedStr
    start: int
    end: int


@record
class XmlElement:
    """One element with its attributes, element children and direct text.

    Attributes:
        tag: the element name.
        start: offset of the ``<`` of the start tag.
        start_tag_end: offset just after the start tag's ``>`` (or ``/>``).
        end: offset just after the end tag; ``start_tag_end`` for ``<x/>``; for an
            element left open, where it was closed for it (at the unrelated end tag or
            the end of the text).
        attributes: the attributes in document order, without duplicates.
        children: the element children in document order.
        text: all direct text content (text and CDATA pieces, references decoded,
            comments removed), not trimmed, located piece by piece.
    """

    tag: str
    start: int
    start_tag_end: int
    end: int
    attributes: tuple[XmlAttribute, ...]
    children: tuple[XmlElement, ...]
    text: LocatedStr

    def attr(self, name: str) -> LocatedStr | None:
        """Return the decoded value of attribute ``name``, or None if it is absent."""
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute.value
        return None

    def attribute(self, name: str) -> XmlAttribute | None:
        """Return attribute ``name`` with its location, or None if it is absent."""
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class XmlProblem:
    """One mistake in the XML body, located by document offsets.

    Attributes:
        message: one lower-case sentence.
        start: offset where the offending text starts.
        end: offset just after it.
        hints: suggestions on how to fix it.
    """

    message: str
    start: int
    end: int
    hints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class XmlDocument:
    """What :func:`read_workflow` found.

    Attributes:
        root: the first top-level root element, or None if there is none.
        problems: every problem found, ordered by offset.
        end: offset just after the root's end tag; the text length if there is no root,
            the root is not closed or reading stopped early.
    """

    root: XmlElement | None
    problems: tuple[XmlProblem, ...]
    end: int


def read_workflow(
    text: str, start: int = 0, *, root_tag: str = "workflow", max_depth: int = 200
) -> XmlDocument:
    """Read the XML body of a flow document.

    Reading starts at ``start`` and stops just after the end tag of the first top-level
    ``root_tag`` element, so whatever follows it (the markdown execution log) is never
    scanned. Elements before the root are checked but not returned. Nesting deeper than
    ``max_depth`` is reported and stops the reading.

    Args:
        text: the whole document; every offset returned indexes into it.
        start: offset of the XML body.
        root_tag: the name of the root element.
        max_depth: how deeply elements may nest (the root is level 1).

    Returns:
        The root element (or None) and every problem found. Never raises.
    """
    # Imported here: the reader builds this module's classes.
    from maidit_jupyter.parsing._xml_reader import Reader

    return Reader(text, max(0, min(start, len(text))), root_tag, max_depth).read()
