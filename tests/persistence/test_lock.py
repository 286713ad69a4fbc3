"""Tests of RunLock: one owner per checkpoint, released by the kernel when the owner dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maidit_jupyter.errors import LockedError, PersistenceError
from maidit_jupyter.persistence.lock import RunLock
from tests import figures

HOLDER = """
import sys
from pathlib import Path
from maidit_jupyter.persistence.lock import RunLock

lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
sys.stdin.readline()
"""


def spawn(script: str, checkpoint: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, str(checkpoint)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def expect_line(process: subprocess.Popen[str], line: str) -> None:
    assert process.stdout is not None
    got = process.stdout.readline().strip()
    if got != line:
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"expected {line!r}, got {got!r}: {err}")


def finish(process: subprocess.Popen[str]) -> str:
    """Let a waiting child go and return its stderr."""
    _, err = process.communicate(input="\n", timeout=10)
    return err


def test_second_lock_in_the_same_process_is_refused(tmp_path: Path) -> None:
    """flock is per open file: a second RunLock on the same path fails while the first holds."""
    checkpoint = tmp_path / "run.json"
    first, second = RunLock(checkpoint), RunLock(checkpoint)
    first.acquire()
    with pytest.raises(LockedError, match=f"pid {os.getpid()}, this process"):
        second.acquire()
    assert (first.locked, second.locked) == (True, False)
    first.release()
    second.acquire()
    assert second.locked
    second.release()


def test_lock_is_not_reentrant(tmp_path: Path) -> None:
    """Acquiring a RunLock it already holds raises LockedError; release is idempotent."""
    lock = RunLock(tmp_path / "run.json")
    lock.acquire()
    with pytest.raises(LockedError, match="already locked by this RunLock"):
        lock.acquire()
    lock.release()
    lock.release()
    assert not lock.locked


def test_context_manager_releases_on_error(tmp_path: Path) -> None:
    """Leaving the with block, even by an exception, releases the lock."""
    checkpoint = tmp_path / "run.json"
    lock = RunLock(checkpoint)

    def fail_inside() -> None:
        with lock:
            assert lock.locked
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_inside()
    assert not lock.locked
    with RunLock(checkpoint) as again:
        assert again.locked


def test_lock_file_records_the_holder(tmp_path: Path) -> None:
    """The lock file names the holder's pid while held and is emptied, not deleted, after."""
    checkpoint = tmp_path / "run.json"
    lock = RunLock(checkpoint)
    assert lock.lock_path == tmp_path / "run.json.lock"
    assert lock.holder() is None
    with lock:
        assert json.loads(lock.lock_path.read_text())["pid"] == os.getpid()
        assert lock.holder() == os.getpid()
    assert lock.lock_path.read_bytes() == b""
    assert lock.holder() is None


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"pid": 999999999, "host": "gone"}\n', id="dead-pid"),
        pytest.param(b"garbage\x00", id="garbage"),
        pytest.param(b"", id="empty"),
    ],
)
def test_stale_lock_file_is_taken_over(tmp_path: Path, content: bytes) -> None:
    """A lock file whose holder died (nobody holds the flock) is locked again silently."""
    checkpoint = tmp_path / "run.json"
    (tmp_path / "run.json.lock").write_bytes(content)
    with RunLock(checkpoint) as lock:
        assert lock.holder() == os.getpid()


def _symlink(lock_file: Path, victim: Path) -> None:
    lock_file.symlink_to(victim)


def _hardlink(lock_file: Path, victim: Path) -> None:
    lock_file.hardlink_to(victim)


def _fifo(lock_file: Path, victim: Path) -> None:
    os.mkfifo(lock_file)


@pytest.mark.parametrize(
    "plant",
    [
        pytest.param(_symlink, id="symlink"),
        pytest.param(_hardlink, id="hardlink"),
        pytest.param(_fifo, id="fifo"),
    ],
)
def test_planted_link_at_lock_path_is_refused(tmp_path: Path, plant) -> None:
    """A symlink, hard link or special file at the lock path is refused; nothing is written through it."""
    checkpoint = tmp_path / "run.json"
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    plant(tmp_path / "run.json.lock", victim)
    lock = RunLock(checkpoint)
    with pytest.raises(PersistenceError, match="lock file") as info:
        lock.acquire()
    assert not isinstance(info.value, LockedError)
    assert not lock.locked
    assert victim.read_bytes() == b"precious"


