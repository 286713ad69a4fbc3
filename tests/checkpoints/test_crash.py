"""Crash safety of checkpoints: a run killed at any point resumes to the same outputs.

A 35-node flow (8 waves, six parallel branches, python nodes that append their id to a
ledger each time they run, delays, maps, a template and eight file sinks) runs in a
child process (see ``crash_child.py``) that dies:

* **at every durable step**: a clean run is counted step by step (snapshot writes, one
  journal record per node and per wave, group fsyncs, sink writes, the final snapshot),
  then for every ``n`` a run ``os._exit(137)``\\ s just after step ``n``; some of the
  resumes are crashed too (compound faults);
* **at a random moment**: ``SIGKILL`` after ``U(0, T_clean)`` seconds, seeded (the seed
  is in every failure message; ``MAIDIT_CRASH_SEED`` replays one).

After every crash the checkpoint must read back, and it is resumed (or, when the crash
came before the first snapshot, the run is started again) until the run completes.
Then: the sink files are byte-equal to those of an uninterrupted run; no node recorded
in the checkpoint ran again (ledger, and the sink files' inodes); and every ledger node
ran exactly once plus once per crash it was in flight during (ran, not recorded).
"""

from __future__ import annotations

import json
import os
import queue
import random
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from maidit_jupyter.checkpoints import can_resume, journal_path, load_checkpoint
from maidit_jupyter.execution.state import NodeStatus, RunStatus
from tests.checkpoints import crash_child as child

CHILD = Path(child.__file__).resolve()
WORKERS = 2
#: a trial that has not completed after this many phases is a failure (no progress).
MAX_PHASES = 12
#: seconds a child may take to answer before the test gives up on it.
ANSWER_TIMEOUT = 60.0
RANDOM_KILLS = 100
PINNED_RUN_ID = "crash-run"
DEPENDENCIES = child.dependencies()


def default_seed() -> int:
    """``MAIDIT_CRASH_SEED``, a fixed seed under ``make unit``, else a fresh one."""
    if "MAIDIT_CRASH_SEED" in os.environ:
        return int(os.environ["MAIDIT_CRASH_SEED"])
    if os.environ.get("HYPOTHESIS_PROFILE") == "deterministic":
        return 20_241_122
    return random.SystemRandom().randrange(2**32)


SEED = default_seed()

#: the figures reported at the end of the module (``pytest -s`` shows them).
SUMMARY: dict[str, Any] = {}


# -- the child server ------------------------------------------------------------------


