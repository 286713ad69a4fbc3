"""The email sink through real flows: a real SMTP server and a SendGrid stand-in.

Every delivery test runs a ``.flow.md`` file with ``maidit_jupyter.run_sync`` (or the
``maidit`` CLI). SMTP goes to aiosmtpd on 127.0.0.1 (plain, STARTTLS and implicit TLS
with a CA and certificate made by ``openssl`` here, AUTH PLAIN and LOGIN); SendGrid's
``/v3/mail/send`` is played by pytest-httpserver on 127.0.0.1. The injection corpus
(reliability E8) sends each hostile value through both providers and checks what the
server received: the envelope recipients, the header names and the addresses, or the
node failed with a clear code and nothing reached the server.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pytest_httpserver import HTTPServer

import maidit_jupyter
from maidit_jupyter import FlowRun, RunStatus
from maidit_jupyter.redaction import SecretMask
from maidit_jupyter.runtimes.mail_message import (
    EmailError,
    Mail,
    build_message,
    parse_address,
    split_items,
    verify_message,
)
from tests import figures

ATTACKER = "attacker.test"
SENDGRID_PATH = "/v3/mail/send"


# --- the SMTP server -------------------------------------------------------------------


@dataclass
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def header_names(self) -> list[str]:
        """The names of the top-level header lines, lower case, in order."""
        head = self.data.split(b"\r\n\r\n", 1)[0]
        return [
            line.split(b":", 1)[0].decode().lower()
            for line in head.split(b"\r\n")
            if line and line[:1] not in (b" ", b"\t")
        ]


def content(part: MIMEPart | None) -> str:
    """A decoded text part with the wire's CRLF as LF."""
    assert part is not None
    text = part.get_content()
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it receives and can refuse recipients."""

    messages: list[Received] = field(default_factory=list)
    #: replies to give, in turn, to RCPT TO of an address (then 250).
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    #: seconds to wait before answering the end of a message.
    data_delay: float = 0.0
    sessions: int = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: Any
    ) -> Any:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        replies = self.rcpt_replies.get(address)
        if replies:
            return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_delay:
            await anyio.sleep(self.data_delay)
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content or b"",
            )
        )
        return "250 2.0.0 queued"


@dataclass
class Users:
    """An aiosmtpd authenticator; a wrong password is echoed back (a hostile server)."""

    accounts: dict[str, str]
    mechanisms: list[str] = field(default_factory=list)

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.mechanisms.append(mechanism)
        assert isinstance(auth_data, LoginPassword)
        login = auth_data.login.decode("utf-8")
        password = auth_data.password.decode("utf-8")
        if self.accounts.get(login) == password:
            return AuthResult(success=True)
        if password.isascii():
            token = base64.b64encode(auth_data.password).decode()
            echo = f"535 5.7.8 rejected {login}:{password} ({token})"
            return AuthResult(success=False, handled=False, message=echo)
        return AuthResult(success=False, handled=False)


@dataclass
class SmtpServer:
    """A running aiosmtpd server on 127.0.0.1."""

    controller: Controller
    recorder: Recorder
    port: int

    @property
    def messages(self) -> list[Received]:
        return self.recorder.messages


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[Callable[..., SmtpServer]]:
    """Start SMTP servers with aiosmtpd options; all are stopped at the end."""
    started: list[Controller] = []

    def start(**options: Any) -> SmtpServer:
        recorder = Recorder()
        port = _free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
        controller.start()
        started.append(controller)
        return SmtpServer(controller, recorder, port)

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture(scope="module")
def shared_smtp() -> Iterator[SmtpServer]:
    """One plain server for the injection corpus (cleared by each test)."""
    recorder = Recorder()
    port = _free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer(controller, recorder, port)
    controller.stop()


@dataclass(frozen=True)
class Certs:
    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A CA and a server certificate for 127.0.0.1/localhost, made with openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make the test certificates")
    folder = tmp_path_factory.mktemp("certs")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=folder, check=True, capture_output=True)

    run(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=maidit test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    run(
        "req",
        *ec,
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    )
    (folder / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
    )
    run(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf",
    )  # fmt: skip
    return Certs(folder / "ca.pem", folder / "server.pem", folder / "server.key")


# --- flows -----------------------------------------------------------------------------


def write_flow(
    tmp_path: Path,
    attributes: str,
    *,
    children: str = "",
    secrets: tuple[str, ...] = (),
    config: str = "",
    on_error: str = "",
    name: str = "mail.flow.md",
) -> Path:
    """A flow: a template node ``data`` and the email sink ``mail`` reading it."""
    lines = ["---", "name: mail", "version: 1.0.0"]
    if secrets:
        lines.append(f"secrets: [{', '.join(secrets)}]")
    if config:
        lines += ["config:", config]
    lines += [
        "---",
        "<workflow>",
        '  <transform id="data" type="template"><template>report body</template></transform>',
        f'  <sink id="mail" type="email" input="data" {attributes}>',
        children,
        on_error,
        "  </sink>",
        "</workflow>",
        "",
    ]
    path = tmp_path / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def smtp_attrs(server: SmtpServer, extra: str = "") -> str:
    return f'host="127.0.0.1" port="{server.port}" {extra}'


def sendgrid_attrs(httpserver: HTTPServer, extra: str = "") -> str:
    base = httpserver.url_for("/").rstrip("/")
    return f'provider="sendgrid" api-key="SENDGRID_KEY" base-url="{base}" {extra}'


RETRY = '<on-error><retry max="2" base="1ms" jitter="none"/></on-error>'


def run(path: Path, **options: Any) -> FlowRun:
    options.setdefault("checkpoint", False)
    return maidit_jupyter.run_sync(path, **options)


def failure(flow_run: FlowRun) -> tuple[str, str]:
    """The sink's error code and message."""
    assert flow_run.status is RunStatus.FAILED, flow_run.results["mail"]
    error = flow_run.results["mail"].error
    assert error is not None
    return error.code, error.message


