"""Collecting node reads, calls and free variables."""

from __future__ import annotations

import pytest

from maidit_jupyter.expressions import (
    CallRef,
    NodeRef,
    collect_references,
    parse_expression,
)

P = pytest.param
IDS = frozenset({"fetch-data", "users", "step-1"})


def _node_ids(source: str) -> list[str]:
    """Return the ids of the nodes read by ``source``, in order."""
    expr = parse_expression(source, node_ids=IDS)
    return [ref.id for ref in collect_references(expr, IDS).nodes]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        P("users.output", ["users"], id="identifier"),
        P("fetch-data.output.items", ["fetch-data"], id="dashed-identifier"),
        P("fetch - data", [], id="subtraction-is-not-a-read"),
        P('$context["fetch-data"].output', ["fetch-data"], id="context-computed"),
        P("$context.users", ["users"], id="context-dot"),
        P("$nodes['step-1']", ["step-1"], id="nodes-computed"),
        P("$nodes.users.output", ["users"], id="nodes-dot"),
        P("$context[name]", [], id="non-literal-key"),
        P('$context["unknown"]', [], id="unknown-key"),
        P("$vars.users", [], id="other-container"),
        P("x.users", [], id="property-is-not-a-read"),
        P("{users: 1}", [], id="key-is-not-a-read"),
        P("{users}", ["users"], id="shorthand-is-a-read"),
        P("map(xs, users => users.name)", [], id="shadowed-by-parameter"),
        P("map(xs, x => users[x])", ["users"], id="not-shadowed"),
        P("f(x => users, users)", ["users", "users"], id="each-read-counted"),
        P("map(xs, $context => $context.users)", [], id="shadowed-container"),
        P("users + fetch-data", ["users", "fetch-data"], id="source-order"),
    ],
)
def test_node_reads(source: str, expected: list[str]) -> None:
    """Node reads: node-id identifiers and $context/$nodes lookups by literal key."""
    assert _node_ids(source) == expected


def test_node_read_spans() -> None:
    """An identifier read spans the name; a container read spans the member."""
    source = 'users + $context["fetch-data"].x'
    refs = collect_references(parse_expression(source, node_ids=IDS), IDS)
    assert refs.nodes == (
        NodeRef(id="users", start=0, end=5),
        NodeRef(id="fetch-data", start=8, end=30),
    )
    assert source[8:30] == '$context["fetch-data"]'


def test_calls() -> None:
    """Every call is listed with the span of its name, outer calls first."""
    source = "upper(trim(x)) + len(upper(y))"
    refs = collect_references(parse_expression(source), frozenset())
    assert refs.calls == (
        CallRef(name="upper", start=0, end=5),
        CallRef(name="trim", start=6, end=10),
        CallRef(name="len", start=17, end=20),
        CallRef(name="upper", start=21, end=26),
    )


def test_variables() -> None:
    """Free identifiers, once each, in first-seen order; not node ids nor parameters."""
    source = "f($item, users, x => x + y, $item, [z, ...rest], {a: b, c})"
    refs = collect_references(parse_expression(source, node_ids=IDS), IDS)
    assert refs.variables == ("$item", "y", "z", "rest", "b", "c")


def test_container_is_a_variable() -> None:
    """The $context identifier itself is a free variable."""
    refs = collect_references(parse_expression('$context["users"]'), IDS)
    assert refs.variables == ("$context",)


def test_nested_arrow_scopes() -> None:
    """Parameters of enclosing arrows stay in scope inside nested arrows."""
    source = "map(a, (x, i) => map(x, y => x + y + i + k))"
    refs = collect_references(parse_expression(source), frozenset())
    assert refs.variables == ("a", "k")
    assert [c.name for c in refs.calls] == ["map", "map"]
