"""The node AST: one frozen dataclass per node kind of the flow language.

Every node keeps its source span and its identifier. Strings that hold expressions or
templates are :class:`~maidit_jupyter.source.LocatedStr`, so a diagnostic can point at a
column inside them. Configuration of source/transform/sink nodes is plain JSON-like data
(strings located) after the runtime's schema converted booleans, numbers and structured
children.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from maidit_jupyter._records import record
from maidit_jupyter.source import LocatedStr, SourceSpan

__all__ = [
    "Action",
    "BodyNode",
    "BranchNode",
    "CallNode",
    "Case",
    "CheckpointNode",
    "ConfigValue",
    "ConfiguredNode",
    "ContextEntry",
    "ContextNode",
    "DelayNode",
    "ExprMode",
    "ExprSite",
    "ForeachNode",
    "IfNode",
    "IncludeNode",
    "InputRef",
    "InputSpec",
    "LoopNode",
    "Node",
    "OnError",
    "ParallelNode",
    "PhaseNode",
    "RetrySpec",
    "SetNode",
    "SinkNode",
    "SourceNode",
    "TimeoutNode",
    "TransformNode",
    "WhileNode",
    "walk",
]

ConfigValue = (
    LocatedStr
    | str
    | bool
    | int
    | float
    | None
    | Mapping[str, "ConfigValue"]
    | tuple["ConfigValue", ...]
)


class ExprMode(enum.StrEnum):
    """How a string is read: a ``{{ }}`` template, or a bare expression."""

    TEMPLATE = "template"
    BARE = "bare"


@dataclass(frozen=True, slots=True)
class ExprSite:
    """A place in a node that holds an expression or a template.

    :ivar field: a readable label such as ``"condition"`` or ``"config.headers.Accept"``.
    :ivar text: the located text.
    :ivar mode: template or bare expression.
    """

    field: str
    text: LocatedStr
    mode: ExprMode


@record
class InputRef:
    """One upstream reference of ``input=``: ``node`` plus an optional path into its output.

    ``input="a.output.items"`` gives ``InputRef(node="a", path=("items",))``.
    """

    node: str
    path: tuple[str, ...] = ()
    span: SourceSpan


@record
class InputSpec:
    """The ``input=`` attribute: one reference, or several (``input="a, b"``).

    With several references the node's input is a mapping ``{a: ..., b: ...}``.
    """

    refs: tuple[InputRef, ...]
    text: LocatedStr

    @property
    def is_multi(self) -> bool:
        """Whether the input is a mapping of several upstream outputs."""
        return len(self.refs) > 1


@record
class RetrySpec:
    """``<on-error><retry .../>``: how often and how patiently to retry a node.

    Durations are milliseconds.
    """

    max: int = 3
    backoff: str = "exponential"
    base_ms: float = 1000.0
    cap_ms: float = 32000.0
    jitter: bool = True
    when: LocatedStr | None = None
    span: SourceSpan


@record
class OnError:
    """``<on-error>``: retry policy and fallback node of one node."""

    retry: RetrySpec | None = None
    fallback: str | None = None
    fallback_span: SourceSpan | None = None
    span: SourceSpan


@record
class Node:
    """Fields every node has."""

    id: str
    tag: str
    span: SourceSpan
    input: InputSpec | None = None
    on_error: OnError | None = None
    timeout_ms: float | None = None

    @property
    def label(self) -> str:
        """The label the plan and inspect views print (``source:file``, ``if``, ...)."""
        return self.tag

    def children(self) -> tuple[Node, ...]:
        """Every node directly nested in this one, in document order."""
        return ()

    def expressions(self) -> Iterator[ExprSite]:
        """Every expression or template this node holds (not its children's)."""
        if self.on_error and self.on_error.retry and self.on_error.retry.when:
            yield ExprSite(
                "on-error.retry.when", self.on_error.retry.when, ExprMode.BARE
            )


@record
class ConfiguredNode(Node):
    """A ``source``, ``transform`` or ``sink`` node: a runtime plus its configuration."""

    type: str
    config: Mapping[str, ConfigValue] = field(default_factory=dict)
    #: which config keys hold bare expressions (map ``expression``, filter ``condition``).
    bare_keys: frozenset[str] = frozenset()

    @property
    def runtime(self) -> str:
        """The runtime key, as the original names it (``file:source``, ``transform:map``)."""
        if self.tag == "transform":
            return f"transform:{self.type}"
        return f"{self.type}:{self.tag}"

    @property
    def label(self) -> str:
        return f"{self.tag}:{self.type}"

    def expressions(self) -> Iterator[ExprSite]:
        yield from Node.expressions(self)
        for key, value in self.config.items():
            mode = ExprMode.BARE if key in self.bare_keys else ExprMode.TEMPLATE
            yield from _config_sites(f"config.{key}", value, mode)


def _config_sites(label: str, value: ConfigValue, mode: ExprMode) -> Iterator[ExprSite]:
    if isinstance(value, LocatedStr):
        yield ExprSite(label, value, mode)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _config_sites(f"{label}.{key}", item, ExprMode.TEMPLATE)
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _config_sites(f"{label}[{i}]", item, ExprMode.TEMPLATE)


@record
class SourceNode(ConfiguredNode):
    """``<source type="http|file|database|python">``."""


@record
class TransformNode(ConfiguredNode):
    """``<transform type="ai|template|map|filter|reduce|python">`` (and ``<ai>``)."""


@record
class SinkNode(ConfiguredNode):
    """``<sink type="http|file|database|email|python">``."""


@record
class IfNode(Node):
    """``<if condition>`` with ``<then>`` and optional ``<else>`` bodies."""

    condition: LocatedStr
    then: tuple[Node, ...] = ()
    else_: tuple[Node, ...] = ()

    def children(self) -> tuple[Node, ...]:
        return self.then + self.else_

    def expressions(self) -> Iterator[ExprSite]:
        yield from Node.expressions(self)
        yield ExprSite("condition", self.condition, ExprMode.BARE)


@record
class Case:
    """One ``<case when>`` of a branch."""

    when: LocatedStr
    body: tuple[Node, ...]
    span: SourceSpan


@record
class BranchNode(Node):
    """``<branch>`` with ``<case when>`` bodies and an optional ``<default>``."""

    cases: tuple[Case, ...] = ()
    default: tuple[Node, ...] | None = None

    def children(self) -> tuple[Node, ...]:
        nodes = tuple(node for case in self.cases for node in case.body)
        return nodes + (self.default or ())

    def expressions(self) -> Iterator[ExprSite]:
        yield from Node.expressions(self)
        for case in self.cases:
            yield ExprSite("case.when", case.when, ExprMode.BARE)


@record
class BodyNode(Node):
    """A node whose element children are its body, run in order."""

    body: tuple[Node, ...] = ()

    def children(self) -> tuple[Node, ...]:
        return self.body


@record
class LoopNode(BodyNode):
    """``<loop max break>``: run the body up to ``max`` times (default 1000)."""

    max: int | None = None
    break_: LocatedStr | None = None

    def expressions(self) -> Iterator[ExprSite]:
        yield from Node.expressions(self)
        if self.break_ is not None:
            yield ExprSite("break", self.break_, ExprMode.BARE)


@record
class WhileNode(BodyNode):
    """``<while condition max>``: run the body while the condition holds."""

    condition: LocatedStr
    max: int | None = None

    def expressions(self) -> Iterator[ExprSite]:
        yield from Node.expressions(self)
        yield ExprSite("condition", self.condition, ExprMode.BARE)


@record
class ForeachNode(BodyNode):
    """``<foreach collection item index concurrency>``: run the body per item."""

    collection: LocatedStr
    item: str = "item"
    index: str = "index"
    concurrency: int = 1

    def expressions(self) -> Iterator[ExprSite]:
        yield from Node.expressions(self)
        yield ExprSite("collection", self.collection, ExprMode.BARE)


@record
class ParallelNode(Node):
    """``<parallel wait merge>`` with ``<branch>`` children run concurrently.

    ``wait`` is ``"all"``, ``"any"`` or ``"n(N)"``; ``wait_count`` is N for ``n(N)``.
    ``merge`` is ``array``, ``concat``, ``object`` or an expression.
    """

    branches: tuple[tuple[Node, ...], ...] = ()
    wait: str = "all"
    wait_count: int | None = None
    merge: LocatedStr | None = None

    MERGE_STRATEGIES = frozenset({"array", "concat", "object"})

    def children(self) -> tuple[Node, ...]:
        return tuple(node for branch in self.branches for node in branch)

    def expressions(self) -> Iterator[ExprSite]:
        yield from Node.expressions(self)
        if self.merge is not None and str(self.merge) not in self.MERGE_STRATEGIES:
            yield ExprSite("merge", self.merge, ExprMode.BARE)


@record
class Action:
    """One ``<action id label goto>`` of a checkpoint."""

    id: str
    label: str
    goto: str | None
    span: SourceSpan


@record
class CheckpointNode(Node):
    """``<checkpoint>``: wait for a person (or a policy) to choose an action.

    ``wait_ms`` is the answer deadline (plain numbers in the document are seconds).
    """

    prompt: LocatedStr
    wait_ms: float | None = None
    default: str | None = None
    condition: LocatedStr | None = None
    actions: tuple[Action, ...] = ()
    allow_input: bool = False

    def expressions(self) -> Iterator[ExprSite]:
        yield from Node.expressions(self)
        yield ExprSite("prompt", self.prompt, ExprMode.TEMPLATE)
        if self.condition is not None:
            yield ExprSite("condition", self.condition, ExprMode.BARE)


@record
class PhaseNode(BodyNode):
    """``<phase name>``: a named group of nodes run in order."""


@record
class ContextEntry:
    """One ``<set key value>`` inside ``<context>``."""

    key: str
    value: LocatedStr
    span: SourceSpan


@record
class ContextNode(Node):
    """``<context>``: set several variables at once."""

    entries: tuple[ContextEntry, ...] = ()

    def expressions(self) -> Iterator[ExprSite]:
        yield from Node.expressions(self)
        for entry in self.entries:
            yield ExprSite(f"context.{entry.key}", entry.value, ExprMode.TEMPLATE)


@record
class SetNode(Node):
    """``<set var value>``: set one variable (the id is the variable name)."""

    value: LocatedStr

    def expressions(self) -> Iterator[ExprSite]:
        yield from Node.expressions(self)
        yield ExprSite("value", self.value, ExprMode.TEMPLATE)


@record
class DelayNode(Node):
    """``<delay duration>``: wait, then pass the input through."""

    duration_ms: float


@record
class TimeoutNode(BodyNode):
    """``<timeout duration on-timeout>``: a deadline around the body."""

    duration_ms: float
    on_timeout: str | None = None
    on_timeout_span: SourceSpan | None = None


@record
class IncludeNode(Node):
    """``<include workflow>`` with ``<bind key value>`` children."""

    workflow: LocatedStr
    bindings: Mapping[str, LocatedStr] = field(default_factory=dict)

    def expressions(self) -> Iterator[ExprSite]:
        yield from Node.expressions(self)
        yield ExprSite("workflow", self.workflow, ExprMode.TEMPLATE)
        for key, value in self.bindings.items():
            yield ExprSite(f"bind.{key}", value, ExprMode.TEMPLATE)

    @property
    def label(self) -> str:
        return f"include:{self.workflow}"


@record
class CallNode(Node):
    """``<call workflow>``: every other attribute is an argument (a template)."""

    workflow: LocatedStr
    args: Mapping[str, LocatedStr] = field(default_factory=dict)

    def expressions(self) -> Iterator[ExprSite]:
        yield from Node.expressions(self)
        yield ExprSite("workflow", self.workflow, ExprMode.TEMPLATE)
        for key, value in self.args.items():
            yield ExprSite(f"args.{key}", value, ExprMode.TEMPLATE)

    @property
    def label(self) -> str:
        return f"call:{self.workflow}"


def walk(nodes: tuple[Node, ...]) -> Iterator[Node]:
    """Yield every node of a tree in document order, parents before children."""
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children()))
