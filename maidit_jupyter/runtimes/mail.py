"""``<sink type="email">``: send one message by SMTP or through SendGrid's HTTP API.

(The module is ``mail``, not ``email``, so it can never shadow the standard library's
``email`` package, which it uses.)

Settings (dialect §10). ``provider`` is ``smtp`` (the default) or ``sendgrid``.
``to``, ``cc``, ``bcc``, ``from``, ``reply-to``, ``subject``, ``text`` and ``html`` are
templates; without ``text`` and ``html`` the body is the node's input as text. SMTP:
``host``, ``port`` (465 with ``ssl``, 587 with ``starttls``, else 25), ``ssl`` (TLS from
the first byte; on by default on port 465), ``starttls`` (upgrade before anything else
is said; on by default on port 587, and never silently skipped: a server that does not
offer it fails the node), ``username`` and ``password`` (the *name* of a secret).
SendGrid: ``api-key`` (the name of a secret) and ``base-url`` (default
``https://api.sendgrid.com``; plain ``http`` only to a loopback address, since the key
travels with the request). Both: ``ca-file`` (a PEM file of the CAs to trust instead of
the system's, relative to the flow) and ``tls-verify`` (default true; false is logged as
a warning), ``timeout`` (default 30 s, for the whole delivery and each socket wait).

What is sent is built and checked by :mod:`.mail_message` (injection rules there).

SMTP runs the standard library's :mod:`smtplib` in a worker thread: no new dependency,
a mature client for SSL, STARTTLS and the SMTP dialogue, and the blocking calls are
bounded by the socket timeout. A cancel or timeout abandons the thread at once and shuts
its socket down, so the thread ends right after. Authentication is done here (AUTH PLAIN,
else LOGIN, UTF-8 as RFC 4616 says) because smtplib's ``login`` only encodes ASCII and its
``UnicodeEncodeError`` would carry the password. The envelope is all or nothing: if the
server refuses any recipient, the transaction is reset and nothing is sent.

Retries: connection failures, timeouts before the message was handed over, SMTP 4xx
replies and SendGrid 429/5xx are retryable; SMTP 5xx replies, authentication and TLS
failures and other HTTP errors are not. A connection lost *after* the message was handed
over (``EMAIL_DELIVERY_UNKNOWN``) is not retried by default, because the mail may well
have gone out; a ``<retry when="...">`` may still ask for it. Secret values (and the
encoded forms sent on the wire) are masked in every message; server replies are shown
on one line, cut to 200 characters.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.utils import format_datetime, make_msgid
from functools import partial
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import anyio

from maidit_jupyter.durations import parse_retry_after_ms
from maidit_jupyter.expressions.values import (
    UNDEFINED,
    Value,
    to_string,
)
from maidit_jupyter.redaction import SecretMask
from maidit_jupyter.runtimes.base import NodeContext
from maidit_jupyter.runtimes.egress import EgressBlocked, flow_http_settings
from maidit_jupyter.runtimes.exposure import refuse_secrets
from maidit_jupyter.runtimes.mail_message import (
    FORBIDDEN_CHARS,
    EmailError,
    Mail,
    build_message,
    check_line,
    compose,
)

__all__ = ["EmailSink", "sendgrid_payload"]

_log = logging.getLogger("maidit_jupyter")

DEFAULT_TIMEOUT_MS = 30_000.0
SENDGRID_BASE_URL = "https://api.sendgrid.com"
#: what a server reply may add to an error message.
MAX_REPLY_TEXT = 200
_HOST = re.compile(r"[A-Za-z0-9._:\[\]-]{1,253}\Z")
_TRUE = {"true": True, "yes": True, "on": True, "1": True}
_FALSE = {"false": False, "no": False, "off": False, "0": False}


# --- settings --------------------------------------------------------------------------


def _flag(ctx: NodeContext, key: str) -> bool | None:
    value = ctx.setting(key, None)
    if value is None or value is UNDEFINED:
        return None
    if isinstance(value, bool):
        return value
    word = to_string(value).strip().lower()
    if word in _TRUE or word in _FALSE:
        return _TRUE.get(word, False)
    raise EmailError(f"{key} must be true or false", code="RUNTIME_INVALID_CONFIG")


def _timeout_s(ctx: NodeContext) -> float:
    """The sink's own deadline, in seconds.

    A ``timeout`` setting is also the executor's per-attempt deadline, which cancels the
    node with a retryable ``RUNTIME_TIMEOUT``. The sink's deadline ends a little earlier,
    so the sink decides what a timeout means: before the message was handed over it is
    retryable, after it (``EMAIL_DELIVERY_UNKNOWN``) a retry could send it twice.
    """
    value = ctx.config.get("timeout")
    if isinstance(value, int | float) and value > 0:
        seconds = float(value) / 1000.0
        return max(seconds - 0.05, seconds * 0.9)
    return DEFAULT_TIMEOUT_MS / 1000.0


def _secret(ctx: NodeContext, key: str) -> str | None:
    """The value of the secret the setting names (the name is never echoed: a user who
    wrote the password itself there would see it in every log)."""
    name = ctx.config.get(key)
    if name is None or not str(name).strip():
        return None
    value = ctx.secrets.get(str(name).strip())
    if value is None:
        raise EmailError(
            f"{key} must name a declared secret that has a value (for example {key}="
            f'"SMTP_PASSWORD" with secrets: [SMTP_PASSWORD]); nothing was sent',
            code="RUNTIME_INVALID_CONFIG",
        )
    return value


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """Which certificates to trust. ``verify=False`` accepts any certificate."""

    ca_file: Path | None = None
    verify: bool = True

    def context(self) -> ssl.SSLContext:
        """A client context (blocking: reads the CA file or the system store)."""
        context = ssl.create_default_context(
            cafile=str(self.ca_file) if self.ca_file is not None else None
        )
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def _tls(ctx: NodeContext, *, used: bool = True) -> TlsSettings:
    verify = _flag(ctx, "tls-verify")
    ca = ctx.setting("ca-file", None)
    ca_file = None
    if ca is not None and ca is not UNDEFINED and to_string(ca).strip():
        ca_file = ctx.base_dir / Path(to_string(ca).strip())
        if not ca_file.is_file():
            raise EmailError(
                f'ca-file "{to_string(ca).strip()}" is not a file (paths are relative to '
                "the flow)",
                code="RUNTIME_INVALID_CONFIG",
            )
    if verify is False and used:
        _log.warning(
            'email sink "%s": tls-verify="false", the server\'s certificate is not checked',
            ctx.node.id,
        )
    return TlsSettings(ca_file=ca_file, verify=verify is not False)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to deliver by SMTP."""

    host: str
    port: int
    security: Literal["ssl", "starttls", "none"]
    username: str | None
    password: str | None = field(repr=False)
    timeout_s: float
    tls: TlsSettings


