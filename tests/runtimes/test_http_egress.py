"""The egress policy of HTTP nodes: checked on the address actually connected, every hop.

Blocked requests point at a listener that counts connections and bytes: both must stay
0 (the check happens before the socket connects, not after a request went out).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import anyio
import httpcore
import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from maidit_jupyter.execution.state import RunStatus
from maidit_jupyter.runtimes.egress import (
    EgressBlocked,
    EgressPolicy,
    IPAddress,
    PolicyError,
    read_http_settings,
)
from maidit_jupyter.runtimes.http_transport import Resolver, open_client
from tests import figures
from tests.runtimes.http_support import (
    Listener,
    error_of,
    listening,
    run_flow,
    serving,
)


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    yield from serving()


@pytest.fixture
def listener() -> Iterator[Listener]:
    yield from listening()


def ip(text: str) -> IPAddress:
    return ipaddress.ip_address(text)


# -- the policy --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allow", "deny", "host", "address", "allowed"),
    [
        ((), (), "api.example.com", "93.184.216.34", True),
        ((), (), "localhost", "127.0.0.1", True),
        ((), (), "x", "169.254.169.254", False),
        ((), (), "x", "fe80::1", False),
        ((), (), "x", "0.0.0.0", False),
        ((), (), "x", "::ffff:169.254.169.254", False),
        ((), (), "metadata.google.internal", None, False),
        (("169.254.169.254",), (), "x", "169.254.169.254", False),
        ((), ("private",), "x", "127.0.0.1", False),
        ((), ("private",), "x", "10.1.2.3", False),
        ((), ("private",), "x", "172.16.0.1", False),
        ((), ("private",), "x", "192.168.1.1", False),
        ((), ("private",), "x", "100.64.0.1", False),
        ((), ("private",), "x", "::1", False),
        ((), ("private",), "x", "fd12::1", False),
        ((), ("private",), "x", "::ffff:127.0.0.1", False),
        ((), ("private",), "x", "93.184.216.34", True),
        ((), ("10.0.0.0/8",), "x", "10.9.9.9", False),
        ((), ("10.0.0.0/8",), "x", "11.0.0.1", True),
        ((), ("*.internal.example",), "db.internal.example", "93.184.216.34", False),
        ((), ("*.internal.example",), "internal.example", "93.184.216.34", True),
        ((), ("Evil.Example.",), "evil.example", "93.184.216.34", False),
        (("api.example.com",), (), "api.example.com", "93.184.216.34", True),
        (("api.example.com",), (), "other.example.com", "93.184.216.34", False),
        (("93.184.216.0/24",), (), "whatever", "93.184.216.34", True),
        (("127.0.0.1",), ("private",), "x", "127.0.0.1", True),
        (("127.0.0.1",), ("private",), "x", "127.0.0.2", False),
        (("internal.corp",), ("private",), "internal.corp", "10.0.0.5", True),
        (("private",), (), "x", "192.168.0.1", True),
        (("private",), (), "x", "8.8.8.8", False),
        ((), ("fc00::/7",), "x", "fd00::5", False),
        (("bücher.example",), (), "xn--bcher-kva.example", "93.184.216.34", True),
    ],
)
def test_policy_decisions(
    allow: tuple[str, ...],
    deny: tuple[str, ...],
    host: str,
    address: str | None,
    allowed: bool,
) -> None:
    policy = EgressPolicy.of(allow, deny)
    reason = policy.check(host, None if address is None else ip(address))
    assert (reason is None) is allowed, reason


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"deny_host": ["private"]}, "unknown key(s)"),
        ({"deny_hosts": [3]}, "entries must be host names"),
        ({"deny_hosts": ["10.0.0.0/33"]}, "invalid CIDR range"),
        ({"deny_hosts": ["https://x.example"]}, "is not a host name"),
        ({"deny_hosts": ["x.example:443"]}, "is not a host name"),
        ({"allow_hosts": ["a.*.example"]}, "a wildcard may only start"),
        ({"allow_hosts": {"a": 1}}, "must be a list"),
        ({"max_redirects": -1}, "max_redirects must be a whole number"),
        ({"max_response_bytes": True}, "max_response_bytes must be"),
    ],
)
def test_unreadable_sections_are_refused(
    section: dict[str, object], message: str
) -> None:
    with pytest.raises(PolicyError, match=re.escape(message)):
        read_http_settings(section)


def test_a_section_is_read() -> None:
    settings = read_http_settings(
        {"allow_hosts": "api.example.com, 10.0.0.0/8", "max_redirects": 0}
    )
    assert settings.max_redirects == 0
    assert settings.policy.check("api.example.com", ip("93.184.216.34")) is None
    assert settings.policy.check("x", ip("10.2.3.4")) is None
    assert settings.policy.check("x", ip("8.8.8.8")) is not None


# -- flows -------------------------------------------------------------------------------

BLOCKED_FORMS = [
    "127.0.0.1",
    "127.1",
    "0x7f000001",
    "2130706433",
    "[::ffff:127.0.0.1]",
    "[::1]",
    "localhost",
    "LOCALHOST.",
    "public@127.0.0.1",
]


@pytest.mark.parametrize("host", BLOCKED_FORMS)
def test_deny_private_blocks_every_spelling_of_loopback(
    tmp_path: Path, listener: Listener, host: str
) -> None:
    if host == "[::1]" and not _has_ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    url = f"http://{host}:{listener.port}/x"
    flow = run_flow(
        tmp_path,
        f'<source id="s" type="http" url="{url}">'
        '<on-error><retry max="2" base="1ms"/></on-error></source>',
        frontmatter="http:\n  deny_hosts: [private]\n",
    )
    code, message = error_of(flow, "s")
    assert code == "RUNTIME_EGRESS_BLOCKED", message
    assert "private address (http.deny_hosts: private)" in message
    assert flow.results["s"].attempts == 1  # a policy refusal is not retried
    assert (listener.accepted, listener.received) == (0, 0)


def _has_ipv6_loopback() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_an_octal_address_is_not_a_valid_url(
    tmp_path: Path, listener: Listener
) -> None:
    """httpx refuses ``0177.0.0.1`` outright: nothing connects either."""
    flow = run_flow(
        tmp_path,
        f'<source id="s" type="http" url="http://0177.0.0.1:{listener.port}/"/>',
        frontmatter="http:\n  deny_hosts: [private]\n",
    )
    assert error_of(flow, "s")[0] == "RUNTIME_INVALID_CONFIG"
    assert (listener.accepted, listener.received) == (0, 0)


#: URL forms of design/reliability.md §1.14 and E4, ``{port}`` being the listener's: every
#: spelling of loopback, private, CGNAT, link-local and metadata addresses, user-info
#: tricks and other schemes. With ``deny_hosts: [private]`` none may connect.
SSRF_URLS = [
    *(f"http://{host}:{{port}}/x" for host in BLOCKED_FORMS if host != "[::1]"),
    "http://127.0.0.2:{port}/",
    "http://127.255.255.254:{port}/",
    "http://127.0.1:{port}/",
    "http://0x7f.0.0.1:{port}/",
    "http://0x7f.1:{port}/",
    "http://017700000001:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://[0:0:0:0:0:ffff:7f00:1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
    "http://[0:0:0:0:0:0:0:1]:{port}/",
    "http://user:pass@127.0.0.1:{port}/",
    "http://127.0.0.1:{port}#@example.com/",
    "http://127.0.0.1:{port}?@example.com/",
    "https://127.0.0.1:{port}/",
    "http://10.0.0.1:{port}/",
    "http://172.16.0.1:{port}/",
    "http://192.168.0.1:{port}/",
    "http://100.64.0.1:{port}/",
    "http://[fc00::1]:{port}/",
    "http://[fd12:3456::1]:{port}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://0.0.0.0:{port}/",
    "http://0:{port}/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:{port}/_x",
    "ftp://127.0.0.1:{port}/",
    "dict://127.0.0.1:{port}/",
]


@pytest.mark.reliability
@pytest.mark.parametrize("url", SSRF_URLS)
def test_blocked_url_forms_never_connect(
    tmp_path: Path, listener: Listener, url: str
) -> None:
    """Each form is refused before a socket connects (figure 12): blocked by the policy,
    or not a URL an HTTP node accepts at all."""
    target = url.format(port=listener.port)
    flow = run_flow(
        tmp_path,
        f'<source id="s" type="http" url="{target}"/>',
        frontmatter="http:\n  deny_hosts: [private]\n",
    )
    code, message = error_of(flow, "s")
    figures.count("ssrf", urls=1, connections=listener.accepted)
    assert code in {"RUNTIME_EGRESS_BLOCKED", "RUNTIME_INVALID_CONFIG"}, message
    assert (listener.accepted, listener.received) == (0, 0)


def test_the_ssrf_corpus_has_thirty_forms() -> None:
    assert len(set(SSRF_URLS)) >= 30


@pytest.mark.parametrize(
    ("frontmatter", "reason"),
    [
        ("http:\n  deny_hosts: [127.0.0.0/8]\n", "(http.deny_hosts: 127.0.0.0/8)"),
        ("http:\n  allow_hosts: [api.example.com]\n", "not in http.allow_hosts"),
    ],
)
def test_deny_and_allow_lists_block_before_connecting(
    tmp_path: Path, listener: Listener, frontmatter: str, reason: str
) -> None:
    flow = run_flow(
        tmp_path,
        f'<source id="s" type="http" url="http://127.0.0.1:{listener.port}/"/>',
        frontmatter=frontmatter,
    )
    code, message = error_of(flow, "s")
    assert code == "RUNTIME_EGRESS_BLOCKED"
    assert reason in message
    assert (listener.accepted, listener.received) == (0, 0)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://0.0.0.0:1/",
        "http://metadata.google.internal/computeMetadata/v1/",
    ],
)
def test_link_local_and_metadata_are_always_blocked(tmp_path: Path, url: str) -> None:
    flow = run_flow(tmp_path, f'<source id="s" type="http" url="{url}"/>')
    code, message = error_of(flow, "s")
    assert code == "RUNTIME_EGRESS_BLOCKED"
    assert "egress blocked" in message


def test_an_allow_entry_beats_a_deny_entry(tmp_path: Path, server: HTTPServer) -> None:
    server.expect_request("/ok").respond_with_json("reached")
    flow = run_flow(
        tmp_path,
        f'<source id="s" type="http" url="{server.url_for("/ok")}"/>',
        frontmatter="http:\n  allow_hosts: [127.0.0.1]\n  deny_hosts: [private]\n",
    )
    assert flow.status is RunStatus.COMPLETED, flow.error
    assert flow.outputs["s"] == "reached"


def test_every_redirect_hop_is_checked(
    tmp_path: Path, server: HTTPServer, listener: Listener
) -> None:
    """An allowed host redirecting to a denied address: the hop never connects."""
    port = server.port
    server.expect_request("/start").respond_with_response(
        Response(
            status=302, headers={"Location": f"http://127.0.0.1:{listener.port}/admin"}
        )
    )
    flow = run_flow(
        tmp_path,
        f'<source id="s" type="http" url="http://localhost:{port}/start"/>',
        frontmatter="http:\n  allow_hosts: [localhost]\n  deny_hosts: [private]\n",
    )
    code, message = error_of(flow, "s")
    assert code == "RUNTIME_EGRESS_BLOCKED"
    assert f"GET http://localhost:{port}/start: egress blocked" in message
    assert len(server.log) == 1
    assert (listener.accepted, listener.received) == (0, 0)


def test_a_redirect_to_another_scheme_is_refused(
    tmp_path: Path, server: HTTPServer
) -> None:
    server.expect_request("/start").respond_with_response(
        Response(status=302, headers={"Location": "file:///etc/passwd"})
    )
    flow = run_flow(
        tmp_path, f'<source id="s" type="http" url="{server.url_for("/start")}"/>'
    )
    code, message = error_of(flow, "s")
    assert code == "RUNTIME_EGRESS_BLOCKED"
    assert "redirected to a file: URL" in message


def test_credentials_are_dropped_on_a_cross_origin_redirect(
    tmp_path: Path, server: HTTPServer
) -> None:
    """Same origin keeps them; another origin gets no auth, cookie or secret header."""
    other = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    other.start()
    try:
        seen: list[dict[str, str]] = []

        def record(request: Request) -> Response:
            seen.append(dict(request.headers))
            return Response('"done"', content_type="application/json")

        other.expect_request("/land").respond_with_handler(record)
        server.expect_request("/start").respond_with_response(
            Response(status=307, headers={"Location": "/hop"})
        )
        server.expect_request("/hop").respond_with_response(
            Response(status=307, headers={"Location": other.url_for("/land")})
        )
        body = f"""<source id="s" type="http" url="{server.url_for("/start")}">
  <headers>
    X-Api-Key: "{{{{ $secrets.KEY }}}}"
    Cookie: session=abc
    X-Plain: kept
  </headers>
  <auth>
    type: bearer
    token: "{{{{ $secrets.KEY }}}}"
  </auth>
