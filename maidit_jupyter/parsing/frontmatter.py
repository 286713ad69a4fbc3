"""Check and type the YAML frontmatter: name, version, config, secrets, runtime, ...

Every problem is located at the key or value it concerns. Unknown top-level keys are
warnings (the original ignored them silently); ``config`` field types and defaults are
checked here, values given at run time are checked when a run starts.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from maidit_jupyter.durations import parse_duration_ms
from maidit_jupyter.errors import Diagnostic, ErrorCode, Reporter, Severity
from maidit_jupyter.parsing.yaml_loader import YamlResult
from maidit_jupyter.source import LineIndex, SourceSpan
from maidit_jupyter.syntax.workflow import CONFIG_TYPES, ConfigField, Frontmatter

__all__ = ["KNOWN_KEYS", "read_frontmatter", "value_matches_type"]

KNOWN_KEYS = (
    "name",
    "version",
    "description",
    "trigger",
    "config",
    "secrets",
    "runtime",
    "schemas",
    "evolution",
    "ai",
    "http",
)
_VERSION = re.compile(r"\d+\.\d+(\.\d+)?")
_TRIGGERS = ("manual", "webhook", "schedule")
_RUNTIME_KEYS = ("timeout", "concurrency", "retry")
_FIELD_KEYS = ("type", "default", "required", "description", "enum")
_SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def value_matches_type(value: Any, type_name: str) -> bool:
    """Whether ``value`` is of the config type ``type_name``."""
    match type_name:
        case "string":
            return isinstance(value, str)
        case "number":
            return isinstance(value, int | float) and not isinstance(value, bool)
        case "boolean":
            return isinstance(value, bool)
        case "object":
            return isinstance(value, Mapping)
        case "array":
            return isinstance(value, list | tuple)
    return False


def read_frontmatter(
    result: YamlResult, *, source: str, lines: LineIndex, start: int, path: str
) -> tuple[Frontmatter, list[Diagnostic]]:
    """Build the :class:`Frontmatter` of a loaded YAML block.

    Args:
        result: the loaded frontmatter.
        source: the whole document text.
        lines: its line index.
        start: offset of the frontmatter's first character.
        path: the document's name for diagnostics.
    """
    reader = _Reader(result, source, lines, start, path)
    return reader.frontmatter(), reader.diagnostics


class _Reader(Reporter):
    def __init__(
        self, result: YamlResult, source: str, lines: LineIndex, start: int, path: str
    ) -> None:
        super().__init__(path)
        self.result = result
        self.source = source
        self.lines = lines
        self.start = start

    def key_span(self, *keys: str) -> SourceSpan:
        """Where a key is written (the frontmatter start when absent)."""
        found = self.result.key_spans.get(keys)
        return self.lines.span(*found) if found else self.lines.span(self.start)

    def value_span(self, *keys: str) -> SourceSpan:
        """Where a value is written (its key when the value has no text)."""
        found = self.result.value_spans.get(keys)
        if found and found[1] > found[0]:
            return self.lines.span(*found)
        return self.key_span(*keys)

    def frontmatter(self) -> Frontmatter:
        data = self.result.value
        if not isinstance(data, dict):
            self.report(
                ErrorCode.PARSE_YAML_INVALID,
                "Frontmatter must be a YAML object",
                self.lines.span(self.start),
                ["Frontmatter should contain key-value pairs"],
            )
            return Frontmatter(name="", version="", span=self.lines.span(self.start))
        for key in data:
            if key not in KNOWN_KEYS:
                close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
                self.report(
                    ErrorCode.VALID_UNKNOWN_FIELD,
                    f"unknown frontmatter key {key!r} is ignored",
                    self.key_span(key),
                    [f"Did you mean {close[0]!r}?"]
                    if close
                    else ["Known keys: " + ", ".join(KNOWN_KEYS)],
                    Severity.WARNING,
                )
        return Frontmatter(
            name=self.name(data),
            version=self.version(data),
            description=data.get("description")
            if isinstance(data.get("description"), str)
            else None,
            config=self.config(data.get("config")),
            secrets=self.secrets(data.get("secrets")),
            trigger=self.trigger(data.get("trigger")),
            runtime=self.runtime(data.get("runtime")),
            schemas=self.mapping(data, "schemas"),
            evolution=self.mapping(data, "evolution"),
            ai=self.mapping(data, "ai") or {},
            http=self.mapping(data, "http") or {},
            raw=data,
            span=self.lines.span(self.start),
            key_spans={key: self.key_span(key) for key in data},
        )

    def name(self, data: Mapping[str, Any]) -> str:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            self.report(
                ErrorCode.VALID_MISSING_REQUIRED_FIELD,
                'Frontmatter must include a "name" field',
                self.value_span("name")
                if "name" in data
                else self.lines.span(self.start),
                ['Add name: "your-workflow-name" to frontmatter'],
            )
            return ""
        return name.strip()

    def version(self, data: Mapping[str, Any]) -> str:
        if "version" not in data or data["version"] is None:
            self.report(
                ErrorCode.VALID_MISSING_REQUIRED_FIELD,
                'Frontmatter must include a "version" field',
                self.key_span("version")
                if "version" in data
                else self.lines.span(self.start),
                ['Add version: "1.0.0" to frontmatter'],
            )
            return ""
        value = data["version"]
        # An unquoted 1.0 is a YAML number: read what was written, not the float.
        text = (
            self.result.source_text(("version",), self.source)
            if not isinstance(value, str)
            else value
        )
        text = (text or "").strip()
        if isinstance(value, bool) or not _VERSION.fullmatch(text):
            self.report(
                ErrorCode.VALID_INVALID_FIELD_TYPE,
                f'Invalid version format "{text}"',
                self.value_span("version"),
                [
                    "Version must be in semver format: X.Y.Z or X.Y",
                    'Examples: "1.0.0", "2.1", "0.0.1"',
                ],
            )
        return text

    def trigger(self, value: Any) -> Mapping[str, Any] | None:
        if value is None:
            return None
        if isinstance(value, str):
            if value not in _TRIGGERS:
                self.report(
                    ErrorCode.VALID_INVALID_FIELD_TYPE,
                    f"unknown trigger {value!r}; runs start as 'manual'",
                    self.value_span("trigger"),
                    ["Triggers: " + ", ".join(_TRIGGERS)],
                    Severity.WARNING,
                )
                return {"type": "manual"}
            return {"type": value}
        if isinstance(value, dict):
            kind = value.get("type")
            if kind is not None and kind not in _TRIGGERS:
                self.report(
                    ErrorCode.VALID_INVALID_FIELD_TYPE,
                    f"unknown trigger type {kind!r}",
                    self.value_span("trigger", "type"),
                    ["Triggers: " + ", ".join(_TRIGGERS)],
                    Severity.WARNING,
                )
            if kind not in _TRIGGERS:
                kind = next((k for k in _TRIGGERS if k in value), "manual")
            return {**value, "type": kind}
        self.report(
            ErrorCode.VALID_INVALID_FIELD_TYPE,
            "trigger must be a string or a mapping",
            self.value_span("trigger"),
        )
        return None

    def mapping(self, data: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.report(
                ErrorCode.VALID_INVALID_FIELD_TYPE,
                f"{key} must be a mapping",
                self.value_span(key),
            )
            return None
        return value

    def secrets(self, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.report(
                ErrorCode.VALID_INVALID_FIELD_TYPE,
                "secrets must be a list of environment variable names",
                self.value_span("secrets"),
                ["secrets: [API_KEY, DB_PASSWORD]"],
            )
            return ()
        names: list[str] = []
        for i, item in enumerate(value):
            span = self.result.value_spans.get(("secrets", i))
            where = self.lines.span(*span) if span else self.value_span("secrets")
            if not isinstance(item, str) or not _SECRET_NAME.fullmatch(item):
                self.report(
                    ErrorCode.VALID_INVALID_FIELD_TYPE,
                    f"secret name {item!r} is not an environment variable name",
                    where,
                    ["Use letters, digits and underscores, e.g. API_KEY"],
                )
                continue
            names.append(str(item))
        return tuple(names)

    def runtime(self, value: Any) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.report(
                ErrorCode.VALID_INVALID_FIELD_TYPE,
                "runtime must be a mapping",
                self.value_span("runtime"),
            )
            return {}
        settings: dict[str, Any] = {}
        for key, item in value.items():
            span = self.value_span("runtime", key)
            if key == "timeout":
                ms = parse_duration_ms(item)
                if ms is None or ms <= 0:
                    self.report(
                        ErrorCode.VALID_INVALID_FIELD_TYPE,
                        f"runtime.timeout is not a valid duration: {item!r}",
                        span,
                        ['Write a duration such as "2m" or "30s"'],
                    )
                    continue
                settings["timeout_ms"] = ms
            elif key == "concurrency":
                if isinstance(item, bool) or not isinstance(item, int) or item < 1:
                    self.report(
                        ErrorCode.VALID_INVALID_FIELD_TYPE,
                        f"runtime.concurrency must be a whole number of at least 1, got {item!r}",
                        span,
                    )
                    continue
                settings["concurrency"] = item
            elif key == "retry":
                if not isinstance(item, dict):
                    self.report(
                        ErrorCode.VALID_INVALID_FIELD_TYPE,
                        "runtime.retry must be a mapping",
                        span,
                    )
                    continue
                settings["retry"] = item
            else:
                self.report(
                    ErrorCode.VALID_UNKNOWN_FIELD,
                    f"unknown runtime setting {key!r} is ignored",
                    self.key_span("runtime", key),
                    ["Known settings: " + ", ".join(_RUNTIME_KEYS)],
                    Severity.WARNING,
                )
        return settings

    def config(self, value: Any) -> Mapping[str, ConfigField]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.report(
                ErrorCode.VALID_INVALID_FIELD_TYPE,
                "config must be a mapping of field names to definitions",
                self.value_span("config"),
                ["config:\n  limit:\n    type: number\n    default: 10"],
            )
            return {}
        return {name: self.config_field(name, spec) for name, spec in value.items()}

    def config_field(self, name: str, spec: Any) -> ConfigField:
        span = self.key_span("config", name)
        if spec is None:
            # ``limit:`` alone declares the field, like ``limit: {}``.
            return ConfigField(name=name, span=span)
        if not isinstance(spec, dict):
            # A bare value is shorthand for a default; its type follows the value.
            inferred = _type_of(spec)
            return ConfigField(
                name=name, type=inferred, default=spec, has_default=True, span=span
            )
        for key in spec:
            if key not in _FIELD_KEYS:
                self.report(
                    ErrorCode.VALID_UNKNOWN_FIELD,
                    f"unknown key {key!r} in config field {name!r}",
                    self.key_span("config", name, key),
                    ["Field keys: " + ", ".join(_FIELD_KEYS)],
                    Severity.WARNING,
                )
        type_name = spec.get("type", "string")
        if type_name not in CONFIG_TYPES:
            self.report(
                ErrorCode.VALID_INVALID_FIELD_TYPE,
                f"config field {name!r} has unknown type {type_name!r}",
                self.value_span("config", name, "type"),
                ["Types: " + ", ".join(sorted(CONFIG_TYPES))],
            )
            type_name = "string"
        required = spec.get("required", False)
        if not isinstance(required, bool):
            self.report(
                ErrorCode.VALID_INVALID_FIELD_TYPE,
                f"config field {name!r}: required must be true or false",
                self.value_span("config", name, "required"),
            )
            required = False
        enum = spec.get("enum")
        if enum is not None and not isinstance(enum, list):
            self.report(
                ErrorCode.VALID_INVALID_FIELD_TYPE,
                f"config field {name!r}: enum must be a list",
                self.value_span("config", name, "enum"),
            )
            enum = None
        has_default = "default" in spec
        default = spec.get("default")
        if has_default and default is not None:
            if not value_matches_type(default, type_name):
                self.report(
                    ErrorCode.VALID_INVALID_FIELD_TYPE,
                    f"config field {name!r} is declared {type_name} but its default is {_type_of(default)}",
                    self.value_span("config", name, "default"),
                )
            elif enum is not None and default not in enum:
                self.report(
                    ErrorCode.VALID_INVALID_FIELD_TYPE,
                    f"config field {name!r}: default {default!r} is not one of the enum values",
                    self.value_span("config", name, "default"),
                )
        description = spec.get("description")
        return ConfigField(
            name=name,
            type=type_name,
            default=default,
            has_default=has_default,
            required=required,
            description=description if isinstance(description, str) else None,
            enum=tuple(enum) if enum is not None else None,
            span=span,
        )


def _type_of(value: Any) -> str:
    """The config type name of a value."""
    for name in ("boolean", "number", "string", "object", "array"):
        if value_matches_type(value, name):
            return name
    return "null" if value is None else "string"
