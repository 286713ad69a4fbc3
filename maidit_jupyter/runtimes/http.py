"""``<source type="http">`` and ``<sink type="http">`` on httpx.

Settings (attributes, children, or keys of a ``<request>`` block, nesting allowed):
``url`` (absolute http/https), ``method`` (GET for a source, POST for a sink),
``headers``, ``params`` (appended to the query), ``body``, ``auth``, ``timeout``
(per attempt, default 30 s) and, for a source, ``extract`` (JMESPath: an attribute,
an ``<extract>`` child, or ``<response><extract>``).

* **Body.** An object or list is sent as JSON, once; a string is sent as given
  (``application/json`` when it is JSON text, else ``text/plain``, unless a
  ``Content-Type`` header says otherwise). A sink sends its input as the body for
  POST, PUT and PATCH (or its ``body`` setting, for any method).
* **Auth.** ``type: bearer`` (``token``), ``basic`` (``username``, ``password``),
  ``oauth2`` (client credentials, :mod:`.oauth2`: fetched once per run and cached
  until it expires; a 401 renews it once), ``none``.
* **Response.** Parsed by its content type: JSON, JSON lines, CSV (a list of
  records), YAML, text; an unlabelled body is JSON if it parses, else text. A source
  returns the parsed body (or what ``extract`` selects); a sink returns
  ``{status, statusText, headers, body}``. ``ctx.meta`` gets the status.
* **Errors.** A non-2xx status raises ``RUNTIME_HTTP_ERROR`` with the status and an
  excerpt of the body; 429 and 5xx are retryable and carry the ``Retry-After`` wait,
  as are timeouts (``RUNTIME_TIMEOUT``) and connection failures
  (``RUNTIME_CONNECTION_ERROR``). The node's retry policy decides how often.
* **Egress.** Every connection, redirects included, is checked against the
  frontmatter's ``http`` policy on the address actually connected (:mod:`.egress`);
  a refused one raises ``RUNTIME_EGRESS_BLOCKED`` before a byte is sent. Redirects
  are followed by hand (at most ``http.max_redirects``, default 10); a hop to another
  origin drops ``Authorization``, cookies and every header holding a secret.
* **Secrets.** Messages and ``meta`` show URLs with the query values and user info
  masked and the run's secret values redacted.

httpx and jmespath (the ``http`` extra) are imported when the first HTTP node runs.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from maidit_jupyter.durations import parse_duration_ms, parse_retry_after_ms
from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.expressions.values import UNDEFINED, Value, to_string
from maidit_jupyter.redaction import REDACTED, SecretMask
from maidit_jupyter.runtimes.base import NodeContext
from maidit_jupyter.runtimes.egress import (
    EgressBlocked,
    HttpSettings,
    flow_http_settings,
)
from maidit_jupyter.runtimes.formats import parse_data, render_text
from maidit_jupyter.runtimes.oauth2 import OAuth2Config, TokenCache

if TYPE_CHECKING:
    import httpx

__all__ = ["HttpError", "HttpSink", "HttpSource", "redact_url"]

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
HTTP_ERROR = "RUNTIME_HTTP_ERROR"
EGRESS_BLOCKED = "RUNTIME_EGRESS_BLOCKED"
INVALID_CONFIG = "RUNTIME_INVALID_CONFIG"
DEFAULT_TIMEOUT_MS = 30_000.0
#: characters of a failed response's body quoted in the error.
EXCERPT_CHARS = 200
_RESOURCE_KEY = "http"
_SINK_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")
_SPACES = re.compile(r"\s+")


class HttpError(NodeRuntimeError):
    """A response with a status outside 2xx.

    :ivar status: the HTTP status (``$error.status`` in a retry's ``when``).
    :ivar excerpt: the start of the response body (secrets redacted).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        excerpt: str,
        retry_after_ms: float | None = None,
    ) -> None:
        super().__init__(
            message,
            code=HTTP_ERROR,
            retryable=status == 429 or status >= 500,
            retry_after_ms=retry_after_ms,
        )
        self.status = status
        self.excerpt = excerpt


# -- redaction ---------------------------------------------------------------------------


