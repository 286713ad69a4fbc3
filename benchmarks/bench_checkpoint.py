"""Benchmark the cost of durability (``make bench``).

* Snapshot write p50/p99 (temp file, fsync, rename, directory fsync) for checkpoints
  holding 10 KB and 1 MB of state, through the real checkpoint writer.
* Journal record cost per node (encode + append, no fsync).
* Whole runs of 1,000 and 5,000 chained nodes: fsyncs paid, bytes written, and the run
  time with and without a checkpoint.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_run import chain
from maidit_jupyter.checkpoints import CheckpointWriter
from maidit_jupyter.execution.flow_run import FlowRun
from maidit_jupyter.execution.launch import prepare_run
from maidit_jupyter.execution.state import NodeResult, NodeStatus
from maidit_jupyter.persistence import durable
from maidit_jupyter.redaction import SecretMask


class _Counting(durable.FileOps):
    def __init__(self) -> None:
        super().__init__()
        self.fsyncs = 0
        self.bytes = 0

    def fsync(self, fd: int) -> None:
        self.fsyncs += 1
        super().fsync(fd)

    def fsync_dir(self, path: Path) -> None:
        self.fsyncs += 1
        super().fsync_dir(path)

    def write(self, fd: int, data: bytes | memoryview) -> int:
        written = super().write(fd, data)
        self.bytes += written
        return written


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def snapshot_cost(state_bytes: int, repeats: int = 50) -> tuple[float, float]:
    """(p50, p99) milliseconds of one snapshot holding about ``state_bytes`` of output."""
    with tempfile.TemporaryDirectory() as directory:
        writer = CheckpointWriter(
            Path(directory) / "run.json",
            header={"run_id": "bench", "workflow": "bench"},
            hashes={},
            mask=SecretMask(()),
        )
        writer.open()
        result = NodeResult(
            node_id="big", status=NodeStatus.SUCCESS, output="x" * state_bytes
        )
        writer.node_finished(result)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            writer._write_snapshot("running")
            times.append((time.perf_counter() - start) * 1000)
        writer.close()
    return statistics.median(times), _percentile(times, 0.99)


def record_cost(records: int = 20_000) -> float:
    """Microseconds to encode and append one small node record."""
    with tempfile.TemporaryDirectory() as directory:
        writer = CheckpointWriter(
            Path(directory) / "run.json",
            header={"run_id": "bench", "workflow": "bench"},
            hashes={},
            mask=SecretMask(["a-secret-value"]),
        )
        writer.open()
        result = NodeResult(
            node_id="n1", status=NodeStatus.SUCCESS, output={"rows": 3}, attempts=1
        )
        start = time.perf_counter()
        for _ in range(records):
            writer.node_finished(result)
        elapsed = time.perf_counter() - start
        writer.close()
    return elapsed / records * 1e6


def run_cost(nodes: int, checkpoint: bool) -> tuple[float, int, int]:
    """(seconds, fsyncs, bytes written) of a chain run."""
    ops = _Counting()
    durable._DEFAULT_OPS = ops
    try:
        with tempfile.TemporaryDirectory() as directory:
            base = Path(directory)
            prepared = prepare_run(
                base / "chain.flow.md",
                text=chain(nodes),
                workflow_input=None,
                checkpoint=checkpoint,
            )
            start = time.perf_counter()
            anyio.run(FlowRun(prepared)._execute)
            elapsed = time.perf_counter() - start
    finally:
        durable._DEFAULT_OPS = durable.FileOps()
    return elapsed, ops.fsyncs, ops.bytes


def main() -> None:
    print("checkpoint snapshot write (temp + fsync + rename + dir fsync)")
    for size in (10_000, 1_000_000):
        p50, p99 = snapshot_cost(size)
        print(f"  {size / 1000:>6.0f} KB state: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(
        f"journal record per node (encode + append, no fsync): {record_cost():.1f} µs"
    )
    print("chain runs: with a checkpoint vs without")
    for nodes in (1000, 5000):
        with_s, fsyncs, written = run_cost(nodes, True)
        without_s, _, _ = run_cost(nodes, False)
        print(
            f"  {nodes:>5} nodes: {with_s:.3f}s vs {without_s:.3f}s, {fsyncs} fsyncs, "
            f"{written / 1e6:.1f} MB written"
        )


if __name__ == "__main__":
    main()
