"""Running a flow through the API in a test, and cancelling it mid-run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import anyio

import maidit_jupyter
from maidit_jupyter import FlowRun


def run_cancelled_after(
    flow: Path, seconds: float, **options: Any
) -> tuple[FlowRun, float]:
    """Run ``flow`` with :func:`maidit_jupyter.run` and call ``cancel()`` on the run
    after ``seconds`` (as the notebook's Cancel button does); return the run and how
    many seconds the whole took."""
    started_runs: list[FlowRun] = []

    async def main() -> FlowRun:
        async with anyio.create_task_group() as group:

            async def cancel_soon() -> None:
                await anyio.sleep(seconds)
                started_runs[0].cancel()

            group.start_soon(cancel_soon)
            flow_run = await maidit_jupyter.run(
                flow, on_start=started_runs.append, **options
            )
        return flow_run

    started = time.perf_counter()
    flow_run = anyio.run(main)
    return flow_run, time.perf_counter() - started


#: a flow module whose ``send(data, name)`` appends ``name`` to ``sent.txt`` and then,
#: when a file ``crash-<name>`` exists next to it, kills the process: the effect
#: happened, its result was never recorded.
CRASHING_SENDER = textwrap.dedent(
    """
    import os
    from pathlib import Path

    HERE = Path(__file__).parent

    def send(data=None, name=""):
        with (HERE / "sent.txt").open("a") as handle:
            handle.write(f"{name}\\n")
        if (HERE / f"crash-{name}").exists():
            os._exit(137)  # after the effect, before its result
        return {"sent": name}
    """
)


def maidit_until_killed(argv: list[str], cwd: Path) -> None:
    """Run ``python -m maidit_jupyter ARGV`` and check that it died inside a node."""
    done = subprocess.run(
        [sys.executable, "-m", "maidit_jupyter", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 137, done.stderr


def sent(folder: Path) -> list[str]:
    """The names ``send`` of :data:`CRASHING_SENDER` wrote, in order."""
    path = folder / "sent.txt"
    return path.read_text().split() if path.exists() else []
