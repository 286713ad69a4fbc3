"""Which nodes act outside the run, so that running them again may repeat what they did.

A checkpoint records each node's *result* once, but a node's *effect* (a mail sent, rows
inserted, a POST) happens **at least once**: a node that was running when the process
died or the run was cancelled runs again on resume, and its first run may already have
acted. Before such a node starts, the run records an *intent*
(:class:`maidit_jupyter.checkpoints.document.InFlight`); a resume that runs it again says
which node and what may happen twice.

Nodes whose effect is repeatable without harm are not flagged: reading (file sources,
``GET``/``HEAD``/``OPTIONS``, a database ``SELECT``), a file sink replacing its file
atomically, HTTP ``PUT`` and ``DELETE`` (idempotent by RFC 9110), a request with an
``Idempotency-Key`` header, a database ``upsert`` or ``update``. When a setting that
decides it is a template, the node counts as acting outside the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maidit_jupyter.syntax.nodes import CallNode, ConfiguredNode, IncludeNode, Node

__all__ = ["outside_effect"]

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
#: first words of SQL that only reads.
_READING_SQL = frozenset({"select", "show", "explain", "values", "table"})


def outside_effect(node: Node) -> str | None:
    """What ``node`` does outside the run that running it again would repeat, or None.

    The text completes "it …" (``"sends an email"``).
    """
    if isinstance(node, IncludeNode | CallNode):
        return f"runs the flow {node.workflow} from its start"
    if not isinstance(node, ConfiguredNode):
        return None
    config = node.config
    match node.runtime:
        case "email:sink":
            return "sends an email"
        case "transform:ai":
            return "calls a language model (each call is billed)"
        case "python:source" | "transform:python" | "python:sink":
            function = _literal(config.get("function")) or "a Python function"
            return f"calls {function}, whose effects the run cannot see"
        case "file:sink":
            return "appends to a file" if _flag(config.get("append")) else None
        case "http:source" | "http:sink":
            return _http_effect(config, sink=node.runtime == "http:sink")
        case "database:sink":
            operation = _literal(config.get("operation")) or "insert"
            if operation.strip().lower() in ("upsert", "update"):
                return None
            return "writes rows to a database"
        case "database:source":
            words = (_literal(config.get("query")) or "").split(None, 1)
            if words and words[0].lower() in _READING_SQL:
                return None
            return "runs SQL that may change the database"
    return None


def _http_effect(config: Mapping[str, Any], *, sink: bool) -> str | None:
    written = config.get("method")
    method = (_literal(written) or "").strip().upper() if written else ""
    if written is None:
        method = "POST" if sink else "GET"
    if method in _IDEMPOTENT_METHODS:
        return None
    headers = config.get("headers")
    if isinstance(headers, Mapping) and any(
        str(name).lower() == "idempotency-key" for name in headers
    ):
        return None
    return f"sends an HTTP {method or 'request'}"


def _literal(value: Any) -> str | None:
    """A setting's text when it is fixed (no template), else None."""
    if isinstance(value, str) and "{{" not in value:
        return value
    return None


def _flag(value: Any) -> bool:
    """Whether a boolean setting may be on (a template may be)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = _literal(value)
    return text is None or text.strip().lower() in ("true", "1", "yes", "on")
