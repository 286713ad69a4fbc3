"""H1 (design/reliability.md §1.18 and row H1): a ``%%flow`` cell interrupted in a real
kernel stops cleanly, and its run resumes.

How an interrupt arrives (ipykernel 7): ``KernelManager.interrupt_kernel()`` sends
``SIGINT`` to the kernel's process group. While a cell awaits at top level, as a
``%%flow`` cell does, ipykernel's handler cancels the cell's task: the engine sees a
cancellation (``CancelledError``), not a ``KeyboardInterrupt``, and the cell ends with
``CancelledError``. Between cells, and in the first moments of an execute request
(after ``busy``, before its handler), the kernel ignores ``SIGINT`` (``SIG_IGN``): the
cell then runs to its end. In the rest of the request outside that await, ``SIGINT``
raises ``KeyboardInterrupt`` in the kernel, which logs it: the cell does not run, or
has run.

What is proved, per trial, in one kernel started through jupyter_client (restarted only
if it dies): a ``%%flow`` cell of a flow with slow nodes (delays, a concurrent foreach of
delays, a blocking Python node in a worker thread, an async one), alternately headless
(``--no-widget``) and with the live panel, is interrupted at a seeded random moment
U(0, T_clean) after it was sent. Wherever the interrupt lands (before the cell, before
the run, mid-run, too late to cancel, after the cell):

* the cell returns less than 2 s after an interrupt the kernel did not ignore, and a
  cell whose run was cancelled ends with an error (so the cells queued after it do not
  run);
* the run's checkpoint, read back from disk, loads, says what the run object says
  (``cancelled``, or ``completed`` when the interrupt came too late), has a terminal
  result for every scheduled node, every node of a cancelled run that did not succeed
  marked cancelled, and ``can_resume`` agrees;
* no task of the kernel's event loop runs engine code (checked first thing in the next
  cell, and again after the resume);
* ``%maidit resume`` completes the run, with outputs equal to those of an uninterrupted
  run;
* the kernel still answers a trivial request.

``MAIDIT_INTERRUPT_SEED`` replays a trial sequence (the seed is printed, and named in
every failure); the number of trials follows ``figures.scale``.
"""

from __future__ import annotations

import json
import os
import queue
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel

from tests import figures

ROOT = Path(__file__).resolve().parents[2]
FIGURE = "kernel interrupts"
#: how long after the interrupt the cell must have returned (row H1).
RETURN_LIMIT = 2.0
#: a trial stops when its cell has not returned by then: the kernel hung.
CELL_TIMEOUT = 30.0

BODY = """---
name: interrupts
version: 1.0.0
---
<workflow>
  <source id="numbers" type="python" var="numbers"/>
  <delay id="warm" input="numbers" duration="250ms"/>
  <delay id="aside" input="numbers" duration="150ms"/>
  <transform id="doubled" type="python" input="warm" function="double_slowly"/>
  <foreach id="each" input="warm" collection="input" item="n" concurrency="4">
    <delay id="tick" duration="300ms"/>
    <transform id="label" type="template" input="tick"><template>tick {{ n }}</template></transform>
  </foreach>
  <transform id="total" type="python" input="doubled" function="total_slowly"/>
  <delay id="cool" input="total" duration="250ms"/>
  <transform id="summary" type="template" input="cool">
    <template>{{ input }} after {{ length(each.output) }} ticks and {{ aside.output }}</template>
  </transform>
</workflow>
"""

SETUP = """%load_ext maidit_jupyter
from tests.notebook import kernel_probe
from tests.notebook.kernel_probe import double_slowly, total_slowly
numbers = [1, 2, 3, 4]
"""

MODES = ("--no-widget", "")  # headless, then the live panel (a person's notebook)


def flow_cell(mode: str) -> str:
    return f"%%flow interrupts {mode}".rstrip() + "\n" + BODY


