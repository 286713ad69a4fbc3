"""The HTTP client of a run: httpx over a network backend that enforces the egress policy.

:class:`GuardedBackend` is an httpcore network backend. For every new connection it
resolves the host itself, drops the addresses the :class:`~.egress.EgressPolicy`
refuses, connects to an allowed address *by that address* (so the address checked is
the address connected: DNS rebinding between a check and a connect is impossible), and
checks the connected socket's peer address once more before any byte is sent. Every
redirect hop that opens a connection passes through it.

Imported only when an HTTP node runs: httpx is an optional dependency.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio
import httpcore
import httpx

from maidit_jupyter.runtimes.egress import (
    EgressBlocked,
    EgressPolicy,
    IPAddress,
    always_blocked,
    normalize_host,
    parse_ip,
)

__all__ = ["GuardedBackend", "Resolver", "open_client"]

#: ``await resolver(host, port)``: the addresses of ``host``, in the order to try them.
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

#: connections kept per run (a foreach with concurrency 50 keeps 50 warm).
MAX_CONNECTIONS = 100


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The addresses the system resolver gives for ``host`` (no duplicates)."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = parse_ip(str(sockaddr[0]))
        if ip is not None and ip not in found:
            found.append(ip)
    return found


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only where the egress policy allows, checked on the actual address."""

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self.resolver = resolver or system_resolver
        self.inner = inner or httpcore.AnyIOBackend()

    async def addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses to try for ``host``: an IP literal as is, else resolved."""
        literal = parse_ip(host)
        if literal is not None:
            return [literal]
        try:
            return await self.resolver(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve the host: {exc}") from None

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve, keep the allowed addresses, connect to the first that answers."""
        name = normalize_host(host)
        refused = always_blocked(name, None)
        if refused is not None:  # before any lookup: metadata names
            raise EgressBlocked(name, refused)
        try:
            with anyio.fail_after(timeout):
                found = await self.addresses(name, port)
                if not found:
                    raise httpcore.ConnectError("the host has no address")
                reasons = [(ip, self.policy.check(name, ip)) for ip in found]
                allowed = [ip for ip, reason in reasons if reason is None]
                if not allowed:
                    raise EgressBlocked(name, next(r for _, r in reasons if r))
                error: Exception | None = None
                for ip in allowed:
                    try:
                        stream = await self.inner.connect_tcp(
                            str(ip), port, timeout, local_address, socket_options
                        )
                    except httpcore.ConnectError as exc:
                        error = exc
                        continue
                    await self.check_peer(name, stream)
                    return stream
                assert error is not None
                raise error
        except TimeoutError:
            raise httpcore.ConnectTimeout("timed out while connecting") from None

    async def check_peer(self, host: str, stream: httpcore.AsyncNetworkStream) -> None:
        """Close ``stream`` and refuse it if its peer address is not allowed."""
        peer: Any = stream.get_extra_info("server_addr")
        ip = parse_ip(str(peer[0])) if isinstance(peer, tuple) and peer else None
        reason = (
            "the connected peer address is unknown"
            if ip is None
            else self.policy.check(host, ip)
        )
        if reason is not None:
            await stream.aclose()
            raise EgressBlocked(host, reason)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never: HTTP nodes speak TCP only."""
        raise EgressBlocked(path, "unix sockets are not reachable from HTTP nodes")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool on a :class:`GuardedBackend`."""

    def __init__(
        self,
        backend: GuardedBackend,
        limits: httpx.Limits,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(limits=limits, trust_env=False)
        # The pool httpx built has the default backend; this one is the same pool on
        # the guarded backend (httpcore's public constructor; httpx keeps it as _pool).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=backend,
        )


def open_client(
    policy: EgressPolicy,
    *,
    resolver: Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """A run's client: pooled connections, egress checked, redirects left to the caller.

    Every node that talks HTTP (http, ai, the SendGrid provider of email) goes through
    one of these. Proxies from the environment are not used: through a proxy the
    address connected would be the proxy's, and the policy could not be enforced.
    ``ssl_context`` replaces the default certificate checks (a node's own CA file).
    """
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS,
        max_keepalive_connections=MAX_CONNECTIONS,
        keepalive_expiry=5.0,
    )
    transport = _GuardedTransport(
        GuardedBackend(policy, resolver=resolver), limits, ssl_context
    )
    return httpx.AsyncClient(
        transport=transport, follow_redirects=False, trust_env=False
    )
