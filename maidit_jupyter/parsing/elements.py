"""Read attributes and child elements of one XML element, reporting bad values.

:class:`ElementReader` owns the diagnostics of one document and the helpers every node
reader needs: spans of tags and values, and attribute readers for integers, booleans and
durations that report a bad value at the attribute and carry on.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from maidit_jupyter.durations import parse_duration_ms
from maidit_jupyter.errors import ErrorCode, Reporter, Severity
from maidit_jupyter.parsing.xml import XmlElement
from maidit_jupyter.source import LineIndex, LocatedStr, SourceSpan

__all__ = ["ElementReader"]

#: a number without a unit (a checkpoint timeout in seconds: ``30``, ``1.5``).
_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


class ElementReader(Reporter):
    """Reads element attributes; collects the diagnostics of one document."""

    def __init__(self, lines: LineIndex, path: str) -> None:
        super().__init__(path)
        self.lines = lines

    def key_attribute(self, el: XmlElement, name: str, hint: str) -> str | None:
        """A required naming attribute of a child element (``<bind key>``, ...).

        Reports ``<tag> requires a "name" attribute`` when it is missing or blank.
        """
        value = self.required_text(el, name, hint, child=False)
        return None if value is None else str(value)

    def tag_span(self, el: XmlElement) -> SourceSpan:
        """The span of an element's start tag."""
        return self.lines.span(el.start, el.start_tag_end)

    def value_span(self, value: LocatedStr) -> SourceSpan:
        """The span of a located value (at least one character)."""
        return self.lines.span(value.offset_of(0), value.offset_of(len(value)))

    def attr_span(self, el: XmlElement, name: str) -> SourceSpan:
        """The span of one attribute, or of the start tag when it is absent."""
        attribute = el.attribute(name)
        if attribute is None:
            return self.tag_span(el)
        return self.lines.span(attribute.start, attribute.end)

    def unknown_attributes(self, el: XmlElement, allowed: Iterable[str]) -> None:
        """Warn about attributes this element does not know."""
        known = set(allowed)
        for attribute in el.attributes:
            if attribute.name in known:
                continue
            close = difflib.get_close_matches(attribute.name, sorted(known), n=1)
            hints = [f"Did you mean {close[0]!r}?"] if close else []
            hints.append("Known attributes: " + ", ".join(sorted(known)))
            self.report(
                ErrorCode.VALID_UNKNOWN_FIELD,
                f"unknown attribute {attribute.name!r} on <{el.tag}>",
                self.lines.span(attribute.start, attribute.end),
                hints,
                Severity.WARNING,
            )

    def unexpected_children(
        self, el: XmlElement, allowed: Iterable[str], where: str
    ) -> None:
        """Report element children that have no meaning inside ``el``."""
        known = {*allowed, "on-error"}
        for child in el.children:
            if child.tag not in known:
                self.report(
                    ErrorCode.VALID_UNKNOWN_FIELD,
                    f"unexpected <{child.tag}> inside <{el.tag}>",
                    self.tag_span(child),
                    [where],
                )

    def integer(
        self, el: XmlElement, name: str, *, minimum: int | None = None, default: int
    ) -> int:
        """Read an integer attribute, reporting a bad one (and using ``default``)."""
        value = self.integer_or_none(el, name, minimum=minimum)
        return default if value is None else value

    def integer_or_none(
        self, el: XmlElement, name: str, *, minimum: int | None = None
    ) -> int | None:
        """Read an optional integer attribute."""
        text = el.attr(name)
        if text is None:
            return None
        try:
            value = int(str(text).strip())
        except ValueError:
            self.report(
                ErrorCode.VALID_INVALID_FIELD_TYPE,
                f"<{el.tag}> {name} must be a whole number, got {str(text)!r}",
                self.attr_span(el, name),
            )
            return None
        if minimum is not None and value < minimum:
            self.report(
                ErrorCode.VALID_INVALID_FIELD_TYPE,
                f"<{el.tag}> {name} must be at least {minimum}, got {value}",
                self.attr_span(el, name),
            )
            return None
        return value

    def boolean(
        self, el: XmlElement, name: str, *, extra: dict[str, bool] | None = None
    ) -> bool | None:
        """Read an optional boolean attribute (``true``/``false``)."""
        text = el.attr(name)
        if text is None:
            return None
        words = {"true": True, "false": False, **(extra or {})}
        value = words.get(str(text).strip().lower())
        if value is None:
            self.report(
                ErrorCode.VALID_INVALID_FIELD_TYPE,
                f"<{el.tag}> {name} must be one of {', '.join(words)}, got {str(text)!r}",
                self.attr_span(el, name),
            )
        return value

    def duration(
        self, el: XmlElement, name: str, *, seconds: bool = False
    ) -> float | None:
        """Read an optional duration attribute in milliseconds.

        With ``seconds``, a plain number means seconds (checkpoint timeouts).
        """
        text = el.attr(name)
        if text is None:
            return None
        raw = str(text).strip()
        value = parse_duration_ms(raw)
        if seconds and _PLAIN_NUMBER.fullmatch(raw):
            value = float(raw) * 1000.0
        if value is None or value <= 0:
            self.report(
                ErrorCode.VALID_INVALID_FIELD_TYPE,
                f"<{el.tag}> {name} is not a valid duration: {raw!r}",
                self.attr_span(el, name),
                ['Write a duration such as "500ms", "30s", "1h30m" or "PT5M"'],
            )
            return None
        return value

    def required_text(
        self, el: XmlElement, name: str, hint: str, *, child: bool = True
    ) -> LocatedStr | None:
        """Read a required attribute (or, with ``child``, a child element of that name)."""
        value = el.attr(name)
        if value is None and child:
            element = next((c for c in el.children if c.tag == name), None)
            value = element.text if element is not None else None
        if value is None or not value.strip():
            self.report(
                ErrorCode.VALID_MISSING_REQUIRED_FIELD,
                f'<{el.tag}> requires a "{name}" attribute',
                self.tag_span(el),
                [hint],
            )
            return None
        return value.stripped()

    def text_or_child(self, el: XmlElement, name: str) -> LocatedStr | None:
        """An attribute, else the text of a child element of that name."""
        value = el.attr(name)
        if value is None:
            child = next((c for c in el.children if c.tag == name), None)
            if child is not None:
                value = child.text
        return value.stripped() if value is not None else None
