"""The run panel and the checkpoint widget, driven with button.click()."""

from __future__ import annotations

import time
from pathlib import Path

import anyio

from maidit_jupyter import FlowRun, NodeStatus, RunStatus
from maidit_jupyter.execution.approval import Answer, ApprovalRequest, Approver
from maidit_jupyter.execution.events import NodeStarted, WaveStarted
from maidit_jupyter.execution.launch import prepare_run
from maidit_jupyter.notebook.dag import COLOURS, render_dag
from maidit_jupyter.notebook.panel import RunPanel, WidgetApprover

FLOW = """---
name: panel-demo
version: 1.0.0
---
<workflow>
  <transform id="draft" type="template"><template>report v1</template></transform>
  <checkpoint id="review" input="draft" allow-input="true">
    <prompt>Publish **{{ input }}**?</prompt>
    <action id="approve" label="Publish" goto="publish"/>
    <action id="reject" label="Discard"/>
  </checkpoint>
  <transform id="publish" type="template" input="draft"><template>published ({{ $checkpoint.input }})</template></transform>
  <delay id="slow" input="draft" duration="{delay}"/>
</workflow>
"""


class Late:
    """An approver set once the panel exists."""

    def __init__(self) -> None:
        self.target: Approver | None = None

    async def ask(self, request: ApprovalRequest) -> Answer | None:
        assert self.target is not None
        return await self.target.ask(request)


def start(
    tmp_path: Path, delay: str = "1ms"
) -> tuple[FlowRun, RunPanel, WidgetApprover]:
    late = Late()
    prepared = prepare_run(
        tmp_path / "panel.flow.md",
        text=FLOW.replace("{delay}", delay),
        workflow_input=None,
        approver=late,
        checkpoint=False,
    )
    flow_run = FlowRun(prepared)
    panel = RunPanel(flow_run, update_hz=10)
    approver = WidgetApprover(panel)
    late.target = approver
    return flow_run, panel, approver


def test_the_checkpoint_is_answered_by_clicking(tmp_path: Path) -> None:
    flow_run, panel, approver = start(tmp_path)

    async def main() -> None:
        async with anyio.create_task_group() as group:

            async def click_when_asked() -> None:
                while "approve" not in approver.buttons:  # noqa: ASYNC110 - widget state
                    await anyio.sleep(0.01)
                assert panel.checkpoint_box.layout.display == "flex"
                question = panel.checkpoint_box.children[0].children[1].value
                assert "Publish <b>report v1</b>?" in question
                assert approver.text is not None
                approver.text.value = "looks good"
                approver.buttons["approve"].click()

            group.start_soon(click_when_asked)
            await flow_run._execute([panel])

    anyio.run(main)
    assert flow_run.status is RunStatus.COMPLETED
    assert flow_run.outputs["publish"] == "published (looks good)"
    assert panel.checkpoint_box.layout.display == "none"
    assert "completed" in panel.header.value
    assert COLOURS["success"] in panel.dag.value
    assert 'data-node="review"' in panel.dag.value
    assert "publish" in panel.pick.options
    panel.pick.value = "review"  # the inspector shows the answer
    assert "<details open><summary>{5 keys}</summary>" in panel.inspector.value
    assert (
        "<code>action</code>: <code>&quot;approve&quot;</code>" in panel.inspector.value
    )
    assert "looks good" in panel.inspector.value


def test_the_cancel_button_stops_the_run(tmp_path: Path) -> None:
    flow_run, panel, approver = start(tmp_path, delay="30s")

    async def main() -> None:
        async with anyio.create_task_group() as group:

            async def act() -> None:
                while "reject" not in approver.buttons:  # noqa: ASYNC110 - widget state
                    await anyio.sleep(0.01)
                approver.buttons["approve"].click()
                while "slow" not in panel.running:  # noqa: ASYNC110 - widget state
                    await anyio.sleep(0.01)
                await anyio.sleep(0.05)
                panel.cancel_button.click()

            group.start_soon(act)
            await flow_run._execute([panel])

    anyio.run(main)
    assert flow_run.status is RunStatus.CANCELLED
    assert flow_run.results["slow"].status is NodeStatus.SKIPPED
    assert panel.cancel_button.disabled


