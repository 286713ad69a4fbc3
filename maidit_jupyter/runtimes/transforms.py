"""The data transforms: template, map, filter and reduce.

map, filter and reduce evaluate a bare expression per item, each compiled once, with a
fresh scope layer per item (``$item $index $first $last $items``; ``$acc`` for reduce).
A map expression that evaluates to an arrow (``item => ({...item})``) is called with
each item. The template transform always renders text, as in the original.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import anyio

from maidit_jupyter.expressions.closures import Function
from maidit_jupyter.expressions.values import UNDEFINED, Value, truthy
from maidit_jupyter.runtimes.base import NodeContext

__all__ = ["FilterTransform", "MapTransform", "ReduceTransform", "TemplateTransform"]

#: how many items are processed between checks for cancellation.
_YIELD_EVERY = 1000


def _items(value: Value) -> Sequence[Value]:
    """What a transform iterates: an array as is; nothing for undefined; else ``[value]``."""
    if value is UNDEFINED:
        return ()
    return value if isinstance(value, list | tuple) else [value]


class TemplateTransform:
    """``<transform type="template">``: render the template to text."""

    async def run(self, ctx: NodeContext) -> Value:
        """Render ``template``."""
        return ctx.text("template")


async def _each(ctx: NodeContext, key: str) -> AsyncIterator[tuple[Value, Value]]:
    """Yield ``(item, value of the key's expression for it)`` for every input item.

    Each item gets ``$item $index $first $last $items``; an expression that evaluates
    to an arrow is called with ``(item, index)``.
    """
    items = _items(ctx.input)
    last = len(items) - 1
    for index, item in enumerate(items):
        scope = ctx.scope.child(
            **{
                "$item": item,
                "$index": index,
                "$first": index == 0,
                "$last": index == last,
                "$items": items,
            }
        )
        value = ctx.evaluate(key, scope)
        if isinstance(value, Function):
            value = ctx.evaluator.call(value, [item, index])
        yield item, value
        if index % _YIELD_EVERY == _YIELD_EVERY - 1:
            await anyio.lowlevel.checkpoint()


class MapTransform:
    """``<transform type="map">``: evaluate ``expression`` for every item."""

    async def run(self, ctx: NodeContext) -> Value:
        """Map the input's items."""
        return [value async for _, value in _each(ctx, "expression")]


class FilterTransform:
    """``<transform type="filter">``: keep the items whose ``condition`` is truthy."""

    async def run(self, ctx: NodeContext) -> Value:
        """Filter the input's items."""
        return [
            item async for item, verdict in _each(ctx, "condition") if truthy(verdict)
        ]


class ReduceTransform:
    """``<transform type="reduce">``: fold the items with ``expression`` over ``$acc``."""

    async def run(self, ctx: NodeContext) -> Value:
        """Reduce the input's items (``initial``, then ``finalize`` when given)."""
        acc: Value = UNDEFINED
        if str(ctx.config.get("initial", "")).strip():
            acc = ctx.evaluate("initial", ctx.scope)
        for index, item in enumerate(_items(ctx.input)):
            acc = ctx.evaluate(
                "expression",
                ctx.scope.child(**{"$acc": acc, "$item": item, "$index": index}),
            )
            if index % _YIELD_EVERY == _YIELD_EVERY - 1:
                await anyio.lowlevel.checkpoint()
        if str(ctx.config.get("finalize", "")).strip():
            acc = ctx.evaluate("finalize", ctx.scope.child(**{"$acc": acc}))
        return acc