def test_missing_directory_raises_persistence_error(tmp_path: Path) -> None:
    """A lock in a directory that does not exist is a PersistenceError, not an OSError."""
    with pytest.raises(PersistenceError, match="cannot open the lock file"):
        RunLock(tmp_path / "missing" / "run.json").acquire()


def test_other_process_holding_the_lock_is_named(tmp_path: Path) -> None:
    """While a subprocess holds the lock, acquiring raises LockedError naming its pid."""
    checkpoint = tmp_path / "run.json"
    holder = spawn(HOLDER, checkpoint)
    try:
        expect_line(holder, "locked")
        with pytest.raises(
            LockedError, match=rf"locked by another run \(pid {holder.pid}\)"
        ):
            RunLock(checkpoint).acquire()
        assert RunLock(checkpoint).holder() == holder.pid
    finally:
        finish(holder)
    with RunLock(checkpoint) as lock:
        assert lock.locked


@pytest.mark.reliability
def test_lock_is_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    """After kill -9 of the holder the kernel has dropped the lock: acquiring works within 1 s."""
    checkpoint = tmp_path / "run.json"
    holder = spawn(HOLDER, checkpoint)
    expect_line(holder, "locked")
    with pytest.raises(LockedError):
        RunLock(checkpoint).acquire()
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate(timeout=10)
    assert holder.returncode == -signal.SIGKILL
    started = time.monotonic()
    lock = RunLock(checkpoint)
    while True:
        try:
            lock.acquire()
            break
        except LockedError:
            assert time.monotonic() - started < 1.0
            time.sleep(0.01)
    figures.worst("lock races", stale_ms=(time.monotonic() - started) * 1000)
    assert lock.holder() == os.getpid()
    lock.release()


RACER = """
import json
import sys
from pathlib import Path
from maidit_jupyter.errors import LockedError
from maidit_jupyter.persistence.durable import write_atomic
from maidit_jupyter.persistence.lock import RunLock

checkpoint = Path(sys.argv[1])
print("ready", flush=True)
for line in sys.stdin:
    trial = line.strip()
    lock = RunLock(checkpoint)
    try:
        lock.acquire()
    except LockedError:
        print("lost", flush=True)
        continue
    # read-modify-write under the lock: a second owner would lose an update
    done = json.loads(checkpoint.read_text()) if checkpoint.exists() else []
    write_atomic(checkpoint, json.dumps(done + [trial]).encode())
    print("won", flush=True)
    sys.stdin.readline()  # hold the lock until every racer has tried
    lock.release()
    print("released", flush=True)
"""

#: how many races, each between 2 and 16 processes released together.
RACES = figures.scale(unit=60, ci=1000, long=5000)
MAX_RACERS = 16


def reply(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    return process.stdout.readline().strip()


def send(process: subprocess.Popen[str], line: str) -> None:
    assert process.stdin is not None
    process.stdin.write(line + "\n")
    process.stdin.flush()


@pytest.mark.reliability
def test_racing_processes_have_exactly_one_owner(tmp_path: Path) -> None:
    """Races of 2 to 16 processes (the same long-lived racers, released together) for
    one checkpoint's lock: exactly one owner each time, and each owner's update of the
    checkpoint (read, append the race number, write) survives (figure 15)."""
    checkpoint = tmp_path / "run.json"
    racers = [spawn(RACER, checkpoint) for _ in range(MAX_RACERS)]
    winners: list[int] = []
    try:
        for racer in racers:
            expect_line(racer, "ready")
        for trial in range(RACES):
            size = 2 + trial % (MAX_RACERS - 1)
            entrants = racers[:size]
            for racer in entrants:
                send(racer, str(trial))
            outcomes = [reply(racer) for racer in entrants]
            owners = [
                r
                for r, outcome in zip(entrants, outcomes, strict=True)
                if outcome == "won"
            ]
            figures.count("lock races", trials=1, double=len(owners) > 1)
            assert len(owners) == 1, f"race {trial}: {outcomes}"
            assert outcomes.count("lost") == size - 1, f"race {trial}: {outcomes}"
            send(owners[0], "")
            expect_line(owners[0], "released")
            winners.append(trial)
    finally:
        for racer in racers:
            racer.communicate(timeout=10)  # end of input: the racer exits
    recorded = json.loads(checkpoint.read_text())
    figures.count("lock races", lost=len(set(winners) - set(map(int, recorded))))
    figures.worst("lock races", racers=MAX_RACERS)
    assert recorded == [str(trial) for trial in winners]
