"""The message of an email sink: addresses, headers, the MIME bytes, all checked.

Injection (reliability §1.16, E8). Python's own checks depend on its patch level (3.11.7
decodes an RFC 2047 encoded word holding CR LF in a Subject and writes it out as a new
header line), so every value is checked here, before a message exists:

* Recipients are exactly the ones the flow declares. A recipient setting is cut into
  items at the commas and semicolons written in the flow itself (outside quotes and
  outside ``{{ }}``); a comma that arrives through a template never separates. Each
  item must be exactly one address (a ``{{ }}`` that stands alone may give a list, one
  address per element, or ``{email, name}`` objects). Group syntax, quoted or non-ASCII
  local parts, address literals, comments with defects and anything the standard
  parser flags are refused.
* No header value (subject, display names, addresses, username) may hold a line break
  of any kind (CR, LF, VT, FF, U+001C-U+001E, NEL U+0085, U+2028, U+2029), NUL or
  another control character, nor an RFC 2047 encoded word (``=?utf-8?q?...?=``), which
  the standard library would decode first; the sink encodes non-ASCII text itself.
* The generated message is read back before it is sent: exactly the headers the sink
  wrote, once each, with the declared addresses; otherwise nothing is sent.

Failures use ``EMAIL_INVALID_ADDRESS`` / ``EMAIL_INVALID_HEADER`` / ``EMAIL_INVALID_BODY``,
and never quote the offending value (it is data, maybe hostile, maybe secret).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from typing import Any

from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.expressions.template import ExprSegment, segment_template
from maidit_jupyter.expressions.values import (
    UNDEFINED,
    Value,
    is_array,
    is_object,
    to_display,
    to_string,
)
from maidit_jupyter.runtimes.base import NodeContext

__all__ = [
    "FORBIDDEN_CHARS",
    "EmailError",
    "Mail",
    "build_message",
    "check_line",
    "compose",
    "parse_address",
    "split_items",
    "verify_message",
]

#: recipients (to + cc + bcc, after removing repeats) one message may have.
MAX_RECIPIENTS = 1000
MAX_SUBJECT = 2000  # characters
MAX_DISPLAY_NAME = 256
MAX_ADDRESS = 254  # RFC 5321 path limit
MAX_LOCAL_PART = 64

#: Any line break Python or a mail program may act on, NUL, other C0/C1 controls and
#: DEL, and lone surrogates (they cannot be encoded). TAB is checked separately.
FORBIDDEN_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")
_LOCAL_PART = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z"
)
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")
_HEADER_NAME = re.compile(rb"[!-9;-~]+\Z")
_CHAR_NAMES = {
    "\t": "a tab",
    "\n": "a line feed (LF)",
    "\r": "a carriage return (CR)",
    "\x00": "a NUL character",
    "\x0b": "a vertical tab",
    "\x0c": "a form feed",
    "\x85": "a next-line character (U+0085)",
    "\u2028": "a line separator (U+2028)",
    "\u2029": "a paragraph separator (U+2029)",
}

#: How messages are written: CRLF, 7-bit clean bodies (quoted-printable or base64 for
#: anything else, so no 8BITMIME/SMTPUTF8 is needed), strict parsing, and the
#: CVE-2024-6923 check where this Python has it.
_extra: dict[str, Any] = {}
if hasattr(email_policy.SMTP, "verify_generated_headers"):  # pragma: no branch
    _extra["verify_generated_headers"] = True
POLICY = email_policy.SMTP.clone(cte_type="7bit", raise_on_defect=True, **_extra)
#: How single addresses are parsed (defects are collected and checked, not raised).
_PARSE = email_policy.SMTP.clone(raise_on_defect=False)


class EmailError(NodeRuntimeError):
    """An email could not be built or delivered.

    :ivar status: the SMTP reply code or HTTP status, when there was one (``$error.status``).
    :ivar retry_after_ms: the wait the provider asked for before a retry (SendGrid's
        ``Retry-After``); the executor waits at least that long, up to its cap.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        retryable: bool = False,
        status: int | None = None,
        retry_after_ms: float | None = None,
    ) -> None:
        super().__init__(
            message, code=code, retryable=retryable, retry_after_ms=retry_after_ms
        )
        self.status = status


