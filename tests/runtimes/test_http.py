"""HTTP source and sink against a real server on 127.0.0.1, through real flows."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from maidit_jupyter.durations import parse_retry_after_ms
from maidit_jupyter.execution.state import NodeStatus, RunStatus
from maidit_jupyter.runtimes.http import redact_url
from tests.runtimes.http_support import error_of, free_port, run_flow, serving


@pytest.fixture(scope="module")
def running() -> Iterator[HTTPServer]:
    yield from serving()


@pytest.fixture
def server(running: HTTPServer) -> Iterator[HTTPServer]:
    """The module's server, with no handlers and an empty log."""
    running.clear()
    yield running
    running.clear()


# -- requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method", ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
)
def test_every_method_reaches_the_server(
    tmp_path: Path, server: HTTPServer, method: str
) -> None:
    server.expect_request("/thing", method=method).respond_with_json({"m": method})
    flow = run_flow(
        tmp_path,
        f'<source id="s" type="http" url="{server.url_for("/thing")}" method="{method.lower()}"/>\n'
        f'<sink id="k" type="http" url="{server.url_for("/thing")}" method="{method}"/>',
    )
    assert flow.status is RunStatus.COMPLETED, flow.error
    expected = None if method == "HEAD" else {"m": method}
    assert flow.outputs["s"] == expected
    assert flow.outputs["k"]["status"] == 200
    assert flow.results["s"].meta == {
        "status": 200,
        "method": method,
        "url": server.url_for("/thing"),
    }
    assert [req.method for req, _ in server.log] == [method, method]


def test_request_block_with_nested_headers_and_params(
    tmp_path: Path, server: HTTPServer
) -> None:
    """``headers:`` nested in ``<request>`` works; params are appended to the query."""
    server.expect_request(
        "/search",
        method="GET",
        headers={"Accept": "application/json", "X-Trace": "t-7"},
        query_string="q=cats&page=2&tag=a&tag=b",
    ).respond_with_json({"hits": 3})
    body = f"""<source id="s" type="http">
  <request>
    method: GET
    url: {server.url_for("/search")}?q=cats
    headers:
      Accept: application/json
      X-Trace: "t-{{{{ 3 + 4 }}}}"
    params:
      page: 2
      tag: [a, b]
      unused: null
  </request>
</source>"""
    flow = run_flow(tmp_path, body)
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert flow.outputs["s"] == {"hits": 3}
    server.check_assertions()


def test_an_object_body_is_sent_as_json_once(
    tmp_path: Path, server: HTTPServer
) -> None:
    seen: list[tuple[bytes, str]] = []

    def handler(request: Request) -> Response:
        seen.append((request.get_data(), request.headers.get("Content-Type", "")))
        return Response("{}", content_type="application/json")

    server.expect_request("/items", method="POST").respond_with_handler(handler)
    body = f"""<source id="s" type="http" url="{server.url_for("/items")}" method="POST">
  <body>
    name: widget
    count: "{{{{ 2 * 21 }}}}"
    tags: [a, b]
  </body>
</source>"""
    flow = run_flow(tmp_path, body)
    assert flow.status is RunStatus.COMPLETED, flow.error
    data, content_type = seen[0]
    assert json.loads(data) == {"name": "widget", "count": 42, "tags": ["a", "b"]}
    assert content_type == "application/json"


@pytest.mark.parametrize(
    ("attribute", "sent", "content_type"),
    [
        pytest.param("hello, world", b"hello, world", "text/plain", id="text"),
        pytest.param(
            '{"k": "v"}',
            b'{"k": "v"}',
            "application/json",
            id="json-text-not-re-encoded",
        ),
    ],
)
def test_a_string_body_is_sent_as_given(
    tmp_path: Path,
    server: HTTPServer,
    attribute: str,
    sent: bytes,
    content_type: str,
) -> None:
    seen: list[tuple[bytes, str]] = []

    def handler(request: Request) -> Response:
        seen.append((request.get_data(), request.headers.get("Content-Type", "")))
        return Response("ok", content_type="text/plain")

    server.expect_request("/echo", method="PUT").respond_with_handler(handler)
    escaped = attribute.replace('"', "&quot;")
    flow = run_flow(
        tmp_path,
        f'<source id="s" type="http" url="{server.url_for("/echo")}" method="PUT" '
        f'body="{escaped}"/>',
    )
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert seen[0][0] == sent
    assert seen[0][1].startswith(content_type)
    assert flow.outputs["s"] == "ok"