def smtp_settings(ctx: NodeContext) -> SmtpSettings:
    """The node's SMTP settings, checked."""
    host = to_string(ctx.setting("host", "")).strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # an IPv6 literal
    if not host or not _HOST.match(host):
        raise EmailError(
            f'email sink "{ctx.node.id}" needs a host name or address in "host"',
            code="RUNTIME_INVALID_CONFIG",
        )
    use_ssl, starttls = _flag(ctx, "ssl"), _flag(ctx, "starttls")
    port_value = ctx.setting("port", None)
    if port_value is None or port_value is UNDEFINED:
        port = 465 if use_ssl else 587 if starttls else 25
    else:
        try:
            port = int(to_string(port_value).strip())
        except ValueError:
            port = 0
        if not 0 < port < 65536:
            raise EmailError(
                "port must be a number from 1 to 65535", code="RUNTIME_INVALID_CONFIG"
            )
    if use_ssl is None:
        use_ssl = port == 465 and not starttls
    if starttls is None:
        starttls = not use_ssl and port == 587
    if use_ssl and starttls:
        raise EmailError(
            'ssl="true" and starttls="true" exclude each other: ssl is TLS from the first '
            "byte (port 465), starttls upgrades a plain connection (port 587)",
            code="RUNTIME_INVALID_CONFIG",
        )
    username = ctx.text("username").strip() if "username" in ctx.config else ""
    check_line("username", username, "RUNTIME_INVALID_CONFIG", allow_tab=False)
    password = _secret(ctx, "password")
    if bool(username) != (password is not None):
        raise EmailError(
            "username and password go together (password names a secret)",
            code="RUNTIME_INVALID_CONFIG",
        )
    security: Literal["ssl", "starttls", "none"] = (
        "ssl" if use_ssl else "starttls" if starttls else "none"
    )
    if password is not None and security == "none" and not _is_loopback(host):
        raise EmailError(
            f"refusing to send the SMTP password to {host} without TLS: set "
            'starttls="true" (port 587) or ssl="true" (port 465)',
            code="EMAIL_INSECURE_AUTH",
        )
    return SmtpSettings(
        host=host,
        port=port,
        security=security,
        username=username or None,
        password=password,
        timeout_s=_timeout_s(ctx),
        tls=_tls(ctx, used=security != "none"),
    )


