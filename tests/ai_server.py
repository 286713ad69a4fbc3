"""A local OpenAI-compatible chat-completions server for the AI runtime's tests.

A real HTTP server on ``127.0.0.1`` (a free port), served by a thread, so flows run by the
API or by a ``maidit`` subprocess reach it the way they would reach OpenRouter. Each test
scripts the replies, in order: :func:`text` (a message), :func:`tool` (a call of the
output tool), :func:`error` (any status, with headers such as ``Retry-After``), and
:func:`slow` (any reply, sent late). Every ``POST /v1/chat/completions`` takes the next
reply; when none is left the server answers 500 ``no scripted reply``. The server
records each request (path, headers, JSON body, arrival time) so tests can assert the
prompts, the tools and the ``Authorization`` header.

Use the :func:`ai_server` fixture, or ``with AIServer() as server:``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import pytest

__all__ = [
    "AIServer",
    "Recorded",
    "Reply",
    "ai_server",
    "error",
    "slow",
    "text",
    "tool",
]

PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class Reply:
    """One scripted reply: status, JSON body (or raw text), headers, delay in seconds."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    body: Any
    at: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages of the request."""
        return list(self.body.get("messages", []))

    def content(self, role: str) -> str:
        """The content of the first message with ``role`` ("" when there is none)."""
        return next((m["content"] for m in self.messages if m.get("role") == role), "")


def _completion(message: dict[str, Any], usage: tuple[int, int]) -> dict[str, Any]:
    prompt, completion = usage
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "test-model",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def text(content: str, *, usage: tuple[int, int] = (10, 5)) -> Reply:
    """A plain assistant message."""
    return Reply(body=_completion({"role": "assistant", "content": content}, usage))


def tool(
    arguments: Any, *, name: str = "output", usage: tuple[int, int] = (20, 8)
) -> Reply:
    """A call of the tool ``name``; ``arguments`` is sent as JSON text unless a str."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": name, "arguments": raw},
            }
        ],
    }
    return Reply(body=_completion(message, usage))


def error(
    status: int, message: str = "error", *, headers: dict[str, str] | None = None
) -> Reply:
    """An error reply in OpenAI's shape (``{"error": {"message": ...}}``)."""
    return Reply(
        status=status,
        body={"error": {"message": message, "code": status}},
        headers=dict(headers or {}),
    )


def slow(seconds: float, reply: Reply) -> Reply:
    """``reply``, sent after ``seconds``."""
    return Reply(
        status=reply.status, body=reply.body, headers=reply.headers, delay=seconds
    )


class AIServer:
    """The scripted server; ``url`` is the base URL to configure (``…/v1``)."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="ai-server",
            daemon=True,
        )

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Reply) -> None:
        """Queue ``replies``, answered in order."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def pending(self) -> int:
        """How many scripted replies are still unused."""
        with self._lock:
            return len(self._replies)

    def start(self) -> Self:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; slow replies still waiting give up."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next(self) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return error(500, "no scripted reply")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: pytest output stays readable."""

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                server.requests.append(
                    Recorded(
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        at=time.monotonic(),
                    )
                )
                if self.path != PATH:
                    self._send(error(404, f"no route {self.path}"))
                    return
                reply = server._next()
                if reply.delay and server._stopping.wait(reply.delay):
                    return
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                data = (
                    reply.body.encode()
                    if isinstance(reply.body, str)
                    else json.dumps(reply.body).encode()
                )
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        return Handler


@pytest.fixture
def ai_server() -> Iterator[AIServer]:
    """A running :class:`AIServer`, stopped after the test."""
    with AIServer() as server:
        yield server