</source>"""
        flow = run_flow(
            tmp_path,
            body,
            frontmatter="secrets: [KEY]\n",
            secrets={"KEY": "key-0123456789"},
        )
        assert flow.status is RunStatus.COMPLETED, flow.error
        first_hops = [req.headers for req, _ in server.log]
        assert all(h["Authorization"] == "Bearer key-0123456789" for h in first_hops)
        assert all(h["X-Api-Key"] == "key-0123456789" for h in first_hops)
        assert seen[0]["X-Plain"] == "kept"
        assert not {"Authorization", "X-Api-Key", "Cookie"} & set(seen[0])
    finally:
        other.clear()
        other.stop()


# -- the guarded backend -----------------------------------------------------------------


class Recording(httpcore.AsyncNetworkBackend):
    """An inner backend that records where it is asked to connect.

    Only 127.0.0.1 is really connected (to ``land_on`` instead, when set); any other
    address fails as unreachable, so no test touches the network.
    """

    def __init__(self, land_on: int | None = None) -> None:
        self.asked: list[str] = []
        self.real = httpcore.AnyIOBackend()
        self.land_on = land_on

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.asked.append(host)
        if self.land_on is not None:
            return await self.real.connect_tcp("127.0.0.1", self.land_on, timeout)
        if host != "127.0.0.1":
            raise httpcore.ConnectError("unreachable in tests")
        return await self.real.connect_tcp(host, port, timeout)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


def _client(
    policy: EgressPolicy, answers: list[list[str]], inner: Recording
) -> httpx.AsyncClient:
    """A run's client whose resolver gives ``answers`` in turn, over ``inner``."""
    client = open_client(policy, resolver=_resolver(answers))
    pool = client._transport._pool  # type: ignore[attr-defined]
    pool._network_backend.inner = inner
    return client


