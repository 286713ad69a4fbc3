"""The planner: dependencies from every reference form, waves, routing, cycles."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from maidit_jupyter.parsing.parser import parse_workflow
from maidit_jupyter.planning.plan import PlanCycleError, plan
from tests.strategies import HEADER, RandomDag, random_dags


def make(body: str) -> str:
    return HEADER + "<workflow>\n" + body + "\n</workflow>\n"


def waves_of(body: str) -> list[list[str]]:
    return [list(wave) for wave in plan(parse_workflow(make(body))).waves]


def test_independent_nodes_share_the_first_wave() -> None:
    """Nodes without dependencies run together, in document order."""
    body = '<delay id="b" duration="1s"/><delay id="a" duration="1s"/>'
    assert waves_of(body) == [["b", "a"]]


def test_input_list_and_path_create_dependencies() -> None:
    """``input="a, b"`` and ``input="a.output.items"`` both wait for their nodes."""
    body = """
    <delay id="a" duration="1s"/>
    <delay id="b" duration="1s"/>
    <delay id="c" duration="1s" input="a, b"/>
    <delay id="d" duration="1s" input="c.output.items"/>
    """
    assert waves_of(body) == [["a", "b"], ["c"], ["d"]]


def test_expression_references_in_any_node_create_dependencies() -> None:
    """Conditions, dashed ids and $context/$nodes reads are dependencies too."""
    body = """
    <delay id="fetch-data" duration="1s"/>
    <delay id="other" duration="1s"/>
    <if id="check" condition="length(fetch-data.output) > 0">
      <then><delay id="x" duration="1s"/></then>
    </if>
    <foreach id="each" collection='$nodes["other"].output'>
      <delay id="y" duration="1s"/>
    </foreach>
    <transform id="t" type="template"><template>{{ $context["check"].output }}</template></transform>
    """
    assert waves_of(body) == [["fetch-data", "other"], ["check", "each"], ["t"]]


def test_reference_to_nested_node_waits_for_its_owner() -> None:
    """A reference to a node inside a block is a dependency on the block."""
    body = """
    <loop id="again" max="2">
      <delay id="inner" duration="1s"/>
    </loop>
    <transform id="after" type="template"><template>{{ inner.output }}</template></transform>
    """
    execution_plan = plan(parse_workflow(make(body)))
    assert [list(w) for w in execution_plan.waves] == [["again"], ["after"]]
    assert execution_plan.graph.owners["inner"] == ("again",)


def test_routing_targets_are_not_scheduled_on_their_own() -> None:
    """Fallback, on-timeout and goto targets run only when routed to."""
    body = """
    <source id="prices" type="file" path="./p.json">
      <on-error><fallback node="cached"/></on-error>
    </source>
    <source id="cached" type="file" path="./c.json"/>
    <timeout id="slow" duration="5s" on-timeout="give-up">
      <delay id="wait" duration="1s"/>
    </timeout>
    <transform id="give-up" type="template"><template>late</template></transform>
    <checkpoint id="gate" prompt="ok?">
      <action id="approve" goto="write"/>
    </checkpoint>
    <delay id="write" duration="1s"/>
    """
    execution_plan = plan(parse_workflow(make(body)))
    assert [list(w) for w in execution_plan.waves] == [["prices", "slow", "gate"]]
    assert dict(execution_plan.graph.routed) == {
        "cached": ("prices",),
        "give-up": ("slow",),
        "write": ("gate",),
    }


def test_dependency_on_routed_node_waits_for_its_router() -> None:
    """Reading a fallback target's output means waiting for the node that routes to it."""
    body = """
    <source id="prices" type="file" path="./p.json">
      <on-error><fallback node="cached"/></on-error>
    </source>
    <source id="cached" type="file" path="./c.json"/>
    <transform id="use" type="template" input="cached"><template>x</template></transform>
    """
    assert waves_of(body) == [["prices"], ["use"]]


def test_cycle_is_reported_as_a_closed_path() -> None:
    """A cycle raises PlanCycleError with the closed path in data-flow order."""
    body = """
    <delay id="a" duration="1s" input="b"/>
    <delay id="b" duration="1s" input="a"/>
    """
    with pytest.raises(PlanCycleError) as info:
        plan(parse_workflow(make(body)))
    assert info.value.cycle[0] == info.value.cycle[-1]
    assert set(info.value.cycle) == {"a", "b"}


def expected_levels(dag: RandomDag) -> dict[str, int]:
    level: dict[str, int] = {}

    def of(node_id: str) -> int:
        if node_id not in level:
            level[node_id] = 1 + max((of(d) for d in dag.deps[node_id]), default=-1)
        return level[node_id]

    for node_id in dag.ids:
        of(node_id)
    return level


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags())
def test_random_dags_plan_into_forward_waves(dag: RandomDag) -> None:
    """Waves partition the nodes, every edge goes forward, and layering is minimal."""
    execution_plan = plan(parse_workflow(dag.document()))
    scheduled = [node_id for wave in execution_plan.waves for node_id in wave]
    assert sorted(scheduled) == sorted(dag.ids)
    wave_of = {
        node_id: i for i, wave in enumerate(execution_plan.waves) for node_id in wave
    }
    for node_id, deps in dag.deps.items():
        for dep in deps:
            assert wave_of[dep] < wave_of[node_id]
    assert wave_of == expected_levels(dag)
    position = {node_id: i for i, node_id in enumerate(dag.ids)}
    for wave in execution_plan.waves:
        assert list(wave) == sorted(wave, key=position.__getitem__)


def test_routed_target_dependencies_are_its_routers() -> None:
    """A fallback target's own input makes its router wait for that input."""
    body = """
    <source id="config" type="file" path="./c.json"/>
    <source id="prices" type="file" path="./p.json">
      <on-error><fallback node="cached"/></on-error>
    </source>
    <transform id="cached" type="template" input="config"><template>x</template></transform>
    """
    execution_plan = plan(parse_workflow(make(body)))
    assert [list(w) for w in execution_plan.waves] == [["config"], ["prices"]]
    assert execution_plan.graph.owners["cached"] == ("prices",)


def test_target_routed_by_a_routed_node_belongs_to_the_first_router() -> None:
    """Routing chains are followed to the scheduled node that starts them."""
    body = """
    <source id="a" type="file" path="./a.json">
      <on-error><fallback node="b"/></on-error>
    </source>
    <source id="b" type="file" path="./b.json">
      <on-error><fallback node="c"/></on-error>
    </source>
    <source id="c" type="file" path="./c.json"/>
    """
    execution_plan = plan(parse_workflow(make(body)))
    assert [list(w) for w in execution_plan.waves] == [["a"]]
    assert execution_plan.graph.owners["c"] == ("a",)


def test_plan_json_lists_waves_dependencies_and_routes() -> None:
    """The JSON form has every wave, each node's type and dependencies, and routes."""
    body = """
    <source id="a" type="file" path="./a.json">
      <on-error><fallback node="b"/></on-error>
    </source>
    <source id="b" type="file" path="./b.json"/>
    <transform id="t" type="template" input="a"><template>x</template></transform>
    """
    data = plan(parse_workflow(make(body))).to_json()
    assert data["waveCount"] == 2
    assert data["waves"][1]["nodes"] == [
        {"id": "t", "type": "transform:template", "dependsOn": ["a"]}
    ]
    assert data["routed"] == {"b": ["a"]}
