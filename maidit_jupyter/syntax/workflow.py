"""The whole parsed document: frontmatter, node tree and what the parser kept of the text."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from maidit_jupyter.source import LineIndex, SourceSpan
from maidit_jupyter.syntax.nodes import Node, walk

__all__ = ["ConfigField", "Frontmatter", "Workflow"]

#: the types a ``config:`` field may declare.
CONFIG_TYPES = frozenset({"string", "number", "boolean", "object", "array"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigField:
    """One declared ``config:`` field."""

    name: str
    type: str = "string"
    default: Any = None
    has_default: bool = False
    required: bool = False
    description: str | None = None
    enum: tuple[Any, ...] | None = None
    span: SourceSpan | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Frontmatter:
    """The YAML frontmatter, checked and typed.

    ``runtime``, ``trigger``, ``schemas``, ``evolution``, ``ai`` and ``http`` are kept as
    plain data for the layers that use them. ``raw`` is the whole mapping as loaded.
    """

    name: str
    version: str
    description: str | None = None
    config: Mapping[str, ConfigField] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    trigger: Mapping[str, Any] | None = None
    runtime: Mapping[str, Any] = field(default_factory=dict)
    schemas: Mapping[str, Any] | None = None
    evolution: Mapping[str, Any] | None = None
    ai: Mapping[str, Any] = field(default_factory=dict)
    http: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)
    span: SourceSpan | None = None
    key_spans: Mapping[str, SourceSpan] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Workflow:
    """A parsed flow document.

    :ivar source: the whole document text.
    :ivar path: where it came from (a file path, or a label such as ``<cell>``).
    :ivar nodes: the top-level nodes in document order.
    :ivar body_offset: offset of the XML body in ``source``.
    :ivar footer_offset: offset just after ``</workflow>``: the markdown footer.
    """

    source: str
    path: str
    frontmatter: Frontmatter
    nodes: tuple[Node, ...]
    span: SourceSpan | None = None
    body_offset: int = 0
    footer_offset: int = 0
    lines: LineIndex = field(compare=False, repr=False)
    #: every node of the tree, parents before children (computed once).
    all_nodes: tuple[Node, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "all_nodes", tuple(walk(self.nodes)))

    @property
    def name(self) -> str:
        """The workflow's ``name``."""
        return self.frontmatter.name

    def walk(self) -> Iterator[Node]:
        """Every node of the tree, parents before children, in document order."""
        return iter(self.all_nodes)

    def node_ids(self) -> set[str]:
        """The ids of every node, nested ones included."""
        return {node.id for node in self.walk()}
