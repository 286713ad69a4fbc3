"""Blocks run their bodies: if, branch, loop, while, foreach, parallel, timeout."""

from __future__ import annotations

import time
from pathlib import Path

import maidit_jupyter
from maidit_jupyter import FlowRun, NodeStatus, RunStatus
from tests.runs import run_cancelled_after


def run(tmp_path: Path, body: str, **options: object) -> FlowRun:
    flow = tmp_path / "blocks.flow.md"
    flow.write_text(
        "---\nname: blocks\nversion: 1.0.0\n---\n<workflow>\n"
        + body
        + "\n</workflow>\n"
    )
    return maidit_jupyter.run_sync(flow, checkpoint=False, **options)


def template(node_id: str, text: str, extra: str = "") -> str:
    return (
        f'<transform id="{node_id}" type="template"{extra}><template>{text}'
        "</template></transform>"
    )


def status(flow_run: FlowRun, node_id: str) -> tuple[str, str | None]:
    result = flow_run.results[node_id]
    return str(result.status), result.reason


# -- if and branch -------------------------------------------------------------------


def test_if_runs_the_chosen_body_and_skips_the_other(tmp_path: Path) -> None:
    body = (
        '<if id="check" condition="$input.n > 1">'
        f"<then>{template('big', 'big {{ $input.n }}')}</then>"
        f"<else>{template('small', 'small')}</else></if>\n"
        + template("after", "{{ input }}!", ' input="check"')
    )
    big = run(tmp_path, body, workflow_input={"n": 5})
    assert big.status is RunStatus.COMPLETED
    assert big.outputs["check"] == "big 5"
    assert big.outputs["after"] == "big 5!"
    assert status(big, "small") == ("skipped", "branch not taken")
    small = run(tmp_path, body, workflow_input={"n": 0})
    assert small.outputs["check"] == "small"
    assert status(small, "big") == ("skipped", "branch not taken")


def test_branch_takes_the_first_matching_case_or_the_default(tmp_path: Path) -> None:
    body = (
        '<branch id="route">'
        f'<case when="$input.kind == &apos;a&apos;">{template("a", "A")}</case>'
        f'<case when="$input.kind != &apos;z&apos;">{template("b", "B")}</case>'
        f"<default>{template('d', 'D')}</default></branch>"
    )
    assert run(tmp_path, body, workflow_input={"kind": "a"}).outputs["route"] == "A"
    other = run(tmp_path, body, workflow_input={"kind": "q"})
    assert other.outputs["route"] == "B"
    assert status(other, "a") == ("skipped", "branch not taken")
    assert status(other, "d") == ("skipped", "branch not taken")
    assert run(tmp_path, body, workflow_input={"kind": "z"}).outputs["route"] == "D"


def test_a_failure_inside_a_body_fails_the_block_and_its_descendants_skip(
    tmp_path: Path,
) -> None:
    body = (
        '<if id="check" condition="true"><then>'
        + template("boom", "{{ range(0, 1e9) }}")
        + template("next", "never")
        + "</then></if>\n"
        + template("after", "x", ' input="check"')
    )
    flow_run = run(tmp_path, body)
    assert flow_run.status is RunStatus.FAILED
    error = flow_run.results["check"].error
    assert error is not None
    assert error.code == "EXPR_LIMIT_EXCEEDED"
    assert error.message.startswith("'boom' failed: ")
    assert status(flow_run, "next") == ("skipped", "'boom' failed")
    assert flow_run.results["after"].status is NodeStatus.SKIPPED


# -- loop and while ------------------------------------------------------------------


def test_loop_runs_max_times_with_iteration_and_break(tmp_path: Path) -> None:
    body = (
        '<loop id="repeat" max="10" break="step.output >= 3">'
        + template("step", "{{ $iteration }}")
        + template("double", "{{ step.output * 2 }}")
        + "</loop>"
    )
    flow_run = run(tmp_path, body)
    assert flow_run.status is RunStatus.COMPLETED
    assert flow_run.outputs["repeat"] == "6"  # iteration 3: step 3, double 6
    assert flow_run.outputs["step"] == "3"  # the last iteration's result is kept
    no_break = run(tmp_path, body.replace(' break="step.output >= 3"', ""))
    assert no_break.outputs["repeat"] == "18"
    assert no_break.outputs["step"] == "9"


