"""Content hashes that tell a resume what changed since the checkpoint.

* The **flow hash** covers the document up to ``</workflow>`` with line endings
  normalised, so the execution log appended after a run does not count as a change.
* A scheduled node's **definition hash** covers its canonical definition (kind,
  attributes, configuration, nested body, and the routing targets it owns such as its
  fallback node), leaving out source positions: moving a node or re-indenting the file
  changes nothing.
* Its **config hash** covers the values of the ``$config`` keys it reads, keyed with
  the run id (a hash of a bare value could be confirmed by guessing).
* Its **effective hash** combines both with the effective hashes of the nodes it depends
  on, Merkle-style: a change anywhere upstream changes every descendant's effective hash.

A stored success is reused on resume only when its effective hash is unchanged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from maidit_jupyter._gc import gc_paused
from maidit_jupyter._records import record
from maidit_jupyter.planning.analysis import Analysis, analyze
from maidit_jupyter.planning.plan import ExecutionPlan
from maidit_jupyter.source import SourceSpan
from maidit_jupyter.syntax.nodes import Node
from maidit_jupyter.syntax.workflow import Workflow

__all__ = ["NodeHashes", "flow_hash", "node_hashes"]


@record
class NodeHashes:
    """The hashes of one scheduled node (hex digests, 16 bytes each)."""

    definition: str
    config: str
    effective: str


def _digest(text: str) -> str:
    return hashlib.blake2b(
        text.encode("utf-8", "surrogatepass"), digest_size=16
    ).hexdigest()


def flow_hash(workflow: Workflow) -> str:
    """The hash of the flow document up to ``</workflow>`` (line endings normalised)."""
    text = workflow.source[: workflow.footer_offset]
    return "blake2b:" + _digest(text.replace("\r\n", "\n").replace("\r", "\n"))


_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(kind: type) -> tuple[str, ...]:
    """The fields of an AST class that say what it means (positions left out)."""
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(
            field.name
            for field in dataclasses.fields(kind)
            if field.name != "span" and not field.name.endswith("spans")
        )
    return names


def _canonical(value: Any) -> Any:
    """A hashable, printable form of an AST value without source positions."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, SourceSpan):
        return None
    if isinstance(value, Mapping):
        return tuple(
            (str(key), _canonical(item))
            for key, item in value.items()
            if not isinstance(item, SourceSpan)
        )
    if isinstance(value, frozenset | set):
        return tuple(sorted(repr(_canonical(item)) for item in value))
    if isinstance(value, tuple | list):
        return tuple(_canonical(item) for item in value)
    kind = type(value)
    if dataclasses.is_dataclass(kind):
        return (
            kind.__name__,
            *tuple(_canonical(getattr(value, name)) for name in _fields(kind)),
        )
    return repr(value)


def node_hashes(
    workflow: Workflow,
    plan: ExecutionPlan,
    config: Mapping[str, Any],
    analysis: Analysis | None = None,
    *,
    salt: str = "",
) -> dict[str, NodeHashes]:
    """The hashes of every scheduled node of ``plan``, given the run's ``config``.

    ``salt`` (the run id) keys the config hashes, so a config value (which might be
    sensitive) cannot be confirmed by hashing guesses against a checkpoint.
    """
    with gc_paused():  # builds many small tuples, no cycles
        return _node_hashes(workflow, plan, config, analysis or analyze(workflow), salt)


def _node_hashes(
    workflow: Workflow,
    plan: ExecutionPlan,
    config: Mapping[str, Any],
    analysis: Analysis,
    salt: str,
) -> dict[str, NodeHashes]:
    owners = plan.graph.owners
    config_keys: dict[str, set[str]] = {}
    for facts in analysis.sites:
        for owner in owners.get(facts.node.id, ()):
            config_keys.setdefault(owner, set()).update(
                key for key, _, _ in facts.config_keys
            )
    routed_into: dict[str, list[Node]] = {}
    top_level = {node.id: node for node in workflow.nodes}
    for target in plan.graph.routed:  # top-level nodes, never their own owner
        for owner in owners.get(target, ()):
            routed_into.setdefault(owner, []).append(top_level[target])
    hashes: dict[str, NodeHashes] = {}
    for wave in plan.waves:
        for node_id in wave:
            node = plan.nodes[node_id]
            definition = _digest(
                repr(
                    (
                        _canonical(node),
                        *tuple(
                            _canonical(extra) for extra in routed_into.get(node_id, ())
                        ),
                    )
                )
            )
            keys = sorted(config_keys.get(node_id, ()))
            config_part = _digest(
                salt
                + json.dumps(
                    {key: config.get(key) for key in keys},
                    sort_keys=True,
                    ensure_ascii=False,
                    default=repr,
                )
            )
            upstream = sorted(
                hashes[dep.on].effective
                for dep in plan.graph.edges.get(node_id, ())
                if dep.on in hashes
            )
            effective = _digest(" ".join([definition, config_part, *upstream]))
            hashes[node_id] = NodeHashes(
                definition=definition, config=config_part, effective=effective
            )
    return hashes
