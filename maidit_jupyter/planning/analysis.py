"""Parse every expression of a workflow once and record what it reads and calls.

Both the planner (dependencies) and the validator (syntax, unknown functions, secrets)
need the parsed expressions; this module parses each expression site exactly once and
keeps the facts both need, with offsets that map back into the document.
"""

from __future__ import annotations

from collections.abc import Iterator

from maidit_jupyter._records import record
from maidit_jupyter.errors import ExpressionSyntaxError
from maidit_jupyter.expressions import (
    ExprSegment,
    collect_references,
    nodes as e,
    parse_expression,
    segment_template,
)
from maidit_jupyter.expressions.lexer import tokenize
from maidit_jupyter.planning.shapes import ShapeRoles, roles_of, shape_of
from maidit_jupyter.syntax.nodes import ExprMode, ExprSite, Node
from maidit_jupyter.syntax.workflow import Workflow

__all__ = ["Analysis", "SiteFacts", "analyze"]


@record
class SiteFacts:
    """What one expression site holds.

    :ivar node: the node the site belongs to.
    :ivar site: the site.
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
    error: ExpressionSyntaxError | None = None
    unterminated: int | None = None
    braces_in_bare: int | None = None
    node_refs: tuple[tuple[str, int, int], ...] = ()
    calls: tuple[tuple[str, int, int], ...] = ()
    secrets: tuple[tuple[str, int, int], ...] = ()
    config_keys: tuple[tuple[str, int, int], ...] = ()


@record
class Analysis:
    """The facts of every expression site of a workflow that holds an expression.

    Sites of plain text (a template without ``{{ }}``) are left out.
    """

    node_ids: frozenset[str]
    sites: tuple[SiteFacts, ...]


def analyze(workflow: Workflow) -> Analysis:
    """Parse every expression and template of ``workflow`` once.

    Identical expression texts (``$item``, ``input`` ...) are parsed once per workflow.
    """
    compiler = _Compiler(frozenset(workflow.node_ids()))
    sites: list[SiteFacts] = []
    for node in workflow.walk():
        for site in node.expressions():
            facts = compiler.facts(node, site)
            if facts is not None:
                sites.append(facts)
    return Analysis(node_ids=compiler.node_ids, sites=tuple(sites))


Reads = tuple[tuple[str, int, int], ...]
#: texts longer than this are parsed every time (their shapes would rarely repeat).
_MAX_SHAPE_TEXT = 2_000


@record
class _Compiled:
    """What one expression text reads and calls (offsets relative to the text)."""

    node_refs: Reads
    calls: Reads
    secrets: Reads
    config_keys: Reads


class _Compiler:
    """Parses expression texts, remembering each distinct text's result."""

    def __init__(self, node_ids: frozenset[str]) -> None:
        self.node_ids = node_ids
        self._cache: dict[str, _Compiled | ExpressionSyntaxError] = {}
        self._shapes: dict[tuple[str, ...], ShapeRoles] = {}

    def compile(self, text: str) -> _Compiled | ExpressionSyntaxError:
        """The parsed form of one expression text, or its syntax error."""
        found = self._cache.get(text)
        if found is None:
            found = self._cache[text] = self._compile(text)
        return found

    def _compile(self, text: str) -> _Compiled | ExpressionSyntaxError:
        tokens = tokenize(text, self.node_ids)
        shape = shape_of(tokens) if len(text) <= _MAX_SHAPE_TEXT else None
        roles = self._shapes.get(shape) if shape is not None else None
        if roles is not None:
            # A known shape: the tokens say what is read, no parse needed.
            node_refs, calls, secrets, config_keys = roles.reads(tokens, self.node_ids)
            return _Compiled(
                node_refs=node_refs,
                calls=calls,
                secrets=secrets,
                config_keys=config_keys,
            )
        try:
            expr = parse_expression(text, node_ids=self.node_ids)
        except ExpressionSyntaxError as exc:
            return exc
        if shape is not None:
            self._shapes[shape] = roles_of(expr, tokens)
        return _read(expr, text, self.node_ids)

    def facts(self, node: Node, site: ExprSite) -> SiteFacts | None:
        """Parse one site: a bare expression, or each ``{{ }}`` of a template.

        Returns ``None`` for a site with nothing to parse (plain text, or empty: an
        empty required expression is reported by the structural pass).
        """
        text = str(site.text)
        pieces: list[tuple[str, int]] = []  # (expression text, offset in the site)
        unterminated: int | None = None
        if not text.strip():
            return None
        if site.mode is ExprMode.BARE:
            braces = text.find("{{")
            if braces != -1:
                return SiteFacts(node=node, site=site, braces_in_bare=braces)
            pieces.append((text, 0))
        elif "{{" in text:
            for segment in segment_template(text):
                if isinstance(segment, ExprSegment):
                    pieces.append((segment.source, segment.source_start))
                elif segment.unterminated:
                    unterminated = segment.start
        if not pieces and unterminated is None:
            return None
        return self._assemble(node, site, pieces, unterminated)

    def _assemble(
        self,
        node: Node,
        site: ExprSite,
        pieces: list[tuple[str, int]],
        unterminated: int | None,
    ) -> SiteFacts:
        error: ExpressionSyntaxError | None = None
        refs: list[tuple[str, int, int]] = []
        calls: list[tuple[str, int, int]] = []
        secrets: list[tuple[str, int, int]] = []
        config_keys: list[tuple[str, int, int]] = []
        for source, at in pieces:
            compiled = self.compile(source)
            if isinstance(compiled, ExpressionSyntaxError):
                if error is None:
                    error = ExpressionSyntaxError(
                        compiled.message,
                        expression=source,
                        start=compiled.start + at,
                        end=compiled.end + at,
                    )
                continue
            for found, into in (
                (compiled.node_refs, refs),
                (compiled.calls, calls),
                (compiled.secrets, secrets),
                (compiled.config_keys, config_keys),
            ):
                if not found:
                    continue
                if at == 0:
                    into.extend(found)
                else:
                    into.extend(
                        (name, start + at, end + at) for name, start, end in found
                    )
        return SiteFacts(
            node=node,
            site=site,
            error=error,
            unterminated=unterminated,
            node_refs=tuple(refs),
            calls=tuple(calls),
            secrets=tuple(secrets),
            config_keys=tuple(config_keys),
        )


def _read(expr: e.Expr, text: str, node_ids: frozenset[str]) -> _Compiled:
    """What a parsed expression reads and calls, each list in source order."""
    refs = collect_references(expr, node_ids)
    secrets = _keys_read(expr, "$secrets") if "$secrets" in text else ()
    config = _keys_read(expr, "$config") if "$config" in text else ()
    return _Compiled(
        node_refs=tuple(
            sorted(((r.id, r.start, r.end) for r in refs.nodes), key=_start)
        ),
        calls=tuple(sorted(((c.name, c.start, c.end) for c in refs.calls), key=_start)),
        secrets=tuple(sorted(secrets, key=_start)),
        config_keys=tuple(sorted(config, key=_start)),
    )


def _start(read: tuple[str, int, int]) -> int:
    return read[1]


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
