"""Crash safety of checkpoints: a run killed at any point resumes to the same outputs.

Six reference flows (``reference_flows.py``: parallel waves and file sinks, a 40-link
chain whose journal is compacted mid-run, a foreach with a record and a file per item,
loop and while with records per iteration, if/branch/parallel with CSV and JSONL sinks,
include and call of a child flow), all with python nodes that append to a ledger each
time they run, run in child processes (``crash_child.py``) that die:

* **at every durable step** (design/reliability.md A1, A5; figure 1): a clean run is
  counted step by step (snapshot writes, one journal record per node, per iteration and
  per wave, group fsyncs, compactions, sink writes, the final snapshot), then for every
  ``n`` a run ``os._exit(137)``\\ s just after step ``n``; some of the resumes are
  crashed again (compound faults, up to depth 3);
* **at a random moment** (A2, figure 2): ``SIGKILL`` after ``U(0, T_clean)`` seconds,
  seeded (the seed is in every failure message; ``MAIDIT_CRASH_SEED`` replays one).

After every crash the checkpoint must read back, and it is resumed (or, when the crash
came before the first snapshot, the run is started again) until the run completes; see
``crash_harness.py`` for every check. How many points each level tries:

* unit (``make test``): every step of the branchy flow, every 4th step of the others;
* ci (``make reliability``): every step of every flow, once alone and once compound
  (depth 2, or 3 one time in three);
* long (``RELIABILITY_LONG=1``): every step alone and three times compound (depth 3).
"""

from __future__ import annotations

import os
import queue
import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import figures
from tests.checkpoints import crash_child as child
from tests.checkpoints.crash_harness import (
    WORKERS,
    Failure,
    Fault,
    Golden,
    Outcome,
    Server,
    Trial,
    crash_and_recover,
    direct_outputs,
    failure_counts,
    golden_run,
    run_trials,
)
from tests.checkpoints.reference_flows import FLOWS, ReferenceFlow

#: the flow whose every step is a crash point even at the unit level.
FIRST = "branchy"
#: steps after which a resumed process is crashed again (compound faults).
SECOND = [1, 2, 4, 5, 6, 7, 9, 14, 25, 40]
RANDOM_KILLS = figures.scale(unit=100, ci=100, long=1000)
LOSSES = ("lost", "corrupt", "divergent", "repeated")


def default_seed() -> int:
    """``MAIDIT_CRASH_SEED``, a fixed seed under ``make unit``, else a fresh one."""
    if "MAIDIT_CRASH_SEED" in os.environ:
        return int(os.environ["MAIDIT_CRASH_SEED"])
    if os.environ.get("HYPOTHESIS_PROFILE") == "deterministic":
        return 20_241_122
    return random.SystemRandom().randrange(2**32)


SEED = default_seed()

#: details reported at the end of the module (``pytest -s`` shows them).
SUMMARY: dict[str, Any] = {}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[queue.Queue[Server]]:
    logs = tmp_path_factory.mktemp("servers")
    pool: queue.Queue[Server] = queue.Queue()
    started = [Server(logs / f"server-{i}.log") for i in range(WORKERS)]
    for server in started:
        pool.put(server)
    yield pool
    for server in started:
        server.close()


@pytest.fixture(scope="module", autouse=True)
def summary() -> Iterator[dict[str, Any]]:
    yield SUMMARY
    print(f"\ncrash tests (seed {SEED}):")
    for key, value in sorted(SUMMARY.items()):
        print(f"  {key}: {value}")


@pytest.fixture(scope="module")
def goldens(
    servers: queue.Queue[Server], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Golden]:
    """Every flow's golden run; the reference outputs come from a plain process."""
    outputs = direct_outputs(FLOWS, tmp_path_factory.mktemp("direct"))
    server = servers.get()
    try:
        return {
            name: golden_run(
                server, flow, outputs[name], tmp_path_factory.mktemp(f"golden-{name}")
            )
            for name, flow in FLOWS.items()
        }
    finally:
        servers.put(server)


# -- which crash points each level tries -----------------------------------------------


def single_points(name: str, steps: int) -> list[int]:
    """The steps crashed once: all of them, or every 4th at the unit level."""
    stride = 1 if name == FIRST else figures.scale(unit=4, ci=1, long=1)
    return list(range(1 + (steps - 1) % stride, steps + 1, stride))


def compound_faults(name: str, steps: int, rng: random.Random) -> list[list[Fault]]:
    """Crash at step n, then crash the resume, and some of the time its resume too: a
    sample of n at the unit level; every n at ci (depth 3 one time in three); every n
    three times over, always depth 3, at the long level."""
    if figures.LEVEL in ("ci", "long"):
        firsts = list(range(1, steps + 1)) * (3 if figures.LEVEL == "long" else 1)
    else:
        firsts = rng.sample(range(1, steps + 1), min(24 if name == FIRST else 4, steps))
    plans = []
    for index, n in enumerate(firsts):
        faults = [Fault(crash_after=n), Fault(crash_after=rng.choice(SECOND))]
        if index % 3 == 0 or figures.LEVEL == "long":
            faults.append(Fault(crash_after=rng.choice(SECOND)))
        plans.append(faults)
    return plans


def trial_of(
    flow: ReferenceFlow, workdir: Path, api: str, faults: list[Fault], golden: Golden
) -> Trial:
    def trial(server: Server) -> Outcome:
        return crash_and_recover(
            server, flow, workdir, api=api, faults=faults, golden=golden
        )

    return workdir.name, trial


