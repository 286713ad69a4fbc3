"""The parent side of the crash tests: child servers, golden runs, and one trial.

A *trial* runs a reference flow (``reference_flows.py``) in a forked child
(``crash_child.py``), ends its phases early by the faults it is given (a crash hook after
durable step n, or a ``SIGKILL`` after t seconds), and resumes after every crash until the
run completes, checking after each crash and at the end:

* the checkpoint reads back, is consistent (a node is recorded only after its inputs,
  only with the status it has in a clean run) and resumable (or already complete);
* nothing it recorded is lost later, runs again (ledger) or is rewritten (sink inodes);
* every node whose effect happened without being recorded (in flight at the crash) is
  *flagged* in the checkpoint (``in_flight``), so the resume warns it may act twice;
* the sink files it covers already hold their final bytes;
* at the end: the outputs are byte-equal to the golden run's, the final checkpoint is
  complete, every ledger name ran once plus once per crash it was in flight during, and
  no temp file or stray state file is left.

A failed check raises :class:`Lost`, :class:`Corrupt` or :class:`Divergent` (any other
failure counts as divergent), so the figures can say what went wrong.
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from maidit_jupyter.checkpoints import can_resume, journal_path, load_checkpoint
from maidit_jupyter.errors import CheckpointError
from maidit_jupyter.execution.state import NodeStatus, RunStatus
from tests.checkpoints import crash_child as child
from tests.checkpoints.reference_flows import FLOW_FILE, LEDGER, ReferenceFlow

WORKERS = 2
#: a trial that has not completed after this many phases is a failure (no progress).
MAX_PHASES = 12
#: seconds a child may take to answer before the test gives up on it.
ANSWER_TIMEOUT = 60.0
PINNED_RUN_ID = "crash-run"


class Lost(AssertionError):
    """A recorded node or iteration was lost: gone from a later checkpoint, or its
    effect (ledger line, sink file) happened again."""

    category = "lost"


class Repeated(Lost):
    """A recorded effect happened again: a covered ledger name ran, a covered sink file
    was rewritten (duplicate side effects of figure 5)."""

    category = "repeated"


class Corrupt(AssertionError):
    """A checkpoint did not read back, or what it says is impossible."""

    category = "corrupt"


class Divergent(AssertionError):
    """The run did not end like an uninterrupted one (outputs, statuses, counts)."""

    category = "divergent"


def category(exc: BaseException) -> str:
    """The figure column a failed trial counts in."""
    found: str = getattr(exc, "category", "divergent")
    return found


# -- the child server ------------------------------------------------------------------


class Server:
    """A ``crash_child serve`` process: forks a fresh run per job (see its doc)."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self._log_handle = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.checkpoints.crash_child", "serve"],
            cwd=child.ROOT,
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


# -- jobs and what they leave ----------------------------------------------------------


def make_job(
    flow: ReferenceFlow,
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
        "name": flow.name,
        "api": api,
        "action": action,
        "flow": str(workdir / FLOW_FILE),
        "state_dir": str(workdir / "state"),
        "run_id": PINNED_RUN_ID,
        "checkpoint": None if checkpoint is None else str(checkpoint),
        "crash_after": crash_after,
        "report": str(report),
    }