# --- plain SMTP ------------------------------------------------------------------------


def test_smtp_delivers_headers_envelope_and_body(
    tmp_path: Path, smtp: Callable[..., SmtpServer]
) -> None:
    server = smtp()
    flow = write_flow(
        tmp_path,
        smtp_attrs(
            server,
            'to="ann@example.com, &quot;Doe, Jane&quot; &lt;jane@example.com&gt;" '
            'cc="carl@example.com" bcc="hidden@example.com" '
            'from="Reports &lt;reports@example.com&gt;" reply-to="desk@example.org" '
            'subject="Weekly {{ data.output }} – résumé"',
        ),
        children="    <text>Hello {{ input }} ✓</text>",
    )
    flow_run = run(flow)
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results["mail"].error
    [got] = server.messages
    assert got.mail_from == "reports@example.com"
    assert got.rcpt_tos == [
        "ann@example.com",
        "jane@example.com",
        "carl@example.com",
        "hidden@example.com",
    ]
    assert sorted(got.header_names) == sorted(
        [
            "from", "to", "cc", "reply-to", "subject", "date", "message-id",
            "mime-version", "content-type", "content-transfer-encoding",
        ]
    )  # fmt: skip
    message = got.message
    assert message["Subject"] == "Weekly report body – résumé"
    assert [a.addr_spec for a in message["To"].addresses] == [
        "ann@example.com",
        "jane@example.com",
    ]
    assert message["To"].addresses[1].display_name == "Doe, Jane"
    assert message["From"].addresses[0].display_name == "Reports"
    assert str(message["Reply-To"]) == "desk@example.org"
    assert "bcc" not in got.header_names
    assert b"hidden@example.com" not in got.data
    assert content(message.get_body(("plain",))) == "Hello report body ✓\n"
    assert max(len(line) for line in got.data.split(b"\r\n")) <= 998
    assert got.data.isascii()  # 7-bit clean: no 8BITMIME or SMTPUTF8 needed
    output = flow_run.outputs["mail"]
    assert output == {
        "provider": "smtp",
        "status": 250,
        "messageId": message["Message-ID"],
        "recipients": got.rcpt_tos,
    }
    assert flow_run.results["mail"].meta == {
        "email": {
            "provider": "smtp",
            "tls": "none",
            "tlsVerified": False,
            "recipients": 4,
        }
    }


def test_text_and_html_make_a_multipart_alternative(
    tmp_path: Path, smtp: Callable[..., SmtpServer]
) -> None:
    server = smtp()
    flow = write_flow(
        tmp_path,
        smtp_attrs(server, 'to="a@example.com" from="b@example.com" subject="Both"'),
        children=(
            "    <text>Plain {{ input }}</text>\n"
            "    <html><![CDATA[<p>Rich <b>{{ input }}</b></p>]]></html>"
        ),
    )
    assert run(flow).status is RunStatus.COMPLETED
    message = server.messages[0].message
    assert message.get_content_type() == "multipart/alternative"
    assert content(message.get_body(("plain",))) == "Plain report body\n"
    assert content(message.get_body(("html",))) == "<p>Rich <b>report body</b></p>\n"


def test_html_alone_and_the_input_as_the_default_body(
    tmp_path: Path, smtp: Callable[..., SmtpServer]
) -> None:
    server = smtp()
    html_only = write_flow(
        tmp_path,
        smtp_attrs(server, 'to="a@example.com" from="b@example.com"'),
        children="    <html><![CDATA[<h1>{{ input }}</h1>]]></html>",
    )
    assert run(html_only).status is RunStatus.COMPLETED
    first = server.messages[0].message
    assert first.get_content_type() == "text/html"
    assert content(first) == "<h1>report body</h1>\n"
    assert "subject" not in server.messages[0].header_names

    no_body = write_flow(
        tmp_path,
        smtp_attrs(server, 'to="a@example.com" from="b@example.com" subject="Data"'),
        name="input.flow.md",
    )
    assert run(no_body).status is RunStatus.COMPLETED
    assert content(server.messages[1].message) == "report body\n"


def test_recipients_from_lists_objects_and_declared_items(
    tmp_path: Path, smtp: Callable[..., SmtpServer]
) -> None:
    """A lone ``{{ }}`` may give a list (of strings or ``{email, name}``); items the flow
    writes (``a, {{ b }}; c``) are one address each."""
    server = smtp()
    flow = write_flow(
        tmp_path,
        smtp_attrs(
            server,
            'to="{{ $config.team }}" '
            'cc="boss@example.com, {{ $config.one }}; &quot;Ops, Night&quot; &lt;ops@example.com&gt;" '
            'bcc="{{ $config.people }}" from="b@example.com" subject="Lists"',
        ),
        config=(
            "  team: {type: array}\n  one: {type: string}\n  people: {type: array}"
        ),
    )
    flow_run = run(
        flow,
        config={
            "team": ["a@example.com", "Bee <bee@example.com>"],
            "one": "Solo <solo@example.com>",
            "people": [
                {"email": "p@example.com", "name": "P, Q"},
                {"email": "a@example.com"},
            ],
        },
    )
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results["mail"].error
    [got] = server.messages
    # each address once in the envelope (a@example.com is in to and bcc)
    assert got.rcpt_tos == [
        "a@example.com",
        "bee@example.com",
        "boss@example.com",
        "solo@example.com",
        "ops@example.com",
        "p@example.com",
    ]
    cc = got.message["Cc"].addresses
    assert [(a.display_name, a.addr_spec) for a in cc] == [
        ("", "boss@example.com"),
        ("Solo", "solo@example.com"),
        ("Ops, Night", "ops@example.com"),
    ]