@dataclass
class Cell:
    """What one executed cell sent back."""

    stdout: str = ""
    #: the exception name of an ``error`` message, if any
    error: str | None = None
    result: str | None = None
    #: seconds from sending the cell to its ``idle`` status
    took: float = 0.0
    #: seconds from the interrupt to the ``idle`` status (negative: idle came first)
    returned_after: float | None = None
    #: the kernel took the cell up (``execute_input``) only after the interrupt was
    #: sent: it was idle, or not yet in the request's handler, and ignored the signal
    taken_after_interrupt: bool = False

    def json(self) -> Any:
        lines = self.stdout.strip().splitlines()
        if not lines:
            raise AssertionError(f"the cell printed nothing (error: {self.error})")
        return json.loads(lines[-1])


class Kernel:
    """A real kernel started through jupyter_client, its cells and its interrupts."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.manager: KernelManager
        self.client: BlockingKernelClient
        self.start()

    def start(self) -> None:
        env = dict(os.environ)
        env.pop("CI", None)  # the panel shows where no CI is set: both paths are tried
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT), env.get("PYTHONPATH")])
        )
        self.manager, self.client = start_new_kernel(
            kernel_name="python3", cwd=str(self.directory), env=env
        )
        setup = self.execute(SETUP)
        assert setup.error is None, setup

    def restart(self) -> None:
        self.close()
        self.start()

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def execute(
        self,
        code: str,
        *,
        interrupt_after: float | None = None,
        timeout: float = CELL_TIMEOUT,
    ) -> Cell:
        """Run ``code`` until the kernel is idle again; with ``interrupt_after``, send
        an interrupt that many seconds after the cell, even when it has ended by then
        (the interrupt then lands between cells)."""
        self._drain_replies()
        msg_id = self.client.execute(code, allow_stdin=True)
        sent = time.monotonic()
        cell = Cell()
        interrupted: float | None = None
        interrupted_at = taken_at = None  # wall clock, as in the kernel's headers
        idle: float | None = None
        while idle is None or (interrupt_after is not None and interrupted is None):
            now = time.monotonic()
            if interrupt_after is not None and interrupted is None:
                if now - sent >= interrupt_after:
                    interrupted_at = datetime.now(UTC)
                    self.manager.interrupt_kernel()
                    interrupted = now = time.monotonic()
                    continue
                wait = min(0.05, max(0.0, sent + interrupt_after - now))
            else:
                wait = 0.05
            if now - sent > timeout:
                raise TimeoutError(f"the cell did not return in {timeout:g} s")
            if idle is not None:  # only the interrupt is left to send
                time.sleep(wait)
                continue
            try:
                msg = self.client.get_iopub_msg(timeout=wait)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content["name"] == "stdout":
                cell.stdout += content["text"]
            elif kind == "error":
                cell.error = content["ename"]
            elif kind == "execute_result":
                cell.result = content["data"].get("text/plain")
            elif kind == "execute_input":
                taken_at = msg["header"]["date"]
            elif kind == "status" and content["execution_state"] == "idle":
                idle = time.monotonic()
        cell.took = idle - sent
        if interrupted is not None:
            cell.returned_after = idle - interrupted
        if interrupted_at is not None and taken_at is not None:
            cell.taken_after_interrupt = taken_at > interrupted_at
        return cell

    def _drain_replies(self) -> None:
        """Forget earlier execute replies (a cell cut short may send none)."""
        while True:
            try:
                self.client.get_shell_msg(timeout=0)
            except queue.Empty:
                return

    def answers(self) -> bool:
        """Whether a trivial request still comes back, and quickly."""
        try:
            cell = self.execute("1 + 1", timeout=5.0)
        except TimeoutError:
            return False
        return cell.result == "2"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    started = Kernel(tmp_path_factory.mktemp("interrupts"))
    yield started
    started.close()


@dataclass
class Clean:
    """An uninterrupted run: what every trial must end with, and how long it takes."""

    outputs: str
    #: seconds from sending the cell to the kernel being idle, per mode
    seconds: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="module")
def clean(kernel: Kernel) -> Clean:
    """Run the flow once per mode, uninterrupted (after a warm-up run)."""
    kernel.execute(flow_cell(MODES[0]))
    golden: Clean | None = None
    for mode in MODES:
        cell = kernel.execute(flow_cell(mode))
        assert cell.error is None, cell
        done = kernel.execute("print(kernel_probe.last_outputs())").json()
        assert done["status"] == "completed", done
        if golden is None:
            golden = Clean(done["outputs"])
        assert done["outputs"] == golden.outputs
        golden.seconds[mode] = cell.took
    assert golden is not None
    return golden


def run_count(kernel: Kernel) -> int:
    return int(kernel.execute("print(kernel_probe.run_count())").stdout)


@dataclass
class Trial:
    """One interrupt and what came of it."""

    index: int
    mode: str
    delay: float
    landed: str = "?"
    #: what is wrong with the interrupted run's checkpoint
    problems: list[str] = field(default_factory=list)
    #: engine tasks still alive after the cell, or after the resume
    orphans: list[str] = field(default_factory=list)
    resumed: bool = True
    #: anything else that went wrong
    failures: list[str] = field(default_factory=list)
    returned_after: float | None = None

    @property
    def ok(self) -> bool:
        return not (self.problems or self.orphans or self.failures) and self.resumed

    def describe(self, seed: int | None) -> str:
        replay = "" if seed is None else f"; MAIDIT_INTERRUPT_SEED={seed}"
        return (
            f"trial {self.index} ({self.mode or 'panel'}, interrupt at "
            f"{self.delay:.3f} s, landed {self.landed}{replay}): "
            + "; ".join(self.problems + self.orphans + self.failures)
        )


def interrupt_once(kernel: Kernel, trial: Trial, before: int, golden: Clean) -> int:
    """Run one trial; fill in ``trial``; return the kernel's run count afterwards."""
    cell = kernel.execute(flow_cell(trial.mode), interrupt_after=trial.delay)
    trial.returned_after = cell.returned_after
    time.sleep(0.05)  # a late interrupt is in the kernel before the next cell is
    report = kernel.execute(
        f"print(await kernel_probe.after_interrupt({before}))"
    ).json()
    trial.problems = list(report.get("problems", []))
    trial.orphans = report["orphans"] + report.get("orphans_after_resume", [])
    status = report.get("status")
    busy = True  # the interrupt came while the kernel was running the cell
    if cell.returned_after is not None and cell.returned_after < 0:
        trial.landed, busy = "after the cell", False
    elif cell.taken_after_interrupt:
        trial.landed, busy = "before the cell", False
    elif not report["started"]:
        trial.landed = "before the run"
    elif status == "cancelled":
        trial.landed = "mid-run"
        if cell.error is None:
            trial.failures.append("the cancelled run's cell ended without an error")
    elif status == "completed":
        trial.landed = "too late to cancel"
    else:
        trial.landed = f"a {status} run"
        trial.failures.append(f"the interrupted run ended {status}")
    if busy and (cell.returned_after or 0.0) >= RETURN_LIMIT:
        trial.failures.append(
            f"the cell returned {cell.returned_after:.2f} s after the interrupt"
        )
    final = report.get("final")
    if final is not None:
        trial.resumed = (
            final["status"] == "completed" and final["outputs"] == golden.outputs
        )
        if not trial.resumed:
            trial.failures.append(f"the run did not end as a clean run: {final}")
    if not kernel.answers():
        trial.failures.append("the kernel no longer answers")
    return int(report["runs"])