class Server:
    """A ``crash_child.py serve`` process: forks a fresh run per job (see its doc)."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self._log_handle = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_handle,
            text=True,
        )
        assert self._read() == {"ready": True}

    def _read(self) -> dict[str, Any]:
        stdout = self.proc.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], ANSWER_TIMEOUT)
        line = stdout.readline() if ready else ""
        if not line:
            self.proc.kill()
            raise AssertionError(f"the child server did not answer:\n{self.log_tail()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        stdin: IO[str] | None = self.proc.stdin
        assert stdin is not None
        stdin.write(json.dumps(request) + "\n")
        stdin.flush()
        return self._read()

    def start(self, job: dict[str, Any]) -> int:
        """Fork a process running ``job``; return its pid at once."""
        pid: int = self._ask({"op": "start", "job": job})["pid"]
        return pid

    def wait(self, pid: int) -> int:
        """Reap ``pid``; its exit code (``-9`` when killed)."""
        code: int = self._ask({"op": "wait", "pid": pid})["exit"]
        return code

    def log_tail(self, chars: int = 4000) -> str:
        self._log_handle.flush()
        return self.log.read_text(errors="replace")[-chars:]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log_handle.close()


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
    crash = SUMMARY.get("crash_points", 0)
    kills = SUMMARY.get("random_kills", 0)
    lost = SUMMARY.get("lost", 0)
    print(
        f"\n{crash} crash points survived, {kills} random kills survived, {lost} lost"
    )
    for key, value in sorted(SUMMARY.items()):
        print(f"  {key}: {value}")


# -- the golden run --------------------------------------------------------------------


@dataclass(frozen=True)
class Golden:
    """What an uninterrupted run produces."""

    outputs: dict[str, bytes]
    #: seconds from fork to exit of a clean public-API run (the SIGKILL window).
    seconds: float
    #: the durable steps of a clean pinned run, in the order they happened.
    steps: list[str]


def sink_outputs(directory: Path) -> dict[str, bytes]:
    return {
        relative: (directory / relative).read_bytes()
        for relative in child.SINK_FILES.values()
    }


def make_job(
    workdir: Path,
    *,
    api: str,
    action: str,
    checkpoint: Path | None = None,
    crash_after: int | None = None,
) -> dict[str, Any]:
    report = workdir / "report.json"
    report.unlink(missing_ok=True)
    return {
        "api": api,
        "action": action,
        "flow": str(workdir / child.FLOW_FILE),
        "state_dir": str(workdir / "state"),
        "run_id": PINNED_RUN_ID,
        "checkpoint": None if checkpoint is None else str(checkpoint),
        "crash_after": crash_after,
        "report": str(report),
    }


def read_report(workdir: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((workdir / "report.json").read_text())
    return report


def clean_run(server: Server, workdir: Path, api: str) -> tuple[dict[str, Any], float]:
    child.write_flow(workdir)
    job = make_job(workdir, api=api, action="run")
    began = time.monotonic()
    pid = server.start(job)
    code = server.wait(pid)
    seconds = time.monotonic() - began
    assert code == 0, server.log_tail()
    report = read_report(workdir)
    assert report["status"] == "completed", report["error"]
    return report, seconds


@pytest.fixture(scope="module")
def golden(
    servers: queue.Queue[Server], tmp_path_factory: pytest.TempPathFactory
) -> Golden:
    # The reference: a plain `python crash_child.py job ...` process, no fork, no hook.
    direct = tmp_path_factory.mktemp("golden")
    child.write_flow(direct)
    job = make_job(direct, api="public", action="run")
    done = subprocess.run(
        [sys.executable, str(CHILD), "job", json.dumps(job)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert read_report(direct)["status"] == "completed"
    outputs = sink_outputs(direct)
    server = servers.get()
    try:
        public_times = []
        for attempt in range(3):
            workdir = tmp_path_factory.mktemp(f"clean-public-{attempt}")
            _, seconds = clean_run(server, workdir, "public")
            assert sink_outputs(workdir) == outputs
            public_times.append(seconds)
        pinned_dir = tmp_path_factory.mktemp("clean-pinned")
        pinned, _ = clean_run(server, pinned_dir, "pinned")
        assert sink_outputs(pinned_dir) == outputs
        plan = load_checkpoint(pinned["checkpoint"]).plan
        assert len(plan) == child.WAVES, plan
        assert max(len(wave) for wave in plan) > child.CONCURRENCY, plan
        again_dir = tmp_path_factory.mktemp("clean-pinned-again")
        again, _ = clean_run(server, again_dir, "pinned")
    finally:
        servers.put(server)
    steps: list[str] = pinned["steps"]
    # The pinned run's steps are the same in number and kind every time.
    assert Counter(again["steps"]) == Counter(steps)
    return Golden(outputs=outputs, seconds=sorted(public_times)[1], steps=steps)


# -- one trial: crash, then resume until completed -------------------------------------


@dataclass(frozen=True)
class Fault:
    """How one phase of a trial is ended early: a crash hook or a SIGKILL."""

    crash_after: int | None = None
    kill_after: float | None = None


@dataclass
class Outcome:
    """What one trial went through."""

    label: str
    crashes: int = 0
    #: crashes that left no snapshot (before the first one): the run was started again.
    restarts: int = 0
    #: crashes after which the checkpoint was already complete.
    completed_on_disk: int = 0
    #: ledger executions repeated because the node was in flight during a crash.
    repeats: int = 0
    #: files left in the state folder by runs killed before their first snapshot
    #: (their lock, a temp of the snapshot): a fresh run has a new run id.
    stray_state_files: int = 0
    #: faults that came too late: the phase had already finished.
    late_faults: int = 0
    exits: list[int] = field(default_factory=list)


def find_checkpoint(workdir: Path) -> Path | None:
    found = sorted((workdir / "state" / child.WORKFLOW).glob("*.json"))
    assert len(found) <= 1, found
    return found[0] if found else None


def read_ledger(workdir: Path) -> list[str]:
    path = workdir / child.LEDGER
    return path.read_text().split() if path.exists() else []


def out_listing(workdir: Path) -> set[str]:
    out = workdir / "out"
    return {p.name for p in out.iterdir()} if out.is_dir() else set()


def recorded_after_crash(
    checkpoint: Path, workdir: Path, golden: Golden, outcome: Outcome
) -> tuple[set[str], bool]:
    """Load the checkpoint a crash left (it must read back) and check it; return the
    nodes it records as succeeded and whether the run was already complete."""
    loaded = load_checkpoint(checkpoint)
    assert loaded.status in (RunStatus.RUNNING, RunStatus.COMPLETED), loaded.status
    statuses = {n: s.result.status for n, s in loaded.results.items()}
    assert set(statuses.values()) <= {NodeStatus.SUCCESS}, statuses
    recorded = set(statuses)
    for node_id in recorded:
        missing = DEPENDENCIES[node_id] - recorded
        assert not missing, f"{node_id} is recorded but not its inputs {missing}"
    for node_id in recorded & child.SINK_FILES.keys():
        relative = child.SINK_FILES[node_id]
        data = (workdir / relative).read_bytes()
        assert data == golden.outputs[relative], f"{relative} recorded but differs"
    if loaded.status is RunStatus.COMPLETED:
        assert recorded == DEPENDENCIES.keys()
        outcome.completed_on_disk += 1
        return recorded, True
    assert can_resume(checkpoint)
    return recorded, False


def crash_and_recover(
    server: Server, workdir: Path, *, api: str, faults: list[Fault], golden: Golden
) -> Outcome:
    """Run the flow in ``workdir``, ending phase ``i`` early by ``faults[i]``, resuming
    after every crash until the run completes; check every invariant on the way."""
    outcome = Outcome(label=workdir.name)
    child.write_flow(workdir)
    seen = 0  # ledger lines read so far
    recorded: set[str] = set()  # nodes the checkpoint holds as succeeded
    in_flight: Counter[str] = Counter()
    sink_stats: dict[str, tuple[int, int]] = {}
    for phase in range(MAX_PHASES):
        fault = faults[phase] if phase < len(faults) else Fault()
        checkpoint = find_checkpoint(workdir)
        job = make_job(
            workdir,
            api=api,
            action="run" if checkpoint is None else "resume",
            checkpoint=checkpoint,
            crash_after=fault.crash_after,
        )
        pid = server.start(job)
        if fault.kill_after is not None:
            time.sleep(fault.kill_after)
            os.kill(pid, signal.SIGKILL)
        code = server.wait(pid)
        outcome.exits.append(code)
        ledger = read_ledger(workdir)
        executed, seen = ledger[seen:], len(ledger)
        assert len(executed) == len(set(executed)), f"ran twice in a phase: {executed}"
        again = set(executed) & recorded
        assert not again, f"phase {phase}: recorded nodes ran again: {sorted(again)}"
        if code == 0:
            report = read_report(workdir)
            assert report["status"] == "completed", report["error"]
            nodes = report["nodes"]
            assert set(nodes) == DEPENDENCIES.keys()
            assert {n["status"] for n in nodes.values()} == {"success"}
            reused = {node_id for node_id, n in nodes.items() if n["reused"]}
            assert reused == recorded, "the resume did not reuse exactly the record"
            if fault != Fault():
                outcome.late_faults += 1
            break
        assert code in (child.CRASH_EXIT, -signal.SIGKILL), server.log_tail()
        outcome.crashes += 1
        checkpoint = find_checkpoint(workdir)
        if checkpoint is None:
            assert not executed, "nodes ran before the first snapshot"
            assert not recorded, "a snapshot disappeared"
            outcome.restarts += 1
            continue
        now, complete = recorded_after_crash(checkpoint, workdir, golden, outcome)
        lost = recorded - now
        assert not lost, f"phase {phase}: the crash lost recorded nodes {sorted(lost)}"
        in_flight.update(set(executed) - now)
        for node_id in (now - recorded) & child.SINK_FILES.keys():
            info = (workdir / child.SINK_FILES[node_id]).stat()
            sink_stats[node_id] = (info.st_ino, info.st_mtime_ns)
        recorded = now
        if complete:
            break
    else:
        raise AssertionError(f"no completed run after {MAX_PHASES} phases")
    checkpoint = find_checkpoint(workdir)
    assert checkpoint is not None
    final = load_checkpoint(checkpoint)
    assert final.status is RunStatus.COMPLETED
    assert set(final.results) == DEPENDENCIES.keys()
    assert {s.result.status for s in final.results.values()} == {NodeStatus.SUCCESS}
    if outcome.exits[-1] == 0:
        assert not journal_path(checkpoint).exists()
    # (b) the outputs of an uninterrupted run, byte for byte
    assert sink_outputs(workdir) == golden.outputs
    # (c) a recorded sink was never written again
    for node_id, stat in sink_stats.items():
        info = (workdir / child.SINK_FILES[node_id]).stat()
        assert (info.st_ino, info.st_mtime_ns) == stat, f"{node_id} was rewritten"
    # (d) each ledger node ran once, plus once per crash it was in flight during
    counts = Counter(read_ledger(workdir))
    assert set(counts) == child.LEDGER_NODES
    for node_id in child.LEDGER_NODES:
        assert counts[node_id] == 1 + in_flight[node_id], (
            node_id,
            counts[node_id],
            in_flight[node_id],
        )
    outcome.repeats = sum(in_flight.values())
    # No temp file is left over: a sink that crashed mid-write runs again on resume and
    # removes the temp file of its crashed write first.
    expected = {Path(relative).name for relative in child.SINK_FILES.values()}
    extra = out_listing(workdir) - expected
    assert not extra, extra
    names = {p.name for p in checkpoint.parent.iterdir()}
    expected = {checkpoint.name, checkpoint.name + ".lock"}
    assert expected <= names, names
    names -= expected
    if outcome.exits[-1] != 0:  # crashed after the final snapshot, maybe before the
        names.discard(journal_path(checkpoint).name)  # journal was removed
    if api == "pinned":  # one run id throughout: its writer cleans up after crashes
        assert not names, names
    outcome.stray_state_files = len(names)
    return outcome


def run_trials(
    servers: queue.Queue[Server],
    trials: list[tuple[str, Callable[[Server], Outcome]]],
) -> list[Outcome]:
    """Run the trials on the servers in parallel; fail with every failure's label."""

    def one(item: tuple[str, Callable[[Server], Outcome]]) -> Outcome | str:
        label, trial = item
        server = servers.get()
        try:
            return trial(server)
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            return f"{label}: {type(exc).__name__}: {exc}"
        finally:
            servers.put(server)

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(one, trials))
    failures = [r for r in results if isinstance(r, str)]
    SUMMARY["lost"] = SUMMARY.get("lost", 0) + len(failures)
    if failures:
        pytest.fail(
            f"{len(failures)} of {len(trials)} trials failed (seed {SEED}):\n"
            + "\n".join(failures[:10])
        )
    return [r for r in results if isinstance(r, Outcome)]