def test_a_content_type_header_wins(tmp_path: Path, server: HTTPServer) -> None:
    server.expect_request(
        "/x", method="POST", headers={"Content-Type": "application/vnd.api+json"}
    ).respond_with_data("", status=204)
    body = f"""<source id="s" type="http" url="{server.url_for("/x")}" method="POST" body="{{}}">
  <headers>
    Content-Type: application/vnd.api+json
  </headers>
</source>"""
    flow = run_flow(tmp_path, body)
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert flow.outputs["s"] is None
    server.check_assertions()


def test_a_sink_sends_its_input_and_returns_the_status(
    tmp_path: Path, server: HTTPServer
) -> None:
    server.expect_request("/report", method="GET").respond_with_json(
        {"total": 3, "names": ["a", "b"]}
    )
    server.expect_request(
        "/hook", method="POST", json={"total": 3, "names": ["a", "b"]}
    ).respond_with_json({"id": 9}, status=201, headers={"X-Request-Id": "r1"})
    body = (
        f'<source id="report" type="http" url="{server.url_for("/report")}"/>\n'
        f'<sink id="post" type="http" input="report" url="{server.url_for("/hook")}"/>'
    )
    flow = run_flow(tmp_path, body)
    assert flow.status is RunStatus.COMPLETED, flow.error
    out = flow.outputs["post"]
    assert (out["status"], out["statusText"], out["body"]) == (
        201,
        "CREATED",
        {"id": 9},
    )
    assert out["headers"]["x-request-id"] == "r1"
    assert flow.results["post"].meta == {
        "status": 201,
        "method": "POST",
        "url": server.url_for("/hook"),
    }
    server.check_assertions()


# -- auth --------------------------------------------------------------------------------


def test_bearer_and_basic_auth(tmp_path: Path, server: HTTPServer) -> None:
    basic = base64.b64encode(b"ann:p@ss:word").decode()
    server.expect_request(
        "/bearer", headers={"Authorization": "Bearer tok-123"}
    ).respond_with_json(1)
    server.expect_request(
        "/basic", headers={"Authorization": f"Basic {basic}"}
    ).respond_with_json(2)
    body = f"""<source id="b" type="http" url="{server.url_for("/bearer")}">
  <headers>
    Authorization: overridden by auth
  </headers>
  <auth>
    type: bearer
    token: "{{{{ $secrets.TOKEN }}}}"
  </auth>
</source>
<source id="c" type="http" url="{server.url_for("/basic")}">
  <auth>
    type: basic
    username: ann
    password: "{{{{ $secrets.PASSWORD }}}}"
  </auth>
</source>"""
    flow = run_flow(
        tmp_path,
        body,
        frontmatter="secrets: [TOKEN, PASSWORD]\n",
        secrets={"TOKEN": "tok-123", "PASSWORD": "p@ss:word"},
    )
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert (flow.outputs["b"], flow.outputs["c"]) == (1, 2)
    server.check_assertions()


def _token_endpoint(
    server: HTTPServer, expires_in: float = 3600
) -> list[dict[str, str]]:
    """A token endpoint handing out tok-1, tok-2, ...; returns the forms it got."""
    forms: list[dict[str, str]] = []
    lock = threading.Lock()

    def handler(request: Request) -> Response:
        with lock:
            forms.append(dict(request.form))
            number = len(forms)
        return Response(
            json.dumps(
                {
                    "access_token": f"tok-{number}",
                    "token_type": "Bearer",
                    "expires_in": expires_in,
                }
            ),
            content_type="application/json",
        )

    server.expect_request("/token", method="POST").respond_with_handler(handler)
    return forms


