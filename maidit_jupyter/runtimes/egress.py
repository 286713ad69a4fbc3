"""Where HTTP nodes may connect: the flow's egress policy (frontmatter ``http``).

The frontmatter names hosts a flow may reach and hosts it may not::

    http:
      allow_hosts: [api.example.com, "*.example.org", 203.0.113.0/24]
      deny_hosts: [private]

An entry is a host name (``*.example.com`` matches its subdomains), an IP address or a
CIDR range, or ``private``: every address that is not globally routable (loopback,
RFC 1918, carrier-grade NAT, unique-local IPv6, ...). The decision for a connection to
``host`` at address ``ip``:

1. link-local addresses (``169.254.0.0/16``, where cloud metadata services live,
   ``fe80::/10``), unspecified, multicast and broadcast addresses and the
   cloud-metadata host names are **always** refused;
2. an ``allow_hosts`` entry that matches allows it (the more specific intent wins:
   ``deny_hosts: [private]`` with ``allow_hosts: [10.1.2.3]`` reaches 10.1.2.3 only);
3. a ``deny_hosts`` entry that matches refuses it;
4. a non-empty ``allow_hosts`` refuses everything it does not match.

The check runs on the address a socket is about to connect to, and again on the
connected socket's peer address (:mod:`.http_transport`), never on a separate DNS
lookup, so DNS rebinding and redirects to internal hosts are caught on every hop.
This module is plain Python (no HTTP library), so the policy can be read and tested
without one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from maidit_jupyter.errors import NodeRuntimeError

__all__ = [
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "EgressBlocked",
    "EgressPolicy",
    "HttpSettings",
    "PolicyError",
    "flow_http_settings",
    "read_http_settings",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_MAX_REDIRECTS = 10
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024

#: the keys of the frontmatter's ``http`` section.
KEYS = ("allow_hosts", "deny_hosts", "max_redirects", "max_response_bytes")

#: refused whatever the lists say: link-local (cloud metadata at 169.254.169.254),
#: "this network", unspecified, multicast, broadcast, and metadata addresses outside
#: link-local (AWS IPv6, Alibaba).
_ALWAYS_BLOCKED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "169.254.0.0/16",
        "fe80::/10",
        "0.0.0.0/8",
        "::/128",
        "224.0.0.0/4",
        "ff00::/8",
        "255.255.255.255/32",
        "fd00:ec2::254/128",
        "100.100.100.200/32",
    )
)
_METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
    }
)


class PolicyError(ValueError):
    """The frontmatter's ``http`` section cannot be read."""


class EgressBlocked(Exception):
    """A connection the egress policy refuses (raised before any byte is sent)."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: {reason}")
        self.host = host
        self.reason = reason


def normalize_host(host: str) -> str:
    """A host as policies compare it: lower case, no trailing dot, no IPv6 brackets."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def _ascii_name(name: str) -> str:
    """A host name in the ASCII form URLs carry (IDNA), label by label."""
    labels = []
    for label in name.split("."):
        if label == "*" or label.isascii():
            labels.append(label)
        else:
            try:
                labels.append(label.encode("idna").decode("ascii"))
            except UnicodeError as exc:
                raise PolicyError(f"invalid host name {name!r}") from exc
    return ".".join(labels)