def _resolver(answers: list[list[str]]) -> Resolver:
    calls = iter(answers)

    async def resolve(host: str, port: int) -> list[IPAddress]:
        return [ip(a) for a in next(calls)]

    return resolve


def test_dns_rebinding_cannot_reach_a_blocked_address(listener: Listener) -> None:
    """Each connection resolves once and connects to the address it checked."""
    inner = Recording()
    policy = EgressPolicy.of((), ("private",))
    url = f"http://rebind.test:{listener.port}/"

    async def main() -> list[str]:
        outcomes = []
        client = _client(policy, [["8.8.8.8"], ["127.0.0.1"]], inner)
        async with client:
            for _ in range(2):
                try:
                    await client.get(url)
                except (httpx.ConnectError, EgressBlocked) as exc:
                    outcomes.append(type(exc).__name__)
        return outcomes

    assert anyio.run(main) == ["ConnectError", "EgressBlocked"]
    assert inner.asked == ["8.8.8.8"]  # an IP literal, never the name again
    assert (listener.accepted, listener.received) == (0, 0)


def test_a_mixed_answer_connects_only_to_allowed_addresses(listener: Listener) -> None:
    inner = Recording()
    policy = EgressPolicy.of((), ("10.0.0.0/8",))

    async def main() -> int:
        client = _client(policy, [["10.1.1.1", "127.0.0.1"]], inner)
        async with client:
            with contextlib.suppress(httpx.HTTPError):  # the listener never answers
                await client.get(f"http://mixed.test:{listener.port}/", timeout=1)
        return listener.accepted

    assert anyio.run(main) == 1
    assert inner.asked == ["127.0.0.1"]


def test_the_connected_peer_address_is_checked(listener: Listener) -> None:
    """A connect that lands elsewhere than resolved is closed before any byte is sent."""
    inner = Recording(land_on=listener.port)
    policy = EgressPolicy.of((), ("private",))

    async def main() -> str:
        client = _client(policy, [["8.8.8.8"]], inner)
        async with client:
            try:
                await client.get("http://moved.test/")
            except EgressBlocked as exc:
                return exc.reason
        return "connected"

    assert "127.0.0.1 is a private address" in anyio.run(main)
    assert listener.received == 0
