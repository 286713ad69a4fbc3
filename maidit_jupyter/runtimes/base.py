"""What a runtime is, and the context it runs a node in.

A runtime does the work of one kind of node (``file:source``, ``transform:map``...):
``await runtime.run(ctx)`` returns the node's output or raises. Everything it may need
travels in one :class:`NodeContext`: the node, its input, a scope for expressions, the
run's evaluator, the flow's directory and the run's variables. Settings holding
templates are resolved through :meth:`NodeContext.setting`, once each, so data that
contains ``{{ }}`` is never evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from maidit_jupyter.errors import ExpressionError
from maidit_jupyter.expressions.compiled import ExpressionCompiler
from maidit_jupyter.expressions.evaluator import Evaluator
from maidit_jupyter.expressions.scope import Scope
from maidit_jupyter.expressions.values import UNDEFINED, Value
from maidit_jupyter.syntax.nodes import ConfiguredNode, Node

__all__ = ["NodeContext", "NodeRuntime", "SettingError"]


class SettingError(ExpressionError):
    """An expression in a node setting failed; ``field`` names the setting."""

    def __init__(self, error: ExpressionError, field: str) -> None:
        super().__init__(
            error.message, expression=error.expression, start=error.start, end=error.end
        )
        self.code = error.code
        self.field = field
        self.__cause__ = error


@dataclass(kw_only=True)
class NodeContext:
    """A node being run: its input, its scope, and the run's shared services.

    :ivar variables: the run's ``<set>``/``<context>`` variables (runtimes may add).
    """

    node: Node
    input: Value
    scope: Scope
    evaluator: Evaluator
    compiler: ExpressionCompiler
    base_dir: Path
    variables: dict[str, Value] = field(default_factory=dict)

    @property
    def config(self) -> Mapping[str, Any]:
        """The node's raw configuration (empty for nodes without one)."""
        return self.node.config if isinstance(self.node, ConfiguredNode) else {}

    def setting(self, key: str, default: Value = UNDEFINED) -> Value:
        """A setting with its templates resolved (a lone ``{{ }}`` keeps its type)."""
        if key not in self.config:
            return default
        return self.resolve(self.config[key], key)

    def resolve(self, value: Any, field_name: str, scope: Scope | None = None) -> Value:
        """Resolve the templates in a configuration value (nested mappings included)."""
        if isinstance(value, str):
            if "{{" not in value:
                return str(value)
            try:
                return self.compiler.template(value).value(
                    scope or self.scope, self.evaluator
                )
            except ExpressionError as exc:
                raise SettingError(exc, field_name) from None
        if isinstance(value, Mapping):
            return {
                str(k): self.resolve(v, f"{field_name}.{k}", scope)
                for k, v in value.items()
            }
        if isinstance(value, tuple | list):
            return [
                self.resolve(v, f"{field_name}[{i}]", scope)
                for i, v in enumerate(value)
            ]
        return value

    def text(self, key: str, scope: Scope | None = None) -> str:
        """A text setting rendered as text (the template transform's rule)."""
        raw = self.config.get(key, "")
        try:
            return self.compiler.template(str(raw)).render(
                scope or self.scope, self.evaluator
            )
        except ExpressionError as exc:
            raise SettingError(exc, key) from None

    def evaluate(self, key: str, scope: Scope) -> Value:
        """Evaluate a bare-expression setting (``condition``, ``expression``) in ``scope``."""
        raw = str(self.config.get(key, ""))
        try:
            return self.compiler.expression(raw).evaluate(scope, self.evaluator)
        except ExpressionError as exc:
            raise SettingError(exc, key) from None


class NodeRuntime(Protocol):
    """Does the work of one kind of node."""

    async def run(self, ctx: NodeContext) -> Value:
        """Run ``ctx.node`` and return its output."""
        ...
