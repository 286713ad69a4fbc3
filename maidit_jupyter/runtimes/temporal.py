"""``<delay>``: wait, then pass the input through (the wait is cancellable)."""

from __future__ import annotations

import anyio

from maidit_jupyter.expressions.values import Value
from maidit_jupyter.runtimes.base import NodeContext
from maidit_jupyter.syntax.nodes import DelayNode

__all__ = ["DelayRuntime"]


class DelayRuntime:
    """``<delay duration>``."""

    async def run(self, ctx: NodeContext) -> Value:
        """Sleep ``duration``; a timeout or a cancel interrupts the sleep."""
        node = ctx.node
        assert isinstance(node, DelayNode)
        await anyio.sleep(node.duration_ms / 1000.0)
        return ctx.input