@dataclass
class Trials:
    """Trials in one kernel, one after the other, and what they came to."""

    kernel: Kernel
    golden: Clean
    #: the seed of the random moments (None: the moments are fixed)
    seed: int | None
    runs: int = 0
    failed: list[str] = field(default_factory=list)
    landed: dict[str, int] = field(default_factory=dict)
    #: the longest time from an interrupt to the cell's return, in seconds
    slowest: float = 0.0

    def __post_init__(self) -> None:
        self.runs = run_count(self.kernel)

    def run(self, index: int, mode: str, delay: float) -> Trial:
        trial = Trial(index, mode, delay)
        try:
            self.runs = interrupt_once(self.kernel, trial, self.runs, self.golden)
        except (TimeoutError, AssertionError, ValueError, KeyError) as exc:
            trial.failures.append(f"{type(exc).__name__}: {exc}")
            trial.resumed = False
        self.landed[trial.landed] = self.landed.get(trial.landed, 0) + 1
        if trial.returned_after is not None and trial.landed not in _IGNORED:
            self.slowest = max(self.slowest, trial.returned_after)
        if not trial.ok:
            self.failed.append(trial.describe(self.seed))
            if not self.kernel.manager.is_alive() or not self.kernel.answers():
                self.kernel.restart()  # a dead or hung kernel: the next trials go on
                self.runs = run_count(self.kernel)
        return trial

    def summary(self, started: float) -> str:
        return (
            f"kernel interrupts: {sum(self.landed.values())} trials in "
            f"{time.monotonic() - started:.1f} s; landed {self.landed}; slowest return "
            f"{self.slowest:.3f} s after the interrupt"
        )