def test_idn_domains_are_sent_as_punycode(
    tmp_path: Path, smtp: Callable[..., SmtpServer]
) -> None:
    server = smtp()
    flow = write_flow(
        tmp_path,
        smtp_attrs(server, 'to="Zoë &lt;zoe@bücher.example&gt;" from="b@example.com"'),
    )
    assert run(flow).status is RunStatus.COMPLETED
    [got] = server.messages
    assert got.rcpt_tos == ["zoe@xn--bcher-kva.example"]
    assert got.message["To"].addresses[0].display_name == "Zoë"


def test_a_refused_recipient_stops_the_whole_message(
    tmp_path: Path, smtp: Callable[..., SmtpServer]
) -> None:
    server = smtp()
    server.recorder.rcpt_replies["ghost@example.com"] = ["550 5.1.1 no such user"] * 5
    flow = write_flow(
        tmp_path,
        smtp_attrs(
            server, 'to="a@example.com, ghost@example.com" from="b@example.com"'
        ),
        on_error=RETRY,
    )
    flow_run = run(flow)
    code, message = failure(flow_run)
    assert code == "EMAIL_SMTP_REJECTED"
    assert "refused 1 of 2 recipients, so nothing was sent" in message
    assert "ghost@example.com: 550 5.1.1 no such user" in message
    assert flow_run.results["mail"].attempts == 1  # a 5xx is permanent
    assert server.messages == []


def test_a_temporary_refusal_is_retried(
    tmp_path: Path, smtp: Callable[..., SmtpServer]
) -> None:
    server = smtp()
    server.recorder.rcpt_replies["busy@example.com"] = ["451 4.3.0 try again later"]
    flow = write_flow(
        tmp_path,
        smtp_attrs(server, 'to="busy@example.com" from="b@example.com"'),
        on_error=RETRY,
    )
    flow_run = run(flow)
    assert flow_run.status is RunStatus.COMPLETED
    assert flow_run.results["mail"].attempts == 2
    assert len(server.messages) == 1


def test_a_closed_port_is_a_retryable_connection_error(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path,
        f'host="127.0.0.1" port="{_free_port()}" to="a@example.com" from="b@example.com"',
        on_error=RETRY,
    )
    flow_run = run(flow)
    code, message = failure(flow_run)
    assert code == "EMAIL_CONNECTION_ERROR"
    assert "ConnectionRefusedError" in message
    assert flow_run.results["mail"].attempts == 3


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """A TCP listener that never says hello (connections wait in its backlog)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    yield listener
    listener.close()


def test_a_node_timeout_ends_a_silent_server_quickly(
    tmp_path: Path, silent_server: socket.socket
) -> None:
    port = silent_server.getsockname()[1]
    flow = write_flow(
        tmp_path,
        f'host="127.0.0.1" port="{port}" to="a@example.com" from="b@example.com" '
        'timeout="300ms"',
    )
    started = time.monotonic()
    code, _ = failure(run(flow))
    assert code in ("EMAIL_TIMEOUT", "RUNTIME_TIMEOUT")
    assert time.monotonic() - started < 3


def test_a_cancelled_run_cuts_the_smtp_socket_at_once(
    tmp_path: Path, silent_server: socket.socket
) -> None:
    """No node timeout (the socket would wait 30 s): the run's deadline cancels the
    node, the worker thread is abandoned and its socket shut down right away."""
    port = silent_server.getsockname()[1]
    flow = write_flow(
        tmp_path,
        f'host="127.0.0.1" port="{port}" to="a@example.com" from="b@example.com"',
    )
    started = time.monotonic()
    flow_run = run(flow, timeout_ms=300)
    assert time.monotonic() - started < 3
    assert flow_run.status is not RunStatus.COMPLETED
    assert flow_run.results["mail"].status in ("skipped", "failed")
    silent_server.settimeout(3)
    connection, _ = silent_server.accept()
    with connection:
        connection.settimeout(3)
        assert (
            connection.recv(1) == b""
        )  # the client closed its side: no lingering thread


def test_a_timeout_after_the_message_was_handed_over_is_not_retried(
    tmp_path: Path, smtp: Callable[..., SmtpServer]
) -> None:
    """The server takes the whole message and then says nothing: it may have been
    delivered, so a retry (which could send it twice) is not made."""
    server = smtp()
    server.recorder.data_delay = 1.5
    flow = write_flow(
        tmp_path,
        smtp_attrs(server, 'to="a@example.com" from="b@example.com" timeout="400ms"'),
        on_error=RETRY,
    )
    flow_run = run(flow)
    code, message = failure(flow_run)
    assert code == "EMAIL_DELIVERY_UNKNOWN"
    assert "may have been delivered" in message
    assert flow_run.results["mail"].attempts == 1


# --- TLS -------------------------------------------------------------------------------


def test_starttls_with_a_trusted_ca_and_auth_login(
    tmp_path: Path, smtp: Callable[..., SmtpServer], certs: Certs
) -> None:
    """STARTTLS before anything else, then AUTH LOGIN (PLAIN not offered) with a
    non-ASCII password, which smtplib's own login could not send."""
    users = Users({"mailer": "pässwörd-ü"})
    server = smtp(
        tls_context=certs.server_context(),
        require_starttls=True,
        authenticator=users,
        auth_require_tls=True,
        auth_exclude_mechanism=["PLAIN"],
    )
    flow = write_flow(
        tmp_path,
        smtp_attrs(
            server,
            f'starttls="true" ca-file="{certs.ca}" username="mailer" '
            'password="SMTP_PASSWORD" to="a@example.com" from="b@example.com"',
        ),
        secrets=("SMTP_PASSWORD",),
    )
    flow_run = run(flow, secrets={"SMTP_PASSWORD": "pässwörd-ü"})
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results["mail"].error
    assert users.mechanisms == ["LOGIN"]
    assert len(server.messages) == 1
    assert flow_run.results["mail"].meta == {
        "email": {
            "provider": "smtp",
            "tls": "starttls",
            "tlsVerified": True,
            "recipients": 1,
        }
    }


