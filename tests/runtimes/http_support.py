"""What the HTTP runtime tests share: flows on disk, a real server, a counting listener."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer

from maidit_jupyter import run_sync
from maidit_jupyter.execution.flow_run import FlowRun


def write_flow(tmp_path: Path, body: str, *, frontmatter: str = "") -> Path:
    """A flow file holding ``body`` (frontmatter lines are added after the version)."""
    path = tmp_path / "t.flow.md"
    path.write_text(
        f"---\nname: t\nversion: 1.0.0\n{frontmatter}---\n<workflow>\n{body}\n"
        "</workflow>\n",
        encoding="utf-8",
    )
    return path


def run_flow(
    tmp_path: Path, body: str, *, frontmatter: str = "", **options: Any
) -> FlowRun:
    """Run ``body`` as a flow (no checkpoint unless asked)."""
    options.setdefault("checkpoint", False)
    return run_sync(write_flow(tmp_path, body, frontmatter=frontmatter), **options)


def error_of(flow_run: FlowRun, node: str) -> tuple[str, str]:
    """The (code, message) a failed node recorded."""
    error = flow_run.results[node].error
    assert error is not None, flow_run.results[node]
    return error.code, error.message


def serving() -> Iterator[HTTPServer]:
    """A real HTTP server on 127.0.0.1 (threaded: slow handlers do not block others).

    Test modules make it a fixture: ``yield from serving()``.
    """
    httpserver = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    httpserver.start()
    try:
        yield httpserver
    finally:
        httpserver.clear()
        if httpserver.is_running():
            httpserver.stop()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections and bytes it receives.

    Egress tests point blocked URLs at it: a blocked request must leave both at 0.
    """

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self.received = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            with conn:
                conn.settimeout(0.2)
                try:
                    while data := conn.recv(65536):
                        self.received += len(data)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def listening() -> Iterator[Listener]:
    """A :class:`Listener` for a fixture: ``yield from listening()``."""
    counting = Listener()
    try:
        yield counting
    finally:
        counting.close()
