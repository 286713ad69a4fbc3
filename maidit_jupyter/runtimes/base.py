"""What a runtime is, and the context it runs a node in.

A runtime does the work of one kind of node (``file:source``, ``transform:map``...):
``await runtime.run(ctx)`` returns the node's output or raises. Everything it may need
travels in one :class:`NodeContext`: the node, its input, a scope for expressions, the
run's evaluator, the flow's directory, the run's variables, secrets and frontmatter, and
:class:`RunResources`: what connectors open once per run (an HTTP client, a database
pool, an OAuth token) and the run closes at its end. Settings holding templates are
resolved through :meth:`NodeContext.setting`, once each, so data that contains
``{{ }}`` is never evaluated.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import anyio

from maidit_jupyter.errors import ExpressionError
from maidit_jupyter.expressions.compiled import ExpressionCompiler
from maidit_jupyter.expressions.evaluator import Evaluator
from maidit_jupyter.expressions.scope import Scope
from maidit_jupyter.expressions.values import UNDEFINED, Value
from maidit_jupyter.redaction import SecretMask
from maidit_jupyter.syntax.nodes import ConfiguredNode, Node
from maidit_jupyter.syntax.workflow import Frontmatter

__all__ = ["NodeContext", "NodeRuntime", "RunResources", "SettingError"]

T = TypeVar("T")
_log = logging.getLogger("maidit_jupyter")


class RunResources:
    """What a run opens once and closes when it ends, by key.

    ``await resources.get("http", open_client, close_client)`` opens the client the first
    time (concurrent callers wait for that one opening) and returns the same one after;
    :meth:`aclose` closes everything in reverse order of opening. A failure to close is
    logged, never raised: the run's own result matters more.
    """

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}
        self._closers: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        self._locks: dict[str, anyio.Lock] = {}

    async def get(
        self,
        key: str,
        open_: Callable[[], Awaitable[T]],
        close: Callable[[T], Awaitable[None]] | None = None,
    ) -> T:
        """The resource under ``key``, opened with ``open_`` the first time."""
        if key in self._items:
            return cast(T, self._items[key])
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            if key not in self._items:
                value = await open_()
                self._items[key] = value
                if close is not None:
                    self._closers.append((key, lambda: close(value)))
        return cast(T, self._items[key])

    def peek(self, key: str) -> Any:
        """The resource under ``key`` if it is open, else None."""
        return self._items.get(key)

    async def aclose(self) -> None:
        """Close every resource, the last opened first."""
        while self._closers:
            key, close = self._closers.pop()
            try:
                await close()
            except Exception as exc:  # noqa: BLE001 - closing must not mask the run
                _log.warning("closing %s failed: %s", key, exc)
        self._items.clear()


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
    :ivar secrets: the run's secret values by name (for ``api-key="NAME"`` settings).
    :ivar env: the environment the run sees.
    :ivar frontmatter: the flow's frontmatter (``ai``, ``http`` sections, ...).
    :ivar resources: what connectors open once per run.
    :ivar run_id: the run's id (idempotency keys).
    """

    node: Node
    input: Value
    scope: Scope
    evaluator: Evaluator
    compiler: ExpressionCompiler
    base_dir: Path
    variables: dict[str, Value] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    frontmatter: Frontmatter | None = None
    resources: RunResources = field(default_factory=RunResources)
    run_id: str = ""
    #: what the runtime reports besides its output (kept as ``NodeResult.meta``).
    meta: dict[str, Any] = field(default_factory=dict)
    #: the notebook's variables (python nodes' ``var=`` and bare function names).
    namespace: MutableMapping[str, Any] | None = None
    #: the run's secret values and their encodings (None: no secrets).
    mask: SecretMask | None = None

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
