"""Pass 3: ids are unique, and every id or secret a node names exists."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from maidit_jupyter.errors import ErrorCode, Severity
from maidit_jupyter.planning.analysis import Analysis
from maidit_jupyter.planning.plan import DependencyGraph
from maidit_jupyter.source import SourceSpan
from maidit_jupyter.syntax import nodes as n
from maidit_jupyter.syntax.workflow import Workflow
from maidit_jupyter.validation.report import Finding

__all__ = ["check_references", "did_you_mean", "levenshtein"]


def check_references(
    workflow: Workflow, analysis: Analysis, graph: DependencyGraph
) -> Iterator[Finding]:
    """Report duplicate ids, undefined node references and undeclared secrets."""
    first_seen: dict[str, n.Node] = {}
    for node in workflow.walk():
        earlier = first_seen.setdefault(node.id, node)
        if earlier is not node:
            yield Finding(
                ErrorCode.VALID_DUPLICATE_NODE_ID,
                f'Duplicate node ID "{node.id}"',
                node.span,
                (
                    f'Another node with ID "{node.id}" exists at line {earlier.span.line}',
                    "Each node must have a unique ID within the workflow",
                ),
            )
    ids = list(first_seen)
    for node in workflow.walk():
        if node.input is not None:
            for ref in node.input.refs:
                if ref.node not in first_seen:
                    yield _undefined(node.id, ref.node, ref.span, ids)
                elif ref.node == node.id:
                    yield Finding(
                        ErrorCode.VALID_CIRCULAR_DEPENDENCY,
                        f'Node "{node.id}" takes its own output as input',
                        ref.span,
                        ("Point input= at the node that produces the data",),
                    )
        for target, span in _routing_targets(node):
            if target not in first_seen:
                yield _undefined(node.id, target, span, ids)
    top_level = {node.id for node in workflow.nodes}
    for target, routers in graph.routed.items():
        if target in top_level and not graph.owners.get(target):
            yield Finding(
                ErrorCode.VALID_CIRCULAR_DEPENDENCY,
                f'Node "{target}" is only reached by routing, and the routing goes in a circle',
                next(node.span for node in workflow.nodes if node.id == target),
                ("Routed by: " + ", ".join(routers),),
            )
    yield from _secrets(workflow, analysis)
    yield from _config_keys(workflow, analysis)


def _routing_targets(node: n.Node) -> Iterator[tuple[str, SourceSpan]]:
    if node.on_error is not None and node.on_error.fallback:
        yield node.on_error.fallback, node.on_error.fallback_span or node.on_error.span
    if isinstance(node, n.TimeoutNode) and node.on_timeout:
        yield node.on_timeout, node.on_timeout_span or node.span
    if isinstance(node, n.CheckpointNode):
        for action in node.actions:
            if action.goto:
                yield action.goto, action.span


def _undefined(node_id: str, target: str, span: SourceSpan, ids: list[str]) -> Finding:
    return Finding(
        ErrorCode.VALID_UNDEFINED_NODE_REF,
        f'Node "{node_id}" references undefined node "{target}"',
        span,
        (did_you_mean(target, [i for i in ids if i != node_id]),),
    )


def _secrets(workflow: Workflow, analysis: Analysis) -> Iterator[Finding]:
    declared = set(workflow.frontmatter.secrets)
    listed = ", ".join(workflow.frontmatter.secrets) or "none"
    reported: set[str] = set()
    lines = workflow.lines
    for facts in analysis.sites:
        for name, start, end in facts.secrets:
            if name in declared or name in reported:
                continue
            reported.add(name)
            text = facts.site.text
            yield Finding(
                ErrorCode.VALID_UNDEFINED_SECRET_REF,
                f'Undeclared secret "{name}" referenced in workflow',
                lines.span(text.offset_of(start), text.offset_of(end)),
                (
                    f"Declare the secret in frontmatter: secrets: [{name}]",
                    f"Currently declared secrets: {listed}",
                ),
            )
    for node in workflow.walk():
        if not isinstance(node, n.ConfiguredNode):
            continue
        for key in ("api-key", "password"):
            named = node.config.get(key)
            if (
                isinstance(named, str)
                and named
                and named not in declared
                and named not in reported
            ):
                reported.add(named)
                # The value is not repeated: it may be a password written in by
                # mistake, and diagnostics end up in logs.
                yield Finding(
                    ErrorCode.VALID_UNDEFINED_SECRET_REF,
                    f"{node.id}.{key} names no declared secret",
                    node.span,
                    (
                        (
                            "Write the name of a secret declared under secrets: "
                            f"({listed}), never the secret's value"
                        ),
                    ),
                )


def _config_keys(workflow: Workflow, analysis: Analysis) -> Iterator[Finding]:
    """Warn about ``$config.KEY`` reads of keys the frontmatter does not declare."""
    declared = workflow.frontmatter.config
    reported: set[str] = set()
    for facts in analysis.sites:
        for key, start, end in facts.config_keys:
            if key in declared or key in reported:
                continue
            reported.add(key)
            text = facts.site.text
            close = difflib.get_close_matches(key, list(declared), n=1)
            yield Finding(
                ErrorCode.VALID_UNKNOWN_FIELD,
                f"$config.{key} is not declared in the frontmatter",
                workflow.lines.span(text.offset_of(start), text.offset_of(end)),
                (f"Did you mean $config.{close[0]}?",)
                if close
                else (f"Declare it: config:\n  {key}:\n    type: string",),
                Severity.WARNING,
            )


def levenshtein(a: str, b: str) -> int:
    """Edit distance with insertions, deletions and substitutions costing 1."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(
                    previous[j] + 1,
                    current[j - 1] + 1,
                    previous[j - 1] + (char_a != char_b),
                )
            )
        previous = current
    return previous[-1]


def did_you_mean(target: str, candidates: Iterable[str]) -> str:
    """The original's hint: up to three close ids, else the list of defined ids."""
    names = list(candidates)
    lowered = target.lower()
    limit = max(2, len(target) // 3)
    scored = [(levenshtein(lowered, name.lower()), name) for name in names]
    close = [
        name
        for distance, name in sorted(scored, key=lambda pair: pair[0])
        if distance <= limit
    ][:3]
    if close:
        return f"Did you mean: {', '.join(close)}?"
    return f"Defined nodes: {', '.join(names) or 'none'}"
