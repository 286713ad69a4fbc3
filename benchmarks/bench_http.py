"""Benchmark HTTP fan-out (``make bench``): GETs through a foreach against a bare loop.

A small keep-alive HTTP/1.1 server runs in a child process (so it does not share the
client's interpreter) and answers every GET with a small JSON document. The flow runs
``<foreach collection="range(0, N)" concurrency="C">`` with one ``http`` source per
item, N = 200 and 1,000, with its checkpoint (also reported without). The floor is a
bare ``httpx.AsyncClient`` loop of the same N GETs under a semaphore of C, with the same
connection pool limits as the runtime's client, parsing each JSON body too. Target: the
flow reaches at least 80 % of the bare loop's throughput. Medians after a warm-up.

At concurrency 50 against a server on the same machine, httpx itself is the bottleneck:
its connection pool does work quadratic in its open connections on every request, and
the bare loop, doing nothing between requests, keeps all 50 connections busy where the
flow (doing its own work between requests) keeps fewer. So the same comparison is also
made at concurrency 1, where it measures the engine's own cost per request.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from functools import partial
from pathlib import Path

import anyio
import anyio.abc
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    Row,
    Workload,
    execute,
    flow_file,
    parse_options,
    save,
    show,
    timed,
    warm_up,
)
from maidit_jupyter.runtimes.http_transport import MAX_CONNECTIONS

SIZES = (200, 1_000)
QUICK_SIZES = (20, 50)
CONCURRENCIES = (50, 1)
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


async def bare_loop(base: str, requests: int, concurrency: int) -> None:
    """The same GETs with httpx alone."""
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
    )
    async with httpx.AsyncClient(limits=limits) as client:
        semaphore = anyio.Semaphore(concurrency)
        results: list[object] = [None] * requests

        async def one(index: int) -> None:
            async with semaphore:
                response = await client.get(f"{base}/items/{index}")
                response.raise_for_status()
                results[index] = response.json()

        async with anyio.create_task_group() as group:
            for index in range(requests):
                group.start_soon(one, index)
    assert all(result is not None for result in results)


def flow_run(base: str, requests: int, concurrency: int, checkpoint: bool) -> float:
    """The GETs through a foreach of http sources: seconds (the run only)."""
    text = FLOW.format(requests=requests, concurrency=concurrency, base=base)
    with flow_file(text) as flow:
        run, seconds = execute(flow, checkpoint=checkpoint)
    outputs = run.outputs["each"]
    assert isinstance(outputs, list)
    assert len(outputs) == requests
    return seconds


def measure(
    base: str, concurrency: int, sizes: tuple[int, ...], repeats: int
) -> Workload:
    """The flow at each size against the bare loop, at one concurrency."""
    name = f"HTTP fan-out, concurrency {concurrency}"
    workload = Workload(name, "GETs", "bare httpx loop, same concurrency", repeats)
    workload.notes = (
        "median = the run with its checkpoint; "
        f"target: at least {TARGET:.0%} of the bare loop's throughput"
    )
    for n in sizes:
        bare = statistics.median(
            timed(partial(anyio.run, bare_loop, base, n, concurrency))
            for _ in range(repeats)
        )
        runs = {
            checkpoint: statistics.median(
                flow_run(base, n, concurrency, checkpoint) for _ in range(repeats)
            )
            for checkpoint in (True, False)
        }
        extra = {
            "no_checkpoint_s": runs[False],
            "requests_per_s": round(n / runs[True]),
            "share_of_bare_throughput": bare / runs[True],
            "us_per_request_over_bare": (runs[True] - bare) / n * 1e6,
        }
        workload.rows.append(Row(n, runs[True], bare, extra))
    return workload


def main() -> None:
    options = parse_options(__doc__, repeats=5)
    warm_up()
    sizes = QUICK_SIZES if options.quick else SIZES
    server, base = start_server()
    try:
        anyio.run(bare_loop, base, sizes[0], CONCURRENCIES[0])  # warm-ups
        flow_run(base, sizes[0], CONCURRENCIES[0], checkpoint=False)
        workloads = [
            measure(base, concurrency, sizes, options.repeats)
            for concurrency in CONCURRENCIES
        ]
    finally:
        server.terminate()
        server.wait()
    for workload in workloads:
        show(workload)
    save(options.results, "bench_http.py", workloads)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        anyio.run(_serve)
    else:
        main()