def test_updates_are_throttled(tmp_path: Path) -> None:
    """However many events arrive, the panel redraws at most update_hz times a second
    (plus one deferred redraw for the last burst)."""
    _, panel, _ = start(tmp_path)

    async def storm() -> tuple[int, float]:
        before = panel.refreshes
        started = time.monotonic()
        for index in range(2000):
            panel(NodeStarted(node_id=f"n{index}", wave=0))
            if index % 100 == 0:
                panel(WaveStarted(index=index // 100, nodes=()))
                await anyio.sleep(0.01)
        await anyio.sleep(0.25)  # the deferred redraw
        return panel.refreshes - before, time.monotonic() - started

    refreshes, elapsed = anyio.run(storm)
    assert refreshes >= 2  # it does redraw
    assert refreshes <= elapsed * 10 + 2  # 10 Hz, whatever the machine's speed


def test_a_late_timer_does_not_redraw_twice(tmp_path: Path) -> None:
    """When a busy loop runs the deferred redraw late, an event redrawing at once
    first makes it unnecessary: one redraw, not a pair 20 ms apart."""
    _, panel, _ = start(tmp_path)

    async def busy() -> int:
        panel(NodeStarted(node_id="a", wave=0))  # redraws, or defers
        panel(NodeStarted(node_id="b", wave=0))  # within the interval: deferred
        time.sleep(0.15)  # noqa: ASYNC251 - the loop is busy past the deferred redraw
        before = panel.refreshes
        panel(NodeStarted(node_id="c", wave=0))  # old enough: redraws at once
        await anyio.sleep(0.2)  # the overdue timer gets its turn
        return panel.refreshes - before

    assert anyio.run(busy) == 1


def test_the_dag_colours_nodes_by_status(tmp_path: Path) -> None:
    flow_run, _, _ = start(tmp_path)
    svg = render_dag(flow_run.plan, {}, {"draft": "running", "review": "waiting"})
    assert svg.startswith("<svg")
    assert COLOURS["running"] in svg
    assert COLOURS["pending"] in svg
    assert "<title>draft (transform:template) · running</title>" in svg
    assert COLOURS["waiting"] in svg


CHAIN = """---
name: steps
version: 1.0.0
---
<workflow>
  <transform id="a" type="template"><template>a</template></transform>
  <transform id="b" type="template" input="a"><template>b</template></transform>
  <transform id="c" type="template" input="b"><template>c</template></transform>
  <transform id="d" type="template" input="c"><template>d</template></transform>
</workflow>
"""


def test_step_mode_runs_one_wave_per_click(tmp_path: Path) -> None:
    prepared = prepare_run(
        tmp_path / "steps.flow.md", text=CHAIN, workflow_input=None, checkpoint=False
    )
    flow_run = FlowRun(prepared)
    panel = RunPanel(flow_run)
    panel.stepping = True
    seen: list[list[str]] = []

    async def main() -> None:
        async with anyio.create_task_group() as group:

            async def drive() -> None:
                for _ in range(2):  # two Step clicks: one more wave each
                    while panel.step_button.disabled:  # noqa: ASYNC110 - widget state
                        await anyio.sleep(0.01)
                    seen.append(sorted(panel.results))
                    panel.step_button.click()
                    await anyio.sleep(0.05)
                while panel.continue_button.disabled:  # noqa: ASYNC110 - widget state
                    await anyio.sleep(0.01)
                seen.append(sorted(panel.results))
                panel.continue_button.click()  # and the rest at once

            group.start_soon(drive)
            await flow_run._execute([panel], panel.next_wave)

    anyio.run(main)
    assert seen == [["a"], ["a", "b"], ["a", "b", "c"]]
    assert flow_run.status is RunStatus.COMPLETED
    assert flow_run.outputs["d"] == "d"