#: where an interrupt finds no cell running, so the kernel ignores it (SIG_IGN)
_IGNORED = frozenset({"before the cell", "after the cell"})


def seed() -> int:
    return int(os.environ.get("MAIDIT_INTERRUPT_SEED") or random.randrange(2**32))


def test_the_orphan_check_sees_a_running_flow(kernel: Kernel) -> None:
    """The check for orphan tasks is not blind: it finds the tasks of a run going on in
    the background, and none once that run has ended."""
    started = kernel.execute(flow_cell("--no-widget --background --out bg"))
    assert started.error is None, started
    cell = kernel.execute(
        "import json\n"
        "during = kernel_probe.engine_tasks()\n"
        "await bg.wait()\n"
        "print(json.dumps([during, kernel_probe.engine_tasks(), str(bg.status)]))"
    )
    during, after, status = cell.json()
    assert during, "no engine task seen while a run was going on"
    assert after == []
    assert status == "completed"


def test_interrupts_at_the_edges_of_the_cell(kernel: Kernel, clean: Clean) -> None:
    """Interrupts sent as the cell is sent, as the run starts, as it ends and after the
    cell: the kernel ignores the ones that find no cell running; the others cancel the
    run or come too late to; every case ends in a checkpoint that resumes."""
    trials = Trials(kernel, clean, seed=None)
    started = time.monotonic()
    for index in range(6):
        mode = MODES[index % len(MODES)]
        if index < 3:  # as the cell is sent, as the kernel takes it up
            at = (0.0, 0.001, 0.003)[index]
        else:  # as the run ends, as the cell returns, after it
            at = clean.seconds[mode] + (-0.02, 0.0, 0.1)[index - 3]
        trials.run(index, mode, at)
    print(f"\n{trials.summary(started)}")
    assert not trials.failed, "\n".join(trials.failed)


@pytest.mark.reliability
def test_interrupting_a_flow_cell_leaves_a_resumable_run(
    kernel: Kernel, clean: Clean
) -> None:
    count = figures.scale(10, 50, 200)
    trials = Trials(kernel, clean, seed=seed())
    print(f"\nkernel interrupts: {count} trials, MAIDIT_INTERRUPT_SEED={trials.seed}")
    rng = random.Random(trials.seed)
    started = time.monotonic()
    for index in range(count):
        mode = MODES[index % len(MODES)]
        trial = trials.run(index, mode, rng.uniform(0.0, clean.seconds[mode]))
        figures.count(
            FIGURE,
            interrupts=1,
            invalid=int(bool(trial.problems)),
            orphans=int(bool(trial.orphans)),
            unresumed=int(not trial.resumed),
        )
        if len(trials.failed) >= 3:
            break
    figures.worst(FIGURE, slowest_return_ms=trials.slowest * 1000)
    print(trials.summary(started))
    assert not trials.failed, "\n".join(trials.failed)
    # worth something only when most interrupts hit a running flow
    assert trials.landed.get("mid-run", 0) >= count // 3, trials.landed
