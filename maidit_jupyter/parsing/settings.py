"""What each runtime accepts as configuration: the schema the parser converts by.

Each runtime (``file:source``, ``transform:map``, ...) names its settings and how to read
each one. Attribute values and child-element texts are strings in XML; the schema says
which become booleans, integers, durations or YAML structures, which stay text, which
are bare expressions, and which are required. Values holding ``{{ }}`` are never
converted: they are resolved when the node runs.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "RUNTIMES",
    "SINK_TYPES",
    "SOURCE_TYPES",
    "TRANSFORM_TYPES",
    "Kind",
    "Setting",
]


class Kind(enum.Enum):
    """How a setting's text is read."""

    TEXT = "text"  # a template, kept as text
    BARE = "bare"  # a bare expression
    STRUCTURED = "structured"  # YAML mapping/list; a scalar stays text
    BOOL = "bool"
    INT = "int"
    NUMBER = "number"
    DURATION = "duration"  # stored as milliseconds
    NAME = "name"  # a plain name (secret name, variable, function): never a template
    LIST = "list"  # a YAML list, or comma-separated text


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting of a runtime."""

    kind: Kind = Kind.TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    #: a bound the value must meet (inclusive), for INT/NUMBER/DURATION.
    minimum: float | None = None


_TEXT = Setting()
_REQUIRED = Setting(required=True)
_STRUCT = Setting(Kind.STRUCTURED)
_BOOL = Setting(Kind.BOOL)
_DURATION = Setting(Kind.DURATION, minimum=1)
_NAME = Setting(Kind.NAME)

_HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_FILE_FORMATS = ("auto", "json", "csv", "yaml", "text", "lines", "jsonl")

_HTTP_COMMON: dict[str, Setting] = {
    "url": _REQUIRED,
    "method": Setting(choices=_HTTP_METHODS),
    "headers": _STRUCT,
    "params": _STRUCT,
    "body": _STRUCT,
    "auth": _STRUCT,
    "timeout": _DURATION,
    "retry": _STRUCT,
}
_PYTHON: dict[str, Setting] = {
    "function": _NAME,
    "var": _NAME,
    "args": _STRUCT,
}

#: settings per runtime key.
RUNTIMES: Mapping[str, Mapping[str, Setting]] = {
    "http:source": {
        **_HTTP_COMMON,
        "request": _STRUCT,
        "response": _STRUCT,
        "extract": _TEXT,
    },
    "http:sink": {**_HTTP_COMMON, "method": Setting(choices=_HTTP_METHODS)},
    "file:source": {
        "path": _REQUIRED,
        "format": Setting(choices=_FILE_FORMATS),
        "encoding": _TEXT,
    },
    "file:sink": {
        "path": _REQUIRED,
        "format": Setting(choices=_FILE_FORMATS),
        "pretty": _BOOL,
        "createDir": _BOOL,
        "encoding": _TEXT,
        "append": _BOOL,
        "allow-secrets": _BOOL,
    },
    "database:source": {
        "connection": _REQUIRED,
        "query": _REQUIRED,
        "params": Setting(Kind.STRUCTURED),
    },
    "database:sink": {
        "connection": _REQUIRED,
        "table": _REQUIRED,
        "operation": Setting(choices=("insert", "upsert", "update")),
        "batch": Setting(Kind.INT, minimum=1),
        "conflictColumns": Setting(Kind.LIST),
        "where": _TEXT,
        "create": _BOOL,
    },
    "python:source": _PYTHON,
    "python:sink": _PYTHON,
    "transform:python": _PYTHON,
    "transform:template": {"template": _REQUIRED},
    "transform:map": {"expression": Setting(Kind.BARE, required=True)},
    "transform:filter": {"condition": Setting(Kind.BARE, required=True)},
    "transform:reduce": {
        "expression": Setting(Kind.BARE, required=True),
        "initial": Setting(Kind.BARE),
        "finalize": Setting(Kind.BARE),
    },
    "transform:ai": {
        "model": _TEXT,
        "system": _TEXT,
        "user": _TEXT,
        "prompt": _TEXT,
        "output-schema": _NAME,
        "max-tokens": Setting(Kind.INT, minimum=1),
        "max-retries": Setting(Kind.INT, minimum=0),
        "temperature": Setting(Kind.NUMBER, minimum=0),
        "timeout": _DURATION,
        "base-url": _TEXT,
        "api-key": _NAME,
        "allow-secrets": _BOOL,
    },
    "email:sink": {
        "provider": Setting(choices=("smtp", "sendgrid")),
        "host": _TEXT,
        "port": Setting(Kind.INT, minimum=1),
        "username": _TEXT,
        "password": _NAME,
        "starttls": _BOOL,
        "ssl": _BOOL,
        "api-key": _NAME,
        "base-url": _TEXT,
        "ca-file": _TEXT,
        "tls-verify": _BOOL,
        "to": _REQUIRED,
        "cc": _TEXT,
        "bcc": _TEXT,
        "from": _TEXT,
        "reply-to": _TEXT,
        "subject": _TEXT,
        "text": _TEXT,
        "html": _TEXT,
        "timeout": _DURATION,
        "allow-secrets": _BOOL,
    },
}

SOURCE_TYPES = ("http", "file", "database", "python")
TRANSFORM_TYPES = ("ai", "template", "map", "filter", "reduce", "python")
SINK_TYPES = ("http", "file", "database", "email", "python")
