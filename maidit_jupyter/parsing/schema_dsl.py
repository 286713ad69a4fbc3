"""The output-schema DSL of AI nodes: ``{name: string, tags: string[]}`` → JSON Schema.

Grammar (after trimming)::

    T := 'string' | 'number' | 'boolean' | T '[]' | '{' [ key ':' T (',' key ':' T)* ] '}'

Commas and colons split at brace depth 0 only; every object key is required.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SchemaDSLError", "parse_schema_dsl"]

_SCALARS = frozenset({"string", "number", "boolean"})


class SchemaDSLError(ValueError):
    """The schema text does not follow the DSL."""


def parse_schema_dsl(text: str, *, max_depth: int = 32) -> dict[str, Any]:
    """Return the JSON Schema described by ``text``.

    Raises:
        SchemaDSLError: the text is not a valid schema.
    """
    return _type(text.strip(), max_depth)


def _type(text: str, depth: int) -> dict[str, Any]:
    if depth <= 0:
        raise SchemaDSLError("Invalid schema syntax: nested too deeply")
    if text.endswith("[]"):
        return {"type": "array", "items": _type(text[:-2].strip(), depth - 1)}
    if text in _SCALARS:
        return {"type": text}
    if text.startswith("{") and text.endswith("}"):
        properties: dict[str, Any] = {}
        for pair in _split_top(text[1:-1], ","):
            if not pair.strip():
                continue
            parts = _split_top(pair, ":", limit=1)
            if len(parts) < 2:
                raise SchemaDSLError(
                    f'Invalid schema syntax: missing colon in "{pair.strip()}"'
                )
            key, value = parts[0].strip(), parts[1].strip()
            if not key:
                raise SchemaDSLError(
                    f'Invalid schema syntax: empty key in "{pair.strip()}"'
                )
            if not value:
                raise SchemaDSLError(
                    f'Invalid schema syntax: empty type for key "{key}"'
                )
            properties[key] = _type(value, depth - 1)
        return {
            "type": "object",
            "properties": properties,
            "required": list(properties),
            "additionalProperties": False,
        }
    raise SchemaDSLError(f'Unknown schema type: "{text}"')


def _split_top(text: str, separator: str, limit: int = -1) -> list[str]:
    """Split at ``separator`` where braces and brackets are balanced."""
    parts: list[str] = []
    depth = 0
    start = 0
    for index, char in enumerate(text):
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
        elif char == separator and depth == 0 and (limit < 0 or len(parts) < limit):
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts
