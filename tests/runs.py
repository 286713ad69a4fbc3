"""Running a flow through the API in a test, and cancelling it mid-run."""

from __future__ import annotations

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
