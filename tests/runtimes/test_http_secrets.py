"""Secrets used by HTTP nodes never reach errors, reports, logs or checkpoints.

The secret travels in the URL query (templated into the URL, and as a ``params``
value), in a header and as a bearer token; the server fails in every way that quotes
a request back (a 500 echoing the key, a 401, connection refused). Every channel is
searched for the value and its common encodings.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from maidit_jupyter.cli.main import main
from maidit_jupyter.reporting.markdown import format_execution_log
from maidit_jupyter.reporting.report import run_report
from tests.runtimes.http_support import free_port, run_flow, serving, write_flow

#: a URL-safe secret (templated straight into the URL) and one full of URL syntax.
PLAIN = "plainSecret0123456789abcdef"
CANARY = "c4n4ry!@#%/?&=+:Zq8Lw3Xv9Tr"


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    yield from serving()


def forms(secret: str) -> list[str]:
    """The shapes a leaked secret could take."""
    raw = secret.encode()
    return [
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        base64.b64encode(raw).decode(),
        json.dumps(secret)[1:-1],
    ]


def assert_clean(text: str, where: str) -> None:
    for secret in (PLAIN, CANARY):
        for form in forms(secret):
            assert form not in text, f"{form!r} leaked into {where}"


def _echoing_server(server: HTTPServer) -> None:
    """Fails each request, quoting what it received."""

    def handler(request: Request) -> Response:
        quoted = (
            f"bad key {request.args.get('key')} / {request.headers.get('X-Api-Key')}"
        )
        if request.path == "/unauthorized":
            return Response(quoted, status=401)
        return Response(quoted, status=500, headers={"Retry-After": "0"})

    server.expect_request(re.compile("/.*")).respond_with_handler(handler)


def _body(base: str) -> str:
    head = f"""<source id="{{id}}" type="http" url="{base}/{{path}}?key={{{{{{{{ $secrets.PLAIN }}}}}}}}&amp;page=1">
  <params>
    sig: "{{{{{{{{ $secrets.CANARY }}}}}}}}"
  </params>
  <headers>
    X-Api-Key: "{{{{{{{{ $secrets.CANARY }}}}}}}}"
  </headers>
  <auth>
    type: bearer
    token: "{{{{{{{{ $secrets.PLAIN }}}}}}}}"
  </auth>
  <on-error><retry max="1" base="1ms"/></on-error>
</source>"""
    return "\n".join(
        head.format(id=node, path=path)
        for node, path in (("five", "fail"), ("four", "unauthorized"))
    )


FRONTMATTER = "secrets: [PLAIN, CANARY]\n"
SECRETS = {"PLAIN": PLAIN, "CANARY": CANARY}


def test_the_api_keeps_secrets_out_of_errors_reports_logs_and_checkpoints(
    tmp_path: Path, server: HTTPServer
) -> None:
    _echoing_server(server)
    refused = f"http://127.0.0.1:{free_port()}"
    body = (
        _body(server.url_for("").rstrip("/"))
        + "\n"
        + _body(refused)
        .replace('id="five"', 'id="down1"')
        .replace('id="four"', 'id="down2"')
    )
    state = tmp_path / "state"
    flow = run_flow(
        tmp_path,
        body,
        frontmatter=FRONTMATTER,
        secrets=SECRETS,
        checkpoint=True,
        state_dir=state,
        keep_going=True,
    )
    # the server did get the secrets (they are used, not dropped)
    request = server.log[0][0]
    assert request.args["key"] == PLAIN
    assert request.args["sig"] == CANARY
    assert request.headers["X-Api-Key"] == CANARY
    # ...and every node failed the way it should
    assert flow.record is not None
    codes = {n: r.error.code for n, r in flow.record.results.items() if r.error}
    assert codes == {
        "five": "RUNTIME_HTTP_ERROR",
        "four": "RUNTIME_HTTP_ERROR",
        "down1": "RUNTIME_CONNECTION_ERROR",
        "down2": "RUNTIME_CONNECTION_ERROR",
    }
    # the raw record (before the run's own redaction) is clean: the runtime masked it
    for node, result in flow.record.results.items():
        assert result.error is not None
        assert_clean(result.error.message, f"the raw error of {node}")
        assert_clean(json.dumps(result.meta), f"the meta of {node}")
    five = flow.record.results["five"].error
    assert five is not None
    assert "bad key *** / ***" in five.message
    assert "?key=***&page=***&sig=***" in five.message
    assert_clean(json.dumps(flow.report(), default=str), "the report")
    assert_clean(flow.log_markdown, "the markdown log")
    # also without the run's mask: the runtime alone kept them out
    unmasked = run_report(flow.record, plan=flow.plan.waves)
    assert_clean(json.dumps(unmasked, default=str), "the unmasked report")
    assert_clean(format_execution_log(flow.record), "the unmasked log")
    files = [p for p in state.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert_clean(path.read_text(encoding="utf-8", errors="replace"), str(path))


def test_the_cli_keeps_secrets_out_of_its_json_and_the_flow_file(
    tmp_path: Path,
    server: HTTPServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _echoing_server(server)
    monkeypatch.setenv("PLAIN", PLAIN)
    monkeypatch.setenv("CANARY", CANARY)
    path = write_flow(
        tmp_path, _body(server.url_for("").rstrip("/")), frontmatter=FRONTMATTER
    )
    code = main(["run", str(path), "--format", "json", "--keep-going"])
    captured = capsys.readouterr()
    assert code == 1
    report = json.loads(captured.out)
    assert report["nodes"]["five"]["error"]["code"] == "RUNTIME_HTTP_ERROR"
    assert "HTTP 500" in report["nodes"]["five"]["error"]["message"]
    assert_clean(captured.out, "stdout")
    assert_clean(captured.err, "stderr")
    assert_clean(path.read_text(encoding="utf-8"), "the flow file's log")
    for state_file in (tmp_path / ".maidit-state").rglob("*"):
        if state_file.is_file():
            assert_clean(state_file.read_text(errors="replace"), str(state_file))
