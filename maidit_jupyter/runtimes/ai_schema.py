"""Structured output of AI nodes: the output tool, and checking a reply against it.

The output-schema DSL (``{title: string, tags: string[]}``) becomes JSON Schema through
:func:`~maidit_jupyter.parsing.schema_dsl.parse_schema_dsl`. That JSON Schema only ever
uses ``type`` (``string number boolean array object``), ``items``, ``properties``,
``required`` (all keys) and ``additionalProperties: false``, so the few lines of
:func:`conform` check it completely, with messages a model can act on in a repair
prompt (``tags[1]: expected string, got number``). No ``jsonschema`` dependency is
needed for this subset.

:func:`conform` also does what the original engine (zod) did before failing: unknown
keys are **dropped** (at every level) rather than rejected, and a missing top-level key
is filled from an extra key of the same type (the model wrote ``heading`` for
``title``), so outputs stay the ones the original produced.

A schema whose top level is not an object (``string[]``) cannot be a function's
parameters: :func:`tool_parameters` wraps it as ``{value: <schema>}`` and the runtime
unwraps the reply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "WRAPPED_KEY",
    "conform",
    "describe_type",
    "field_summary",
    "tool_parameters",
]

#: the key a non-object schema is wrapped under in the tool's parameters.
WRAPPED_KEY = "value"
#: at most this many errors are reported (a repair prompt stays short).
_MAX_ERRORS = 20


def tool_parameters(schema: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The output tool's parameters for ``schema``, and whether it was wrapped."""
    if schema.get("type") == "object":
        return dict(schema), False
    return (
        {
            "type": "object",
            "properties": {WRAPPED_KEY: dict(schema)},
            "required": [WRAPPED_KEY],
            "additionalProperties": False,
        },
        True,
    )


def describe_type(schema: Mapping[str, Any]) -> str:
    """A short DSL-like name for a schema: ``string``, ``number[]``, ``object``."""
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items")
        return describe_type(items if isinstance(items, Mapping) else {}) + "[]"
    return str(kind) if isinstance(kind, str) else "any"


def field_summary(parameters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(key, type name)`` of the top-level fields of an object schema."""
    properties = parameters.get("properties")
    if not isinstance(properties, Mapping):
        return []
    return [
        (str(key), describe_type(value if isinstance(value, Mapping) else {}))
        for key, value in properties.items()
    ]


def conform(value: Any, schema: Mapping[str, Any]) -> tuple[Any, list[str]]:
    """Check ``value`` against ``schema``: the cleaned value and the errors found.

    Unknown object keys are dropped; a missing top-level key takes the first extra key
    whose value has the expected type. Errors read ``path: message`` (``(root)`` for
    the value itself); an empty list means the value conforms.
    """
    if isinstance(value, dict) and schema.get("type") == "object":
        value = _remap(value, schema)
    errors: list[str] = []
    cleaned = _check(value, schema, "", errors)
    return cleaned, errors


def _remap(value: dict[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Rename extra keys to missing expected keys of the same type (in order)."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return value
    missing = [key for key in properties if key not in value]
    if not missing:
        return value
    extra = [key for key in value if key not in properties]
    result = dict(value)
    for key in missing:
        expected = properties[key]
        kind = expected.get("type") if isinstance(expected, Mapping) else None
        for candidate in extra:
            if _type_name(result[candidate]) == kind:
                result[key] = result.pop(candidate)
                extra.remove(candidate)
                break
    return result


def _type_name(value: Any) -> str:
    """The JSON Schema type of a parsed JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _path(path: str) -> str:
    return path or "(root)"


def _check(value: Any, schema: Mapping[str, Any], path: str, errors: list[str]) -> Any:
    """Append the errors of ``value`` to ``errors``; return it without unknown keys."""
    if len(errors) >= _MAX_ERRORS:
        return value
    kind = schema.get("type")
    actual = _type_name(value)
    if not isinstance(kind, str):
        return value  # the DSL never makes such a schema: anything goes
    if actual != kind:
        errors.append(f"{_path(path)}: expected {kind}, got {actual}")
        return value
    if kind == "array":
        items = schema.get("items")
        if not isinstance(items, Mapping):
            return value
        return [
            _check(item, items, f"{path}[{index}]", errors)
            for index, item in enumerate(value)
        ]
    if kind == "object":
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            return value
        cleaned: dict[str, Any] = {}
        for key, sub in properties.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in value:
                errors.append(f"{where}: required field is missing")
                continue
            cleaned[key] = _check(
                value[key], sub if isinstance(sub, Mapping) else {}, where, errors
            )
        return cleaned
    return value