def test_while_runs_while_its_condition_holds_and_stops_at_its_bound(
    tmp_path: Path,
) -> None:
    body = (
        '<while id="count" condition="($vars.n || 0) &lt; 4">'
        '<set id="n" value="{{ ($vars.n || 0) + 1 }}"/></while>'
    )
    flow_run = run(tmp_path, body)
    assert flow_run.status is RunStatus.COMPLETED
    assert flow_run.outputs["count"] == 4
    endless = run(
        tmp_path,
        '<while id="w" condition="true" max="5">' + template("t", "x") + "</while>",
    )
    error = endless.results["w"].error
    assert error is not None
    assert error.code == "RUNTIME_LOOP_LIMIT"
    assert "ran 5 times and its condition still holds" in error.message


def test_a_loop_that_never_iterates_records_its_body_as_never_reached(
    tmp_path: Path,
) -> None:
    flow_run = run(
        tmp_path, '<while id="w" condition="false">' + template("t", "x") + "</while>"
    )
    assert flow_run.status is RunStatus.COMPLETED
    assert status(flow_run, "t") == ("skipped", "never reached")


# -- foreach -------------------------------------------------------------------------


def test_foreach_outputs_each_iterations_last_output(tmp_path: Path) -> None:
    body = (
        '<foreach id="each" collection="$input" item="person">'
        + template("greet", "Hi {{ person.name }} (#{{ index }})")
        + template("shout", "{{ upper(greet.output) }}")
        + "</foreach>"
    )
    flow_run = run(tmp_path, body, workflow_input=[{"name": "ada"}, {"name": "bo"}])
    assert flow_run.status is RunStatus.COMPLETED
    assert flow_run.outputs["each"] == ["HI ADA (#0)", "HI BO (#1)"]
    empty = run(tmp_path, body, workflow_input=[])
    assert empty.outputs["each"] == []
    single = run(tmp_path, body, workflow_input={"name": "cy"})
    assert single.outputs["each"] == ["HI CY (#0)"]


def test_concurrent_iterations_see_their_own_outputs(tmp_path: Path) -> None:
    """With concurrency, ``first.output`` in iteration 7 is iteration 7's ``first``."""
    body = (
        '<foreach id="each" collection="range(0, 40)" concurrency="8">'
        + template("first", "{{ $item }}")
        + '<delay id="wait" input="first" duration="20ms"/>'
        + template("second", "{{ first.output }}/{{ input }}", ' input="wait"')
        + "</foreach>"
    )
    started = time.perf_counter()
    flow_run = run(tmp_path, body)
    elapsed = time.perf_counter() - started
    assert flow_run.status is RunStatus.COMPLETED
    assert flow_run.outputs["each"] == [f"{i}/{i}" for i in range(40)]
    assert elapsed < 40 * 0.020  # 8 at a time, not one after another


def test_a_failing_item_fails_the_foreach_and_names_the_item(tmp_path: Path) -> None:
    body = (
        '<foreach id="each" collection="[1, 2, 0, 4]" concurrency="2">'
        + template("check", "{{ $item == 0 ? range(0, 1e9) : $item }}")
        + "</foreach>"
    )
    flow_run = run(tmp_path, body)
    assert flow_run.status is RunStatus.FAILED
    error = flow_run.results["each"].error
    assert error is not None
    assert error.message.startswith("item 2: 'check' failed")
    assert error.code == "EXPR_LIMIT_EXCEEDED"


# -- parallel ------------------------------------------------------------------------


def branches(*bodies: str) -> str:
    return "".join(f"<branch>{body}</branch>" for body in bodies)


def test_parallel_all_keeps_branch_order_and_merges(tmp_path: Path) -> None:
    slow_first = '<delay id="slow" duration="50ms"/><set id="one" input="slow" value="{{ [1, 2] }}"/>'
    body = (
        '<parallel id="p"MERGE>'
        + branches(
            slow_first,
            '<set id="two" value="{{ [3] }}"/>',
            '<set id="three" value="{{ {k: $branch} }}"/>',
        )
        + "</parallel>"
    )
    flow_run = run(tmp_path, body.replace("MERGE", ""))
    assert flow_run.outputs["p"] == [[1, 2], [3], {"k": 2}]
    concat = run(tmp_path, body.replace("MERGE", ' merge="concat"'))
    assert concat.outputs["p"] == [1, 2, 3, {"k": 2}]
    objects = run(tmp_path, body.replace("MERGE", ' merge="object"'))
    assert objects.outputs["p"] == {"k": 2}
    custom = run(tmp_path, body.replace("MERGE", ' merge="length($branches)"'))
    assert custom.outputs["p"] == 3


