"""The panel's buttons in a real kernel, clicked by sending the widget's comm message
while the ``%%flow`` cell is still running (ipykernel 7: the awaiting cell keeps
receiving messages). The client says ``allow_stdin=True``, as a person's front end does.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

CHECKPOINT_FLOW = """%%flow {line}
---
name: widgets
version: 1.0.0
---
<workflow>
  <transform id="draft" type="template"><template>report</template></transform>
  <checkpoint id="review" input="draft"><prompt>Publish **{{{{ input }}}}**?</prompt></checkpoint>
  <delay id="wait" input="review" duration="{delay}"/>
  <transform id="done" type="template" input="wait"><template>{{{{ input.action }}}}</template></transform>
</workflow>
"""


class Kernel:
    """A real kernel and the widget buttons its cells show."""

    def __init__(self, directory: Path) -> None:
        env = dict(os.environ)
        env.pop("CI", None)  # the panel is for people; CI turns it off on purpose
        self.manager, self.client = start_new_kernel(
            kernel_name="python3", cwd=str(directory), env=env
        )

    def run(
        self, code: str, on_buttons: Callable[[dict[str, str], Kernel], None]
    ) -> list[dict[str, Any]]:
        """Execute ``code``; call ``on_buttons`` whenever a new button appears."""
        msg_id = self.client.execute(code, allow_stdin=True)
        buttons: dict[str, str] = {}
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                msg = self.client.get_iopub_msg(timeout=0.5)
            except queue.Empty:
                continue
            kind = msg["msg_type"]
            # widgets made by a button's callback belong to the click, not to this cell
            if msg["parent_header"].get("msg_id") != msg_id and kind != "comm_open":
                continue
            messages.append(msg)
            if kind == "comm_open":
                state = msg["content"]["data"].get("state", {})
                if state.get("_model_name") == "ButtonModel":
                    buttons[state["description"]] = msg["content"]["comm_id"]
                    on_buttons(buttons, self)
            if kind == "status" and msg["content"]["execution_state"] == "idle":
                return messages
        raise AssertionError("the cell did not finish in 60 s")

    def click(self, comm_id: str) -> None:
        """What the browser sends when a button is clicked."""
        content = {
            "comm_id": comm_id,
            "data": {"method": "custom", "content": {"event": "click"}},
        }
        self.client.shell_channel.send(self.client.session.msg("comm_msg", content))

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    started = Kernel(tmp_path)
    started.run("%load_ext maidit_jupyter", lambda buttons, k: None)
    yield started
    started.close()


def result_text(messages: list[dict[str, Any]]) -> str:
    for msg in messages:
        if msg["msg_type"] == "execute_result":
            return str(msg["content"]["data"]["text/plain"])
        if msg["msg_type"] == "error":
            raise AssertionError(msg["content"]["evalue"])
    raise AssertionError("no result")


def test_approve_is_clicked_while_the_cell_runs(kernel: Kernel) -> None:
    clicked: list[str] = []

    def approve(buttons: dict[str, str], k: Kernel) -> None:
        if "Approve" in buttons and not clicked:
            clicked.append("Approve")
            k.click(buttons["Approve"])

    code = CHECKPOINT_FLOW.format(line="--out job", delay="1ms")
    messages = kernel.run(code, approve)
    assert "completed" in result_text(messages)
    # the panel's display carries static HTML of its final state (saved notebooks)
    updates = [m for m in messages if m["msg_type"] == "update_display_data"]
    assert updates
    static = updates[-1]["content"]["data"]["text/html"]
    assert "<svg" in static
    assert "completed" in static
    assert "application/vnd.jupyter.widget-view+json" in updates[-1]["content"]["data"]
    check = kernel.run("print(job.outputs['done'])", lambda b, k: None)
    printed = [m for m in check if m["msg_type"] == "stream"]
    assert printed[0]["content"]["text"].strip() == "approve"


def test_cancel_mid_run_then_resume_completes(kernel: Kernel) -> None:
    state: list[str] = []

    def approve_then_cancel(buttons: dict[str, str], k: Kernel) -> None:
        if "Approve" in buttons and "approved" not in state:
            state.append("approved")
            k.click(buttons["Approve"])
            time.sleep(0.5)  # the delay node is running now
            k.click(buttons["Cancel"])

    code = CHECKPOINT_FLOW.format(line="--out job", delay="30s")
    started = time.monotonic()
    assert "cancelled" in result_text(kernel.run(code, approve_then_cancel))
    assert time.monotonic() - started < 20
    body = CHECKPOINT_FLOW.format(line="", delay="1ms").split("\n", 1)[1]
    resumed = kernel.run(
        f"resumed = await job.resume(text={body!r})\n"
        "print(resumed.status, resumed.results['review'].reused, resumed.outputs['done'])",
        lambda b, k: None,
    )
    printed = [m for m in resumed if m["msg_type"] == "stream"]
    assert printed, resumed
    assert printed[0]["content"]["text"].split() == ["completed", "True", "approve"]


def test_step_mode_advances_one_wave_per_click(kernel: Kernel) -> None:
    clicks: list[float] = []

    def step(buttons: dict[str, str], k: Kernel) -> None:
        if {"Step", "Continue"} <= buttons.keys() and not clicks:
            for _ in range(3):
                time.sleep(0.3)
                clicks.append(time.monotonic())
                k.click(buttons["Step"])
            time.sleep(0.3)
            k.click(buttons["Continue"])

    chain = (
        "%%flow --step --out stepped\n---\nname: chain\nversion: 1.0.0\n---\n<workflow>\n"
        + "\n".join(
            f'<transform id="n{i}" type="template"'
            + (f' input="n{i - 1}"' if i else "")
            + f"><template>{i}</template></transform>"
            for i in range(6)
        )
        + "\n</workflow>\n"
    )
    started = time.monotonic()
    assert "completed" in result_text(kernel.run(chain, step))
    assert time.monotonic() - started >= 1.0  # it waited for the clicks
    assert len(clicks) == 3


def test_a_paused_run_resumes_from_its_resume_button(kernel: Kernel) -> None:
    """--checkpoints pause ends the cell paused with a Resume button; clicking it runs
    the rest below, where the checkpoint asks with its own buttons."""
    code = CHECKPOINT_FLOW.format(line="--checkpoints pause --out job", delay="1ms")
    messages = kernel.run(code, lambda b, k: None)
    assert "paused" in result_text(messages)
    resume_id = next(
        m["content"]["comm_id"]
        for m in messages
        if m["msg_type"] == "comm_open"
        and m["content"]["data"].get("state", {}).get("description") == "Resume"
    )
    kernel.click(resume_id)
    approved: list[str] = []

    def approve(buttons: dict[str, str], k: Kernel) -> None:
        if "Approve" in buttons and not approved:
            approved.append("yes")
            k.click(buttons["Approve"])

    # the resumed run works on the kernel's loop between cells; this cell waits for it
    waiting = kernel.run(
        "import asyncio\n"
        "from maidit_jupyter.notebook.magics import MaiditMagics\n"
        "runs = MaiditMagics.of(get_ipython()).runs\n"
        "for _ in range(200):\n"
        "    if len(runs) > 1 and runs[-1].record is not None:\n"
        "        break\n"
        "    await asyncio.sleep(0.05)\n"
        "print(len(runs), runs[-1].status, runs[-1].outputs.get('done'))",
        approve,
    )
    printed = [m for m in waiting if m["msg_type"] == "stream"]
    assert printed, waiting
    assert printed[-1]["content"]["text"].split() == ["2", "completed", "approve"]