def tally(prefix: str, outcomes: list[Outcome]) -> None:
    SUMMARY[f"{prefix}_crashes"] = sum(o.crashes for o in outcomes)
    SUMMARY[f"{prefix}_restarts_before_first_snapshot"] = sum(
        o.restarts for o in outcomes
    )
    SUMMARY[f"{prefix}_complete_on_disk_at_crash"] = sum(
        o.completed_on_disk for o in outcomes
    )
    SUMMARY[f"{prefix}_in_flight_reruns"] = sum(o.repeats for o in outcomes)
    SUMMARY[f"{prefix}_stray_state_files"] = sum(o.stray_state_files for o in outcomes)
    SUMMARY[f"{prefix}_late_faults"] = sum(o.late_faults for o in outcomes)
    SUMMARY[f"{prefix}_in_flight_unflagged"] = sum(o.unflagged for o in outcomes)


def count_effects(outcomes: list[Outcome], failures: list[Failure]) -> list[str]:
    """Add the trials to figure 5 (duplicate side effects); the problems found."""
    repeated = failure_counts(failures, {"repeated"})["repeated"]
    unflagged = [o for o in outcomes if o.unflagged]
    figures.count(
        "duplicate effects",
        trials=len(outcomes) + len(failures),
        crashes=sum(o.crashes for o in outcomes),
        extra=sum(o.repeats for o in outcomes),
        unflagged=sum(o.unflagged for o in outcomes),
        repeated=repeated,
    )
    return [
        f"{o.label}: {o.unflagged} in-flight runs not flagged in the checkpoint"
        for o in unflagged
    ]


# -- the tests -------------------------------------------------------------------------


@pytest.mark.reliability
@pytest.mark.parametrize("name", FLOWS)
def test_every_durable_step_is_a_survivable_crash_point(
    name: str, servers: queue.Queue[Server], goldens: dict[str, Golden], tmp_path: Path
) -> None:
    """Crash just after durable step n of a clean run (every n, or a stride at the unit
    level), then resume to the end; some resumes are crashed too (compound faults).
    Nothing recorded is lost or redone, no checkpoint is unreadable, and the outputs
    are those of an uninterrupted run."""
    flow, golden = FLOWS[name], goldens[name]
    steps = golden.steps
    began = time.monotonic()
    rng = random.Random(f"{SEED}-{name}")
    trials: list[Trial] = []
    for n in single_points(name, len(steps)):
        label = f"{name}-step-{n}-{steps[n - 1]}"
        trials.append(trial_of(flow, tmp_path / label, "pinned", [Fault(n)], golden))
    singles = len(trials)
    for index, faults in enumerate(compound_faults(name, len(steps), rng)):
        after = "-".join(str(f.crash_after) for f in faults)
        label = f"{name}-compound-{index}-after-{after}"
        trials.append(trial_of(flow, tmp_path / label, "pinned", faults, golden))
    outcomes, failures = run_trials(servers, trials)
    losses = failure_counts(failures, set(LOSSES))
    figures.count(
        "crash points",
        points=len(trials),
        flows=1,
        compound=len(trials) - singles,
        lost=losses["lost"] + losses["repeated"],
        corrupt=losses["corrupt"],
        divergent=losses["divergent"],
    )
    problems = [*map(str, failures), *count_effects(outcomes, failures)]
    SUMMARY[f"{name}_steps"] = dict(sorted(Counter(steps).items()))
    SUMMARY[f"{name}_points"] = f"{singles} single + {len(trials) - singles} compound"
    SUMMARY[f"{name}_seconds"] = round(time.monotonic() - began, 1)
    tally(name, outcomes)
    if problems:
        pytest.fail(
            f"{len(problems)} of {len(trials)} crash points failed ({flow.paths}; "
            f"seed {SEED}):\n" + "\n".join(problems[:10])
        )
    single = [o for o in outcomes if "-step-" in o.label]
    assert all(o.exits[0] == child.CRASH_EXIT for o in single)


@pytest.mark.reliability
def test_random_sigkill_is_survived(
    servers: queue.Queue[Server], goldens: dict[str, Golden], tmp_path: Path
) -> None:
    """SIGKILL a public-API run after U(0, T_clean) s (the flows take turns), resume
    until completed; every fifth trial kills the first resume too."""
    began = time.monotonic()
    names = list(FLOWS)
    trials: list[Trial] = []
    for index in range(RANDOM_KILLS):
        name = names[index % len(names)]
        rng = random.Random(SEED * 1000 + index)
        window = goldens[name].seconds
        faults = [Fault(kill_after=rng.uniform(0, window))]
        if index % 5 == 4:
            faults.append(Fault(kill_after=rng.uniform(0, window)))
        label = f"kill-{index}-{name}-" + "-".join(
            f"{f.kill_after:.3f}s" for f in faults
        )
        flow, golden = FLOWS[name], goldens[name]
        trials.append(trial_of(flow, tmp_path / label, "public", faults, golden))
    outcomes, failures = run_trials(servers, trials)
    problems = [*map(str, failures), *count_effects(outcomes, failures)]
    figures.count("random kills", kills=len(trials), failures=len(problems))
    SUMMARY["random_kills"] = len(trials)
    SUMMARY["random_windows_seconds"] = {n: round(goldens[n].seconds, 3) for n in names}
    SUMMARY["random_seconds"] = round(time.monotonic() - began, 1)
    tally("random", outcomes)
    if problems:
        pytest.fail(
            f"{len(problems)} of {len(trials)} random kills failed (seed {SEED}):\n"
            + "\n".join(problems[:10])
        )