# --- SMTP delivery ---------------------------------------------------------------------


class _Connection:
    """The SMTP client of one attempt, so a cancel can cut its socket from outside."""

    def __init__(self) -> None:
        self.client: smtplib.SMTP | None = None
        #: how far the dialogue got: connect, auth, envelope, data, done.
        self.stage = "connect"

    def abort(self) -> None:
        """Shut the socket down: the worker thread's blocking call returns at once."""
        client = self.client
        sock = client.sock if client is not None else None
        if sock is not None:
            # the plain socket's shutdown, not SSLSocket's (which touches TLS state
            # the worker thread is using)
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


@dataclass(frozen=True, slots=True)
class _Masker:
    mask: SecretMask

    def reply(self, reply: bytes | str) -> str:
        """A server reply on one line, short, with secrets masked."""
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
        text = " ".join(FORBIDDEN_CHARS.sub(" ", text).split())
        text = self.mask.redact(text)
        if len(text) > MAX_REPLY_TEXT:
            text = text[:MAX_REPLY_TEXT] + "..."
        return text


def _reply_error(
    what: str, code: int, reply: bytes | str, masker: _Masker
) -> EmailError:
    temporary = 400 <= code < 500
    return EmailError(
        f"SMTP server refused {what}: {code} {masker.reply(reply)}".rstrip(),
        code="EMAIL_SMTP_TEMPORARY" if temporary else "EMAIL_SMTP_REJECTED",
        retryable=temporary,
        status=code,
    )


def _login(
    client: smtplib.SMTP, username: str, password: str, masker: _Masker
) -> EmailError | None:
    """AUTH PLAIN (else LOGIN) with UTF-8 credentials; an error, or None when accepted."""
    if not client.has_extn("auth"):
        return EmailError(
            "the SMTP server does not offer AUTH; remove username/password or use its "
            "submission port",
            code="EMAIL_AUTH_FAILED",
        )
    offered = client.esmtp_features.get("auth", "").upper().split()
    user, secret = username.encode("utf-8"), password.encode("utf-8")
    if "PLAIN" in offered:
        token = base64.b64encode(b"\0" + user + b"\0" + secret).decode("ascii")
        masker.mask.add([token])
        code, reply = client.docmd("AUTH", "PLAIN " + token)
    elif "LOGIN" in offered:
        user_b64 = base64.b64encode(user).decode("ascii")
        secret_b64 = base64.b64encode(secret).decode("ascii")
        masker.mask.add([secret_b64])
        code, reply = client.docmd("AUTH", "LOGIN " + user_b64)
        if code == 334:
            code, reply = client.docmd(secret_b64)
    else:
        return EmailError(
            "the SMTP server offers neither AUTH PLAIN nor AUTH LOGIN "
            f"({masker.reply(' '.join(offered))})",
            code="EMAIL_AUTH_FAILED",
        )
    if code in (235, 503):  # 503: already authenticated
        return None
    temporary = 400 <= code < 500
    return EmailError(
        f"SMTP authentication failed for user {masker.mask.redact(username)!r}: "
        f"{code} {masker.reply(reply)}".rstrip(),
        code="EMAIL_SMTP_TEMPORARY" if temporary else "EMAIL_AUTH_FAILED",
        retryable=temporary,
        status=code,
    )