def redact_url(url: str) -> str:
    """``url`` with its user info and query values masked and its fragment dropped."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url.partition("?")[0].partition("#")[0] + ("?***" if "?" in url else "")
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    query = "&".join(
        f"{piece.partition('=')[0]}={REDACTED}" if "=" in piece else REDACTED
        for piece in parts.query.split("&")
        if piece
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


@dataclass(slots=True)
class _Session:
    """What HTTP nodes share in a run: the client, the policy, tokens, the mask."""

    client: httpx.AsyncClient
    settings: HttpSettings
    secrets: Mapping[str, str]
    tokens: TokenCache = field(default_factory=TokenCache)
    _mask: SecretMask | None = None

    @property
    def mask(self) -> SecretMask:
        """The run's secret values (built when first needed)."""
        if self._mask is None:
            self._mask = SecretMask(self.secrets.values())
        return self._mask

    def show(self, url: object) -> str:
        """A URL as messages and ``meta`` show it."""
        return self.mask.redact(redact_url(str(url)))

    async def token(self, config: OAuth2Config, shown_url: str) -> str:
        """An OAuth2 access token; masked from now on, like a secret."""
        token = await self.tokens.token(self.client, config, shown_url)
        if token not in self.mask.forms:
            self.mask.add([token])
        return token

    def scrub(self, text: str) -> str:
        """Free text (an exception's message, a body excerpt) safe to show."""
        text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group()), text)
        return self.mask.redact(text)


async def _open_session(ctx: NodeContext) -> _Session:
    try:
        import httpx  # noqa: F401 - checked here, used by http_transport
        import jmespath  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:  # pragma: no cover - the http extra is a test dependency
        raise NodeRuntimeError(
            "HTTP nodes need httpx and jmespath: pip install 'maidit_jupyter[http]'",
            code="RUNTIME_UNSUPPORTED",
        ) from None
    from maidit_jupyter.runtimes.http_transport import open_client

    settings = flow_http_settings(ctx.frontmatter)
    return _Session(
        client=open_client(settings.policy), settings=settings, secrets=ctx.secrets
    )


async def _close_session(session: _Session) -> None:
    await session.client.aclose()


async def _session(ctx: NodeContext) -> _Session:
    session = ctx.resources.peek(_RESOURCE_KEY)
    if isinstance(session, _Session):
        return session
    return await ctx.resources.get(
        _RESOURCE_KEY, lambda: _open_session(ctx), _close_session
    )


# -- reading the settings ----------------------------------------------------------------


def _invalid(ctx: NodeContext, message: str) -> NodeRuntimeError:
    return NodeRuntimeError(
        f'http {ctx.node.tag} "{ctx.node.id}": {message}', code=INVALID_CONFIG
    )


def _absent(value: Value) -> bool:
    return value is UNDEFINED or value is None


def _mapping(ctx: NodeContext, key: str) -> Mapping[str, Value] | None:
    value = ctx.setting(key)
    if _absent(value):
        return None
    if not isinstance(value, Mapping):
        raise _invalid(ctx, f"{key} must be a mapping of names to values")
    return value


def _set_header(headers: dict[str, str], name: str, value: str) -> None:
    """Set ``name`` replacing any spelling of it (header names ignore case)."""
    for existing in [k for k in headers if k.lower() == name.lower()]:
        del headers[existing]
    headers[name] = value


def _has_header(headers: Mapping[str, str], name: str) -> bool:
    return any(k.lower() == name for k in headers)


def _read_headers(ctx: NodeContext) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in (_mapping(ctx, "headers") or {}).items():
        if _absent(value):
            continue
        if not _TOKEN.match(name):
            raise _invalid(ctx, f"{name!r} is not a valid header name")
        text = to_string(value)
        if any(c in text for c in "\r\n\0"):
            # the value may be a secret: name the header only
            raise _invalid(ctx, f"header {name} holds a line break or NUL")
        _set_header(headers, name, text)
    return headers


def _implied_auth(auth: Mapping[str, Value]) -> str:
    """The auth type an ``auth`` block without ``type`` means (by its keys)."""
    if "token_url" in auth:
        return "oauth2"
    if "username" in auth:
        return "basic"
    return "bearer" if "token" in auth else ""


