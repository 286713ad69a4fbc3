"""The child side of the checkpoint crash tests (``test_crash.py``).

``python -m tests.checkpoints.crash_child serve`` (run from the repository) imports the
engine once and then serves *jobs* read as JSON lines on stdin: ``{"op": "start", "job":
{...}}`` forks a process that runs the job and answers ``{"pid": n}`` at once (so the
test can ``SIGKILL`` it); ``{"op": "wait", "pid": n}`` reaps it and answers ``{"exit":
code}`` (``-9`` when killed, ``137`` when the crash hook fired). The process is reaped
only when the test asks, so its pid cannot be reused while the test may still signal it.
Forking from a single-threaded server that never ran anything keeps every run a fresh
process without paying the interpreter start and the imports each time.

``python -m tests.checkpoints.crash_child jobs JSON`` runs a list of jobs directly, one
after the other in one process (the golden runs).

A job runs or resumes one of the reference flows (``reference_flows.FLOWS``, written into
the job's folder by the test), either through the public API (``run_sync`` /
``resume_sync``, default settings) or through ``prepare_run`` / ``prepare_resume`` +
``launch`` with a pinned run id and a group fsync at every wave, so the number of
durable steps is the same in every clean run. Every durable step goes through
:class:`StepOps` (installed as ``durable._DEFAULT_OPS``), which counts the steps and
``os._exit(137)``\\ s just after step ``crash_after``. The job's report (status,
checkpoint, steps, node results) is written to ``report`` when the run returns.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from tests.checkpoints.reference_flows import CONCURRENCY, FLOWS

CRASH_EXIT = 137
#: the repository, the working directory of ``python -m tests.checkpoints.crash_child``.
ROOT = Path(__file__).resolve().parents[2]
#: the engine's ``COMPACT_MIN_BYTES`` (a flow may ask for another; see run_job).
DEFAULT_COMPACT_BYTES = 1 << 20


# -- the job (runs in the child) -----------------------------------------------------


def _install_ops(crash_after: int | None) -> Any:
    """Route every durable step through a counting FileOps that may crash."""
    from maidit_jupyter.persistence import durable

    class StepOps(durable.FileOps):
        """Counts the durable steps (thread-safe: sinks write in worker threads)."""

        def __init__(self) -> None:
            super().__init__()
            self.names: list[str] = []
            self.guard = threading.Lock()

        def on_step(self, name: str) -> None:
            with self.guard:
                self.names.append(str(name))
                if crash_after is not None and len(self.names) >= crash_after:
                    os._exit(CRASH_EXIT)

    ops = StepOps()
    durable._DEFAULT_OPS = ops
    return ops


def run_job(job: dict[str, Any]) -> None:
    """Run or resume the flow as ``job`` says; write the report when it returns."""
    import anyio

    import maidit_jupyter
    from maidit_jupyter.checkpoints import writer
    from maidit_jupyter.execution.launch import launch, prepare_resume, prepare_run
    from maidit_jupyter.execution.state import NodeResult

    compact_bytes = FLOWS[job["name"]].compact_bytes
    writer.COMPACT_MIN_BYTES = compact_bytes or DEFAULT_COMPACT_BYTES
    ops = _install_ops(job.get("crash_after"))
    started = time.monotonic()
    results: dict[str, NodeResult]
    if job["api"] == "public":
        if job["action"] == "run":
            flow_run = maidit_jupyter.run_sync(
                job["flow"], state_dir=job["state_dir"], concurrency=CONCURRENCY
            )
        else:
            flow_run = maidit_jupyter.resume_sync(job["checkpoint"])
        status, results = str(flow_run.status), dict(flow_run.results)
        checkpoint = flow_run.checkpoint_path
        error = flow_run.error
    else:
        if job["action"] == "run":
            prepared = prepare_run(
                job["flow"],
                state_dir=job["state_dir"],
                run_id=job["run_id"],
                concurrency=CONCURRENCY,
                sync_interval=0.0,
            )
        else:
            prepared = prepare_resume(job["checkpoint"], sync_interval=0.0)
        record = anyio.run(launch, prepared)
        status, results = str(record.status), dict(record.results)
        checkpoint = prepared.checkpoint_path
        error = record.error
    report = {
        "status": status,
        "error": None if error is None else error.message,
        "checkpoint": None if checkpoint is None else str(checkpoint),
        "seconds": time.monotonic() - started,
        "steps": ops.names,
        "nodes": {
            node_id: {"status": str(result.status), "reused": result.reused}
            for node_id, result in results.items()
        },
    }
    target = Path(job["report"])
    temp = target.with_name(target.name + ".part")
    temp.write_text(json.dumps(report))
    os.replace(temp, target)


def _child(job: dict[str, Any]) -> None:
    """The forked process: run the job, never return into the server loop."""
    code = 0
    try:
        os.dup2(2, 1)  # stray prints must not reach the server's answers
        run_job(job)
    except BaseException:  # noqa: BLE001 - the exit code reports it; never return
        traceback.print_exc()
        code = 1
    finally:
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    """Answer start/wait requests until stdin closes (see the module doc)."""
    # Warm up once, so every fork starts where a run really begins: the engine, anyio's
    # asyncio backend, and the parser's lazily imported parts (checking a document runs
    # nothing and starts no thread, so forking stays safe).
    import anyio._backends._asyncio  # noqa: F401

    import maidit_jupyter.execution.launch  # noqa: F401
    from maidit_jupyter.validation.validator import check_document

    for flow in FLOWS.values():
        assert check_document(flow.text(), path="warm.flow.md").plan is not None

    def answer(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    answer({"ready": True})
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        request = json.loads(line)
        if request["op"] == "start":
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(request["job"])
            answer({"pid": pid})
        elif request["op"] == "wait":
            _, status = os.waitpid(request["pid"], 0)
            answer({"exit": os.waitstatus_to_exitcode(status)})
        else:
            return


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve()
    else:
        for one in json.loads(sys.argv[2]):
            run_job(one)
