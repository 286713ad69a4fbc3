"""The collector settings a run changes are restored, also when runs overlap."""

from __future__ import annotations

import gc

import anyio

from maidit_jupyter._gc import RUN_GEN0_THRESHOLD, gc_paused, gc_relaxed


def test_gc_relaxed_raises_the_threshold_and_restores_it_after_the_last_run() -> None:
    before = gc.get_threshold()
    outer = gc_relaxed()
    inner = gc_relaxed()
    outer.__enter__()
    assert gc.get_threshold()[0] == max(before[0], RUN_GEN0_THRESHOLD)
    assert gc.isenabled()
    inner.__enter__()
    outer.__exit__(None, None, None)  # overlapping runs end in any order
    assert gc.get_threshold()[0] == max(before[0], RUN_GEN0_THRESHOLD)
    inner.__exit__(None, None, None)
    assert gc.get_threshold() == before


def test_gc_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_two_concurrent_runs_leave_the_thresholds_as_they_were() -> None:
    before = gc.get_threshold()

    async def run(delay: float) -> None:
        with gc_relaxed():
            await anyio.sleep(delay)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(run, 0.02)
            group.start_soon(run, 0.01)

    anyio.run(main)
    assert gc.get_threshold() == before