def _auth(ctx: NodeContext, headers: dict[str, str]) -> OAuth2Config | None:
    """Apply ``auth`` to ``headers``; an OAuth2 config when a token is needed."""
    auth = _mapping(ctx, "auth")
    if auth is None:
        return None
    kind = to_string(auth.get("type", _implied_auth(auth))).strip().lower()
    if kind == "none":
        return None
    if kind == "bearer":
        token = auth.get("token")
        if _absent(token) or not to_string(token).strip():
            raise _invalid(ctx, "bearer auth needs a token")
        _set_header(headers, "Authorization", f"Bearer {to_string(token).strip()}")
        return None
    if kind == "basic":
        user, password = auth.get("username"), auth.get("password")
        if _absent(user):
            raise _invalid(ctx, "basic auth needs a username (and a password)")
        pair = f"{to_string(user)}:{'' if _absent(password) else to_string(password)}"
        encoded = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        _set_header(headers, "Authorization", f"Basic {encoded}")
        return None
    if kind in ("oauth2", "oauth2_client_credentials", "client_credentials"):
        try:
            return OAuth2Config.read(auth)
        except NodeRuntimeError as exc:
            raise _invalid(ctx, exc.message) from None
    what = f"unknown auth type {kind!r}" if kind else "auth needs a type"
    raise _invalid(ctx, f"{what} (bearer, basic, oauth2, none)")


def _is_json_text(text: str) -> bool:
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True


def _encode_body(value: Value) -> tuple[bytes, str]:
    """The bytes sent and their default content type."""
    if isinstance(value, str):
        kind = (
            "application/json" if _is_json_text(value) else "text/plain; charset=utf-8"
        )
        return value.encode("utf-8", "replace"), kind
    return render_text(value, "json", pretty=False).encode("utf-8"), "application/json"


def _timeout_ms(ctx: NodeContext) -> float:
    raw = ctx.config.get("timeout")
    if raw is None:
        return DEFAULT_TIMEOUT_MS
    value = parse_duration_ms(ctx.setting("timeout"))
    if value is None or value <= 0:
        raise _invalid(ctx, 'timeout must be a duration such as "30s" or "500ms"')
    return value


def _extract(ctx: NodeContext) -> str | None:
    value = ctx.setting("extract")
    response = _mapping(ctx, "response")
    if response is not None:
        unknown = sorted(set(response) - {"extract"})
        if unknown:
            raise _invalid(ctx, f"<response> reads only extract, not {unknown[0]!r}")
        if _absent(value):
            value = response.get("extract", UNDEFINED)
    if _absent(value) or not to_string(value).strip():
        return None
    return to_string(value).strip()


@dataclass(slots=True)
class _Call:
    """One request, ready to send."""

    method: str
    url: httpx.URL
    shown: str
    headers: dict[str, str]
    content: bytes | None
    timeout_ms: float
    oauth: OAuth2Config | None


