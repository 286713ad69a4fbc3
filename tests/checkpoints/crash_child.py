"""The child side of the checkpoint crash tests (``test_crash.py``).

``python crash_child.py serve`` imports the engine once and then serves *jobs* read as
JSON lines on stdin: ``{"op": "start", "job": {...}}`` forks a process that runs the job
and answers ``{"pid": n}`` at once (so the test can ``SIGKILL`` it); ``{"op": "wait",
"pid": n}`` reaps it and answers ``{"exit": code}`` (``-9`` when killed, ``137`` when the
crash hook fired). The process is reaped only when the test asks, so its pid cannot be
reused while the test may still signal it. Forking from a single-threaded server that
never ran anything keeps every run a fresh process without paying the interpreter start
and the imports each time.

``python crash_child.py job JSON`` runs one job directly (the golden run).

A job runs or resumes the flow written by :func:`write_flow`, either through the public
API (``run_sync``/``resume_sync``, default settings) or through ``prepare_run`` /
``prepare_resume`` + ``launch`` with a pinned run id and a group fsync at every wave, so
the number of durable steps is the same in every clean run. Every durable step goes
through :class:`StepOps` (installed as ``durable._DEFAULT_OPS``), which counts the steps
and ``os._exit(137)``\\ s just after step ``crash_after``. The job's report (status,
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

#: the workflow's name (the state folder) and its module of python functions.
WORKFLOW = "crashflow"
MODULE = "ledgerfns"
LEDGER = "ledger.txt"
FLOW_FILE = "crash.flow.md"
#: parallel branches; more than CONCURRENCY, so a wave runs in two rounds.
BRANCHES = 6
CONCURRENCY = 4
#: the waves of the flow's plan.
WAVES = 8
CRASH_EXIT = 137

MODULE_TEXT = '''\
"""Ledger functions: each call appends its node id to ledger.txt, then computes."""

import os
from pathlib import Path

LEDGER = Path(__file__).with_name("ledger.txt")


def _note(name):
    fd = os.open(LEDGER, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (name + "\\n").encode())
    finally:
        os.close(fd)


def seed(name):
    _note(name)
    return {"values": list(range(1, 13))}


def gen(data, name, k):
    _note(name)
    k = int(k)
    return {"k": k, "items": [v * (k + 1) + k for v in data["values"]]}


def total(data, name):
    _note(name)
    return {"branch": name, "sum": sum(data), "max": max(data)}


def merge(parts, name):
    _note(name)
    ordered = [parts[key] for key in sorted(parts)]
    return {"total": sum(p["sum"] for p in ordered), "parts": ordered}
'''


def branch_ids(prefix: str) -> list[str]:
    return [f"{prefix}-{i}" for i in range(BRANCHES)]


def flow_text() -> str:
    """A flow of 35 nodes in 8 waves: python ledger nodes, delays, maps, templates and
    file sinks, with six parallel branches."""
    call = f'type="python" function="{MODULE}'
    lines = [f'<source id="seed" {call}:seed"><arg name="name" value="seed"/></source>']
    for i in range(BRANCHES):
        lines += [
            (
                f'<transform id="gen-{i}" input="seed" {call}:gen">'
                f'<arg name="name" value="gen-{i}"/><arg name="k" value="{i}"/>'
                "</transform>"
            ),
            f'<delay id="wait-{i}" input="gen-{i}" duration="{5 + 5 * i}ms"/>',
            (
                f'<transform id="sq-{i}" type="map" input="wait-{i}.output.items">'
                "<expression>$item * $item + 1</expression></transform>"
            ),
            (
                f'<sink id="save-{i}" type="file" input="sq-{i}">'
                f"<path>./out/part-{i}.json</path></sink>"
            ),
            (
                f'<transform id="sum-{i}" input="sq-{i}" {call}:total">'
                f'<arg name="name" value="sum-{i}"/></transform>'
            ),
        ]
    sums = ", ".join(branch_ids("sum"))
    lines += [
        (
            f'<transform id="merge" input="{sums}" {call}:merge">'
            '<arg name="name" value="merge"/></transform>'
        ),
        (
            '<transform id="report" type="template" input="merge"><template>'
            "total={{ input.total }} parts={{ length(input.parts) }}"
            "</template></transform>"
        ),
        (
            '<sink id="save-total" type="file" input="merge">'
            "<path>./out/total.json</path></sink>"
        ),
        (
            '<sink id="save-report" type="file" input="report">'
            "<path>./out/report.txt</path></sink>"
        ),
    ]
    body = "\n".join(f"  {line}" for line in lines)
    return (
        f"---\nname: {WORKFLOW}\nversion: 1.0.0\n---\n<workflow>\n{body}\n</workflow>\n"
    )


def dependencies() -> dict[str, set[str]]:
    """Each node's direct inputs (what must be recorded before it can be)."""
    deps: dict[str, set[str]] = {"seed": set()}
    for i in range(BRANCHES):
        deps[f"gen-{i}"] = {"seed"}
        deps[f"wait-{i}"] = {f"gen-{i}"}
        deps[f"sq-{i}"] = {f"wait-{i}"}
        deps[f"save-{i}"] = {f"sq-{i}"}
        deps[f"sum-{i}"] = {f"sq-{i}"}
    deps["merge"] = set(branch_ids("sum"))
    deps["report"] = {"merge"}
    deps["save-total"] = {"merge"}
    deps["save-report"] = {"report"}
    return deps


#: the nodes that append to the ledger each time they run.
LEDGER_NODES = frozenset({"seed", "merge", *branch_ids("gen"), *branch_ids("sum")})
#: file sinks and the file each writes (relative to the flow's directory).
SINK_FILES = {
    **{f"save-{i}": f"out/part-{i}.json" for i in range(BRANCHES)},
    "save-total": "out/total.json",
    "save-report": "out/report.txt",
}


def write_flow(directory: Path) -> Path:
    """Write the flow and its python module into ``directory``; return the flow file."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{MODULE}.py").write_text(MODULE_TEXT)
    flow = directory / FLOW_FILE
    flow.write_text(flow_text())
    return flow


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
    from maidit_jupyter.execution.launch import launch, prepare_resume, prepare_run
    from maidit_jupyter.execution.state import NodeResult

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

    assert check_document(flow_text(), path=FLOW_FILE).plan is not None

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
        run_job(json.loads(sys.argv[2]))