def unmapped(ip: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped IPv6 address (``::ffff:127.0.0.1``)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def parse_ip(text: str) -> IPAddress | None:
    """``text`` as an IP address (a zone id is dropped), or None."""
    try:
        return unmapped(ipaddress.ip_address(normalize_host(text).partition("%")[0]))
    except ValueError:
        return None


def always_blocked(host: str, ip: IPAddress | None) -> str | None:
    """Why a connection is refused whatever the policy says, or None."""
    if normalize_host(host) in _METADATA_HOSTS:
        return "a cloud metadata host is never reachable"
    if ip is not None:
        ip = unmapped(ip)
        if any(ip in net for net in _ALWAYS_BLOCKED if net.version == ip.version):
            return f"{ip} is a link-local, metadata or non-unicast address"
    return None


def is_private(ip: IPAddress) -> bool:
    """Whether ``ip`` is not globally routable (loopback, RFC 1918, CGNAT, ULA, ...)."""
    return not unmapped(ip).is_global


@dataclass(frozen=True, slots=True)
class _Rule:
    """One ``allow_hosts``/``deny_hosts`` entry."""

    text: str
    name: str | None = None  # exact host name
    suffix: str | None = None  # "*.example.com" → ".example.com"
    network: IPNetwork | None = None
    private: bool = False

    @classmethod
    def parse(cls, entry: object, where: str) -> _Rule:
        if not isinstance(entry, str) or not entry.strip():
            raise PolicyError(f"http.{where} entries must be host names, got {entry!r}")
        text = entry.strip()
        lowered = normalize_host(text)
        if lowered == "private":
            return cls(text, private=True)
        ip = parse_ip(lowered)
        if ip is not None:
            return cls(text, network=ipaddress.ip_network(ip))
        if "/" in lowered and "://" not in lowered:
            try:
                return cls(text, network=ipaddress.ip_network(lowered, strict=False))
            except ValueError:
                if lowered[0].isdigit() or ":" in lowered:
                    raise PolicyError(
                        f"http.{where}: invalid CIDR range {text!r}"
                    ) from None
        if any(c in lowered for c in "/@:?# "):
            raise PolicyError(
                f"http.{where}: {text!r} is not a host name (write the host only, "
                "without scheme, port or path)"
            )
        if lowered.startswith("*."):
            return cls(text, suffix="." + _ascii_name(lowered[2:]))
        if "*" in lowered:
            raise PolicyError(
                f"http.{where}: {text!r}: a wildcard may only start a name (*.example.com)"
            )
        return cls(text, name=_ascii_name(lowered))

    def matches(self, host: str, ip: IPAddress | None) -> bool:
        if self.name is not None:
            return host == self.name
        if self.suffix is not None:
            return host.endswith(self.suffix)
        if ip is None:
            return False
        if self.private:
            return is_private(ip)
        assert self.network is not None
        if ip.version != self.network.version:
            return False
        return ip in self.network


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """Which hosts and addresses HTTP nodes may connect to."""

    allow: tuple[_Rule, ...] = ()
    deny: tuple[_Rule, ...] = ()

    @classmethod
    def of(
        cls, allow_hosts: Iterable[str] = (), deny_hosts: Iterable[str] = ()
    ) -> EgressPolicy:
        """A policy from lists of entries (see the module docstring)."""
        return cls(
            tuple(_Rule.parse(e, "allow_hosts") for e in allow_hosts),
            tuple(_Rule.parse(e, "deny_hosts") for e in deny_hosts),
        )

    def check(self, host: str, ip: IPAddress | None) -> str | None:
        """Why connecting to ``host`` at ``ip`` is refused, or None when it is allowed.

        ``ip`` None checks the name alone (a connection is always checked with its
        address as well).
        """
        host = normalize_host(host)
        if ip is not None:
            ip = unmapped(ip)
        reason = always_blocked(host, ip)
        if reason is not None:
            return reason
        if any(rule.matches(host, ip) for rule in self.allow):
            return None
        for rule in self.deny:
            if rule.matches(host, ip):
                shown = host if ip is None else str(ip)
                what = f"{shown} is a private address" if rule.private else shown
                return f"{what} (http.deny_hosts: {rule.text})"
        if self.allow:
            shown = host if ip is None or str(ip) == host else f"{host} ({ip})"
            return f"{shown} is not in http.allow_hosts"
        return None


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """The frontmatter's ``http`` section, read."""

    policy: EgressPolicy = EgressPolicy()
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES


def _entries(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return list(value)
    raise PolicyError(f"http.{key} must be a list of hosts")


def _count(value: Any, key: str, default: int, minimum: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PolicyError(f"http.{key} must be a whole number ≥ {minimum}")
    return value


def flow_http_settings(frontmatter: Any) -> HttpSettings:
    """The ``http`` section of a flow's frontmatter (``None``: no frontmatter), read.

    Raises:
        NodeRuntimeError: ``RUNTIME_INVALID_CONFIG`` when it cannot be read.
    """
    section = frontmatter.http if frontmatter is not None else None
    try:
        return read_http_settings(section)
    except PolicyError as exc:
        raise NodeRuntimeError(str(exc), code="RUNTIME_INVALID_CONFIG") from None


def read_http_settings(section: Mapping[str, Any] | None) -> HttpSettings:
    """Read the frontmatter's ``http`` section.

    Raises:
        PolicyError: an unknown key or an unreadable entry (a typo in a deny list must
            not silently allow everything).
    """
    if not section:
        return HttpSettings()
    unknown = sorted(set(section) - set(KEYS))
    if unknown:
        raise PolicyError(
            f"unknown key(s) in the frontmatter's http section: {', '.join(unknown)} "
            f"(known: {', '.join(KEYS)})"
        )
    return HttpSettings(
        policy=EgressPolicy.of(
            _entries(section.get("allow_hosts"), "allow_hosts"),
            _entries(section.get("deny_hosts"), "deny_hosts"),
        ),
        max_redirects=_count(
            section.get("max_redirects"), "max_redirects", DEFAULT_MAX_REDIRECTS, 0
        ),
        max_response_bytes=_count(
            section.get("max_response_bytes"),
            "max_response_bytes",
            DEFAULT_MAX_RESPONSE_BYTES,
            1,
        ),
    )