# --- what is sent ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mail:
    """One message, every part checked.

    :ivar sender: the From address (also the envelope sender).
    :ivar to: the To addresses, in order.
    :ivar cc: the Cc addresses.
    :ivar bcc: the Bcc addresses (envelope only, never a header).
    :ivar reply_to: the Reply-To addresses.
    :ivar subject: the subject, one line.
    :ivar text: the plain text body, if any.
    :ivar html: the HTML body, if any.
    """

    sender: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    subject: str = ""
    text: str | None = None
    html: str | None = None

    @property
    def recipients(self) -> tuple[str, ...]:
        """The envelope recipients: to, cc and bcc, each address once."""
        seen: set[str] = set()
        found: list[str] = []
        for address in (*self.to, *self.cc, *self.bcc):
            key = address.addr_spec.lower()
            if key not in seen:
                seen.add(key)
                found.append(address.addr_spec)
        return tuple(found)


def _describe(char: str) -> str:
    return _CHAR_NAMES.get(char, f"the control character U+{ord(char):04X}")


def check_line(field_name: str, text: str, code: str, *, allow_tab: bool) -> None:
    """Refuse line breaks, NUL, controls (and tabs unless allowed) in a header value."""
    found = FORBIDDEN_CHARS.search(text)
    if found is None and not allow_tab and "\t" in text:
        found = re.search("\t", text)
    if found is not None:
        raise EmailError(
            f"{field_name} holds {_describe(found.group())} at character "
            f"{found.start() + 1}; a header value must be one line (nothing was sent)",
            code=code,
        )
    if _ENCODED_WORD.search(text):
        raise EmailError(
            f"{field_name} holds an RFC 2047 encoded word (=?charset?q?...?=); write the "
            "text itself (the sink encodes non-ASCII text) - nothing was sent",
            code=code,
        )


def _ascii_domain(field_name: str, domain: str) -> str:
    bad = EmailError(
        f"{field_name}: the domain of the address is not a valid host name",
        code="EMAIL_INVALID_ADDRESS",
    )
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise bad from None
    labels = domain.split(".")
    if len(domain) > 253 or not all(_LABEL.match(label) for label in labels):
        raise bad
    return domain


def parse_address(field_name: str, text: str) -> Address:
    """Exactly one mailbox, ``addr@host`` or ``Name <addr@host>``, checked.

    Raises:
        EmailError: ``EMAIL_INVALID_ADDRESS`` (or ``EMAIL_INVALID_HEADER`` for a
            display name that breaks the line).
    """
    text = text.strip()
    check_line(field_name, text, "EMAIL_INVALID_ADDRESS", allow_tab=False)
    if len(text) > MAX_ADDRESS + MAX_DISPLAY_NAME + 8:
        raise EmailError(
            f"{field_name}: the address is too long", code="EMAIL_INVALID_ADDRESS"
        )
    try:
        header = _PARSE.header_factory("To", text)
        addresses = header.addresses
        groups = header.groups
        defects = header.defects
    except Exception:  # noqa: BLE001 - the parser's own errors only say "not an address"
        addresses, groups, defects = (), (), (None,)
    if len(addresses) > 1:
        raise EmailError(
            f"{field_name}: one item holds {len(addresses)} addresses; a template gives "
            "one address per item (write several items in the flow, or give a list: "
            '{{ split(x, ",") }}) - nothing was sent',
            code="EMAIL_INVALID_ADDRESS",
        )
    if (
        defects
        or len(addresses) != 1
        or len(groups) != 1
        or groups[0].display_name is not None
    ):
        raise EmailError(
            f"{field_name}: not one valid address (name@example.com or "
            "Name <name@example.com>) - nothing was sent",
            code="EMAIL_INVALID_ADDRESS",
        )
    found = addresses[0]
    local: str = found.username
    if len(local) > MAX_LOCAL_PART or not _LOCAL_PART.match(local):
        raise EmailError(
            f"{field_name}: the part before @ must be plain ASCII letters, digits, dots "
            "and !#$%&'*+/=?^_`{|}~- (no quotes, spaces or non-ASCII letters)",
            code="EMAIL_INVALID_ADDRESS",
        )
    domain = _ascii_domain(field_name, found.domain)
    return _mailbox(field_name, found.display_name, local, domain)


