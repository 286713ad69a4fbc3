"""Turn the ``<workflow>`` element into the node AST, collecting every problem found.

The reader never stops at the first mistake: a node with a problem is reported and, where
a usable node can still be built, kept, so the validator can report the rest of the
document in the same pass.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

from maidit_jupyter.errors import Diagnostic, ErrorCode
from maidit_jupyter.parsing import blocks
from maidit_jupyter.parsing.config import ConfigReader
from maidit_jupyter.parsing.elements import ElementReader
from maidit_jupyter.parsing.settings import (
    RUNTIMES,
    SINK_TYPES,
    SOURCE_TYPES,
    TRANSFORM_TYPES,
)
from maidit_jupyter.parsing.xml import XmlElement
from maidit_jupyter.source import LineIndex, SourceSpan
from maidit_jupyter.syntax import nodes as n

__all__ = ["NODE_TAGS", "build_nodes"]

NODE_TAGS = (
    "source",
    "transform",
    "sink",
    "branch",
    "if",
    "loop",
    "while",
    "foreach",
    "parallel",
    "checkpoint",
    "phase",
    "context",
    "set",
    "delay",
    "timeout",
    "include",
    "call",
    "ai",
)
#: attributes every node may carry.
_COMMON_ATTRIBUTES = frozenset({"id", "input", "timeout"})


def build_nodes(
    root: XmlElement, lines: LineIndex, path: str
) -> tuple[tuple[n.Node, ...], list[Diagnostic]]:
    """Build the top-level nodes of ``root`` (the ``<workflow>`` element).

    Returns the nodes and the diagnostics found while building them.
    """
    builder = NodeReader(lines, path)
    return builder.body(root, root.children), builder.diagnostics


class NodeReader(ElementReader):
    """Builds nodes of one document; control blocks are read by :mod:`.blocks`."""

    def __init__(self, lines: LineIndex, path: str) -> None:
        super().__init__(lines, path)
        self.config = ConfigReader(self)

    def body(
        self, parent: XmlElement, children: Iterable[XmlElement]
    ) -> tuple[n.Node, ...]:
        """Build each element child as a node (``<on-error>`` belongs to the parent)."""
        built: list[n.Node] = []
        for child in children:
            if child.tag == "on-error":
                continue
            node = self.node(child)
            if node is not None:
                built.append(node)
        return tuple(built)

    def node(self, el: XmlElement) -> n.Node | None:
        """Build one node, or report why it cannot be built."""
        make = _KINDS.get(el.tag)
        if make is None:
            close = difflib.get_close_matches(el.tag, NODE_TAGS, n=1, cutoff=0.6)
            hints = [f"Did you mean <{close[0]}>?"] if close else []
            hints.append("Valid node types: " + ", ".join(NODE_TAGS))
            self.report(
                ErrorCode.VALID_UNKNOWN_NODE_TYPE,
                f"Unknown node type: {el.tag}",
                self.tag_span(el),
                hints,
            )
            return None
        return make(self, el)

    def common(
        self,
        el: XmlElement,
        allowed: Iterable[str] = (),
        *,
        id_attr: str = "id",
        check_attributes: bool = True,
        read_timeout: bool = True,
    ) -> dict[str, Any] | None:
        """Read the fields every node has; ``None`` when the node has no identifier."""
        if check_attributes:
            self.unknown_attributes(el, _COMMON_ATTRIBUTES | {id_attr, *allowed})
        node_id = el.attr(id_attr) if id_attr != "id" else None
        node_id = node_id if node_id is not None and node_id.strip() else el.attr("id")
        if node_id is None or not node_id.strip():
            hint = {
                "name": 'Add name="phase-name" to the <phase> element',
                "var": 'Add var="variable-name" to the <set> element',
            }.get(id_attr, f'Add id="unique-id" to the <{el.tag}> element')
            self.report(
                ErrorCode.VALID_MISSING_REQUIRED_FIELD,
                f"<{el.tag}> requires an identifier attribute",
                self.tag_span(el),
                [hint],
            )
            return None
        return {
            "id": str(node_id).strip(),
            "tag": el.tag,
            "span": self.tag_span(el),
            "input": self.input_spec(el),
            "on_error": self.on_error(el),
            "timeout_ms": self.duration(el, "timeout") if read_timeout else None,
        }

    def input_spec(self, el: XmlElement) -> n.InputSpec | None:
        """Read ``input="a"``, ``input="a, b"`` or ``input="a.output.items"``."""
        text = el.attr("input")
        if text is None:
            return None
        if text and text.isidentifier():  # the common case: one plain id
            ref = n.InputRef(node=str(text), span=self.value_span(text))
            return n.InputSpec(refs=(ref,), text=text)
        refs: list[n.InputRef] = []
        position = 0
        for part in str(text).split(","):
            piece = text.sub(position, position + len(part)).stripped()
            position += len(part) + 1
            if not piece:
                self.report(
                    ErrorCode.VALID_UNDEFINED_NODE_REF,
                    f"Node input {str(text)!r} has an empty reference",
                    self.attr_span(el, "input"),
                    ['Write input="node-id" or input="a, b"'],
                )
                continue
            node_id, *path = str(piece).split(".")
            if path and path[0] == "output":
                path = path[1:]
            refs.append(
                n.InputRef(
                    node=node_id.strip(), path=tuple(path), span=self.value_span(piece)
                )
            )
        return n.InputSpec(refs=tuple(refs), text=text) if refs else None

    def on_error(self, el: XmlElement) -> n.OnError | None:
        """Read the first ``<on-error>`` child."""
        block = next((child for child in el.children if child.tag == "on-error"), None)
        if block is None:
            return None
        retry: n.RetrySpec | None = None
        fallback: str | None = None
        fallback_span: SourceSpan | None = None
        for child in block.children:
            if child.tag == "retry":
                retry = self.retry(child)
            elif child.tag == "fallback":
                self.unknown_attributes(child, ("node", "ref"))
                target = child.attr("node") or child.attr("ref")
                if target is None or not target.strip():
                    self.report(
                        ErrorCode.VALID_MISSING_REQUIRED_FIELD,
                        '<fallback> requires a "node" attribute',
                        self.tag_span(child),
                        ['Add node="fallback-node-id" to the <fallback> element'],
                    )
                else:
                    fallback = str(target).strip()
                    fallback_span = self.value_span(target)
            else:
                self.report(
                    ErrorCode.VALID_UNKNOWN_FIELD,
                    f"unexpected <{child.tag}> inside <on-error>",
                    self.tag_span(child),
                    ["<on-error> holds <retry .../> and <fallback node=.../>"],
                )
        return n.OnError(
            retry=retry,
            fallback=fallback,
            fallback_span=fallback_span,
            span=self.tag_span(block),
        )

    def retry(self, el: XmlElement) -> n.RetrySpec:
        """Read ``<retry max backoff base cap jitter when>``."""
        self.unknown_attributes(el, ("max", "backoff", "base", "cap", "jitter", "when"))
        backoff = el.attr("backoff")
        if backoff is not None and backoff not in ("exponential", "linear", "fixed"):
            self.report(
                ErrorCode.VALID_INVALID_FIELD_TYPE,
                f"<retry> backoff must be exponential, linear or fixed, got {str(backoff)!r}",
                self.attr_span(el, "backoff"),
            )
            backoff = None
        jitter = self.boolean(el, "jitter", extra={"full": True, "none": False})
        base = self.duration(el, "base")
        cap = self.duration(el, "cap")
        when = el.attr("when")
        return n.RetrySpec(
            max=self.integer(el, "max", minimum=0, default=3),
            backoff=str(backoff or "exponential"),
            base_ms=1000.0 if base is None else base,
            cap_ms=32000.0 if cap is None else cap,
            jitter=True if jitter is None else jitter,
            when=when.stripped() if when is not None and when.strip() else None,
            span=self.tag_span(el),
        )

    def configured(self, el: XmlElement) -> n.Node | None:
        """``<source>``, ``<transform>``, ``<sink>`` and ``<ai>``."""
        tag = "transform" if el.tag == "ai" else el.tag
        defaults = {"source": "http", "transform": "template", "sink": "http"}
        choices = {
            "source": SOURCE_TYPES,
            "transform": TRANSFORM_TYPES,
            "sink": SINK_TYPES,
        }
        raw_type = el.attr("type")
        node_type = "ai" if el.tag == "ai" else str(raw_type or defaults[tag]).strip()
        runtime = (
            f"transform:{node_type}" if tag == "transform" else f"{node_type}:{tag}"
        )
        # A runtime with its own ``timeout`` setting reads (and reports) it as config.
        timeout_is_config = "timeout" in RUNTIMES.get(runtime, {})
        fields = self.common(
            el, check_attributes=False, read_timeout=not timeout_is_config
        )
        if node_type not in choices[tag]:
            listed = ", ".join(f'"{c}"' for c in choices[tag])
            self.report(
                ErrorCode.VALID_INVALID_FIELD_TYPE,
                f'{tag.capitalize()} type must be one of {listed}, got "{node_type}"',
                self.attr_span(el, "type"),
            )
            return None
        if fields is None:
            return None
        config, bare_keys = self.config.read(el, runtime, tag)
        if timeout_is_config:
            timeout = config.get("timeout")
            fields["timeout_ms"] = timeout if isinstance(timeout, float) else None
        classes: dict[str, type[n.ConfiguredNode]] = {
            "source": n.SourceNode,
            "transform": n.TransformNode,
            "sink": n.SinkNode,
        }
        fields["tag"] = tag
        return classes[tag](
            type=node_type, config=config, bare_keys=bare_keys, **fields
        )


_KINDS: dict[str, Callable[[NodeReader, XmlElement], n.Node | None]] = {
    "source": NodeReader.configured,
    "transform": NodeReader.configured,
    "sink": NodeReader.configured,
    "ai": NodeReader.configured,
    "if": blocks.read_if,
    "branch": blocks.read_branch,
    "loop": blocks.read_loop,
    "while": blocks.read_while,
    "foreach": blocks.read_foreach,
    "parallel": blocks.read_parallel,
    "checkpoint": blocks.read_checkpoint,
    "phase": blocks.read_phase,
    "context": blocks.read_context,
    "set": blocks.read_set,
    "delay": blocks.read_delay,
    "timeout": blocks.read_timeout,
    "include": blocks.read_include,
    "call": blocks.read_call,
}