def _dialogue(
    settings: SmtpSettings,
    mail: Mail,
    raw: bytes,
    conn: _Connection,
    masker: _Masker,
) -> int | EmailError:
    """Connect, secure, log in, send; the final reply code or an error (never raises
    an :class:`EmailError`, so no library exception ends up in its context)."""
    context = settings.tls.context() if settings.security != "none" else None
    client: smtplib.SMTP
    # Each socket wait may take a little longer than the whole delivery: the overall
    # deadline (in :func:`_send_smtp`) decides, and then cuts the socket.
    wait = settings.timeout_s + 1.0
    if settings.security == "ssl":
        client = smtplib.SMTP_SSL(timeout=wait, context=context)
    else:
        client = smtplib.SMTP(timeout=wait)
    # The host TLS checks the certificate against (smtplib sets it only when the
    # constructor connects, and the client must exist before that: a cancel can then
    # cut the socket even while the greeting is awaited).
    client._host = settings.host  # type: ignore[attr-defined]
    conn.client = client
    try:
        client.connect(settings.host, settings.port)
        client.ehlo_or_helo_if_needed()
        if settings.security == "starttls":
            if not client.has_extn("starttls"):
                return EmailError(
                    f"{settings.host}:{settings.port} does not offer STARTTLS; nothing was "
                    "sent (the sink never falls back to a plain connection)",
                    code="EMAIL_TLS_ERROR",
                )
            client.starttls(context=context)
            client.ehlo()
        if settings.username is not None and settings.password is not None:
            conn.stage = "auth"
            refused = _login(client, settings.username, settings.password, masker)
            if refused is not None:
                return refused
        conn.stage = "envelope"
        code, reply = client.mail(mail.sender.addr_spec)
        if code != 250:
            return _reply_error("the sender (MAIL FROM)", code, reply, masker)
        failures: list[tuple[str, int, bytes]] = []
        for recipient in mail.recipients:
            code, reply = client.rcpt(recipient)
            if code not in (250, 251):
                failures.append((recipient, code, reply))
        if failures:
            _quietly(client.rset)
            listed = "; ".join(
                f"{address}: {code} {masker.reply(reply)}"
                for address, code, reply in failures[:5]
            )
            more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
            temporary = all(400 <= code < 500 for _, code, _ in failures)
            return EmailError(
                f"SMTP server refused {len(failures)} of {len(mail.recipients)} "
                f"recipients, so nothing was sent: {listed}{more}",
                code="EMAIL_SMTP_TEMPORARY" if temporary else "EMAIL_SMTP_REJECTED",
                retryable=temporary,
                status=failures[0][1],
            )
        conn.stage = "data"
        code, reply = client.data(raw)
        if code != 250:
            return _reply_error("the message", code, reply, masker)
        conn.stage = "done"  # accepted: a slow QUIT no longer matters
        _quietly(client.quit)
        return code
    except (smtplib.SMTPException, OSError) as exc:
        return _smtp_failure(exc, settings, conn.stage, masker)
    finally:
        _quietly(client.close)


def _quietly(call: Any) -> None:
    with contextlib.suppress(smtplib.SMTPException, OSError):
        call()