def _mailbox(field_name: str, name: str, local: str, domain: str) -> Address:
    check_line(
        f"{field_name} (display name)", name, "EMAIL_INVALID_HEADER", allow_tab=False
    )
    if len(name) > MAX_DISPLAY_NAME:
        raise EmailError(
            f"{field_name}: the display name is longer than {MAX_DISPLAY_NAME} characters",
            code="EMAIL_INVALID_HEADER",
        )
    if len(local) + 1 + len(domain) > MAX_ADDRESS:
        raise EmailError(
            f"{field_name}: the address is longer than {MAX_ADDRESS} characters",
            code="EMAIL_INVALID_ADDRESS",
        )
    return Address(display_name=name, username=local, domain=domain)


def _addresses_of(value: Value, field_name: str) -> list[Address]:
    """The addresses one item gives: a string, a list, or ``{email, name}`` objects."""
    if value is UNDEFINED or value is None:
        return []
    if isinstance(value, str):
        return [parse_address(field_name, value)] if value.strip() else []
    if is_array(value):
        found: list[Address] = []
        for element in value:
            if is_array(element):
                raise EmailError(
                    f"{field_name}: a list of addresses may not hold lists",
                    code="EMAIL_INVALID_ADDRESS",
                )
            found.extend(_addresses_of(element, field_name))
        return found
    if is_object(value) and "email" in value:
        bare = parse_address(field_name, to_string(value["email"]))
        if bare.display_name:
            raise EmailError(
                f"{field_name}: an object's email is the bare address; put the name in 'name'",
                code="EMAIL_INVALID_ADDRESS",
            )
        name = value.get("name")
        return [
            _mailbox(
                field_name,
                "" if name is None or name is UNDEFINED else to_string(name),
                bare.username,
                bare.domain,
            )
        ]
    raise EmailError(
        f"{field_name}: expected an address, a list of addresses or {{email, name}}",
        code="EMAIL_INVALID_ADDRESS",
    )


def split_items(raw: str) -> list[str]:
    """Cut a recipient setting at the commas and semicolons its author wrote.

    Separators count only in the setting's literal text, outside double quotes (so
    ``"Doe, Jane" <jane@example.com>`` is one item) and never inside ``{{ }}`` or in
    what a template gives.
    """
    items: list[str] = []
    start = 0
    quoted = escaped = False
    for segment in segment_template(raw):
        if isinstance(segment, ExprSegment) or segment.end - segment.start != len(
            segment.text
        ):
            continue  # an expression, or an escaped \{{
        for offset, char in enumerate(segment.text):
            if escaped:
                escaped = False
            elif quoted and char == "\\":
                escaped = True
            elif char == '"':
                quoted = not quoted
            elif char in ",;" and not quoted:
                at = segment.start + offset
                items.append(raw[start:at])
                start = at + 1
    items.append(raw[start:])
    return items


def _recipients(ctx: NodeContext, key: str) -> list[Address]:
    raw = ctx.config.get(key)
    if raw is None:
        return []
    pieces: Sequence[Any] = (
        list(raw) if isinstance(raw, list | tuple) else split_items(str(raw))
    )
    found: list[Address] = []
    for piece in pieces:
        found.extend(_addresses_of(ctx.resolve(piece, key), key))
    return found


def compose(ctx: NodeContext) -> Mail:
    """The node's message, every address and header value checked.

    Raises:
        EmailError: a value could add a header or a recipient, or is not valid.
    """
    to = _recipients(ctx, "to")
    if not to:
        raise EmailError(
            f'email sink "{ctx.node.id}" has no recipient: "to" gave no address',
            code="EMAIL_INVALID_ADDRESS",
        )
    senders = _recipients(ctx, "from")
    if len(senders) != 1:
        raise EmailError(
            f'email sink "{ctx.node.id}" needs exactly one "from" address, got {len(senders)}',
            code="EMAIL_INVALID_ADDRESS" if senders else "RUNTIME_INVALID_CONFIG",
        )
    subject = ctx.text("subject").strip() if "subject" in ctx.config else ""
    check_line("subject", subject, "EMAIL_INVALID_HEADER", allow_tab=True)
    if len(subject) > MAX_SUBJECT:
        raise EmailError(
            f"subject is longer than {MAX_SUBJECT} characters",
            code="EMAIL_INVALID_HEADER",
        )
    text = ctx.text("text") if "text" in ctx.config else None
    html = ctx.text("html") if "html" in ctx.config else None
    if text is None and html is None:
        text = "" if ctx.input is UNDEFINED else to_display(ctx.input)
    for name, body in (("text", text), ("html", html)):
        if body is not None and re.search(r"[\ud800-\udfff]", body):
            raise EmailError(
                f"{name} holds a lone surrogate (not a character); nothing was sent",
                code="EMAIL_INVALID_BODY",
            )
    mail = Mail(
        sender=senders[0],
        to=tuple(to),
        cc=tuple(_recipients(ctx, "cc")),
        bcc=tuple(_recipients(ctx, "bcc")),
        reply_to=tuple(_recipients(ctx, "reply-to")),
        subject=subject,
        text=text,
        html=html,
    )
    if len(mail.recipients) > MAX_RECIPIENTS:
        raise EmailError(
            f"{len(mail.recipients)} recipients; one message may have at most {MAX_RECIPIENTS}",
            code="EMAIL_INVALID_ADDRESS",
        )
    return mail


