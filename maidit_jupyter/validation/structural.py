"""Pass 1: each node on its own: required settings, settings that only make sense together."""

from __future__ import annotations

from collections.abc import Iterator

from maidit_jupyter.errors import ErrorCode, Severity
from maidit_jupyter.parsing.settings import RUNTIMES
from maidit_jupyter.syntax import nodes as n
from maidit_jupyter.syntax.workflow import Workflow
from maidit_jupyter.validation.report import Finding

__all__ = ["check_structure"]

_REQUIRED_HINTS = {
    (
        "database:source",
        "connection",
    ): 'Add connection="sqlite:///path/to/db" or connection="postgres://..."',
    ("database:source", "query"): 'Add query="SELECT * FROM table WHERE col = $1"',
    (
        "database:sink",
        "connection",
    ): 'Add connection="sqlite:///path/to/db" or connection="postgres://..."',
    ("database:sink", "table"): 'Add table="table_name"',
}
_KIND_NAMES = {"source": "source", "transform": "transform", "sink": "sink"}


def check_structure(workflow: Workflow) -> Iterator[Finding]:
    """Check every node (nested ones included) on its own."""
    for node in workflow.walk():
        if isinstance(node, n.ConfiguredNode):
            yield from _configured(node)


def _configured(node: n.ConfiguredNode) -> Iterator[Finding]:
    runtime = node.runtime
    settings = RUNTIMES.get(runtime, {})
    for key, setting in settings.items():
        value = node.config.get(key)
        if setting.required and (
            value is None or (isinstance(value, str) and not value.strip())
        ):
            yield Finding(
                ErrorCode.VALID_MISSING_REQUIRED_FIELD,
                _required_message(node, key),
                node.span,
                (
                    _REQUIRED_HINTS.get(
                        (runtime, key), f'Add {key}="..." or a <{key}> child'
                    ),
                ),
            )
    if runtime == "transform:ai" and node.input is None:
        yield Finding(
            ErrorCode.VALID_MISSING_REQUIRED_FIELD,
            f'AI transform "{node.id}" has no input reference',
            node.span,
            ('Add input="source-node-id" to specify data source',),
            Severity.WARNING,
        )
    if node.tag == "sink" and node.input is None:
        yield Finding(
            ErrorCode.VALID_MISSING_REQUIRED_FIELD,
            f'Sink node "{node.id}" has no input reference',
            node.span,
            ('Add input="node-id" to choose what the sink writes',),
            Severity.WARNING,
        )
    if node.type == "python":
        yield from _python(node)
    if runtime == "email:sink":
        yield from _email(node)


def _required_message(node: n.ConfiguredNode, key: str) -> str:
    if node.type == "database":
        kind = "Database source" if node.tag == "source" else "Database sink"
        return f'{kind} "{node.id}" requires a "{key}" attribute'
    return f'{node.label} node "{node.id}" requires a "{key}" setting'


def _python(node: n.ConfiguredNode) -> Iterator[Finding]:
    has_function = bool(node.config.get("function"))
    has_var = bool(node.config.get("var"))
    if node.tag == "transform" and not has_function:
        yield Finding(
            ErrorCode.VALID_MISSING_REQUIRED_FIELD,
            f'Python transform "{node.id}" requires a "function" attribute',
            node.span,
            ('Add function="module:func" (or a notebook function name)',),
        )
    elif node.tag != "transform" and not (has_function or has_var):
        yield Finding(
            ErrorCode.VALID_MISSING_REQUIRED_FIELD,
            f'Python {node.tag} "{node.id}" requires a "var" or "function" attribute',
            node.span,
            ('Add var="name" or function="module:func"',),
        )
    function = node.config.get("function")
    if isinstance(function, str) and function and not _function_name_ok(function):
        yield Finding(
            ErrorCode.VALID_INVALID_FIELD_TYPE,
            f'Python node "{node.id}": function {function!r} is not "module.path:name" or a name',
            node.span,
            ('Write function="package.module:function"',),
        )


def _function_name_ok(text: str) -> bool:
    module, _, name = text.rpartition(":")
    parts = [*module.split("."), name] if module else [name]
    return all(part.isidentifier() for part in parts)


def _email(node: n.ConfiguredNode) -> Iterator[Finding]:
    provider = node.config.get("provider", "smtp")
    needed = ("api-key",) if provider == "sendgrid" else ("host",)
    for key in needed:
        if not node.config.get(key):
            yield Finding(
                ErrorCode.VALID_MISSING_REQUIRED_FIELD,
                f'Email sink "{node.id}" ({provider}) requires a "{key}" setting',
                node.span,
                (f'Add {key}="..." to the <sink> element',),
            )