def read_report(workdir: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((workdir / "report.json").read_text())
    return report


def sink_outputs(flow: ReferenceFlow, directory: Path) -> dict[str, bytes]:
    """The bytes of every sink file of ``flow`` under ``directory``."""
    return {relative: (directory / relative).read_bytes() for relative in flow.sinks}


def find_checkpoint(flow: ReferenceFlow, workdir: Path) -> Path | None:
    found = sorted((workdir / "state" / flow.name).glob("*.json"))
    assert len(found) <= 1, found
    return found[0] if found else None


def read_ledger(workdir: Path) -> list[str]:
    path = workdir / LEDGER
    return path.read_text().split() if path.exists() else []


def out_listing(workdir: Path) -> set[str]:
    out = workdir / "out"
    return {p.name for p in out.iterdir()} if out.is_dir() else set()


# -- the golden run --------------------------------------------------------------------


@dataclass(frozen=True)
class Golden:
    """What an uninterrupted run of one flow produces."""

    outputs: dict[str, bytes]
    #: every node's status (nested ones too) at the end of a clean run.
    statuses: dict[str, str]
    #: seconds from fork to exit of a clean public-API run (the SIGKILL window).
    seconds: float
    #: the durable steps of a clean pinned run, in the order they happened.
    steps: list[str]


def direct_outputs(
    flows: Mapping[str, ReferenceFlow], base: Path
) -> dict[str, dict[str, bytes]]:
    """Each flow run by a plain ``crash_child jobs`` process (no fork, no crash hook):
    the reference outputs."""
    jobs = []
    for flow in flows.values():
        flow.write(base / flow.name)
        jobs.append(make_job(flow, base / flow.name, api="public", action="run"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.checkpoints.crash_child",
            "jobs",
            json.dumps(jobs),
        ],
        cwd=child.ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    outputs = {}
    for flow in flows.values():
        assert read_report(base / flow.name)["status"] == "completed", flow.name
        outputs[flow.name] = sink_outputs(flow, base / flow.name)
    return outputs


def clean_run(
    server: Server, flow: ReferenceFlow, workdir: Path, api: str
) -> tuple[dict[str, Any], float]:
    flow.write(workdir)
    job = make_job(flow, workdir, api=api, action="run")
    began = time.monotonic()
    pid = server.start(job)
    code = server.wait(pid)
    seconds = time.monotonic() - began
    assert code == 0, server.log_tail()
    report = read_report(workdir)
    assert report["status"] == "completed", report["error"]
    return report, seconds


def golden_run(
    server: Server, flow: ReferenceFlow, outputs: dict[str, bytes], base: Path
) -> Golden:
    """Three public and two pinned clean runs on a server: each gives ``outputs``; the
    pinned runs count the same durable steps, and every kind ``flow`` expects."""
    public_times = []
    for attempt in range(3):
        workdir = base / f"public-{attempt}"
        _, seconds = clean_run(server, flow, workdir, "public")
        assert sink_outputs(flow, workdir) == outputs
        public_times.append(seconds)
    pinned, _ = clean_run(server, flow, base / "pinned", "pinned")
    assert sink_outputs(flow, base / "pinned") == outputs
    plan = load_checkpoint(pinned["checkpoint"]).plan
    assert {node for wave in plan for node in wave} == flow.deps.keys(), plan
    again, _ = clean_run(server, flow, base / "pinned-again", "pinned")
    steps: list[str] = pinned["steps"]
    assert Counter(again["steps"]) == Counter(steps)
    counted = Counter(steps)
    for kind, least in flow.expect_steps.items():
        assert counted[kind] >= least, (kind, counted)
    statuses = {node: n["status"] for node, n in pinned["nodes"].items()}
    assert set(statuses) >= flow.deps.keys()
    return Golden(outputs, statuses, sorted(public_times)[1], steps)


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
    #: in-flight ledger executions whose node the checkpoint did not flag.
    unflagged: int = 0
    #: files left in the state folder by runs killed before their first snapshot
    #: (their lock, a temp of the snapshot): a fresh run has a new run id.
    stray_state_files: int = 0
    #: faults that came too late: the phase had already finished.
    late_faults: int = 0
    exits: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class OnDisk:
    """What a checkpoint left by a crash holds."""

    #: scheduled nodes recorded as succeeded
    done: frozenset[str]
    #: ledger names and sink files it covers (see ``reference_flows.Unit``)
    ledger: frozenset[str]
    sinks: frozenset[str]
    complete: bool
    #: scheduled nodes flagged as maybe having acted (their own or a nested node's
    #: intent without a result)
    flagged: frozenset[str] = frozenset()


def read_on_disk(
    checkpoint: Path, workdir: Path, flow: ReferenceFlow, golden: Golden
) -> OnDisk:
    """Load the checkpoint a crash left and check it (see the module doc)."""
    try:
        loaded = load_checkpoint(checkpoint)
    except CheckpointError as exc:
        raise Corrupt(f"the checkpoint does not read back: {exc}") from exc
    if loaded.status not in (RunStatus.RUNNING, RunStatus.COMPLETED):
        raise Corrupt(f"a crashed run's checkpoint says {loaded.status}")
    for node_id, stored in loaded.results.items():
        if str(stored.result.status) != golden.statuses.get(node_id):
            raise Corrupt(f"{node_id} recorded as {stored.result.status}")
    done = frozenset(
        node_id
        for node_id, stored in loaded.results.items()
        if node_id in flow.deps and stored.result.status is NodeStatus.SUCCESS
    )
    for node_id in done:
        if missing := flow.deps[node_id] - done:
            raise Corrupt(f"{node_id} is recorded but not its inputs {missing}")
    sinks = frozenset(flow.covered_sinks(done, loaded.iterations))
    for relative in sinks:
        path = workdir / relative
        if not path.exists() or path.read_bytes() != golden.outputs[relative]:
            raise Divergent(f"{relative} is recorded but differs from the golden run")
    complete = loaded.status is RunStatus.COMPLETED
    if complete and done != flow.deps.keys():
        raise Corrupt(f"complete without {sorted(flow.deps.keys() - done)}")
    if not complete and not can_resume(checkpoint):
        raise Corrupt("a crashed run's checkpoint is not resumable")
    ledger = frozenset(flow.covered_ledger(done, loaded.iterations))
    flagged = frozenset(intent.owner for intent in loaded.in_flight)
    return OnDisk(done, ledger, sinks, complete, flagged)


@dataclass
class Progress:
    """What a trial has seen so far: what the checkpoint holds and what ran."""

    seen: int = 0  # ledger lines read so far
    held: OnDisk = OnDisk(frozenset(), frozenset(), frozenset(), complete=False)
    in_flight: Counter[str] = field(default_factory=Counter)
    sink_stats: dict[str, tuple[int, int]] = field(default_factory=dict)

    def ran(self, workdir: Path, phase: int) -> list[str]:
        """The ledger names of the phase that just ended; none the checkpoint held."""
        ledger = read_ledger(workdir)
        executed, self.seen = ledger[self.seen :], len(ledger)
        if len(executed) != len(set(executed)):
            raise Repeated(f"phase {phase}: ran twice in a phase: {executed}")
        if again := set(executed) & self.held.ledger:
            raise Repeated(f"phase {phase}: recorded nodes ran again: {sorted(again)}")
        return executed

    def crashed(
        self, now: OnDisk, executed: list[str], workdir: Path, flow: ReferenceFlow
    ) -> int:
        """Take in the checkpoint a crash left: nothing held before may be gone. The
        number of in-flight executions whose node is not flagged."""
        if lost := self.held.done - now.done:
            raise Lost(f"the crash lost recorded nodes {sorted(lost)}")
        if lost := self.held.ledger - now.ledger:
            raise Lost(f"the crash lost recorded iterations {sorted(lost)}")
        in_flight = set(executed) - now.ledger
        self.in_flight.update(in_flight)
        for relative in now.sinks - self.sink_stats.keys():
            info = (workdir / relative).stat()
            self.sink_stats[relative] = (info.st_ino, info.st_mtime_ns)
        self.held = now
        return sum(1 for name in in_flight if flow.ledger[name].node not in now.flagged)


def completed_phase(
    report: dict[str, Any], flow: ReferenceFlow, golden: Golden, progress: Progress
) -> None:
    """A phase that exited 0: completed like a clean run, reusing what was held."""
    if report["status"] != "completed":
        raise Divergent(f"the run ended {report['status']}: {report['error']}")
    statuses = {node: n["status"] for node, n in report["nodes"].items()}
    if statuses != golden.statuses:
        raise Divergent(f"node statuses differ: {statuses}")
    nodes = report["nodes"]
    reused = {node for node in flow.deps if nodes[node]["reused"]}
    if reused != progress.held.done:
        raise Lost(f"reused {sorted(reused)}, held {sorted(progress.held.done)}")


def crash_and_recover(
    server: Server,
    flow: ReferenceFlow,
    workdir: Path,
    *,
    api: str,
    faults: list[Fault],
    golden: Golden,
) -> Outcome:
    """Run ``flow`` in ``workdir``, ending phase ``i`` early by ``faults[i]``, resuming
    after every crash until the run completes; check every invariant on the way."""
    outcome = Outcome(label=workdir.name)
    flow.write(workdir)
    progress = Progress()
    for phase in range(MAX_PHASES):
        fault = faults[phase] if phase < len(faults) else Fault()
        checkpoint = find_checkpoint(flow, workdir)
        job = make_job(
            flow,
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
        executed = progress.ran(workdir, phase)
        if code == 0:
            completed_phase(read_report(workdir), flow, golden, progress)
            outcome.late_faults += fault != Fault()
            break
        if code not in (child.CRASH_EXIT, -signal.SIGKILL):
            raise Divergent(f"the run exited {code}:\n{server.log_tail()}")
        outcome.crashes += 1
        checkpoint = find_checkpoint(flow, workdir)
        if checkpoint is None:
            if executed:
                raise Divergent(f"nodes ran before the first snapshot: {executed}")
            if progress.held.done:
                raise Lost("a snapshot disappeared")
            outcome.restarts += 1
            continue
        now = read_on_disk(checkpoint, workdir, flow, golden)
        outcome.unflagged += progress.crashed(now, executed, workdir, flow)
        if now.complete:
            outcome.completed_on_disk += 1
            break
    else:
        raise Divergent(f"no completed run after {MAX_PHASES} phases")
    check_the_end(flow, workdir, golden, progress, outcome, api=api)
    return outcome


def check_the_end(
    flow: ReferenceFlow,
    workdir: Path,
    golden: Golden,
    progress: Progress,
    outcome: Outcome,
    *,
    api: str,
) -> None:
    """The trial's end state: as an uninterrupted run's, with each effect once (plus the
    in-flight repeats) and nothing left over."""
    checkpoint = find_checkpoint(flow, workdir)
    assert checkpoint is not None
    final = load_checkpoint(checkpoint)
    if final.status is not RunStatus.COMPLETED:
        raise Divergent(f"the final checkpoint says {final.status}")
    statuses = {node: str(s.result.status) for node, s in final.results.items()}
    if statuses != golden.statuses:
        raise Divergent(f"the final checkpoint's statuses differ: {statuses}")
    if outcome.exits[-1] == 0 and journal_path(checkpoint).exists():
        raise Divergent("a completed run left its journal")
    if sink_outputs(flow, workdir) != golden.outputs:
        raise Divergent("the outputs differ from the golden run")
    for relative, stat in progress.sink_stats.items():
        info = (workdir / relative).stat()
        if (info.st_ino, info.st_mtime_ns) != stat:
            raise Repeated(f"{relative} was rewritten after it was recorded")
    check_ledger(flow, workdir, progress.in_flight)
    outcome.repeats = sum(progress.in_flight.values())
    # No temp file is left over: a sink that crashed mid-write runs again on resume and
    # removes the temp file of its crashed write first.
    expected = {Path(relative).name for relative in flow.sinks}
    if extra := out_listing(workdir) - expected:
        raise Divergent(f"files left in out/: {sorted(extra)}")
    names = {p.name for p in checkpoint.parent.iterdir()}
    expected = {checkpoint.name, checkpoint.name + ".lock"}
    assert expected <= names, names
    names -= expected
    if outcome.exits[-1] != 0:  # crashed after the final snapshot, maybe before the
        names.discard(journal_path(checkpoint).name)  # journal was removed
    if api == "pinned" and names:  # one run id throughout: its writer cleans up
        raise Divergent(f"files left in the state folder: {sorted(names)}")
    outcome.stray_state_files = len(names)


def check_ledger(flow: ReferenceFlow, workdir: Path, in_flight: Counter[str]) -> None:
    """Each ledger name ran once, plus once per crash it was in flight during."""
    counts = Counter(read_ledger(workdir))
    if set(counts) != flow.ledger.keys():
        raise Divergent(
            f"ledger names differ: {sorted(set(counts) ^ flow.ledger.keys())}"
        )
    for name in flow.ledger:
        if counts[name] > 1 + in_flight[name]:
            raise Repeated(
                f"{name} ran {counts[name]} times, {in_flight[name]} in flight"
            )
        if counts[name] < 1 + in_flight[name]:
            raise Divergent(
                f"{name} ran {counts[name]} times, {in_flight[name]} in flight"
            )


# -- many trials at once ---------------------------------------------------------------

Trial = tuple[str, Callable[[Server], Outcome]]


@dataclass
class Failure:
    """A trial that failed: its label, the figure column and the message."""

    label: str
    category: str
    message: str

    def __str__(self) -> str:
        return f"{self.label}: {self.category}: {self.message}"


def run_trials(
    servers: queue.Queue[Server], trials: list[Trial]
) -> tuple[list[Outcome], list[Failure]]:
    """Run the trials on the servers in parallel; the outcomes and the failures."""

    def one(item: Trial) -> Outcome | Failure:
        label, trial = item
        server = servers.get()
        try:
            return trial(server)
        except Exception as exc:  # noqa: BLE001 - collected and reported by the caller
            return Failure(label, category(exc), f"{type(exc).__name__}: {exc}")
        finally:
            servers.put(server)

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(one, trials))
    outcomes = [r for r in results if isinstance(r, Outcome)]
    return outcomes, [r for r in results if isinstance(r, Failure)]


def failure_counts(failures: list[Failure], names: AbstractSet[str]) -> dict[str, int]:
    """``{name: how many failures of that category}`` for every name in ``names``."""
    counts = Counter(failure.category for failure in failures)
    return {name: counts[name] for name in names}
