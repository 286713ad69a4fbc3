"""The JSON form of the AST, printed by ``maidit parse``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from maidit_jupyter.source import LineIndex, SourceSpan
from maidit_jupyter.syntax.nodes import Node
from maidit_jupyter.syntax.workflow import Workflow

__all__ = ["span_to_json", "workflow_to_json"]


def span_to_json(span: SourceSpan | None) -> dict[str, int] | None:
    """A span as ``{line, column, endLine, endColumn, offset}`` (1-based lines and columns)."""
    if span is None:
        return None
    return {
        "line": span.start.line,
        "column": span.start.column,
        "endLine": span.end.line,
        "endColumn": span.end.column,
        "offset": span.start.offset,
    }


def workflow_to_json(workflow: Workflow) -> dict[str, Any]:
    """The whole workflow as JSON-ready data: frontmatter, nodes with locations."""
    frontmatter = workflow.frontmatter
    return {
        "path": workflow.path,
        "metadata": {
            "name": frontmatter.name,
            "version": frontmatter.version,
            "description": frontmatter.description,
            "trigger": _plain(frontmatter.trigger),
            "config": {
                name: {
                    "type": spec.type,
                    "default": _plain(spec.default),
                    "required": spec.required,
                    "description": spec.description,
                    "enum": _plain(spec.enum),
                }
                for name, spec in frontmatter.config.items()
            },
            "secrets": list(frontmatter.secrets),
            "runtime": _plain(frontmatter.runtime),
        },
        "nodes": [node_to_json(node) for node in workflow.nodes],
        "lineCount": LineIndex(workflow.source).line_count,
    }


def node_to_json(node: Node) -> dict[str, Any]:
    """One node and its children as JSON-ready data."""
    data: dict[str, Any] = {"kind": node.tag}
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        if field.name == "tag" or value is None or value == () or value == {}:
            continue
        key = field.name.rstrip("_")
        data[key] = _plain(value)
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, SourceSpan):
        return span_to_json(value)
    if isinstance(value, Node):
        return node_to_json(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name.rstrip("_"): _plain(getattr(value, field.name))
            for field in dataclasses.fields(value)
        }
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        items = sorted(value) if isinstance(value, frozenset | set) else value
        return [_plain(item) for item in items]
    return value
