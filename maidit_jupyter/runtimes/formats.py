"""The data formats of the file runtimes: detecting, parsing and rendering them.

Six formats, as ``format=`` names them:

* ``json``: one JSON document. Integers stay exact; ``NaN`` and ``Infinity``, which
  JavaScript's ``JSON.parse`` rejects, are rejected too.
* ``csv``: a header row, then one object per row with **every value a string** (as the
  original). The :mod:`csv` module reads it, so quoted commas, quotes and newlines
  work; missing fields become ``""``, extra fields are dropped, blank lines and rows of
  one blank field are skipped (as the original). Malformed quoting is a parse error.
* ``yaml``: one YAML document read as JSON-compatible data from PyYAML's event stream,
  so no constructor runs: dates, ``yes``, ``.inf`` and ``.nan`` stay strings, keys are
  their text as written, and anchors, aliases (alias bombs), tags other than ``!!str``,
  duplicate keys and extra documents are parse errors.
* ``text``: the text itself.
* ``lines``: a list of the lines, without their line breaks (``\\n``, ``\\r\\n`` or
  ``\\r``); the empty line after a final line break is not an item.
* ``jsonl``: one JSON document per non-blank line.

Rendering follows JavaScript: ``undefined`` and functions vanish from objects and are
``null`` in arrays, ``NaN`` and infinities are ``null``, a whole float is written as an
integer, scalars are ``String(v)``. Deviations from the original engine, on purpose:
CSV headers are the union of every row's keys in first-seen order (the original took
the first row's keys and lost the others), and CSV, ``lines`` and ``jsonl`` output ends
with a newline, so appending to it stays well formed.

Extensions, for reading and for writing without ``format``: ``.json``; ``.csv``;
``.yaml``, ``.yml``; ``.txt``, ``.text``, ``.md`` → text (a ``.txt`` file is read whole,
as in the original); ``.lines`` → lines; ``.jsonl``, ``.ndjson`` → jsonl. Matching
ignores case. An unknown extension reads as text; a write with an unknown extension
writes objects and arrays as JSON and anything else as text (the original's rule).

Errors are :class:`~maidit_jupyter.errors.NodeRuntimeError` with codes
``PARSE_ERROR`` (the message gives the line and column), ``RUNTIME_INVALID_CONFIG``
(an unknown format) and ``RUNTIME_INVALID_INPUT`` (a value the format cannot hold).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Final

import yaml
from yaml import events
from yaml.reader import ReaderError

from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.expressions.values import UNDEFINED, FunctionValue, to_string

__all__ = [
    "FORMATS",
    "INVALID_CONFIG",
    "INVALID_INPUT",
    "MAX_DEPTH",
    "PARSE_ERROR",
    "csv_header",
    "detect_format",
    "detect_write_format",
    "encode_text",
    "parse_data",
    "render_csv",
    "render_data",
    "render_text",
]

#: the formats, in the order the messages list them.
FORMATS: Final = ("json", "csv", "yaml", "text", "lines", "jsonl")
PARSE_ERROR: Final = "PARSE_ERROR"
INVALID_CONFIG: Final = "RUNTIME_INVALID_CONFIG"
INVALID_INPUT: Final = "RUNTIME_INVALID_INPUT"

_EXTENSIONS: Final = {
    ".json": "json",
    ".csv": "csv",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".lines": "lines",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
#: how deep rendered values and YAML documents may nest.
MAX_DEPTH: Final = 256
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CSV_QUOTE = re.compile(r'[,"\r\n]')
_LOADER: type[yaml.SafeLoader | yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)
_DUMPER: type[yaml.SafeDumper | yaml.CSafeDumper] = getattr(
    yaml, "CSafeDumper", yaml.SafeDumper
)
_STR_TAG = "tag:yaml.org,2002:str"
_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_YAML_CONSTANTS: Final[dict[str, bool | None]] = {
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
}
_YAML_INT = re.compile(r"[-+]?[0-9]+")
_YAML_BASED = re.compile(r"0o[0-7]+|0x[0-9a-fA-F]+")
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")


def _format_name(explicit: str | None) -> str | None:
    """Return a valid format name, or ``None`` for auto-detection."""
    if explicit is None or explicit in ("", "auto"):
        return None
    if explicit not in FORMATS:
        expected = ", ".join(("auto", *FORMATS))
        raise NodeRuntimeError(
            f"Unknown file format: {explicit!r} (expected one of {expected})",
            code=INVALID_CONFIG,
        )
    return explicit


def detect_format(path: PurePath, explicit: str | None) -> str:
    """Return the format to read ``path`` in.

    Args:
        path: the file; its extension decides when ``explicit`` does not.
        explicit: a format name, or ``None``/``"auto"``/``""`` to detect.

    Returns:
        One of :data:`FORMATS`; ``text`` for an unknown extension.

    Raises:
        NodeRuntimeError: ``RUNTIME_INVALID_CONFIG`` for an unknown format name.
    """
    name = _format_name(explicit)
    return name or _EXTENSIONS.get(path.suffix.lower(), "text")


def detect_write_format(path: PurePath, explicit: str | None, value: object) -> str:
    """Return the format to write ``value`` to ``path`` in.

    Args:
        path: the file; a known extension decides when ``explicit`` does not.
        explicit: a format name, or ``None``/``"auto"``/``""`` to detect.
        value: what will be written.

    Returns:
        The explicit or extension's format, else ``json`` for an object or array and
        ``text`` for anything else.

    Raises:
        NodeRuntimeError: ``RUNTIME_INVALID_CONFIG`` for an unknown format name.
    """
    name = _format_name(explicit) or _EXTENSIONS.get(path.suffix.lower())
    if name is not None:
        return name
    return "json" if isinstance(value, Mapping | list | tuple) else "text"


# -- parsing -----------------------------------------------------------------------------


def _parse_error(where: str, what: str, detail: str) -> NodeRuntimeError:
    return NodeRuntimeError(f"Invalid {what} {where}: {detail}", code=PARSE_ERROR)


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(text: str, source: str, *, line: int | None = None) -> object:
    """Parse one JSON document; ``line`` is its line number in a ``jsonl`` file."""
    where = f"in {source}" if line is None else f"on line {line} of {source}"
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        at = f"column {error.colno}"
        if line is None:
            at = f"line {error.lineno}, {at}"
        raise _parse_error(where, "JSON", f"{error.msg} at {at}") from None
    except RecursionError:
        raise _parse_error(where, "JSON", "nested too deeply") from None
    except ValueError as error:  # NaN/Infinity, or an integer with too many digits
        raise _parse_error(where, "JSON", str(error)) from None


def _parse_jsonl(text: str, source: str) -> list[object]:
    items: list[object] = []
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if line.strip():
            items.append(_parse_json(line, source, line=number))
    return items


def _parse_lines(text: str) -> list[str]:
    lines = _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def _csv_records(text: str, source: str) -> Iterator[list[str]]:
    """Yield the records of CSV text, skipping blank lines and lone blank fields."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for record in reader:
            if record and (len(record) > 1 or record[0].strip()):
                yield record
    except csv.Error as error:
        detail = f"{error} at line {reader.line_num}"
        raise _parse_error(f"in {source}", "CSV", detail) from None