def tally(prefix: str, outcomes: list[Outcome]) -> None:
    SUMMARY[f"{prefix}_restarts_before_first_snapshot"] = sum(
        o.restarts for o in outcomes
    )
    SUMMARY[f"{prefix}_complete_on_disk_at_crash"] = sum(
        o.completed_on_disk for o in outcomes
    )
    SUMMARY[f"{prefix}_in_flight_reruns"] = sum(o.repeats for o in outcomes)
    SUMMARY[f"{prefix}_stray_state_files"] = sum(o.stray_state_files for o in outcomes)
    SUMMARY[f"{prefix}_crashes"] = sum(o.crashes for o in outcomes)


# -- the tests -------------------------------------------------------------------------


def test_every_durable_step_is_a_survivable_crash_point(
    servers: queue.Queue[Server], golden: Golden, tmp_path: Path
) -> None:
    """Crash just after each durable step n of a clean run, then resume to the end; a
    sample of resumes is crashed too (compound faults)."""
    steps = golden.steps
    kinds = Counter(steps)
    nodes, waves, sinks = len(DEPENDENCIES), child.WAVES, len(child.SINK_FILES)
    # first snapshot, a record per node, a group fsync per wave, the sinks' atomic
    # writes, the final snapshot
    assert len(steps) == 5 + nodes + waves + 5 * sinks + 5, kinds
    began = time.monotonic()
    rng = random.Random(SEED)
    second = [1, 2, 4, 5, 6, 7, 9, 14, 25, 40]
    trials: list[tuple[str, Callable[[Server], Outcome]]] = []

    def add(label: str, faults: list[Fault]) -> None:
        def trial(server: Server) -> Outcome:
            return crash_and_recover(
                server, tmp_path / label, api="pinned", faults=faults, golden=golden
            )

        trials.append((label, trial))

    for n in range(1, len(steps) + 1):
        add(f"step-{n}-{steps[n - 1]}", [Fault(crash_after=n)])
    compound = rng.sample(range(1, len(steps) + 1), 24)
    for index, n in enumerate(compound):
        faults = [Fault(crash_after=n), Fault(crash_after=second[index % len(second)])]
        if index % 3 == 0:
            faults.append(Fault(crash_after=rng.choice(second)))
        add(f"compound-{n}-" + "-".join(str(f.crash_after) for f in faults[1:]), faults)
    outcomes = run_trials(servers, trials)
    single = outcomes[: len(steps)]
    assert all(o.exits[0] == child.CRASH_EXIT for o in single)
    SUMMARY["crash_points"] = len(steps) + len(compound)
    SUMMARY["crash_points_single"] = len(steps)
    SUMMARY["crash_points_compound"] = len(compound)
    SUMMARY["crash_step_kinds"] = dict(sorted(kinds.items()))
    SUMMARY["crash_compound_late_faults"] = sum(o.late_faults for o in outcomes)
    SUMMARY["crash_seconds"] = round(time.monotonic() - began, 1)
    tally("crash", outcomes)