# --- the MIME message ------------------------------------------------------------------


def build_message(mail: Mail, *, message_id: str, date: str) -> bytes:
    """The message as SMTP sends it (CRLF, 7-bit), read back and checked.

    Raises:
        EmailError: ``EMAIL_INVALID_HEADER`` if the result does not hold exactly the
            headers and addresses it was built from.
    """
    message = EmailMessage(policy=POLICY)
    try:
        message["From"] = mail.sender
        message["To"] = mail.to
        if mail.cc:
            message["Cc"] = mail.cc
        if mail.reply_to:
            message["Reply-To"] = mail.reply_to
        if mail.subject:
            message["Subject"] = mail.subject
        message["Date"] = date
        message["Message-ID"] = message_id
        if mail.text is not None:
            message.set_content(mail.text)
            if mail.html is not None:
                message.add_alternative(mail.html, subtype="html")
        else:
            message.set_content(mail.html or "", subtype="html")
        raw = message.as_bytes(policy=POLICY)
    except (ValueError, TypeError) as exc:
        failure = EmailError(
            f"the message could not be built ({type(exc).__name__}); nothing was sent",
            code="EMAIL_INVALID_HEADER",
        )
    else:
        verify_message(raw, mail)
        return raw
    raise failure


def verify_message(raw: bytes, mail: Mail) -> None:
    """Check a generated message: only the headers written, once each, on CRLF lines.

    Independent of the Python patch level: whatever a value smuggled past the checks
    before, a header or an address that was not declared fails here.
    """
    head, separator, _ = raw.partition(b"\r\n\r\n")
    wanted = {"from", "to", "date", "message-id", "mime-version", "content-type"}
    if mail.cc:
        wanted.add("cc")
    if mail.reply_to:
        wanted.add("reply-to")
    if mail.subject:
        wanted.add("subject")
    allowed = {*wanted, "content-transfer-encoding"}
    names: list[str] = []
    problem = "" if separator else "no end of the header block"
    for line in head.split(b"\r\n"):
        if problem:
            break
        if b"\r" in line or b"\n" in line:
            problem = "a bare CR or LF in the header block"
        elif len(line) > 998:
            problem = "a header line longer than 998 bytes"
        elif line[:1] in (b" ", b"\t"):
            problem = "" if names else "a continuation line before any header"
        else:
            name, colon, _ = line.partition(b":")
            if not colon or not _HEADER_NAME.match(name):
                problem = "a line that is not a header"
            else:
                names.append(name.decode("ascii").lower())
    if not problem and (
        len(names) != len(set(names)) or not wanted <= set(names) <= allowed
    ):
        problem = "headers other than the ones written"
    if not problem:
        parsed = BytesHeaderParser(policy=_PARSE).parsebytes(raw)
        for header, declared in (
            ("from", (mail.sender,)),
            ("to", mail.to),
            ("cc", mail.cc),
            ("reply-to", mail.reply_to),
        ):
            if not declared:
                continue
            got = [a.addr_spec.lower() for a in parsed[header].addresses]
            if got != [a.addr_spec.lower() for a in declared]:
                problem = f"{header} addresses other than the ones declared"
                break
    if problem:
        raise EmailError(
            f"the generated message has {problem}; nothing was sent",
            code="EMAIL_INVALID_HEADER",
        )