def _parse_csv(text: str, source: str) -> list[dict[str, str]]:
    records = _csv_records(text, source)
    header = next(records, None)
    if header is None:
        return []
    rows: list[dict[str, str]] = []
    for record in records:
        row: dict[str, str] = {}
        for index, name in enumerate(header):
            row[name] = record[index] if index < len(record) else ""
        rows.append(row)
    return rows


def csv_header(text: str, *, source: str = "<data>") -> list[str] | None:
    """Return the header row of CSV text, or ``None`` when it has no rows.

    Raises:
        NodeRuntimeError: ``PARSE_ERROR`` for malformed quoting in the header.
    """
    return next(_csv_records(text, source), None)


def _yaml_scalar(event: events.ScalarEvent) -> object:
    """Return the JSON value of a scalar (YAML 1.2 core schema, as far as JSON goes)."""
    text = event.value
    if event.style or event.tag is not None:  # quoted, block, or !!str / !
        return text
    if text in _YAML_CONSTANTS:
        return _YAML_CONSTANTS[text]
    try:
        if _YAML_INT.fullmatch(text):
            return int(text)
        if _YAML_BASED.fullmatch(text):
            return int(text[2:], 8 if text[1] == "o" else 16)
        if _YAML_FLOAT.fullmatch(text) and math.isfinite(number := float(text)):
            return number
    except ValueError:  # more digits than int() converts: keep the text
        pass
    return text