def test_random_sigkill_is_survived(
    servers: queue.Queue[Server], golden: Golden, tmp_path: Path
) -> None:
    """SIGKILL a public-API run after U(0, T_clean) s, resume until completed; every
    fifth trial kills the first resume too."""
    began = time.monotonic()
    window = golden.seconds
    trials: list[tuple[str, Callable[[Server], Outcome]]] = []
    for index in range(RANDOM_KILLS):
        rng = random.Random(SEED * 1000 + index)
        faults = [Fault(kill_after=rng.uniform(0, window))]
        if index % 5 == 4:
            faults.append(Fault(kill_after=rng.uniform(0, window)))
        label = f"kill-{index}-" + "-".join(f"{f.kill_after:.3f}s" for f in faults)

        def trial(
            server: Server, label: str = label, faults: list[Fault] = faults
        ) -> Outcome:
            return crash_and_recover(
                server, tmp_path / label, api="public", faults=faults, golden=golden
            )

        trials.append((label, trial))
    outcomes = run_trials(servers, trials)
    SUMMARY["random_kills"] = len(outcomes)
    SUMMARY["random_seed"] = SEED
    SUMMARY["random_window_seconds"] = round(window, 3)
    SUMMARY["random_kills_after_finish"] = sum(o.late_faults for o in outcomes)
    SUMMARY["random_seconds"] = round(time.monotonic() - began, 1)
    tally("random", outcomes)