def _api_echoing_the_token(server: HTTPServer, refuse: str | None = None) -> None:
    def handler(request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        if refuse is not None and auth == f"Bearer {refuse}":
            return Response("expired", status=401)
        return Response(json.dumps(auth), content_type="application/json")

    server.expect_request("/api").respond_with_handler(handler)


OAUTH = """  <auth>
    type: oauth2
    token_url: {token_url}
    client_id: app
    client_secret: "{{{{ $secrets.CLIENT_SECRET }}}}"
    scope: read write
  </auth>"""


def test_oauth2_token_is_fetched_once_for_many_requests(
    tmp_path: Path, server: HTTPServer
) -> None:
    forms = _token_endpoint(server)
    _api_echoing_the_token(server)
    auth = OAUTH.format(token_url=server.url_for("/token"))
    body = f"""<foreach id="each" collection="range(0, 8)" concurrency="4">
  <source id="call" type="http" url="{server.url_for("/api")}">
{auth}
  </source>
</foreach>
<source id="again" type="http" url="{server.url_for("/api")}" input="each">
{auth}
</source>"""
    flow = run_flow(
        tmp_path,
        body,
        frontmatter="secrets: [CLIENT_SECRET]\n",
        secrets={"CLIENT_SECRET": "shh-very-secret"},
    )
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert flow.outputs["each"] == ["Bearer tok-1"] * 8
    assert flow.outputs["again"] == "Bearer tok-1"
    assert forms == [
        {
            "grant_type": "client_credentials",
            "client_id": "app",
            "client_secret": "shh-very-secret",
            "scope": "read write",
        }
    ]


def test_oauth2_token_is_renewed_after_it_expires(
    tmp_path: Path, server: HTTPServer
) -> None:
    """``expires_in: 1`` (less a tenth as margin): the second use, 1.2 s later, renews."""
    forms = _token_endpoint(server, expires_in=1)
    _api_echoing_the_token(server)
    auth = OAUTH.format(token_url=server.url_for("/token"))
    body = f"""<source id="a" type="http" url="{server.url_for("/api")}">
{auth}
</source>
<source id="b" type="http" url="{server.url_for("/api")}" input="a">
{auth}
</source>
<delay id="wait" duration="1200ms" input="b"/>
<source id="c" type="http" url="{server.url_for("/api")}" input="wait">
{auth}
</source>"""
    flow = run_flow(
        tmp_path,
        body,
        frontmatter="secrets: [CLIENT_SECRET]\n",
        secrets={"CLIENT_SECRET": "shh-very-secret"},
    )
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert [flow.outputs[n] for n in "abc"] == [
        "Bearer tok-1",
        "Bearer tok-1",
        "Bearer tok-2",
    ]
    assert len(forms) == 2


def test_oauth2_a_401_renews_the_token_once(tmp_path: Path, server: HTTPServer) -> None:
    forms = _token_endpoint(server)
    _api_echoing_the_token(server, refuse="tok-1")
    auth = OAUTH.format(token_url=server.url_for("/token"))
    body = f"""<source id="a" type="http" url="{server.url_for("/api")}">
{auth}
</source>"""
    flow = run_flow(
        tmp_path,
        body,
        frontmatter="secrets: [CLIENT_SECRET]\n",
        secrets={"CLIENT_SECRET": "shh-very-secret"},
    )
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert flow.outputs["a"] == "Bearer tok-2"
    assert len(forms) == 2


def test_oauth2_a_token_quoted_by_the_api_is_masked(
    tmp_path: Path, server: HTTPServer
) -> None:
    _token_endpoint(server)
    server.expect_request("/api").respond_with_handler(
        lambda request: Response(
            f"refused {request.headers.get('Authorization')}", status=403
        )
    )
    auth = OAUTH.format(token_url=server.url_for("/token"))
    flow = run_flow(
        tmp_path,
        f'<source id="a" type="http" url="{server.url_for("/api")}">\n{auth}\n</source>',
        frontmatter="secrets: [CLIENT_SECRET]\n",
        secrets={"CLIENT_SECRET": "shh-very-secret"},
    )
    assert flow.record is not None
    error = flow.record.results["a"].error
    assert error is not None
    assert error.message.endswith(": refused Bearer ***")


def test_oauth2_a_refused_token_request_fails_without_the_secret(
    tmp_path: Path, server: HTTPServer
) -> None:
    server.expect_request("/token", method="POST").respond_with_json(
        {"error": "invalid_client", "detail": "shh-very-secret is wrong"}, status=400
    )
    auth = OAUTH.format(token_url=server.url_for("/token"))
    flow = run_flow(
        tmp_path,
        f'<source id="a" type="http" url="{server.url_for("/api")}">\n{auth}\n</source>',
        frontmatter="secrets: [CLIENT_SECRET]\n",
        secrets={"CLIENT_SECRET": "shh-very-secret"},
    )
    code, message = error_of(flow, "a")
    assert code == "RUNTIME_AUTH_ERROR"
    assert "HTTP 400 (invalid_client)" in message
    assert "shh-very-secret" not in message


# -- responses ---------------------------------------------------------------------------

DATA = {"data": {"items": [{"id": 1, "tags": ["x"]}, {"id": 2, "tags": []}]}}


@pytest.mark.parametrize(
    "extract",
    [
        pytest.param(
            '<source id="s" type="http" url="{url}" extract="data.items[*].id"/>',
            id="attribute",
        ),
        pytest.param(
            '<source id="s" type="http" url="{url}"><extract>data.items[*].id</extract></source>',
            id="child",
        ),
        pytest.param(
            '<source id="s" type="http" url="{url}"><response><extract>data.items[*].id</extract></response></source>',
            id="response-block",
        ),
        pytest.param(
            '<source id="s" type="http"><request>\n  url: {url}\n</request>\n'
            "<response>\n  extract: data.items[*].id\n</response></source>",
            id="response-yaml",
        ),
    ],
)
def test_extract_selects_with_jmespath(
    tmp_path: Path, server: HTTPServer, extract: str
) -> None:
    server.expect_request("/data").respond_with_json(DATA)
    flow = run_flow(tmp_path, extract.format(url=server.url_for("/data")))
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert flow.outputs["s"] == [1, 2]


def test_an_invalid_extract_is_a_configuration_error(
    tmp_path: Path, server: HTTPServer
) -> None:
    server.expect_request("/data").respond_with_json(DATA)
    flow = run_flow(
        tmp_path,
        f'<source id="s" type="http" url="{server.url_for("/data")}" extract="data.[["/>',
    )
    code, message = error_of(flow, "s")
    assert code == "RUNTIME_INVALID_CONFIG"
    assert "not valid JMESPath" in message


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        pytest.param(b'{"a": [1, 2]}', "application/json", {"a": [1, 2]}, id="json"),
        pytest.param(
            b'{"a": 1}',
            "application/problem+json; charset=utf-8",
            {"a": 1},
            id="x+json",
        ),
        pytest.param(b"plain words", "text/plain", "plain words", id="text"),
        pytest.param(b"<a>1</a>", "application/xml", "<a>1</a>", id="xml"),
        pytest.param(
            b'name,score\n"Ann, B",3\n',
            "text/csv",
            [{"name": "Ann, B", "score": "3"}],
            id="csv",
        ),
        pytest.param(
            b'{"n": 1}\n{"n": 2}\n',
            "application/x-ndjson",
            [{"n": 1}, {"n": 2}],
            id="ndjson",
        ),
        pytest.param(
            b"a: 1\nb: [x]\n", "application/yaml", {"a": 1, "b": ["x"]}, id="yaml"
        ),
        pytest.param(b"[1, 2]", "", [1, 2], id="unlabelled-json"),
        pytest.param(b"not json", "", "not json", id="unlabelled-text"),
        pytest.param(
            b"\xff\xd8\xff",
            "image/jpeg",
            {"contentType": "image/jpeg", "base64": "/9j/"},
            id="binary",
        ),
        pytest.param(
            "café".encode("latin-1"),
            "text/plain; charset=latin-1",
            "café",
            id="charset",
        ),
    ],
)
def test_the_response_is_parsed_by_its_content_type(
    tmp_path: Path,
    server: HTTPServer,
    body: bytes,
    content_type: str,
    expected: object,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    server.expect_request("/r").respond_with_response(Response(body, headers=headers))
    if not content_type:
        # werkzeug labels bodies itself; drop its label so the body arrives unlabelled
        server.clear()
        response = Response(body)
        response.headers.remove("Content-Type")
        server.expect_request("/r").respond_with_response(response)
    flow = run_flow(
        tmp_path, f'<source id="s" type="http" url="{server.url_for("/r")}"/>'
    )
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert flow.outputs["s"] == expected


def test_invalid_json_is_a_parse_error(tmp_path: Path, server: HTTPServer) -> None:
    server.expect_request("/r").respond_with_data(
        "{oops", content_type="application/json"
    )
    flow = run_flow(
        tmp_path, f'<source id="s" type="http" url="{server.url_for("/r")}"/>'
    )
    code, message = error_of(flow, "s")
    assert code == "PARSE_ERROR"
    assert "Invalid JSON in the response of" in message


def test_a_response_over_the_size_limit_fails(
    tmp_path: Path, server: HTTPServer
) -> None:
    server.expect_request("/big").respond_with_data(
        "x" * 5000, content_type="text/plain"
    )
    flow = run_flow(
        tmp_path,
        f'<source id="s" type="http" url="{server.url_for("/big")}"/>',
        frontmatter="http:\n  max_response_bytes: 1000\n",
    )
    code, message = error_of(flow, "s")
    assert code == "RUNTIME_RESPONSE_TOO_LARGE"
    assert "1,000 bytes" in message


# -- errors and retries ------------------------------------------------------------------


def test_a_4xx_fails_with_status_and_excerpt_and_is_not_retried(
    tmp_path: Path, server: HTTPServer
) -> None:
    server.expect_request("/missing").respond_with_json(
        {"error": "no such   item", "hint": "x" * 500}, status=404
    )
    body = f"""<source id="s" type="http" url="{server.url_for("/missing")}?id=7">
  <on-error><retry max="3" base="1ms"/></on-error>
</source>"""
    flow = run_flow(tmp_path, body)
    code, message = error_of(flow, "s")
    assert code == "RUNTIME_HTTP_ERROR"
    assert message.startswith(
        f"HTTP 404 NOT FOUND from GET {server.url_for('/missing')}?id=***: "
        '{ "error": "no such item"'
    )
    assert message.endswith("…")
    assert len(message) < 320
    assert flow.results["s"].attempts == 1
    assert len(server.log) == 1


def test_the_status_is_visible_to_a_retry_condition(
    tmp_path: Path, server: HTTPServer
) -> None:
    server.expect_request("/teapot").respond_with_data("no", status=418)
    body = f"""<source id="s" type="http" url="{server.url_for("/teapot")}">
  <on-error><retry max="2" base="1ms" when="$error.status == 418"/></on-error>
</source>"""
    flow = run_flow(tmp_path, body)
    assert flow.results["s"].attempts == 3
    assert len(server.log) == 3


def _replies(server: HTTPServer, path: str, *replies: Response) -> list[float]:
    """Answer ``path`` with ``replies`` in turn (the last one after); returns the times."""
    times: list[float] = []

    def handler(request: Request) -> Response:
        times.append(time.monotonic())
        return replies[min(len(times), len(replies)) - 1]

    server.expect_request(path).respond_with_handler(handler)
    return times


def test_a_429_is_retried_after_its_retry_after(
    tmp_path: Path, server: HTTPServer
) -> None:
    times = _replies(
        server,
        "/limited",
        Response("slow down", status=429, headers={"Retry-After": "1"}),
        Response('{"ok": true}', content_type="application/json"),
    )
    body = f"""<source id="s" type="http" url="{server.url_for("/limited")}">
  <on-error><retry max="2" base="1ms" jitter="none"/></on-error>
</source>"""
    flow = run_flow(tmp_path, body)
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert flow.outputs["s"] == {"ok": True}
    assert flow.results["s"].attempts == 2
    assert 0.95 <= times[1] - times[0] < 3


def test_a_long_retry_after_is_capped_by_the_policy(
    tmp_path: Path, server: HTTPServer
) -> None:
    times = _replies(
        server,
        "/limited",
        Response("busy", status=503, headers={"Retry-After": "120"}),
        Response("[]", content_type="application/json"),
    )
    body = f"""<source id="s" type="http" url="{server.url_for("/limited")}">
  <on-error><retry max="1" base="1ms" cap="300ms" jitter="none"/></on-error>
</source>"""
    flow = run_flow(tmp_path, body)
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert 0.25 <= times[1] - times[0] < 2


def test_a_500_is_retried(tmp_path: Path, server: HTTPServer) -> None:
    _replies(
        server,
        "/flaky",
        Response("oops", status=500),
        Response("oops", status=502),
        Response("fine", content_type="text/plain"),
    )
    body = f"""<source id="s" type="http" url="{server.url_for("/flaky")}">
  <on-error><retry max="3" base="1ms"/></on-error>
</source>"""
    flow = run_flow(tmp_path, body)
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert (flow.outputs["s"], flow.results["s"].attempts) == ("fine", 3)


def test_a_5xx_without_retries_fails_retryable(
    tmp_path: Path, server: HTTPServer
) -> None:
    server.expect_request("/down").respond_with_data("down", status=503)
    flow = run_flow(
        tmp_path, f'<source id="s" type="http" url="{server.url_for("/down")}"/>'
    )
    code, message = error_of(flow, "s")
    assert (code, flow.results["s"].attempts) == ("RUNTIME_HTTP_ERROR", 1)
    assert message.endswith(": down")


def test_a_slow_response_hits_the_node_timeout(
    tmp_path: Path, server: HTTPServer
) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response("late")

    server.expect_request("/slow").respond_with_handler(slow)
    body = f"""<source id="s" type="http" url="{server.url_for("/slow")}" timeout="200ms">
  <on-error><retry max="1" base="1ms"/></on-error>
</source>"""
    started = time.monotonic()
    flow = run_flow(tmp_path, body)
    elapsed = time.monotonic() - started
    code, message = error_of(flow, "s")
    assert code == "RUNTIME_TIMEOUT"
    assert "200 ms" in message
    assert flow.results["s"].attempts == 2
    assert elapsed < 1.5


def test_connection_refused_is_retryable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/x"
    body = f"""<source id="s" type="http" url="{url}">
  <on-error><retry max="2" base="1ms"/></on-error>
</source>"""
    flow = run_flow(tmp_path, body)
    code, message = error_of(flow, "s")
    assert code == "RUNTIME_CONNECTION_ERROR"
    assert message.startswith(f"GET {url}: connection failed")
    assert flow.results["s"].attempts == 3


# -- redirects ---------------------------------------------------------------------------


def test_redirects_are_followed(tmp_path: Path, server: HTTPServer) -> None:
    server.expect_request("/old").respond_with_response(
        Response(status=301, headers={"Location": "/middle"})
    )
    server.expect_request("/middle").respond_with_response(
        Response(status=307, headers={"Location": server.url_for("/new")})
    )
    server.expect_request("/new").respond_with_json({"here": True})
    flow = run_flow(
        tmp_path, f'<source id="s" type="http" url="{server.url_for("/old")}"/>'
    )
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert flow.outputs["s"] == {"here": True}
    assert flow.results["s"].meta is not None
    assert flow.results["s"].meta["redirects"] == 2


def test_a_303_after_a_post_becomes_a_get_without_body(
    tmp_path: Path, server: HTTPServer
) -> None:
    server.expect_request("/create", method="POST").respond_with_response(
        Response(status=303, headers={"Location": "/created/1"})
    )
    server.expect_request("/created/1", method="GET").respond_with_json({"id": 1})
    flow = run_flow(
        tmp_path,
        f'<source id="s" type="http" url="{server.url_for("/create")}" method="POST" '
        'body="{&quot;a&quot;: 1}"/>',
    )
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert flow.outputs["s"] == {"id": 1}
    final = server.log[-1][0]
    assert final.get_data() == b""
    assert "Content-Type" not in final.headers


def test_too_many_redirects_fail(tmp_path: Path, server: HTTPServer) -> None:
    server.expect_request("/loop").respond_with_response(
        Response(status=302, headers={"Location": "/loop"})
    )
    flow = run_flow(
        tmp_path,
        f'<source id="s" type="http" url="{server.url_for("/loop")}"/>',
        frontmatter="http:\n  max_redirects: 3\n",
    )
    code, message = error_of(flow, "s")
    assert code == "RUNTIME_TOO_MANY_REDIRECTS"
    assert "more than 3 redirects" in message
    assert len(server.log) == 4


# -- configuration -----------------------------------------------------------------------


S = '<source id="s" type="http" '
BAD_AUTH = S + 'url="http://127.0.0.1:1/"><auth>type: digest</auth></source>'
HALF_OAUTH = (
    S + 'url="http://127.0.0.1:1/"><auth>type: oauth2\nclient_id: x</auth></source>'
)


@pytest.mark.parametrize(
    ("node", "frontmatter", "fragment"),
    [
        pytest.param(
            S + 'url="/relative"/>', "", "absolute http or https", id="relative"
        ),
        pytest.param(S + 'url="file:///etc/passwd"/>', "", "absolute http", id="file"),
        pytest.param(
            S + 'url="gopher://127.0.0.1/"/>', "", "absolute http", id="gopher"
        ),
        pytest.param(BAD_AUTH, "", "unknown auth type 'digest'", id="auth-type"),
        pytest.param(
            HALF_OAUTH, "", "missing: token_url, client_secret", id="oauth2-missing"
        ),
        pytest.param(
            S + 'url="http://127.0.0.1:1/" method="{{ \'BREW\' }}"/>',
            "",
            "unknown method 'BREW'",
            id="method",
        ),
        pytest.param(
            S + 'url="http://127.0.0.1:1/"/>',
            "http:\n  deny_host: [private]\n",
            "unknown key(s) in the frontmatter's http section: deny_host",
            id="frontmatter-key",
        ),
        pytest.param(
            S + 'url="http://127.0.0.1:1/"/>',
            "http:\n  deny_hosts: [http://evil.example/]\n",
            "is not a host name",
            id="frontmatter-entry",
        ),
    ],
)
def test_configuration_errors(
    tmp_path: Path, node: str, frontmatter: str, fragment: str
) -> None:
    flow = run_flow(tmp_path, node, frontmatter=frontmatter)
    code, message = error_of(flow, "s")
    assert code == "RUNTIME_INVALID_CONFIG"
    assert fragment in message
    assert flow.results["s"].status is NodeStatus.FAILED


# -- helpers -----------------------------------------------------------------------------


def test_retry_after_reads_seconds_and_dates() -> None:
    assert parse_retry_after_ms("3") == 3000
    assert parse_retry_after_ms(" 0.5 ") == 500
    assert parse_retry_after_ms("-4") == 0
    assert parse_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    soon = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    delay = parse_retry_after_ms(soon)
    assert delay is not None
    assert 25_000 <= delay <= 31_000
    assert parse_retry_after_ms("soon") is None
    assert parse_retry_after_ms("nan") is None
    assert parse_retry_after_ms(None) is None


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://api.x/v1?key=abc&page=2", "https://api.x/v1?key=***&page=***"),
        ("https://user:pw@api.x/v1", "https://***@api.x/v1"),
        ("https://api.x/v1?token#frag", "https://api.x/v1?***"),
        ("https://api.x/v1", "https://api.x/v1"),
        ("http://[::1/x?k=v", "http://[::1/x?***"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