def test_implicit_tls_with_a_trusted_ca(
    tmp_path: Path, smtp: Callable[..., SmtpServer], certs: Certs
) -> None:
    server = smtp(ssl_context=certs.server_context())
    flow = write_flow(
        tmp_path,
        smtp_attrs(
            server,
            f'ssl="true" ca-file="{certs.ca}" to="a@example.com" from="b@example.com"',
        ),
    )
    flow_run = run(flow)
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results["mail"].error
    assert len(server.messages) == 1
    assert flow_run.results["mail"].meta["email"]["tls"] == "ssl"  # type: ignore[index]


@pytest.mark.parametrize("mode", ["ssl", "starttls"])
def test_an_untrusted_certificate_fails_and_sends_nothing(
    tmp_path: Path, smtp: Callable[..., SmtpServer], certs: Certs, mode: str
) -> None:
    if mode == "ssl":
        server = smtp(ssl_context=certs.server_context())
    else:
        server = smtp(tls_context=certs.server_context(), require_starttls=True)
    flow = write_flow(
        tmp_path,
        smtp_attrs(server, f'{mode}="true" to="a@example.com" from="b@example.com"'),
        on_error=RETRY,
    )
    flow_run = run(flow)
    code, message = failure(flow_run)
    assert code == "EMAIL_TLS_ERROR"
    assert "certificate" in message
    assert "ca-file" in message
    assert flow_run.results["mail"].attempts == 1
    assert server.messages == []


