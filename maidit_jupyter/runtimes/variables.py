"""``<set>`` and ``<context>``: name values for the rest of the run.

Values are templates: a lone ``{{ expr }}`` keeps its type. Variables are readable as
``$vars.name`` and, when no node has that id, by bare name.
"""

from __future__ import annotations

from maidit_jupyter.expressions.values import Value
from maidit_jupyter.runtimes.base import NodeContext
from maidit_jupyter.syntax.nodes import ContextNode, SetNode

__all__ = ["ContextRuntime", "SetRuntime"]


class SetRuntime:
    """``<set var value>``: set one variable; the output is its value."""

    async def run(self, ctx: NodeContext) -> Value:
        """Resolve ``value`` and store it under the node's ``var``."""
        node = ctx.node
        assert isinstance(node, SetNode)
        value = ctx.resolve(node.value, "value")
        ctx.variables[node.id] = value
        return value


class ContextRuntime:
    """``<context>``: set several variables; the output maps each key to its value."""

    async def run(self, ctx: NodeContext) -> Value:
        """Resolve every ``<set key value>`` entry in order (later ones see earlier)."""
        node = ctx.node
        assert isinstance(node, ContextNode)
        values: dict[str, Value] = {}
        for entry in node.entries:
            value = ctx.resolve(entry.value, f"context.{entry.key}")
            ctx.variables[entry.key] = value
            values[entry.key] = value
        return values
