"""Which runtime runs which node: the built-in table, by runtime key.

Keys are the original engine's (``file:source``, ``transform:map``) for sources,
transforms and sinks, and the element name (``delay``, ``set``) for the others. A
registry is an instance passed to the executor, never a module global, so tests and
notebooks can add or replace runtimes without touching shared state.
"""

from __future__ import annotations

from collections.abc import Mapping

from maidit_jupyter.runtimes.ai import AITransform
from maidit_jupyter.runtimes.base import NodeRuntime
from maidit_jupyter.runtimes.database import DatabaseSink, DatabaseSource
from maidit_jupyter.runtimes.file import FileSink, FileSource
from maidit_jupyter.runtimes.http import HttpSink, HttpSource
from maidit_jupyter.runtimes.mail import EmailSink
from maidit_jupyter.runtimes.python import PythonRuntime
from maidit_jupyter.runtimes.temporal import DelayRuntime
from maidit_jupyter.runtimes.transforms import (
    FilterTransform,
    MapTransform,
    ReduceTransform,
    TemplateTransform,
)
from maidit_jupyter.runtimes.variables import ContextRuntime, SetRuntime
from maidit_jupyter.syntax.nodes import ConfiguredNode, Node

__all__ = ["RuntimeRegistry", "runtime_key"]


def runtime_key(node: Node) -> str:
    """The key a node's runtime is registered under."""
    return node.runtime if isinstance(node, ConfiguredNode) else node.tag


class RuntimeRegistry:
    """Runtimes by key; :meth:`default` holds the built-in ones."""

    def __init__(self, runtimes: Mapping[str, NodeRuntime] | None = None) -> None:
        self._runtimes: dict[str, NodeRuntime] = dict(runtimes or {})

    @classmethod
    def default(cls) -> RuntimeRegistry:
        """A registry of every built-in runtime."""
        return cls(
            {
                "transform:template": TemplateTransform(),
                "transform:map": MapTransform(),
                "transform:filter": FilterTransform(),
                "transform:reduce": ReduceTransform(),
                "transform:ai": AITransform(),
                "file:source": FileSource(),
                "file:sink": FileSink(),
                "database:source": DatabaseSource(),
                "database:sink": DatabaseSink(),
                "http:source": HttpSource(),
                "http:sink": HttpSink(),
                "email:sink": EmailSink(),
                "delay": DelayRuntime(),
                "set": SetRuntime(),
                "context": ContextRuntime(),
                "python:source": PythonRuntime(passes_input=False),
                "transform:python": PythonRuntime(passes_input=True),
                "python:sink": PythonRuntime(passes_input=True),
            }
        )

    def register(self, key: str, runtime: NodeRuntime) -> None:
        """Add or replace the runtime for ``key``."""
        self._runtimes[key] = runtime

    def get(self, node: Node) -> NodeRuntime | None:
        """The runtime of ``node``, or None when none is registered."""
        return self._runtimes.get(runtime_key(node))
