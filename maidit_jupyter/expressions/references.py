"""Find what an expression reads: nodes of the flow, functions and free variables.

The validator uses this to check references and build dependencies; the planner uses
the node reads as data edges.
"""

from __future__ import annotations

from maidit_jupyter._records import record
from maidit_jupyter.expressions.nodes import (
    Arrow,
    Call,
    Identifier,
    Literal,
    Member,
    Node,
    children,
)

__all__ = ["CallRef", "NodeRef", "References", "collect_references"]

#: Variables through which a node's output can be read by id: ``$context["id"]``.
NODE_CONTAINERS = frozenset({"$context", "$nodes"})


@record
class NodeRef:
    """One read of a node of the flow.

    Attributes:
        id: the node id.
        start: offset of the read in the expression: the identifier, or the whole
            ``$context["id"]`` / ``$nodes.id`` member expression.
        end: end offset of the read.
    """

    id: str
    start: int
    end: int


@record
class CallRef:
    """One function call.

    Attributes:
        name: the function name.
        start: offset of the name in the expression.
        end: end offset of the name.
    """

    name: str
    start: int
    end: int


@record
class References:
    """Everything an expression reads.

    Attributes:
        nodes: every read of a node, in source order (a node read twice appears twice).
        calls: every call, in source order.
        variables: the names of free identifiers (neither node ids nor arrow
            parameters in scope), each once, in order of first appearance.
    """

    nodes: tuple[NodeRef, ...]
    calls: tuple[CallRef, ...]
    variables: tuple[str, ...]


def collect_references(expr: Node, node_ids: frozenset[str]) -> References:
    """Collect the node reads, calls and free variables of an expression.

    A node read is an identifier that is a node id (and not shadowed by an enclosing
    arrow parameter), or ``$context.X``, ``$context["X"]``, ``$nodes.X`` or
    ``$nodes["X"]`` where ``X`` is a node id (computed keys count only when they are
    string literals).

    Args:
        expr: the parsed expression.
        node_ids: the ids of the flow's nodes.

    Returns:
        The references; offsets are relative to the expression's text.
    """
    nodes: list[NodeRef] = []
    calls: list[CallRef] = []
    variables: dict[str, None] = {}
    no_params: frozenset[str] = frozenset()
    stack: list[tuple[Node, frozenset[str]]] = [(expr, no_params)]
    pop, push = stack.pop, stack.append
    # Children are pushed in reverse so that they pop in source order. The common
    # node types are tested by exact type first: this runs for every expression of
    # a flow.
    while stack:
        node, params = pop()
        kind = type(node)
        if kind is Identifier:
            name = node.name  # type: ignore[union-attr]
            if name in params:
                continue
            if name in node_ids:
                nodes.append(NodeRef(id=name, start=node.start, end=node.end))
            else:
                variables.setdefault(name)
        elif kind is Literal:
            continue
        elif kind is Member:
            assert isinstance(node, Member)
            read = _container_read(node, node_ids, params)
            if read is not None:
                nodes.append(NodeRef(id=read, start=node.start, end=node.end))
            if node.computed is not None:
                push((node.computed, params))
            push((node.object, params))
        elif kind is Call:
            assert isinstance(node, Call)
            calls.append(
                CallRef(name=node.callee, start=node.callee_start, end=node.callee_end)
            )
            for arg in reversed(node.args):
                push((arg, params))
        else:
            if isinstance(node, Arrow):
                params = params.union(node.params)
            for child in reversed(children(node)):
                push((child, params))
    return References(
        nodes=tuple(nodes), calls=tuple(calls), variables=tuple(variables)
    )


def _container_read(
    node: Member, node_ids: frozenset[str], params: frozenset[str]
) -> str | None:
    """Return the node id read by ``$context.X`` / ``$nodes["X"]``, if ``node`` is one."""
    container = node.object
    if not isinstance(container, Identifier):
        return None
    if container.name not in NODE_CONTAINERS or container.name in params:
        return None
    key = node.property
    if isinstance(node.computed, Literal) and isinstance(node.computed.value, str):
        key = node.computed.value
    return key if key in node_ids else None
