"""Benchmark the cost of durability (``make bench``).

* Snapshot write p50/p99 (temp file, fsync, rename, directory fsync) for checkpoints
  holding 10 KB and 1 MB of state, through the real checkpoint writer. The floor is a
  plain write + fsync of as many bytes as the snapshot file holds.
* Whole runs of 1,000 and 5,000 chained nodes with a checkpoint; the floor is the same
  run without one. Also counted: the fsyncs paid and the bytes written.
* Journal record cost per node (encode + append, no fsync).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_run import chain
from benchmarks.common import (
    Row,
    Workload,
    execute,
    flow_file,
    parse_options,
    percentile,
    save,
    show,
    show_figures,
    warm_up,
)
from maidit_jupyter.checkpoints import CheckpointWriter
from maidit_jupyter.execution.state import NodeResult, NodeStatus
from maidit_jupyter.persistence import durable
from maidit_jupyter.redaction import SecretMask

STATE_SIZES = (10_000, 1_000_000)
CHAIN_SIZES = (1_000, 5_000)
QUICK_CHAIN_SIZES = (100, 200)
WRITES = 50
QUICK_WRITES = 5


class _Counting(durable.FileOps):
    """The durable file operations, counting fsyncs and bytes written."""

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


def _writer(directory: str, secrets: tuple[str, ...] = ()) -> CheckpointWriter:
    """A checkpoint writer in ``directory``, opened."""
    writer = CheckpointWriter(
        Path(directory) / "run.json",
        header={"run_id": "bench", "workflow": "bench"},
        hashes={},
        mask=SecretMask(secrets),
    )
    writer.open()
    return writer


def _times_ms(action: Callable[[], object], count: int) -> list[float]:
    """Milliseconds of each of ``count`` calls of ``action``."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def snapshot_times(state_bytes: int, writes: int) -> tuple[list[float], int]:
    """Milliseconds of each snapshot holding ``state_bytes`` of output; file size."""
    with tempfile.TemporaryDirectory() as directory:
        writer = _writer(directory)
        writer.node_finished(
            NodeResult(
                node_id="big", status=NodeStatus.SUCCESS, output="x" * state_bytes
            )
        )
        times = _times_ms(lambda: writer._write_snapshot("running"), writes)
        size = (Path(directory) / "run.json").stat().st_size
        writer.close()
    return times, size


def plain_write_times(size: int, writes: int) -> list[float]:
    """Milliseconds of each plain write + fsync of ``size`` bytes to a new file."""
    data = b"x" * size
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "plain.json"

        def write() -> None:
            with path.open("wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())

        return _times_ms(write, writes)


def measure_snapshots(writes: int) -> Workload:
    """Snapshot p50/p99 at each state size against a plain write + fsync."""
    workload = Workload(
        "checkpoint: snapshot write", "bytes", "plain write + fsync, same bytes", writes
    )
    workload.notes = "median = p50 of temp file + fsync + rename + directory fsync"
    for state_bytes in STATE_SIZES:
        times, size = snapshot_times(state_bytes, writes)
        plain = plain_write_times(size, writes)
        extra = {
            "p99_ms": percentile(times, 0.99),
            "floor_p99_ms": percentile(plain, 0.99),
        }
        median_s, floor_s = (
            statistics.median(times) / 1e3,
            statistics.median(plain) / 1e3,
        )
        workload.rows.append(Row(state_bytes, median_s, floor_s, extra))
    return workload


def record_cost(records: int) -> float:
    """Microseconds to encode and append one small node record."""
    with tempfile.TemporaryDirectory() as directory:
        writer = _writer(directory, secrets=("a-secret-value",))
        result = NodeResult(
            node_id="n1", status=NodeStatus.SUCCESS, output={"rows": 3}, attempts=1
        )
        elapsed = sum(_times_ms(lambda: writer.node_finished(result), records)) / 1e3
        writer.close()
    return elapsed / records * 1e6


def chain_run(nodes: int, checkpoint: bool) -> tuple[float, int, int]:
    """(seconds, fsyncs, bytes written) of a chain run."""
    ops = _Counting()
    durable._DEFAULT_OPS = ops
    try:
        with flow_file(chain(nodes)) as flow:
            _, seconds = execute(flow, checkpoint=checkpoint)
    finally:
        durable._DEFAULT_OPS = durable.FileOps()
    return seconds, ops.fsyncs, ops.bytes


def measure_runs(sizes: tuple[int, ...], repeats: int) -> Workload:
    """Chain runs with a checkpoint against the same runs without one."""
    workload = Workload(
        "checkpoint: chain run", "nodes", "the same run without a checkpoint", repeats
    )
    for n in sizes:
        runs = [chain_run(n, True) for _ in range(repeats)]
        floor = statistics.median(chain_run(n, False)[0] for _ in range(repeats))
        median = statistics.median(run[0] for run in runs)
        extra = {"fsyncs": runs[0][1], "MB_written": runs[0][2] / 1e6}
        workload.rows.append(Row(n, median, floor, extra))
    return workload


def main() -> None:
    options = parse_options(__doc__, repeats=5)
    warm_up()
    writes = QUICK_WRITES if options.quick else WRITES
    workloads = [
        measure_snapshots(writes),
        measure_runs(
            QUICK_CHAIN_SIZES if options.quick else CHAIN_SIZES, options.repeats
        ),
    ]
    for workload in workloads:
        show(workload)
    journal = {"per node record": record_cost(1_000 if options.quick else 20_000)}
    show_figures("journal record, encode + append (µs)", journal)
    save(
        options.results,
        "bench_checkpoint.py",
        workloads,
        {"journal record, encode + append (µs)": journal},
    )


if __name__ == "__main__":
    main()