def _smtp_failure(
    exc: BaseException, settings: SmtpSettings, stage: str, masker: _Masker
) -> EmailError:
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return EmailError(
            f"TLS certificate of {where} not accepted: {exc.verify_message}; trust its "
            'CA with ca-file="ca.pem" (or tls-verify="false" for tests only)',
            code="EMAIL_TLS_ERROR",
        )
    if isinstance(exc, ssl.SSLError):
        return EmailError(
            f"TLS with {where} failed: {masker.reply(exc.reason or str(exc))}",
            code="EMAIL_TLS_ERROR",
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        what = (
            "the connection"
            if stage == "connect"
            else "the message"
            if stage == "data"
            else stage
        )
        return _reply_error(what, exc.smtp_code, exc.smtp_error, masker)
    if stage == "data":
        return EmailError(
            f"the connection to {where} was lost after the message was handed over "
            f"({type(exc).__name__}); it may have been delivered, so it is not retried",
            code="EMAIL_DELIVERY_UNKNOWN",
        )
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return EmailError(
            f"{where} did not answer within {settings.timeout_s:g} s ({stage})",
            code="EMAIL_TIMEOUT",
            retryable=True,
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError | smtplib.SMTPHeloError):
        return EmailError(f"{where}: {masker.reply(str(exc))}", code="EMAIL_SMTP_ERROR")
    detail = masker.reply(exc.strerror or "") if isinstance(exc, OSError) else ""
    return EmailError(
        f"could not talk to {where} ({type(exc).__name__}"
        f"{': ' + detail if detail else ''}) during {stage}",
        code="EMAIL_CONNECTION_ERROR",
        retryable=True,
    )


async def _send_smtp(
    ctx: NodeContext, mail: Mail, settings: SmtpSettings, masker: _Masker
) -> dict[str, Value]:
    message_id = make_msgid(domain=mail.sender.domain)
    raw = build_message(
        mail, message_id=message_id, date=format_datetime(datetime.now(UTC))
    )
    conn = _Connection()
    work = partial(_dialogue, settings, mail, raw, conn, masker)
    outcome: int | EmailError
    timed_out = False
    try:
        with anyio.move_on_after(settings.timeout_s) as scope:
            outcome = await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        timed_out = scope.cancelled_caught
    except anyio.get_cancelled_exc_class():
        conn.abort()
        raise
    if timed_out and conn.stage == "done":
        conn.abort()
        outcome = 250
    elif timed_out:
        conn.abort()
        outcome = (
            EmailError(
                f"{settings.host}:{settings.port} took longer than "
                f"{settings.timeout_s:g} s after the message was handed over; it may "
                "have been delivered, so it is not retried",
                code="EMAIL_DELIVERY_UNKNOWN",
            )
            if conn.stage == "data"
            else EmailError(
                f"{settings.host}:{settings.port} took longer than "
                f"{settings.timeout_s:g} s ({conn.stage})",
                code="EMAIL_TIMEOUT",
                retryable=True,
            )
        )
    if isinstance(outcome, EmailError):
        raise outcome
    ctx.meta["email"] = {
        "provider": "smtp",
        "tls": settings.security,
        "tlsVerified": settings.security != "none" and settings.tls.verify,
        "recipients": len(mail.recipients),
    }
    return {
        "provider": "smtp",
        "status": outcome,
        "messageId": message_id,
        "recipients": list(mail.recipients),
    }


# --- SendGrid --------------------------------------------------------------------------


def _sendgrid_address(address: Address) -> dict[str, str]:
    found = {"email": address.addr_spec}
    if address.display_name:
        found["name"] = address.display_name
    return found


def sendgrid_payload(mail: Mail) -> dict[str, Any]:
    """The v3 ``mail/send`` body (each address once across to, cc and bcc, as the API
    requires)."""
    seen: set[str] = set()

    def once(addresses: Iterable[Address]) -> list[dict[str, str]]:
        kept = []
        for address in addresses:
            if address.addr_spec.lower() not in seen:
                seen.add(address.addr_spec.lower())
                kept.append(_sendgrid_address(address))
        return kept

    personalization: dict[str, Any] = {"to": once(mail.to)}
    for key, addresses in (("cc", mail.cc), ("bcc", mail.bcc)):
        kept = once(addresses)
        if kept:
            personalization[key] = kept
    content = []
    if mail.text is not None:
        content.append({"type": "text/plain", "value": mail.text})
    if mail.html is not None:
        content.append({"type": "text/html", "value": mail.html})
    payload: dict[str, Any] = {
        "personalizations": [personalization],
        "from": _sendgrid_address(mail.sender),
        "subject": mail.subject,
        "content": content or [{"type": "text/plain", "value": ""}],
    }
    if len(mail.reply_to) == 1:
        payload["reply_to"] = _sendgrid_address(mail.reply_to[0])
    elif mail.reply_to:
        payload["reply_to_list"] = [_sendgrid_address(a) for a in mail.reply_to]
    return payload


def _sendgrid_url(ctx: NodeContext) -> str:
    base = (
        to_string(ctx.setting("base-url", SENDGRID_BASE_URL)).strip()
        or SENDGRID_BASE_URL
    )
    parts = urlsplit(base)
    host = parts.hostname or ""
    if (
        parts.scheme not in ("https", "http")
        or not host
        or parts.username
        or parts.password
        or parts.query
        or parts.fragment
        or FORBIDDEN_CHARS.search(base)
    ):
        raise EmailError(
            "base-url must be an http(s) URL without credentials, query or fragment",
            code="RUNTIME_INVALID_CONFIG",
        )
    if parts.scheme == "http" and not _is_loopback(host):
        raise EmailError(
            f"refusing to send the SendGrid key to {host} over plain http; use https",
            code="EMAIL_INSECURE_TRANSPORT",
        )
    return base.rstrip("/") + "/v3/mail/send"


def _sendgrid_status_error(
    status: int, body: bytes, masker: _Masker, retry_after: str | None = None
) -> EmailError:
    detail = ""
    try:
        data = json.loads(body)
        errors = data.get("errors") if isinstance(data, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            detail = masker.reply(str(errors[0].get("message", "")))
    except (ValueError, UnicodeDecodeError):
        detail = ""
    message = f"SendGrid API error: HTTP {status}" + (f": {detail}" if detail else "")
    if status == 429:
        code, retryable = "EMAIL_RATE_LIMITED", True
    elif status >= 500:
        code, retryable = "EMAIL_PROVIDER_ERROR", True
    elif status in (401, 403):
        code, retryable = "EMAIL_AUTH_FAILED", False
    else:
        code, retryable = "EMAIL_REJECTED", False
    return EmailError(
        message,
        code=code,
        retryable=retryable,
        status=status,
        retry_after_ms=parse_retry_after_ms(retry_after) if retryable else None,
    )


async def _send_sendgrid(
    ctx: NodeContext, mail: Mail, masker: _Masker
) -> dict[str, Value]:
    key = _secret(ctx, "api-key")
    if key is None:
        raise EmailError(
            'a sendgrid email sink needs api-key="NAME" naming a secret',
            code="RUNTIME_INVALID_CONFIG",
        )
    if FORBIDDEN_CHARS.search(key) or not key.isascii():
        raise EmailError(
            "the SendGrid key holds characters a header cannot carry",
            code="RUNTIME_INVALID_CONFIG",
        )
    url = _sendgrid_url(ctx)
    tls = _tls(ctx, used=url.startswith("https:"))
    timeout_s = _timeout_s(ctx)
    try:
        import httpx
    except ImportError:  # pragma: no cover - the http extra is installed in tests
        raise EmailError(
            "the sendgrid provider needs httpx: pip install 'maidit_jupyter[http]'",
            code="RUNTIME_MISSING_DEPENDENCY",
        ) from None
    from maidit_jupyter.runtimes.http_transport import open_client

    verify = await anyio.to_thread.run_sync(tls.context)
    policy = flow_http_settings(ctx.frontmatter).policy  # as HTTP nodes are
    failure: EmailError | None = None
    response: httpx.Response | None = None
    try:
        async with open_client(policy, ssl_context=verify) as client:
            response = await client.post(
                url,
                json=sendgrid_payload(mail),
                headers={"Authorization": f"Bearer {key}"},
                timeout=timeout_s,
            )
    except EgressBlocked as exc:
        failure = EmailError(
            f"the request to SendGrid at {urlsplit(url).hostname}: egress blocked: "
            f"{exc.reason}",
            code="RUNTIME_EGRESS_BLOCKED",
        )
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text:
            failure = EmailError(
                f"TLS certificate of {urlsplit(url).hostname} not accepted; trust its CA "
                'with ca-file="ca.pem"',
                code="EMAIL_TLS_ERROR",
            )
        else:
            failure = EmailError(
                f"could not reach SendGrid at {urlsplit(url).hostname} "
                f"({type(exc).__name__}: {masker.reply(text)})",
                code="EMAIL_TIMEOUT"
                if isinstance(exc, httpx.TimeoutException)
                else "EMAIL_CONNECTION_ERROR",
                retryable=True,
            )
    except httpx.HTTPError as exc:
        failure = EmailError(
            f"the request to SendGrid was sent but no answer came ({type(exc).__name__}); "
            "the mail may have been accepted, so it is not retried",
            code="EMAIL_DELIVERY_UNKNOWN",
        )
    if failure is not None:
        raise failure
    assert response is not None
    if not 200 <= response.status_code < 300:
        raise _sendgrid_status_error(
            response.status_code,
            response.content,
            masker,
            response.headers.get("retry-after"),
        )
    ctx.meta["email"] = {
        "provider": "sendgrid",
        "tlsVerified": urlsplit(url).scheme == "https" and tls.verify,
        "recipients": len(mail.recipients),
    }
    return {
        "provider": "sendgrid",
        "status": response.status_code,
        "messageId": response.headers.get("x-message-id"),
        "recipients": list(mail.recipients),
    }


# --- the runtime -----------------------------------------------------------------------


class EmailSink:
    """Send the node's message; the output is ``{provider, status, messageId,
    recipients}``."""

    async def run(self, ctx: NodeContext) -> Value:
        """Check every part, then deliver by the chosen provider."""
        provider = to_string(ctx.setting("provider", "smtp")).strip().lower() or "smtp"
        if provider not in ("smtp", "sendgrid"):
            raise EmailError(
                'provider must be "smtp" or "sendgrid"', code="RUNTIME_INVALID_CONFIG"
            )
        masker = _Masker(SecretMask(_values(ctx.secrets)))
        mail = compose(ctx)
        refuse_secrets(
            ctx, "email sink", mail.subject, mail.text or "", mail.html or ""
        )
        if provider == "sendgrid":
            result = await _send_sendgrid(ctx, mail, masker)
        else:
            result = await _send_smtp(ctx, mail, smtp_settings(ctx), masker)
        _log.debug(
            'email sink "%s": sent by %s to %d recipient(s)',
            ctx.node.id,
            provider,
            len(mail.recipients),
        )
        return result


def _values(secrets: Mapping[str, str]) -> list[str]:
    return list(secrets.values())
