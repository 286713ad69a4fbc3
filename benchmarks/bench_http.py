"""Benchmark HTTP nodes (``make bench``): 1,000 GETs through a foreach against a bare loop.

A small keep-alive HTTP/1.1 server runs in a child process (so it does not share the
client's interpreter) and answers every GET with a small JSON document. The flow runs
``<foreach collection="range(0, 1000)" concurrency="50">`` with one ``http`` source per
item; the baseline is a bare ``httpx.AsyncClient`` loop of the same 1,000 GETs under a
semaphore of 50, with the same connection pool limits as the runtime's client, parsing
each JSON body too. Target: the flow reaches at least 80 % of the bare loop's
throughput. Each figure is the median of five runs after a warm-up.

At concurrency 50 against a server on the same machine, httpx itself is the bottleneck:
its connection pool does work quadratic in its open connections on every request, and
the bare loop, doing nothing between requests, keeps all 50 connections busy where the
flow (doing its own work between requests) keeps fewer. So the same comparison is also
printed at concurrency 1, where it measures the engine's own cost per request.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import anyio.abc
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maidit_jupyter.execution.flow_run import FlowRun
from maidit_jupyter.execution.launch import prepare_run
from maidit_jupyter.runtimes.http_transport import MAX_CONNECTIONS

REQUESTS = 1_000
CONCURRENCY = 50
ROUNDS = 5
TARGET = 0.80
BODY = b'{"id": 1, "name": "item", "tags": ["a", "b"], "price": 9.5}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)
FLOW = """---
name: fan-out-http
version: 1.0.0
---
<workflow>
  <foreach id="each" collection="range(0, {requests})" concurrency="{concurrency}">
    <source id="get" type="http" url="{base}/items/{{{{ item }}}}"/>
  </foreach>
</workflow>
"""


# -- the server (child process) ----------------------------------------------------------


async def _serve_client(stream: anyio.abc.SocketStream) -> None:
    buffer = b""
    async with stream:
        while True:
            while b"\r\n\r\n" not in buffer:
                try:
                    chunk = await stream.receive(65536)
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    return
                buffer += chunk
            # GETs carry no body: every header block is one request
            count = buffer.count(b"\r\n\r\n")
            buffer = buffer[buffer.rindex(b"\r\n\r\n") + 4 :]
            try:
                await stream.send(RESPONSE * count)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                return


async def _serve() -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", backlog=1024)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    print(port, flush=True)
    await listener.serve(_serve_client)


def start_server() -> tuple[subprocess.Popen[str], str]:
    """Start the server process; returns it and its base URL."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}"


# -- the two clients ---------------------------------------------------------------------


async def bare_loop(base: str, concurrency: int = CONCURRENCY) -> float:
    """The same GETs with httpx alone: seconds."""
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
    )
    async with httpx.AsyncClient(limits=limits) as client:
        semaphore = anyio.Semaphore(concurrency)
        results: list[object] = [None] * REQUESTS

        async def one(index: int) -> None:
            async with semaphore:
                response = await client.get(f"{base}/items/{index}")
                response.raise_for_status()
                results[index] = response.json()

        start = time.perf_counter()
        async with anyio.create_task_group() as group:
            for index in range(REQUESTS):
                group.start_soon(one, index)
        elapsed = time.perf_counter() - start
    assert all(result is not None for result in results)
    return elapsed


def flow_run(base: str, *, checkpoint: bool, concurrency: int = CONCURRENCY) -> float:
    """The GETs through a foreach of http sources: seconds (the run only)."""
    text = FLOW.format(requests=REQUESTS, concurrency=concurrency, base=base)
    with tempfile.TemporaryDirectory() as directory:
        prepared = prepare_run(
            Path(directory) / "bench.flow.md", text=text, checkpoint=checkpoint
        )
        run = FlowRun(prepared)
        start = time.perf_counter()
        anyio.run(run._execute)
        elapsed = time.perf_counter() - start
        assert run.status == "completed", run.error
        outputs = run.outputs["each"]
        assert isinstance(outputs, list)
        assert len(outputs) == REQUESTS
    return elapsed


def compare(base: str, concurrency: int) -> None:
    """Print the bare loop's throughput and the flow's, with and without checkpoints."""
    bare = statistics.median(
        anyio.run(bare_loop, base, concurrency) for _ in range(ROUNDS)
    )
    bare_rps = REQUESTS / bare
    print(
        f"bare httpx loop, {REQUESTS:,} GETs, concurrency {concurrency}: "
        f"{bare:.3f}s, {bare_rps:,.0f} req/s"
    )
    for checkpoint in (False, True):
        total = statistics.median(
            flow_run(base, checkpoint=checkpoint, concurrency=concurrency)
            for _ in range(ROUNDS)
        )
        rps = REQUESTS / total
        label = "with checkpoint" if checkpoint else "no checkpoint"
        print(
            f"  foreach of http sources ({label}): {total:.3f}s, {rps:,.0f} req/s, "
            f"{rps / bare_rps:.0%} of bare (target ≥ {TARGET:.0%}), "
            f"{(total - bare) / REQUESTS * 1e6:+.0f} µs per request"
        )


def main() -> None:
    server, base = start_server()
    try:
        anyio.run(bare_loop, base)  # warm-up
        flow_run(base, checkpoint=False)
        compare(base, CONCURRENCY)
        compare(base, 1)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        anyio.run(_serve)
    else:
        main()
