"""Parse every expression of a workflow once and record what it reads and calls.

Both the planner (dependencies) and the validator (syntax, unknown functions, secrets)
need the parsed expressions; this module parses each expression site exactly once and
keeps the facts both need, with offsets that map back into the document.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from maidit_jupyter.errors import ExpressionSyntaxError
from maidit_jupyter.expressions import (
    ExprSegment,
    TextSegment,
    collect_references,
    nodes as e,
    parse_expression,
    segment_template,
)
from maidit_jupyter.syntax.nodes import ExprMode, ExprSite, Node
from maidit_jupyter.syntax.workflow import Workflow

__all__ = ["Analysis", "ParsedExpression", "SiteFacts", "analyze"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedExpression:
    """One parsed expression of a site; ``offset`` is where its text starts in the site."""

    expr: e.Expr
    offset: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteFacts:
    """What one expression site holds.

    :ivar node: the node the site belongs to.
    :ivar site: the site.
    :ivar expressions: its parsed expressions (one for a bare expression).
    :ivar error: the first syntax error, with offsets relative to the site text.
    :ivar unterminated: offset of a ``{{`` that is never closed, if any.
    :ivar braces_in_bare: offset of a ``{{`` inside a bare expression, if any.
    :ivar node_refs: ``(node id, start, end)`` of every node the site reads.
    :ivar calls: ``(function name, start, end)`` of every call.
    :ivar secrets: ``(secret name, start, end)`` of every ``$secrets.NAME`` read.
    :ivar config_keys: ``(key, start, end)`` of every ``$config.KEY`` read.
    """

    node: Node
    site: ExprSite
    expressions: tuple[ParsedExpression, ...] = ()
    error: ExpressionSyntaxError | None = None
    unterminated: int | None = None
    braces_in_bare: int | None = None
    node_refs: tuple[tuple[str, int, int], ...] = ()
    calls: tuple[tuple[str, int, int], ...] = ()
    secrets: tuple[tuple[str, int, int], ...] = ()
    config_keys: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Analysis:
    """The facts of every expression site of a workflow, by node id."""

    node_ids: frozenset[str]
    sites: tuple[SiteFacts, ...]
    by_node: Mapping[str, tuple[SiteFacts, ...]]

    def of(self, node_id: str) -> tuple[SiteFacts, ...]:
        """The sites of one node (of the first node, if the id is duplicated)."""
        return self.by_node.get(node_id, ())


def analyze(workflow: Workflow) -> Analysis:
    """Parse every expression and template of ``workflow`` once."""
    node_ids = frozenset(workflow.node_ids())
    by_node: dict[str, tuple[SiteFacts, ...]] = {}
    sites: list[SiteFacts] = []
    for node in workflow.walk():
        facts = tuple(_facts(node, site, node_ids) for site in node.expressions())
        by_node.setdefault(node.id, facts)
        sites.extend(facts)
    return Analysis(node_ids=node_ids, sites=tuple(sites), by_node=by_node)


def _facts(node: Node, site: ExprSite, node_ids: frozenset[str]) -> SiteFacts:
    text = str(site.text)
    parsed: list[ParsedExpression] = []
    error: ExpressionSyntaxError | None = None
    unterminated: int | None = None
    braces: int | None = None
    if not text.strip():
        pass  # an empty required expression is reported by the structural pass
    elif site.mode is ExprMode.BARE:
        found = text.find("{{")
        if found != -1:
            braces = found
        else:
            try:
                parsed.append(
                    ParsedExpression(
                        expr=parse_expression(text, node_ids=node_ids), offset=0
                    )
                )
            except ExpressionSyntaxError as exc:
                error = exc
    elif "{{" in text:
        for segment in segment_template(text):
            if isinstance(segment, TextSegment):
                if segment.unterminated:
                    unterminated = segment.start
                continue
            assert isinstance(segment, ExprSegment)
            try:
                expr = parse_expression(segment.source, node_ids=node_ids)
            except ExpressionSyntaxError as exc:
                if error is None:
                    error = ExpressionSyntaxError(
                        exc.message,
                        expression=segment.source,
                        start=exc.start + segment.source_start,
                        end=exc.end + segment.source_start,
                    )
                continue
            parsed.append(ParsedExpression(expr=expr, offset=segment.source_start))
    refs: list[tuple[str, int, int]] = []
    calls: list[tuple[str, int, int]] = []
    secrets: list[tuple[str, int, int]] = []
    config_keys: list[tuple[str, int, int]] = []
    for item in parsed:
        found_refs = collect_references(item.expr, node_ids)
        refs.extend(
            (r.id, r.start + item.offset, r.end + item.offset) for r in found_refs.nodes
        )
        calls.extend(
            (c.name, c.start + item.offset, c.end + item.offset)
            for c in found_refs.calls
        )
        for container, reads in (("$secrets", secrets), ("$config", config_keys)):
            if container in text:
                reads.extend(
                    (name, start + item.offset, end + item.offset)
                    for name, start, end in _keys_read(item.expr, container)
                )
    return SiteFacts(
        node=node,
        site=site,
        expressions=tuple(parsed),
        error=error,
        unterminated=unterminated,
        braces_in_bare=braces,
        node_refs=tuple(refs),
        calls=tuple(calls),
        secrets=tuple(secrets),
        config_keys=tuple(config_keys),
    )


def _keys_read(expr: e.Expr, container: str) -> Iterator[tuple[str, int, int]]:
    """Every ``container.NAME`` / ``container["NAME"]`` read in ``expr``."""
    for sub in e.walk(expr):
        if not isinstance(sub, e.Member):
            continue
        target = sub.object
        if not (isinstance(target, e.Identifier) and target.name == container):
            continue
        if sub.property is not None:
            yield sub.property, sub.start, sub.end
        elif isinstance(sub.computed, e.Literal) and isinstance(
            sub.computed.value, str
        ):
            yield sub.computed.value, sub.start, sub.end