def _prepare(ctx: NodeContext, session: _Session, *, sink: bool) -> _Call:
    import httpx

    raw_url = ctx.setting("url")
    if _absent(raw_url) or not to_string(raw_url).strip():
        raise _invalid(ctx, "no url")
    text = to_string(raw_url).strip()
    shown = session.show(text)
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL:
        raise _invalid(ctx, f"invalid url {shown}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise _invalid(ctx, f"url must be an absolute http or https URL, got {shown}")
    params = _mapping(ctx, "params")
    if params:
        added = [
            (str(k), to_string(item))
            for k, v in params.items()
            if not _absent(v)
            for item in (v if isinstance(v, list | tuple) else [v])
        ]
        url = url.copy_with(
            params=httpx.QueryParams([*url.params.multi_items(), *added])
        )
        shown = session.show(url)
    method = to_string(ctx.setting("method", "POST" if sink else "GET"))
    method = method.strip().upper()
    if method not in METHODS:
        raise _invalid(ctx, f"unknown method {method!r} ({', '.join(sorted(METHODS))})")
    headers = _read_headers(ctx)
    oauth = _auth(ctx, headers)
    body = ctx.setting("body")
    if sink and "body" not in ctx.config and method in _SINK_BODY_METHODS:
        body = ctx.input
    content: bytes | None = None
    if not _absent(body):
        content, kind = _encode_body(body)
        if not _has_header(headers, "content-type"):
            headers["Content-Type"] = kind
    return _Call(method, url, shown, headers, content, _timeout_ms(ctx), oauth)


# -- sending -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Reply:
    """A finished exchange: the last response (closed) and its body."""

    response: httpx.Response
    body: bytes
    redirects: int


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _without_credentials(headers: dict[str, str], mask: SecretMask) -> dict[str, str]:
    """Headers fit for another origin: no auth, no cookies, nothing holding a secret."""
    return {
        name: value
        for name, value in headers.items()
        if name.lower() not in _CREDENTIAL_HEADERS and not mask.contains(value)
    }


async def _read_capped(response: httpx.Response, limit: int, call: _Call) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(call, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise _too_large(call, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(call: _Call, limit: int) -> NodeRuntimeError:
    return NodeRuntimeError(
        f"{call.method} {call.shown}: the response is larger than "
        f"http.max_response_bytes ({limit:,} bytes)",
        code="RUNTIME_RESPONSE_TOO_LARGE",
    )


async def _follow(session: _Session, call: _Call, headers: dict[str, str]) -> _Reply:
    """Send ``call``, following redirects by hand (each hop's connection is checked)."""
    client = session.client
    method, url, content = call.method, call.url, call.content
    timeout = call.timeout_ms / 1000.0
    limit = session.settings.max_response_bytes
    for hop in range(session.settings.max_redirects + 1):
        request = client.build_request(
            method, url, headers=headers, content=content, timeout=timeout
        )
        response = await client.send(request, stream=True)
        try:
            if not response.has_redirect_location:
                return _Reply(response, await _read_capped(response, limit, call), hop)
            target = response.url.join(response.headers["location"])
        finally:
            await response.aclose()
        if hop == session.settings.max_redirects:
            break
        if target.scheme not in ("http", "https"):
            raise NodeRuntimeError(
                f"{call.method} {call.shown}: redirected to a {target.scheme}: URL",
                code=EGRESS_BLOCKED,
            )
        status = response.status_code
        if (status == 303 and method != "HEAD") or (
            status in (301, 302) and method == "POST"
        ):
            method, content = "GET", None
            headers = {
                k: v
                for k, v in headers.items()
                if k.lower() not in ("content-type", "content-length")
            }
        if not _same_origin(url, target):
            headers = _without_credentials(headers, session.mask)
        url = target
    raise NodeRuntimeError(
        f"{call.method} {call.shown}: more than {session.settings.max_redirects} "
        "redirects",
        code="RUNTIME_TOO_MANY_REDIRECTS",
    )


async def _exchange(session: _Session, call: _Call) -> _Reply:
    """Send with auth (renewing an OAuth2 token once on a 401)."""
    if call.oauth is None:
        return await _follow(session, call, call.headers)
    shown_token_url = session.show(call.oauth.token_url)
    token = await session.token(call.oauth, shown_token_url)
    headers = {**call.headers, "Authorization": f"Bearer {token}"}
    reply = await _follow(session, call, headers)
    if reply.response.status_code != 401:
        return reply
    session.tokens.invalidate(call.oauth, token)
    token = await session.token(call.oauth, shown_token_url)
    return await _follow(
        session, call, {**call.headers, "Authorization": f"Bearer {token}"}
    )


async def _send(session: _Session, call: _Call) -> _Reply:
    """Send ``call``; every failure becomes a :class:`NodeRuntimeError` safe to show."""
    import httpx

    where = f"{call.method} {call.shown}"
    try:
        with anyio.fail_after(call.timeout_ms / 1000.0):
            reply = await _exchange(session, call)
    except EgressBlocked as exc:
        raise NodeRuntimeError(
            f"{where}: egress blocked: {session.scrub(exc.reason)}", code=EGRESS_BLOCKED
        ) from None
    except (TimeoutError, httpx.TimeoutException):
        raise NodeRuntimeError(
            f"{where}: timed out after {call.timeout_ms:g} ms",
            code="RUNTIME_TIMEOUT",
            retryable=True,
        ) from None
    except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as exc:
        raise NodeRuntimeError(
            f"{where}: connection failed: {_detail(session, exc)}",
            code="RUNTIME_CONNECTION_ERROR",
            retryable=True,
        ) from None
    except (
        httpx.LocalProtocolError,
        httpx.UnsupportedProtocol,
        httpx.InvalidURL,
    ) as exc:
        raise NodeRuntimeError(
            f"{where}: invalid request: {_detail(session, exc)}", code=INVALID_CONFIG
        ) from None
    except httpx.HTTPError as exc:
        raise NodeRuntimeError(
            f"{where}: {_detail(session, exc)}", code=HTTP_ERROR
        ) from None
    response = reply.response
    if not response.is_success:
        excerpt = _excerpt(session, reply.body, response)
        raise HttpError(
            f"HTTP {response.status_code} {response.reason_phrase} from {where}"
            + (f": {excerpt}" if excerpt else ""),
            status=response.status_code,
            excerpt=excerpt,
            retry_after_ms=parse_retry_after_ms(response.headers.get("retry-after")),
        )
    return reply


def _detail(session: _Session, exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return session.scrub(text)[:EXCERPT_CHARS]


def _excerpt(session: _Session, body: bytes, response: httpx.Response) -> str:
    text = body[: EXCERPT_CHARS * 4].decode(
        response.charset_encoding or "utf-8", "replace"
    )
    text = _SPACES.sub(" ", text).strip()
    excerpt = session.scrub(text)
    if len(excerpt) > EXCERPT_CHARS:
        excerpt = excerpt[:EXCERPT_CHARS] + "…"
    return excerpt


# -- reading the response ----------------------------------------------------------------

_JSON_LINES = frozenset(
    {"application/x-ndjson", "application/jsonl", "application/x-jsonlines"}
)
_YAML = frozenset(
    {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}
)
_CSV = frozenset({"text/csv", "application/csv"})


def _parse(body: bytes, response: httpx.Response, shown: str) -> Value:
    """The response body as data, by its content type."""
    if not body:
        return None
    content_type = response.headers.get("content-type", "")
    mime = content_type.partition(";")[0].strip().lower()
    source = f"the response of {shown}"
    encoding = response.charset_encoding or "utf-8"
    if mime == "application/json" or mime.endswith("+json"):
        return parse_data(_decode(body, encoding), "json", source=source)
    if mime in _JSON_LINES:
        return parse_data(_decode(body, encoding), "jsonl", source=source)
    if mime in _CSV:
        return parse_data(_decode(body, encoding), "csv", source=source)
    if mime in _YAML:
        return parse_data(_decode(body, encoding), "yaml", source=source)
    if mime.startswith("text/") or "xml" in mime:
        return _decode(body, encoding)
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return {
            "contentType": mime or None,
            "base64": base64.b64encode(body).decode("ascii"),
        }
    try:
        return parse_data(text, "json", source=source)
    except NodeRuntimeError:
        return text


def _decode(body: bytes, encoding: str) -> str:
    try:
        text = body.decode(encoding, "replace")
    except LookupError:
        text = body.decode("utf-8", "replace")
    return text.removeprefix("\ufeff")


@functools.lru_cache(maxsize=256)
def _jmespath(expression: str) -> Any:
    import jmespath

    return jmespath.compile(expression)


def _select(ctx: NodeContext, expression: str, data: Value) -> Value:
    import jmespath

    try:
        compiled = _jmespath(expression)
    except jmespath.exceptions.JMESPathError as exc:
        raise _invalid(ctx, f"extract is not valid JMESPath: {exc}") from None
    try:
        return compiled.search(data)
    except jmespath.exceptions.JMESPathError as exc:
        raise NodeRuntimeError(
            f'http source "{ctx.node.id}": extract {expression!r} failed: {exc}',
            code="RUNTIME_EXTRACT_ERROR",
        ) from None


def _report(ctx: NodeContext, call: _Call, reply: _Reply) -> None:
    ctx.meta["status"] = reply.response.status_code
    ctx.meta["method"] = call.method
    ctx.meta["url"] = call.shown
    if reply.redirects:
        ctx.meta["redirects"] = reply.redirects


class HttpSource:
    """Fetch a URL; the output is the parsed response (or what ``extract`` selects)."""

    async def run(self, ctx: NodeContext) -> Value:
        session = await _session(ctx)
        call = _prepare(ctx, session, sink=False)
        extract = _extract(ctx)
        reply = await _send(session, call)
        _report(ctx, call, reply)
        data = _parse(reply.body, reply.response, call.shown)
        return data if extract is None else _select(ctx, extract, data)


class HttpSink:
    """Send the input; the output is ``{status, statusText, headers, body}``."""

    async def run(self, ctx: NodeContext) -> Value:
        session = await _session(ctx)
        call = _prepare(ctx, session, sink=True)
        reply = await _send(session, call)
        _report(ctx, call, reply)
        response = reply.response
        return {
            "status": response.status_code,
            "statusText": response.reason_phrase,
            "headers": {k.lower(): v for k, v in response.headers.items()},
            "body": _parse(reply.body, response, call.shown),
        }