class _YamlBuilder:
    """Build one YAML document's value from its events, without recursion."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.root: object = None
        self.documents = 0
        # (container, the pending key of a mapping or None)
        self.stack: list[tuple[list[object] | dict[str, object], list[str | None]]] = []

    def fail(self, event: events.Event, message: str) -> NodeRuntimeError:
        mark = event.start_mark
        where = (
            ""
            if mark is None
            else f" at line {mark.line + 1}, column {mark.column + 1}"
        )
        return _parse_error(f"in {self.source}", "YAML", message + where)

    def feed(self, event: events.Event) -> None:
        if isinstance(event, events.AliasEvent) or (
            isinstance(event, events.NodeEvent) and event.anchor is not None
        ):
            raise self.fail(event, "anchors and aliases are not allowed")
        if isinstance(event, events.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self.fail(event, "only one document is allowed")
        elif isinstance(event, events.ScalarEvent):
            if event.tag not in (None, "!", _STR_TAG):
                raise self.fail(event, f"tag {event.tag!r} is not allowed")
            self.add(event, _yaml_scalar(event))
        elif isinstance(event, events.CollectionStartEvent):
            if event.tag not in (None, "!", *_COLLECTION_TAGS):
                raise self.fail(event, f"tag {event.tag!r} is not allowed")
            if len(self.stack) >= MAX_DEPTH:
                raise self.fail(event, f"nested deeper than {MAX_DEPTH} levels")
            container: list[object] | dict[str, object]
            container = {} if isinstance(event, events.MappingStartEvent) else []
            self.add(event, container)
            self.stack.append((container, [None]))

        elif isinstance(event, events.CollectionEndEvent):
            self.stack.pop()

    def add(self, event: events.NodeEvent, value: object) -> None:
        if not self.stack:
            self.root = value
            return
        container, pending = self.stack[-1]
        if isinstance(container, list):
            container.append(value)
        elif pending[0] is not None:
            container[pending[0]] = value
            pending[0] = None
        elif not isinstance(event, events.ScalarEvent):
            raise self.fail(event, "mapping keys must be scalars")
        elif event.value in container:
            raise self.fail(event, f"duplicate key {event.value!r}")
        else:
            pending[0] = event.value


def _parse_yaml(text: str, source: str) -> object:
    builder = _YamlBuilder(source)
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            builder.feed(event)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(p for p in (error.problem, error.context) if p) or "error"
        where = (
            ""
            if mark is None
            else f" at line {mark.line + 1}, column {mark.column + 1}"
        )
        raise _parse_error(f"in {source}", "YAML", problem + where) from None
    except ReaderError as error:  # a character YAML forbids
        detail = f"{error.reason} (#x{error.character:04x}) at offset {error.position}"
        raise _parse_error(f"in {source}", "YAML", detail) from None
    except yaml.YAMLError as error:
        raise _parse_error(f"in {source}", "YAML", str(error)) from None
    return builder.root


def parse_data(text: str, fmt: str, *, source: str = "<data>") -> object:
    """Parse decoded file contents.

    Args:
        text: the contents, without a byte order mark.
        fmt: one of :data:`FORMATS`.
        source: how messages name the file.

    Returns:
        JSON-compatible data: ``dict[str, ...]``, ``list``, ``str``, ``int``, ``float``,
        ``bool`` or ``None`` (``csv`` gives a list of ``dict[str, str]``, ``lines`` a
        list of ``str``, ``jsonl`` a list).

    Raises:
        NodeRuntimeError: ``PARSE_ERROR`` for invalid contents, ``RUNTIME_INVALID_CONFIG``
            for an unknown format.
    """
    name = _format_name(fmt) or "text"
    if name == "json":
        return _parse_json(text, source)
    if name == "jsonl":
        return _parse_jsonl(text, source)
    if name == "csv":
        return _parse_csv(text, source)
    if name == "yaml":
        return _parse_yaml(text, source)
    if name == "lines":
        return _parse_lines(text)
    return text


# -- rendering ---------------------------------------------------------------------------


def _invalid(fmt: str, message: str) -> NodeRuntimeError:
    return NodeRuntimeError(f"Cannot write {fmt}: {message}", code=INVALID_INPUT)


def _key(key: object, fmt: str) -> str:
    if isinstance(key, str):
        return str(key)
    if key is None or isinstance(key, bool | int | float):
        return to_string(key)
    raise _invalid(fmt, f"an object key of type {type(key).__name__}")


def _plain(value: object, fmt: str, depth: int = 0) -> object:
    """Return ``value`` as plain JSON-compatible Python (``undefined`` → ``None``)."""
    if value is None or value is UNDEFINED or isinstance(value, FunctionValue):
        return None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else float(value)
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if depth >= MAX_DEPTH:
        raise _invalid(fmt, f"the value is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, Mapping):
        return {
            _key(key, fmt): _plain(item, fmt, depth + 1)
            for key, item in value.items()
            if item is not UNDEFINED and not isinstance(item, FunctionValue)
        }
    if isinstance(value, list | tuple):
        return [_plain(item, fmt, depth + 1) for item in value]
    raise _invalid(fmt, f"a value of type {type(value).__name__}")


def _json(value: object, fmt: str, *, pretty: bool) -> str:
    text = json.dumps(
        _plain(value, fmt),
        ensure_ascii=False,
        indent=2 if pretty else None,
        separators=(",", ": ") if pretty else (",", ":"),
    )
    # As JSON.stringify: lone surrogates (which UTF-8 cannot hold) become \uXXXX.
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _text(value: object, fmt: str, *, pretty: bool) -> str:
    """JavaScript ``String(value)``, but objects and arrays as JSON."""
    if isinstance(value, Mapping | list | tuple):
        return _json(value, fmt, pretty=pretty)
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if value is None or value is UNDEFINED or isinstance(value, str | int | float):
        return to_string(value)
    if isinstance(value, FunctionValue):
        return "function"
    raise _invalid(fmt, f"a value of type {type(value).__name__}")


def _csv_cell(value: object) -> str:
    """``String(v ?? '')``, objects and arrays as JSON, quoted as RFC 4180 requires."""
    if value is None or value is UNDEFINED or isinstance(value, FunctionValue):
        text = ""
    else:
        text = _text(value, "csv", pretty=False)
    if _CSV_QUOTE.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_row(cells: Sequence[object]) -> str:
    line = ",".join(_csv_cell(cell) for cell in cells)
    return (line or '""') + "\n"  # a lone empty cell is written "" so it stays a row


def render_csv(
    value: object, *, columns: Sequence[str] | None = None, header: bool = True
) -> str:
    """Render rows as CSV text.

    Args:
        value: a list of objects (rows by key), or a list of arrays (rows as they are,
            no header row). Anything else, or an empty list, gives ``""``.
        columns: the columns of objects, in order; by default the union of the rows'
            keys in first-seen order. With ``columns``, a row key outside them is an
            error (appending to a file with a different header).
        header: whether to write the header row (objects only).

    Returns:
        The CSV text, each row ending with ``\\n``.

    Raises:
        NodeRuntimeError: ``RUNTIME_INVALID_INPUT`` for rows of mixed kinds or scalars,
            or keys outside ``columns``.
    """
    if not isinstance(value, list | tuple) or not value:
        return ""
    if all(isinstance(row, list | tuple) for row in value):
        return "".join(_csv_row(row) for row in value)
    rows: list[Mapping[object, object]] = []
    for index, row in enumerate(value):
        if not isinstance(row, Mapping):
            kind = "array" if isinstance(row, list | tuple) else type(row).__name__
            raise _invalid(
                "csv",
                f"rows must all be objects or all be arrays; row {index} is {kind}",
            )
        rows.append(row)
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(_key(key, "csv") for key in row))
    if columns is None:
        columns = list(keys)
    elif extra := [key for key in keys if key not in columns]:
        raise _invalid(
            "csv", f"column(s) {', '.join(map(repr, extra))} are not in the header"
        )
    lines = [_csv_row(columns)] if header else []
    for row in rows:
        by_name = {_key(key, "csv"): item for key, item in row.items()}
        lines.append(_csv_row([by_name.get(name) for name in columns]))
    return "".join(lines)


def _items(value: object) -> Sequence[object]:
    return value if isinstance(value, list | tuple) else [value]


def render_text(value: object, fmt: str, *, pretty: bool = True) -> str:
    """Render ``value`` in ``fmt`` as text (what :func:`render_data` encodes).

    Args:
        value: the data.
        fmt: one of :data:`FORMATS`.
        pretty: indent JSON by 2 (``json``, and objects written as ``text``).

    Returns:
        The rendered text.

    Raises:
        NodeRuntimeError: ``RUNTIME_INVALID_INPUT`` for a value the format cannot hold,
            ``RUNTIME_INVALID_CONFIG`` for an unknown format.
    """
    name = _format_name(fmt) or "text"
    if name == "json":
        return _json(value, name, pretty=pretty)
    if name == "csv":
        return render_csv(value)
    if name == "jsonl":
        return "".join(_json(item, name, pretty=False) + "\n" for item in _items(value))
    if name == "lines":
        return "".join(_text(item, name, pretty=False) + "\n" for item in _items(value))
    if name == "yaml":
        try:
            return yaml.dump(
                _plain(value, name),
                Dumper=_DUMPER,
                allow_unicode=True,
                default_flow_style=False,
                sort_keys=False,
                width=2**30,
            )
        except RecursionError:
            raise _invalid(name, "the value is nested too deeply") from None
    return _text(value, name, pretty=pretty)


def render_data(
    value: object, fmt: str, *, pretty: bool = True, encoding: str = "utf-8"
) -> bytes:
    """Render ``value`` in ``fmt`` and encode it.

    Args:
        value: the data (expression values: ``undefined`` included).
        fmt: one of :data:`FORMATS`.
        pretty: indent JSON by 2; compact otherwise.
        encoding: the text encoding. Lone surrogates become U+FFFD.

    Returns:
        The file's bytes (no byte order mark for UTF-8).

    Raises:
        NodeRuntimeError: ``RUNTIME_INVALID_INPUT`` for a value the format or the
            encoding cannot hold, ``RUNTIME_INVALID_CONFIG`` for an unknown format or
            encoding.
    """
    return encode_text(render_text(value, fmt, pretty=pretty), encoding)


def encode_text(text: str, encoding: str) -> bytes:
    """Encode rendered text; lone surrogates become U+FFFD.

    Raises:
        NodeRuntimeError: ``RUNTIME_INVALID_CONFIG`` for an unknown encoding,
            ``RUNTIME_INVALID_INPUT`` for a character it cannot hold.
    """
    text = _SURROGATE.sub("\ufffd", text)
    try:
        return text.encode(encoding)
    except LookupError:
        raise NodeRuntimeError(
            f"Unknown text encoding: {encoding!r}", code=INVALID_CONFIG
        ) from None
    except UnicodeEncodeError as error:
        char = error.object[error.start]
        raise NodeRuntimeError(
            f"Cannot write {char!r} (U+{ord(char):04X}) in {encoding}",
            code=INVALID_INPUT,
        ) from None
