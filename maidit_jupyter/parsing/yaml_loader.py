"""A restricted YAML loader that remembers where every value came from.

:func:`load_yaml` reads frontmatter and the YAML bodies of elements. It builds
JSON-compatible data from PyYAML's *event stream* with an explicit stack, so PyYAML's
construction (tags, merge keys, Python objects, timestamps) never runs:

* anchors, aliases, tags, extra documents, non-scalar or duplicate keys and the
  :class:`YamlLimits` bounds are located :class:`YamlProblem` values; reading stops at
  the first anchor or alias, so an alias bomb is never expanded;
* plain scalars follow the YAML 1.2 core schema as far as JSON goes (``yes``, dates,
  ``.inf``, ``.nan`` and numbers a float cannot hold stay strings);
* strings are :class:`~maidit_jupyter.source.LocatedStr`: exact for one-line scalars
  without escapes; block, folded, escaped and multi-line scalars locate each *word*
  (non-blank run between escapes) where it was written, so each line maps to its own
  line. What an escape or a fold produced is best effort (an escape counts as one
  character).

libyaml's parser is used when PyYAML has it, else the pure Python one; the marks of
both are character indexes.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import yaml
from yaml import events

from maidit_jupyter.source import LocatedStr

__all__ = ["Path", "YamlLimits", "YamlProblem", "YamlResult", "load_yaml"]

Path = tuple[str | int, ...]

#: what YAML counts as a line break (NEL and the Unicode separators too).
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_LOADER: type[yaml.SafeLoader | yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)
_CONSTANTS: dict[str, bool | None] = {
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
}
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
# The characters YAML forbids anywhere (both PyYAML and libyaml reject them).
_UNPRINTABLE = re.compile(
    "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_TAG = re.compile(r"!<[^>]*>|![^\s,\[\]{}]*")
# The words of a scalar's source, and the escapes between them.
_WORDS = {
    "'": re.compile(r"(?P<escape>'')|[^\s']+"),
    '"': re.compile(
        r"(?P<escape>\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[^\r\n]?))"
        r"|[^\s\\]+"
    ),
}
_PLAIN_WORDS = re.compile(r"\S+")
_ANCHOR = "anchors and aliases are not allowed"
_ANCHOR_HINT = "write the value out in full instead of referring to it"
_COMPLEX_KEY = "mapping keys must be scalars, not lists or mappings"
_INDENT_HINT = re.compile(r"indent|block|mapping values|expected (?:key|':'|'-')")


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlLimits:
    """Bounds that keep hostile YAML cheap to reject.

    Attributes:
        max_chars: the longest text read at all (checked before parsing).
        max_depth: the deepest nesting of lists and mappings.
        max_nodes: the most scalars, lists and mappings (keys included).
    """

    max_chars: int = 1_000_000
    max_depth: int = 64
    max_nodes: int = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlProblem:
    """Something wrong with the YAML, located in the document.

    Attributes:
        message: lower-case description, without an "invalid YAML" prefix.
        start: document offset of the first character concerned.
        end: document offset after the last character concerned.
        hints: suggestions for a fix.
    """

    message: str
    start: int
    end: int
    hints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlResult:
    """What :func:`load_yaml` read.

    Without problems, ``value`` is the whole document. A duplicate key keeps its first
    value, a tag is ignored and an entry with a non-scalar key is dropped; every other
    problem stops reading, and ``value`` is then ``None`` with no spans.

    Attributes:
        value: ``None``, ``bool``, ``int``, ``float``, ``LocatedStr``, lists and
            ``dict[str, ...]``; ``None`` also for an empty or comment-only text.
        problems: everything found wrong, in the order found.
        value_spans: document span ``(start, end)`` of every value node by path (the
            root's path is ``()``).
        key_spans: document span of the key of every mapping entry, by entry path.
    """

    value: Any
    problems: tuple[YamlProblem, ...]
    value_spans: Mapping[Path, tuple[int, int]]
    key_spans: Mapping[Path, tuple[int, int]]

    def source_text(self, path: Path, document: str) -> str | None:
        """Return a value as written, e.g. ``1.0`` for ``version: 1.0``.

        Args:
            path: the value's path.
            document: the document the offsets refer to.

        Returns:
            ``document[start:end]`` of the value, or ``None`` when there is none.
        """
        span = self.value_spans.get(path)
        return None if span is None else document[span[0] : span[1]]


def load_yaml(
    text: str, *, offset: int = 0, limits: YamlLimits = YamlLimits()
) -> YamlResult:
    """Read one YAML document as JSON-compatible, located data; never raises.

    Args:
        text: the YAML. For a :class:`LocatedStr`, character ``i`` lies at document
            offset ``text.offset_of(i)`` and ``offset`` is ignored.
        offset: the document offset of ``text[0]`` for a plain ``str``.
        limits: size, depth and node-count bounds.

    Returns:
        The value, its problems and its spans, all in document offsets.
    """
    return _Reader(text, offset, limits).read()


@dataclass(slots=True)
class _Frame:
    """A list or mapping being read, with the state of its next entry."""

    container: list[Any] | dict[str, Any]
    path: Path
    start: int
    end: int  # where its last child ends (block collections end there)
    flow: bool
    record: bool  # whether spans are recorded below it (not under dropped entries)
    key: LocatedStr | None = None  # the key whose value comes next
    keep: bool = True  # whether that value is stored


class _Stop(Exception):
    """Raised after recording a problem that ends reading."""


def _number(text: str) -> int | float | None:
    """Return the JSON number a plain scalar stands for, if any."""
    try:
        if _INT.fullmatch(text):
            return int(text)
        if _OCT.fullmatch(text) or _HEX.fullmatch(text):
            return int(text[2:], 8 if text[1] == "o" else 16)
        if _FLOAT.fullmatch(text) and abs(number := float(text)) != float("inf"):
            return number
    except ValueError:  # more digits than int() converts
        pass
    return None


class _Reader:
    """Build one text's value from its event stream."""

    def __init__(self, text: str, offset: int, limits: YamlLimits) -> None:
        self.text, self.limits = str(text), limits
        marks = text.marks if isinstance(text, LocatedStr) else ()
        self.base = text.offset if isinstance(text, LocatedStr) else offset
        self.mark_indexes = [index for index, _ in marks]
        self.mark_offsets = [mark_offset for _, mark_offset in marks]
        self.problems: list[YamlProblem] = []
        self.value_spans: dict[Path, tuple[int, int]] = {}
        self.key_spans: dict[Path, tuple[int, int]] = {}
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.nodes = self.documents = 0

    def read(self) -> YamlResult:
        """Check, parse and build; a problem that stops reading drops the value."""
        failed = True
        try:
            self._precheck()
            for event in yaml.parse(self.text, Loader=_LOADER):
                self._feed(event)
            failed = False
        except _Stop:
            pass
        except (yaml.YAMLError, UnicodeError) as error:
            self._syntax_error(error)
        if failed:
            self.root, self.value_spans, self.key_spans = None, {}, {}
        return YamlResult(
            value=self.root,
            problems=tuple(self.problems),
            value_spans=MappingProxyType(self.value_spans),
            key_spans=MappingProxyType(self.key_spans),
        )

    def _doc(self, index: int) -> int:
        """Return the document offset of text index ``index``."""
        k = bisect.bisect_right(self.mark_indexes, index)
        if k:
            return self.mark_offsets[k - 1] + index - self.mark_indexes[k - 1]
        return self.base + index

    def _span(self, start: int, end: int) -> tuple[int, int]:
        """Return the document span of text indexes ``[start, end)``."""
        first = self._doc(start)
        return (first, self._doc(end - 1) + 1) if end > start else (first, first)

    def _problem(self, start: int, end: int, message: str, *hints: str) -> _Stop:
        """Record a problem at ``[start, end)``; return the exception that stops."""
        start = min(start, len(self.text))
        first, last = self._span(start, min(max(end, start + 1), len(self.text)))
        self.problems.append(
            YamlProblem(message=message, start=first, end=last, hints=hints)
        )
        return _Stop()

    def _precheck(self) -> None:
        """Reject an over-long text and forbidden characters without parsing."""
        text, limit = self.text, self.limits.max_chars
        if len(text) > limit:
            message = f"YAML text is {len(text)} characters; the limit is {limit}"
            raise self._problem(limit, limit + 1, message)
        if (bad := _UNPRINTABLE.search(text)) is not None:
            message = f"character U+{ord(bad.group()):04X} is not allowed in YAML"
            hint = "remove it, or write it as an escape inside double quotes"
            raise self._problem(bad.start(), bad.end(), message, hint)

    def _syntax_error(self, error: Exception) -> None:
        """Record a parser error as one problem at its mark."""
        index, message = 0, str(error).partition("\n")[0]
        if isinstance(error, yaml.MarkedYAMLError):
            message = " ".join(part for part in (error.problem, error.context) if part)
            mark = error.problem_mark or error.context_mark
            index = 0 if mark is None else mark.index
        hints = []
        if self.text[index : index + 1] == "\t" or "tab character" in message:
            hints.append("indent with spaces; YAML does not allow tabs there")
        elif _INDENT_HINT.search(message):
            hints.append("check the indentation")
        self._problem(index, index + 1, message or "invalid YAML", *hints)

    def _feed(self, event: events.Event) -> None:
        """Apply one parser event."""
        start = 0 if event.start_mark is None else event.start_mark.index
        end = start if event.end_mark is None else event.end_mark.index
        if isinstance(event, events.AliasEvent):
            raise self._problem(start, end, _ANCHOR, _ANCHOR_HINT)
        if isinstance(event, events.NodeEvent) and event.anchor is not None:
            at = max(start, self.text.find(f"&{event.anchor}", start, end))
            raise self._problem(at, at + 1 + len(event.anchor), _ANCHOR, _ANCHOR_HINT)
        if isinstance(event, events.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                message = "only one YAML document is allowed"
                hint = "remove the '---' line that starts a second document"
                raise self._problem(start, end, message, hint)
        elif isinstance(event, events.ScalarEvent | events.CollectionStartEvent):
            self.nodes += 1
            if self.nodes > self.limits.max_nodes:
                message = f"YAML has more than {self.limits.max_nodes} nodes"
                raise self._problem(start, end, message)
            if event.tag is not None:
                tag = _TAG.match(self.text, start)
                hint = "quote the value if the '!' belongs to the text"
                stop = start + 1 if tag is None else tag.end()
                self._problem(start, stop, "tags are not allowed", hint)
            if isinstance(event, events.ScalarEvent):
                self._scalar(event, start, end)
            else:
                self._open(event, start, end)
        elif isinstance(event, events.CollectionEndEvent):
            frame = self.stack.pop()
            stop = end if frame.flow else frame.end
            self._attach(frame.container, frame.start, stop)

    def _open(self, event: events.CollectionStartEvent, start: int, end: int) -> None:
        """Start a list or mapping."""
        if len(self.stack) >= self.limits.max_depth:
            message = f"YAML is nested deeper than {self.limits.max_depth} levels"
            raise self._problem(start, end, message, "flatten the data")
        path: Path = ()
        record = True
        if self.stack:
            parent = self.stack[-1]
            if isinstance(parent.container, list):
                path, record = (*parent.path, len(parent.container)), parent.record
            elif parent.key is None:  # a list or mapping as a key: record nothing
                record = False
            else:
                path = (*parent.path, str(parent.key))
                record = parent.record and parent.keep
        container: list[Any] | dict[str, Any]
        container = {} if isinstance(event, events.MappingStartEvent) else []
        flow = bool(event.flow_style)
        self.stack.append(_Frame(container, path, start, start, flow, record))

    def _scalar(self, event: events.ScalarEvent, start: int, end: int) -> None:
        """Read a scalar as the next key, or as a value."""
        top = self.stack[-1] if self.stack else None
        if top is not None and top.key is None and isinstance(top.container, dict):
            key = self._string(event, start, end)
            top.key, top.end, top.keep = key, end, key not in top.container
            if not top.keep:
                message = f"duplicate key {str(key)!r}"
                self._problem(start, end, message, "each key may appear once")
            elif top.record:
                self.key_spans[(*top.path, str(key))] = self._span(start, end)
            return
        value: Any
        if event.style:  # quoted or block: always a string
            value = self._string(event, start, end)
            if event.style in ("|", ">"):
                end = start + len(self.text[start:end].rstrip())
        elif event.value in _CONSTANTS:
            value = _CONSTANTS[event.value]
        elif (value := _number(event.value)) is None:
            value = self._string(event, start, end)
        self._attach(value, start, end)

    def _attach(self, value: Any, start: int, end: int) -> None:
        """Store a finished value node in its parent, or as the root."""
        if not self.stack:
            self.root = value
            self.value_spans[()] = self._span(start, end)
            return
        frame = self.stack[-1]
        frame.end = end
        if isinstance(frame.container, list):
            path: Path = (*frame.path, len(frame.container))
            frame.container.append(value)
        elif frame.key is None:  # the list or mapping was a key: drop the entry
            self._problem(start, end, _COMPLEX_KEY, "use a string as the key")
            frame.key, frame.keep = LocatedStr("", start), False
            return
        else:
            key, keep = frame.key, frame.keep
            frame.key, frame.keep = None, True
            if not keep:
                return
            path = (*frame.path, str(key))
            frame.container[key] = value
        if frame.record:
            self.value_spans[path] = self._span(start, end)

    def _string(self, event: events.ScalarEvent, start: int, end: int) -> LocatedStr:
        """Return a scalar's text with each word located where it was written."""
        text, value, style = self.text, event.value, event.style or ""
        body, stop = start, end
        if style in ("'", '"'):
            body, stop = start + 1, end - 1
        elif style:  # a block scalar starts on the line after its header
            line_break = _LINE_BREAK.search(text, start, end)
            body = line_break.end() if line_break else end
        anchors = [(0, body)]  # (value index, text index)
        position = 0
        exact = text[body:stop] == value  # then one anchor is enough: skip the words
        words = _WORDS.get(style, _PLAIN_WORDS)
        for word in words.finditer(text, body, body if exact else stop):
            if word.lastgroup == "escape":  # stands for one character, or none
                position += len(word.group()) > 1
                continue
            index = value.find(word.group(), position)
            if index < 0:
                break
            if index == anchors[-1][0]:
                anchors.pop()
            anchors.append((index, word.start()))
            position = index + len(word.group())
        return self._located(value, anchors)

    def _located(self, value: str, anchors: list[tuple[int, int]]) -> LocatedStr:
        """Turn ``(value index, text index)`` anchors into a located string."""
        points: list[tuple[int, int]] = []
        for n, (index, at) in enumerate(anchors):
            stop = at + (anchors[n + 1][0] if n + 1 < len(anchors) else len(value))
            low = bisect.bisect_right(self.mark_indexes, at)
            high = bisect.bisect_left(self.mark_indexes, stop - index)
            points.append((index, at))
            for jump in self.mark_indexes[low:high]:  # the text's own marks
                points.append((index + jump - at, jump))
        first = self._doc(points[0][1])
        marks: list[tuple[int, int]] = []
        base_index, base_offset = 0, first
        for index, at in points[1:]:
            offset = self._doc(at)
            if offset != base_offset + index - base_index:
                marks.append((index, offset))
            base_index, base_offset = index, offset
        return LocatedStr(value, first, tuple(marks))
