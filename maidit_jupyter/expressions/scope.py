"""Where expression variables come from: layered scopes that never copy node outputs.

The executor builds one :class:`RootScope` per run (config, secrets, environment, the
workflow input, variables set by ``<set>``/``<context>``, and a *reference* to the map of
node outputs) and, per node and per item, a cheap :class:`Scope` layer on top of it
(``input``, ``$item``, ``$index``, ``$acc`` ...). Looking a name up walks the layers;
nothing is copied, so a node's cost does not grow with the number of nodes before it.

Name resolution, innermost first: the layers' own variables; the root's fixed
variables (``$config $secrets $env $input input $vars $context $nodes $checkpoint``); node ids, which
read as ``{"output": value}`` so that ``fetch-data.output`` works; then variables set by
``<set>``/``<context>`` by bare name; otherwise ``undefined``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from maidit_jupyter.expressions.values import UNDEFINED, Value

__all__ = ["NodeOutputs", "RootScope", "Scope"]


class NodeOutputs(Mapping[str, Value]):
    """A read-only view ``{id: {"output": value}}`` over the executor's outputs map.

    The wrapper dict is built on access, so nothing is copied up front.
    """

    __slots__ = ("_outputs",)

    def __init__(self, outputs: Mapping[str, Value]) -> None:
        self._outputs = outputs

    def __getitem__(self, node_id: str) -> Value:
        return {"output": self._outputs[node_id]}

    def __iter__(self) -> Iterator[str]:
        return iter(self._outputs)

    def __len__(self) -> int:
        return len(self._outputs)


class _ContextView(Mapping[str, Value]):
    """``$context``: node outputs (as wrappers) and variables, in one read-only view."""

    __slots__ = ("_nodes", "_variables")

    def __init__(self, nodes: NodeOutputs, variables: Mapping[str, Value]) -> None:
        self._nodes = nodes
        self._variables = variables

    def __getitem__(self, key: str) -> Value:
        if key in self._nodes:
            return self._nodes[key]
        return self._variables[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._nodes
        yield from (key for key in self._variables if key not in self._nodes)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Scope:
    """One layer of variables over a parent scope."""

    __slots__ = ("_parent", "_variables")

    def __init__(
        self, variables: Mapping[str, Value], parent: Scope | None = None
    ) -> None:
        self._variables = variables
        self._parent = parent

    def child(self, **variables: Value) -> Scope:
        """A new layer on top of this one (``$item=...``, ``input=...``)."""
        return Scope(variables, self)

    def with_variables(self, variables: Mapping[str, Value]) -> Scope:
        """A new layer holding ``variables`` (names that are not identifiers allowed)."""
        return Scope(variables, self)

    def lookup(self, name: str) -> Value:
        """The value of ``name``, or UNDEFINED."""
        scope: Scope | None = self
        while scope is not None:
            variables = scope._variables
            if name in variables:
                return variables[name]
            if isinstance(scope, RootScope):
                return scope.resolve(name)
            scope = scope._parent
        return UNDEFINED

    def names(self) -> list[str]:
        """Every variable name visible here (for error messages; values are not shown)."""
        seen: dict[str, None] = {}
        scope: Scope | None = self
        while scope is not None:
            seen.update(dict.fromkeys(scope._variables))
            if isinstance(scope, RootScope):
                seen.update(dict.fromkeys(scope.outer_names()))
            scope = scope._parent
        return list(seen)


class RootScope(Scope):
    """The variables of a whole run.

    Args:
        outputs: the executor's map of node id → output (read, never copied).
        config: the run's configuration (``$config``).
        secrets: secret values (``$secrets``).
        env: the environment visible to expressions (``$env``).
        workflow_input: the run's input (``$input``; also ``input`` where a node has no
            ``input=`` of its own).
        variables: variables set by ``<set>`` and ``<context>`` (``$vars``), readable by
            bare name too; the executor may keep adding to this mapping.
        checkpoint: the latest checkpoint answer (``$checkpoint``), updated in place.
    """

    __slots__ = ("_nodes", "_set_variables")

    def __init__(
        self,
        *,
        outputs: Mapping[str, Value] | None = None,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        workflow_input: Value = UNDEFINED,
        variables: Mapping[str, Value] | None = None,
        checkpoint: Mapping[str, Value] | None = None,
    ) -> None:
        self._nodes = NodeOutputs(outputs if outputs is not None else {})
        self._set_variables: Mapping[str, Value] = (
            variables if variables is not None else {}
        )
        fixed: dict[str, Value] = {
            "$config": config if config is not None else {},
            "$secrets": secrets if secrets is not None else {},
            "$env": env if env is not None else {},
            "$input": workflow_input,
            "input": workflow_input,
            "$vars": self._set_variables,
            "$nodes": self._nodes,
            "$context": _ContextView(self._nodes, self._set_variables),
            "$checkpoint": checkpoint if checkpoint is not None else {},
        }
        super().__init__(fixed, None)

    def resolve(self, name: str) -> Value:
        """A name that is not a fixed variable: a node id, then a set variable."""
        if name in self._nodes:
            return self._nodes[name]
        return self._set_variables.get(name, UNDEFINED)

    def outer_names(self) -> list[str]:
        """Node ids and set variables (for error messages)."""
        return [*self._nodes, *self._set_variables]