def test_parallel_any_cancels_the_slow_branch_at_once(tmp_path: Path) -> None:
    body = (
        '<parallel id="p" wait="any">'
        + branches(
            '<delay id="slow" duration="10s"/>'
            + template("late", "late", ' input="slow"'),
            template("fast", "fast"),
        )
        + "</parallel>"
    )
    started = time.perf_counter()
    flow_run = run(tmp_path, body)
    assert time.perf_counter() - started < 1
    assert flow_run.status is RunStatus.COMPLETED
    assert flow_run.outputs["p"] == ["fast"]
    assert status(flow_run, "slow") == ("skipped", "cancelled")
    assert status(flow_run, "late") == ("skipped", "cancelled")


def test_parallel_n_and_failures(tmp_path: Path) -> None:
    boom = template("boom", "{{ range(0, 1e9) }}")
    body = (
        '<parallel id="p" wait="n(2)">'
        + branches(
            boom,
            template("a", "a"),
            '<delay id="d" duration="30ms"/>' + template("b", "b", ' input="d"'),
        )
        + "</parallel>"
    )
    flow_run = run(tmp_path, body)
    assert flow_run.status is RunStatus.COMPLETED  # one failure is allowed by n(2) of 3
    assert flow_run.outputs["p"] == ["a", "b"]
    assert flow_run.results["boom"].status is NodeStatus.FAILED
    everything = run(tmp_path, body.replace('wait="n(2)"', 'wait="all"'))
    assert everything.status is RunStatus.FAILED
    error = everything.results["p"].error
    assert error is not None
    assert (
        "1 of 3 branches failed (all needs 3); branch 0: 'boom' failed" in error.message
    )


# -- timeout -------------------------------------------------------------------------


def test_timeout_cancels_its_running_body(tmp_path: Path) -> None:
    body = (
        '<timeout id="limit" duration="100ms">'
        '<delay id="slow" duration="10s"/>'
        + template("after", "x", ' input="slow"')
        + "</timeout>"
    )
    started = time.perf_counter()
    flow_run = run(tmp_path, body)
    assert time.perf_counter() - started < 2
    error = flow_run.results["limit"].error
    assert error is not None
    assert error.code == "RUNTIME_TIMEOUT"
    assert "did not finish within 100 ms" in error.message
    assert status(flow_run, "slow") == ("skipped", "cancelled")
    assert status(flow_run, "after") == ("skipped", "cancelled")


def test_timeout_routes_to_its_on_timeout_node(tmp_path: Path) -> None:
    body = (
        '<timeout id="limit" duration="50ms" on-timeout="plan-b">'
        '<delay id="slow" duration="10s"/></timeout>\n'
        + template("plan-b", "fallback for {{ $timedOut }}")
    )
    flow_run = run(tmp_path, body)
    assert flow_run.status is RunStatus.COMPLETED
    assert flow_run.outputs["limit"] == "fallback for limit"
    fast = run(tmp_path, body.replace('duration="10s"', 'duration="1ms"'))
    assert "limit" not in fast.outputs  # the body's output: the delay passes undefined
    assert status(fast, "plan-b") == ("skipped", "never reached")


# -- nesting and cancellation -----------------------------------------------------------


def test_blocks_nest(tmp_path: Path) -> None:
    body = (
        '<foreach id="each" collection="[1, 2, 3, 4]" concurrency="2">'
        '<if id="odd" condition="$item % 2 == 1">'
        f"<then>{template('o', 'odd {{ item }}')}</then>"
        f"<else>{template('e', 'even {{ item }}')}</else></if></foreach>"
    )
    flow_run = run(tmp_path, body)
    assert flow_run.outputs["each"] == ["odd 1", "even 2", "odd 3", "even 4"]


def test_cancel_reaches_nodes_inside_blocks(tmp_path: Path) -> None:
    flow = tmp_path / "c.flow.md"
    flow.write_text(
        "---\nname: c\nversion: 1.0.0\n---\n<workflow>\n"
        '<foreach id="each" collection="range(0, 5)" concurrency="5">'
        '<delay id="wait" duration="10s"/></foreach>\n</workflow>\n'
    )
    flow_run, elapsed = run_cancelled_after(flow, 0.2)
    assert elapsed < 2
    assert flow_run.status is RunStatus.CANCELLED
    assert status(flow_run, "each") == ("skipped", "cancelled")
    assert status(flow_run, "wait") == ("skipped", "cancelled")
    assert flow_run.can_resume