def test_tls_verify_false_is_allowed_and_logged(
    tmp_path: Path,
    smtp: Callable[..., SmtpServer],
    certs: Certs,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = smtp(ssl_context=certs.server_context())
    flow = write_flow(
        tmp_path,
        smtp_attrs(
            server,
            'ssl="true" tls-verify="false" to="a@example.com" from="b@example.com"',
        ),
    )
    with caplog.at_level(logging.WARNING, logger="maidit_jupyter"):
        flow_run = run(flow)
    assert flow_run.status is RunStatus.COMPLETED
    assert 'tls-verify="false"' in caplog.text
    assert flow_run.results["mail"].meta["email"]["tlsVerified"] is False  # type: ignore[index]


def test_starttls_is_never_skipped_when_the_server_lacks_it(
    tmp_path: Path, smtp: Callable[..., SmtpServer]
) -> None:
    server = smtp()
    flow = write_flow(
        tmp_path,
        smtp_attrs(server, 'starttls="true" to="a@example.com" from="b@example.com"'),
    )
    code, message = failure(run(flow))
    assert code == "EMAIL_TLS_ERROR"
    assert "does not offer STARTTLS" in message
    assert server.messages == []


# --- AUTH and the password -------------------------------------------------------------


def test_auth_plain_on_loopback(
    tmp_path: Path, smtp: Callable[..., SmtpServer]
) -> None:
    users = Users({"mailer": "s3cret-Pass"})
    server = smtp(authenticator=users, auth_require_tls=False)
    flow = write_flow(
        tmp_path,
        smtp_attrs(
            server,
            'username="mailer" password="SMTP_PASSWORD" to="a@example.com" '
            'from="b@example.com"',
        ),
        secrets=("SMTP_PASSWORD",),
    )
    flow_run = run(flow, secrets={"SMTP_PASSWORD": "s3cret-Pass"})
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results["mail"].error
    assert users.mechanisms == ["PLAIN"]


def test_the_password_never_goes_in_clear_to_another_host(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path,
        'host="smtp.example.invalid" username="mailer" password="SMTP_PASSWORD" '
        'to="a@example.com" from="b@example.com"',
        secrets=("SMTP_PASSWORD",),
    )
    code, message = failure(run(flow, secrets={"SMTP_PASSWORD": "s3cret-Pass"}))
    assert code == "EMAIL_INSECURE_AUTH"
    assert 'starttls="true"' in message


def _canary_forms(canary: str, user: str) -> set[str]:
    forms = set(SecretMask([canary]).forms)
    raw = canary.encode()
    forms.add(base64.b64encode(b"\0" + user.encode() + b"\0" + raw).decode())
    forms.add(canary[:16])
    return forms


def test_a_wrong_password_fails_without_leaking_it(
    tmp_path: Path, smtp: Callable[..., SmtpServer]
) -> None:
    """The server echoes the password and its base64 in its 535 reply (hostile). The
    node fails once (not retried); no form of the password is in the error, the JSON
    report, stdout/stderr, the execution log in the flow file or the checkpoint."""
    users = Users({"mailer": "the-right-one"})
    server = smtp(authenticator=users, auth_require_tls=False)
    canary = "Cn!@#%/?&=+:" + base64.b32encode(os.urandom(10)).decode()
    flow = write_flow(
        tmp_path,
        smtp_attrs(
            server,
            'username="mailer" password="SMTP_PASSWORD" to="a@example.com" '
            'from="b@example.com"',
        ),
        secrets=("SMTP_PASSWORD",),
        on_error=RETRY,
    )
    env = {**os.environ, "SMTP_PASSWORD": canary}
    result = subprocess.run(
        [sys.executable, "-m", "maidit_jupyter", "run", "--format", "json", str(flow)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    node = report["nodes"]["mail"]
    assert node["error"]["code"] == "EMAIL_AUTH_FAILED"
    assert node["attempts"] == 1
    assert "535" in node["error"]["message"]
    assert "***" in node["error"]["message"]  # the echo was masked, not dropped
    assert users.mechanisms == ["PLAIN"]
    assert server.messages == []

    texts = {"stdout": result.stdout, "stderr": result.stderr}
    for path in tmp_path.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_text("utf-8", errors="replace")
    assert any(".maidit-state" in name for name in texts)  # a checkpoint was written
    assert "SMTP authentication failed" in texts[str(flow)]  # the log was written
    leaks = [
        (name, form)
        for name, text in texts.items()
        for form in _canary_forms(canary, "mailer")
        if form in text
    ]
    assert leaks == []

    # and through the API: the run's error and result
    flow_run = run(flow, secrets={"SMTP_PASSWORD": canary})
    _, message = failure(flow_run)
    assert not any(form in message for form in _canary_forms(canary, "mailer"))
    assert not any(
        form in json.dumps(flow_run.report())
        for form in _canary_forms(canary, "mailer")
    )


# --- SendGrid --------------------------------------------------------------------------


def test_sendgrid_payload_key_and_message_id(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SENDGRID_PATH, method="POST").respond_with_data(
        "", status=202, headers={"X-Message-Id": "sg-123"}
    )
    flow = write_flow(
        tmp_path,
        sendgrid_attrs(
            httpserver,
            'to="ann@example.com, Bo &lt;bo@example.com&gt;" cc="carl@example.com" '
            'bcc="ann@example.com; hidden@example.com" from="Reports &lt;r@example.com&gt;" '
            'reply-to="desk@example.org" subject="Weekly {{ input }}"',
        ),
        children="    <text>Hi {{ input }}</text>\n    <html>&lt;b&gt;hi&lt;/b&gt;</html>",
        secrets=("SENDGRID_KEY",),
    )
    flow_run = run(flow, secrets={"SENDGRID_KEY": "SG.test-key-123"})
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results["mail"].error
    [(request, _)] = httpserver.log
    assert request.headers["Authorization"] == "Bearer SG.test-key-123"
    assert request.headers["Content-Type"] == "application/json"
    assert request.get_json() == {
        "personalizations": [
            {
                "to": [
                    {"email": "ann@example.com"},
                    {"email": "bo@example.com", "name": "Bo"},
                ],
                "cc": [{"email": "carl@example.com"}],
                "bcc": [{"email": "hidden@example.com"}],
            }
        ],
        "from": {"email": "r@example.com", "name": "Reports"},
        "reply_to": {"email": "desk@example.org"},
        "subject": "Weekly report body",
        "content": [
            {"type": "text/plain", "value": "Hi report body"},
            {"type": "text/html", "value": "<b>hi</b>"},
        ],
    }
    assert flow_run.outputs["mail"] == {
        "provider": "sendgrid",
        "status": 202,
        "messageId": "sg-123",
        "recipients": [
            "ann@example.com",
            "bo@example.com",
            "carl@example.com",
            "hidden@example.com",
        ],
    }


def test_sendgrid_429_and_5xx_are_retried(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    for status in (429, 503):
        httpserver.expect_ordered_request(
            SENDGRID_PATH, method="POST"
        ).respond_with_json({"errors": [{"message": "slow down"}]}, status=status)
    httpserver.expect_ordered_request(SENDGRID_PATH, method="POST").respond_with_data(
        "", status=202
    )
    flow = write_flow(
        tmp_path,
        sendgrid_attrs(httpserver, 'to="a@example.com" from="b@example.com"'),
        secrets=("SENDGRID_KEY",),
        on_error=RETRY,
    )
    flow_run = run(flow, secrets={"SENDGRID_KEY": "SG.test-key-123"})
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results["mail"].error
    assert flow_run.results["mail"].attempts == 3
    assert len(httpserver.log) == 3
    assert flow_run.outputs["mail"]["messageId"] is None


def test_sendgrid_retry_after_is_honoured(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_ordered_request(SENDGRID_PATH, method="POST").respond_with_data(
        "", status=429, headers={"Retry-After": "0.4"}
    )
    httpserver.expect_ordered_request(SENDGRID_PATH, method="POST").respond_with_data(
        "", status=202
    )
    flow = write_flow(
        tmp_path,
        sendgrid_attrs(httpserver, 'to="a@example.com" from="b@example.com"'),
        secrets=("SENDGRID_KEY",),
        on_error=RETRY,
    )
    started = time.monotonic()
    flow_run = run(flow, secrets={"SENDGRID_KEY": "SG.test-key-123"})
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results["mail"].error
    assert flow_run.results["mail"].attempts == 2
    assert time.monotonic() - started >= 0.4  # not the 1 ms the policy alone would wait


def test_sendgrid_rejections_are_not_retried_and_never_echo_the_key(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    key = "SG.Zz!@#%/?&=+:" + base64.b32encode(os.urandom(10)).decode()
    httpserver.expect_request(SENDGRID_PATH, method="POST").respond_with_json(
        {
            "errors": [
                {"message": f"The provided authorization grant is invalid: {key}"}
            ]
        },
        status=401,
    )
    flow = write_flow(
        tmp_path,
        sendgrid_attrs(httpserver, 'to="a@example.com" from="b@example.com"'),
        secrets=("SENDGRID_KEY",),
        on_error=RETRY,
    )
    flow_run = run(flow, secrets={"SENDGRID_KEY": key})
    code, message = failure(flow_run)
    assert code == "EMAIL_AUTH_FAILED"
    assert message.startswith(
        "SendGrid API error: HTTP 401: The provided authorization"
    )
    assert flow_run.results["mail"].attempts == 1
    assert not any(form in message for form in SecretMask([key]).forms)
    assert key not in json.dumps(flow_run.report())


def test_the_sendgrid_key_never_goes_over_plain_http_to_another_host(
    tmp_path: Path,
) -> None:
    flow = write_flow(
        tmp_path,
        'provider="sendgrid" api-key="SENDGRID_KEY" base-url="http://sendgrid.example.invalid" '
        'to="a@example.com" from="b@example.com"',
        secrets=("SENDGRID_KEY",),
    )
    code, _ = failure(run(flow, secrets={"SENDGRID_KEY": "SG.test-key-123"}))
    assert code == "EMAIL_INSECURE_TRANSPORT"


# --- the injection corpus (reliability E8) ---------------------------------------------


@dataclass(frozen=True)
class Attack:
    """A hostile value in one setting; ``sent`` when it must arrive as plain data."""

    target: str
    payload: Any
    sent: bool = False


EVIL = f"evil@{ATTACKER}"
CORPUS: list[Attack] = [
    # to
    Attack("to", f"victim@example.com\r\nBcc: {EVIL}"),
    Attack("to", f"victim@example.com\nBcc: {EVIL}"),
    Attack("to", f"victim@example.com\rBcc: {EVIL}"),
    Attack("to", f"victim@example.com, {EVIL}"),
    Attack("to", f"victim@example.com; {EVIL}"),
    Attack("to", f"victim@example.com%0d%0aBcc: {EVIL}"),
    Attack("to", f"victim@example.com%0ABcc:{EVIL}"),
    Attack("to", f"victim@example.com\u2028Bcc: {EVIL}"),
    Attack("to", f"victim@example.com\x85Bcc: {EVIL}"),
    Attack("to", f"victim@example.com\x00{EVIL}"),
    Attack("to", f"victim@example.com\t{EVIL}"),
    Attack("to", f"Friends: victim@example.com, {EVIL};"),
    Attack("to", f"=?utf-8?q?x=0D=0ABcc:_{EVIL}?= <victim@example.com>"),
    Attack("to", f"<victim@example.com>, <{EVIL}>"),
    Attack("to", f'"victim@example.com" <victim@example.com>,{EVIL}'),
    Attack("to", "victim@example.com\r\n\r\ninjected body"),
    Attack("to", f'"victim"@example.com, {EVIL}'),
    # cc
    Attack("cc", f"copy@example.com\r\nBcc: {EVIL}"),
    Attack("cc", f"copy@example.com,{EVIL}"),
    Attack("cc", f"copy@example.com\u2029To: {EVIL}"),
    # from
    Attack("from", f"sender@example.com\r\nBcc: {EVIL}"),
    Attack("from", f"sender@example.com, {EVIL}"),
    Attack("from", f"Sender <sender@example.com>\nReply-To: {EVIL}"),
    # reply-to
    Attack("reply-to", f"reply@example.com\r\nBcc: {EVIL}"),
    Attack("reply-to", f"reply@example.com\x0bBcc: {EVIL}"),
    # a display name inside quotes the flow wrote
    Attack("name", f"Bob\r\nBcc: {EVIL}"),
    Attack("name", f'Bob" <{EVIL}>, "Eve'),
    Attack("name", f"Bob\u2028Bcc: {EVIL}"),
    Attack("name", f"=?utf-8?q?Bob=0D=0ABcc:_{EVIL}?="),
    # subject
    Attack("subject", f"Report\r\nBcc: {EVIL}"),
    Attack("subject", "Report\nX-Injected: yes"),
    Attack("subject", "Report\rX-Injected: yes"),
    Attack("subject", f"Report\r\n\tBcc: {EVIL}"),
    Attack("subject", f"Report\u2028Bcc: {EVIL}"),
    Attack("subject", f"Report\u2029Bcc: {EVIL}"),
    Attack("subject", f"Report\x85Bcc: {EVIL}"),
    Attack("subject", f"Report\x00Bcc: {EVIL}"),
    Attack("subject", f"Report\x0cBcc: {EVIL}"),
    Attack("subject", f"Report\x1cBcc: {EVIL}"),
    Attack("subject", f"=?utf-8?q?Report=0D=0ABcc:_{EVIL}?="),  # CVE-2024-6923
    Attack(
        "subject",
        "=?utf-8?b?"
        + base64.b64encode(f"Report\r\nBcc: {EVIL}".encode()).decode()
        + "?=",
    ),
    Attack("subject", "R" * 2500),
    Attack("subject", f"Report%0d%0aBcc: {EVIL}", sent=True),
    Attack("subject", f"Report\\r\\nBcc: {EVIL}", sent=True),
    Attack("subject", "Report " + "A" * 1500, sent=True),
    # the body: SMTP smuggling attempts stay body text
    Attack(
        "text",
        f"hello\r\n.\r\nMAIL FROM:<{EVIL}>\r\nRCPT TO:<{EVIL}>\r\nDATA\r\n"
        "Subject: smuggled\r\n\r\nevil\r\n.\r\n",
        sent=True,
    ),
    Attack(
        "text",
        f"hello\n.\nMAIL FROM:<{EVIL}>\nRCPT TO:<{EVIL}>\nDATA\nevil\n.\n",
        sent=True,
    ),
    Attack("text", f"hello\r.\r\nRCPT TO:<{EVIL}>\r\n", sent=True),
    # lists from data: one address per element
    Attack("to-list", ["victim@example.com", f"other@example.com\r\nBcc: {EVIL}"]),
    Attack("to-list", ["victim@example.com", f"other@example.com, {EVIL}"]),
    Attack("to-list", [{"email": "victim@example.com", "name": f"V\r\nBcc: {EVIL}"}]),
    Attack("to-list", [{"email": f"victim@example.com, {EVIL}"}]),
]

#: the message every corpus flow declares; the target setting is replaced by the payload.
BASE = {
    "to": "victim@example.com",
    "from": "sender@example.com",
    "subject": "Report",
}
TEMPLATES = {
    "to": 'to="{{ $config.payload }}"',
    "cc": 'cc="{{ $config.payload }}"',
    "from": 'from="{{ $config.payload }}"',
    "reply-to": 'reply-to="{{ $config.payload }}"',
    "subject": 'subject="{{ $config.payload }}"',
    "name": 'to="&quot;{{ $config.payload }}&quot; &lt;victim@example.com&gt;"',
    "text": "",
    "to-list": 'to="{{ $config.list }}"',
}


def _corpus_flow(tmp_path: Path, attack: Attack, provider_attrs: str) -> Path:
    replaced = {"name": "to", "to-list": "to"}.get(attack.target, attack.target)
    attributes = [TEMPLATES[attack.target]] if TEMPLATES[attack.target] else []
    attributes += [f'{key}="{value}"' for key, value in BASE.items() if key != replaced]
    children = (
        "    <text>{{ $config.payload }}</text>" if attack.target == "text" else ""
    )
    return write_flow(
        tmp_path,
        f"{provider_attrs} {' '.join(attributes)}",
        children=children,
        secrets=("SENDGRID_KEY",),
        config="  payload: {type: string}\n  list: {type: array}",
    )


def _config(attack: Attack) -> dict[str, Any]:
    if attack.target == "to-list":
        return {"payload": "", "list": attack.payload}
    return {"payload": attack.payload, "list": []}


def _expect_rejected(flow_run: FlowRun) -> None:
    code, message = failure(flow_run)
    assert code in ("EMAIL_INVALID_ADDRESS", "EMAIL_INVALID_HEADER"), message
    assert "\r" not in message
    assert "\n" not in message
    assert ATTACKER not in message  # the hostile value is never quoted back


#: the headers of a plain text message, and no others.
PLAIN_HEADERS = sorted(
    [
        "from", "to", "subject", "date", "message-id", "mime-version",
        "content-type", "content-transfer-encoding",
    ]
)  # fmt: skip


def _smuggled(messages: list[Any], attack: Attack) -> bool:
    """Whether the server got anything beyond the one message the flow declares."""
    if not attack.sent:
        return bool(messages)
    return len(messages) != 1 or (
        messages[0].rcpt_tos != ["victim@example.com"]
        or sorted(messages[0].header_names) != PLAIN_HEADERS
    )


@pytest.mark.reliability
@pytest.mark.parametrize(
    "attack", CORPUS, ids=[f"{a.target}-{i}" for i, a in enumerate(CORPUS)]
)
def test_injection_corpus_over_smtp(
    tmp_path: Path, shared_smtp: SmtpServer, attack: Attack
) -> None:
    shared_smtp.messages.clear()
    flow = _corpus_flow(tmp_path, attack, smtp_attrs(shared_smtp))
    flow_run = run(flow, config=_config(attack), secrets={"SENDGRID_KEY": "unused-key"})
    figures.count(
        "email injection",
        payloads=1,
        added=_smuggled(shared_smtp.messages, attack),
    )
    if not attack.sent:
        _expect_rejected(flow_run)
        assert shared_smtp.messages == []
        return
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results["mail"].error
    [got] = shared_smtp.messages  # exactly one message: nothing smuggled
    assert got.mail_from == "sender@example.com"
    assert got.rcpt_tos == ["victim@example.com"]
    assert sorted(got.header_names) == PLAIN_HEADERS
    assert max(len(line) for line in got.data.split(b"\r\n")) <= 998
    message = got.message
    assert [a.addr_spec for a in message["To"].addresses] == ["victim@example.com"]
    assert [a.addr_spec for a in message["From"].addresses] == ["sender@example.com"]
    if attack.target == "subject":
        assert message["Subject"] == attack.payload
    else:
        text = attack.payload.replace("\r\n", "\n").replace("\r", "\n")
        assert content(message) == (text if text.endswith("\n") else text + "\n")


@pytest.mark.parametrize(
    "attack", CORPUS, ids=[f"{a.target}-{i}" for i, a in enumerate(CORPUS)]
)
def test_injection_corpus_over_sendgrid(
    tmp_path: Path, httpserver: HTTPServer, attack: Attack
) -> None:
    httpserver.expect_request(SENDGRID_PATH, method="POST").respond_with_data(
        "", status=202
    )
    flow = _corpus_flow(tmp_path, attack, sendgrid_attrs(httpserver))
    flow_run = run(
        flow, config=_config(attack), secrets={"SENDGRID_KEY": "SG.key-1234"}
    )
    if not attack.sent:
        _expect_rejected(flow_run)
        assert httpserver.log == []
        return
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results["mail"].error
    [(request, _)] = httpserver.log
    payload = request.get_json()
    assert payload["personalizations"] == [{"to": [{"email": "victim@example.com"}]}]
    assert payload["from"] == {"email": "sender@example.com"}
    assert "reply_to" not in payload
    assert set(payload) == {"personalizations", "from", "subject", "content"}
    if attack.target == "subject":
        assert payload["subject"] == attack.payload
    else:
        assert payload["content"] == [{"type": "text/plain", "value": attack.payload}]


def test_the_corpus_is_big_enough() -> None:
    rejected = [a for a in CORPUS if not a.sent]
    assert len(CORPUS) >= 20
    assert len(rejected) >= 20
    assert {a.target for a in rejected} >= {
        "to",
        "cc",
        "from",
        "reply-to",
        "subject",
        "name",
    }


# --- the building blocks ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "items"),
    [
        ("a@x.io", ["a@x.io"]),
        ("a@x.io, b@x.io;c@x.io", ["a@x.io", " b@x.io", "c@x.io"]),
        ('"Doe, Jane" <j@x.io>, b@x.io', ['"Doe, Jane" <j@x.io>', " b@x.io"]),
        ('"Q \\", R" <q@x.io>', ['"Q \\", R" <q@x.io>']),
        ("{{ a }}, {{ b }}", ["{{ a }}", " {{ b }}"]),
        ('{{ join(x, ", ") }}', ['{{ join(x, ", ") }}']),
        ("a@x.io, \\{{ b, c", ["a@x.io", " \\{{ b", " c"]),
    ],
)
def test_recipient_items_split_only_where_the_flow_says(
    raw: str, items: list[str]
) -> None:
    assert split_items(raw) == items


@pytest.mark.parametrize(
    "text",
    [
        "a@b.c, d@e.f",
        "a@b.c;d@e.f",
        "Group: a@b.c;",
        '"a b"@c.d',
        "a@[127.0.0.1]",
        "a@-bad.example",
        "ä@example.com",
        "",
        "not an address",
        "a@b.c (comment",
    ],
)
def test_parse_address_refuses_anything_but_one_plain_mailbox(text: str) -> None:
    with pytest.raises(EmailError) as caught:
        parse_address("to", text)
    assert caught.value.code == "EMAIL_INVALID_ADDRESS"


def test_the_built_message_is_checked_before_sending() -> None:
    """Whatever got past the value checks, a header or address that was not declared
    stops the message (independent of the Python patch level)."""
    mail = Mail(
        sender=parse_address("from", "s@example.com"),
        to=(parse_address("to", "t@example.com"),),
        subject="Hi",
        text="body",
    )
    raw = build_message(
        mail, message_id="<1@example.com>", date="Mon, 1 Jan 2024 00:00:00 +0000"
    )
    verify_message(raw, mail)  # the real one passes
    for forged in (
        raw.replace(b"Subject: Hi\r\n", b"Subject: Hi\r\nBcc: evil@attacker.test\r\n"),
        raw.replace(b"To: t@example.com", b"To: t@example.com, evil@attacker.test"),
        raw.replace(b"Subject: Hi\r\n", b"Subject: Hi\nX-Injected: 1\r\n"),
        raw.replace(b"Subject: Hi\r\n", b"Subject: Hi\r\nSubject: again\r\n"),
        raw.replace(b"Subject: Hi", b"Subject: " + b"x" * 1000),
    ):
        with pytest.raises(EmailError) as caught:
            verify_message(forged, mail)
        assert caught.value.code == "EMAIL_INVALID_HEADER"


def test_every_email_setting_is_known_to_the_validator(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path,
        'provider="smtp" host="127.0.0.1" port="2525" starttls="true" ssl="false" '
        'username="u" password="SMTP_PASSWORD" ca-file="ca.pem" tls-verify="true" '
        'to="a@example.com" cc="b@example.com" bcc="c@example.com" from="d@example.com" '
        'reply-to="e@example.com" subject="s" timeout="5s" base-url="https://x.example"',
        children="    <text>t</text>\n    <html>h</html>",
        secrets=("SMTP_PASSWORD",),
    )
    result = subprocess.run(
        [sys.executable, "-m", "maidit_jupyter", "validate", "--strict", str(flow)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_flows_egress_policy_applies_to_sendgrid(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """SendGrid's API is reached as HTTP nodes reach theirs: under the flow's policy."""
    flow = write_flow(
        tmp_path,
        sendgrid_attrs(
            httpserver, 'to="ann@example.com" from="r@example.com" subject="Hi"'
        ),
        secrets=("SENDGRID_KEY",),
    )
    flow.write_text(
        flow.read_text().replace(
            "version: 1.0.0\n", "version: 1.0.0\nhttp:\n  deny_hosts: [private]\n", 1
        )
    )
    flow_run = run(flow, secrets={"SENDGRID_KEY": "SG.test-key-123"})
    code, message = failure(flow_run)
    assert code == "RUNTIME_EGRESS_BLOCKED", message
    assert "private address" in message
    assert httpserver.log == []


@pytest.mark.parametrize(
    "part",
    [
        'subject="Key {{ $secrets.SENDGRID_KEY }}"',
        "<text>key: {{ $secrets.SENDGRID_KEY }}</text>",
    ],
)
def test_a_secret_in_the_message_is_refused_unless_allowed(
    tmp_path: Path, shared_smtp: SmtpServer, part: str
) -> None:
    """A secret templated into the subject or body would leave as mail content: the
    node fails naming it and sends nothing, unless it says allow-secrets="true"."""
    attributes, children = (part, "") if part.startswith("subject") else ("", part)
    base = 'to="ann@example.com" from="r@example.com"'
    if not attributes:
        base += ' subject="Report"'
    for allowed in (False, True):
        shared_smtp.messages.clear()
        extra = ' allow-secrets="true"' if allowed else ""
        flow = write_flow(
            tmp_path,
            smtp_attrs(shared_smtp, f"{base} {attributes}{extra}"),
            children=f"    {children}" if children else "",
            secrets=("SENDGRID_KEY",),
        )
        flow_run = run(flow, secrets={"SENDGRID_KEY": "SG.key-42-secret"})
        if not allowed:
            code, message = failure(flow_run)
            assert code == "RUNTIME_SECRET_EXPOSED", message
            assert "SENDGRID_KEY" in message
            assert "SG.key-42-secret" not in message
            assert shared_smtp.messages == []
        else:
            assert flow_run.status is RunStatus.COMPLETED, flow_run.results["mail"]
            assert len(shared_smtp.messages) == 1
            meta = flow_run.results["mail"].meta
            assert meta is not None
            assert meta["secrets_sent"] == ["SENDGRID_KEY"]
