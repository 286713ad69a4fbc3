"""``<transform type="ai">`` (or ``<ai>``): an OpenAI-compatible chat-completions client.

**Where it sends.** Each setting is taken from the first place that has it:

* base URL: the node's ``base-url``, the frontmatter's ``ai.base_url``, the environment
  variable ``MAIDIT_AI_BASE_URL``, then ``https://openrouter.ai/api/v1``. The request
  goes to ``<base>/chat/completions`` (a base that already ends in
  ``/chat/completions`` is used as is).
* model: the node's ``model``, ``ai.model``, ``MAIDIT_AI_MODEL``; none is an error.
* API key: the secret named by the node's ``api-key``, or by ``ai.api_key`` (both are
  secret *names*, never values), else the declared secret ``OPENROUTER_API_KEY``, else
  ``OPENAI_API_KEY``. A loopback base URL (``127.0.0.1``, ``localhost``, ``::1``) needs
  no key. The key travels only in the ``Authorization`` header, held by an object whose
  ``repr`` masks it; every message built from a reply is redacted of it.

**What it sends.** ``system`` and ``user`` (or ``prompt`` when there is no ``user``;
without either, the node's input as text) are rendered with ``input`` set; the body has
``model``, ``messages``, ``max_tokens`` (default 4096) and ``temperature`` when given,
plus OpenRouter's attribution headers ``HTTP-Referer``/``X-Title`` as the original sent.

**Structured output.** With an ``output-schema`` (the DSL of reference §9.7) the schema
becomes JSON Schema and is sent as the function tool ``output`` the model must call
(``tools`` + ``tool_choice``, ``strict: true``); the system prompt asks for the exact
field names, as the original did. The call's arguments are parsed and checked
(:mod:`.ai_schema`; unknown keys are dropped, a misnamed key of the right type is
renamed, as the original did). Output that does not conform, is not JSON, or is not a
tool call at all leads to a **repair prompt**: the user message again, followed by the
failed output and the validation errors. ``max-retries`` repair prompts are sent
(default 2) before the node fails with ``AI_SCHEMA_INVALID``. Without a schema the
output is the reply's text, parsed when the whole text is JSON (as the original did).

**Failures** (codes of the original where it had them):

========================  ==========================================  =========
code                      when                                        retryable
========================  ==========================================  =========
RATE_LIMIT                HTTP 429, after the in-attempt waits         yes
API_ERROR                 other HTTP errors, replies without a choice  5xx/408
TIMEOUT                   one request exceeded its timeout             yes
RUNTIME_CONNECTION_ERROR  the API could not be reached                 yes
AI_SCHEMA_INVALID         still invalid after the repair prompts       no
RUNTIME_INVALID_CONFIG    no model, no key, a bad setting or schema    no
========================  ==========================================  =========

Retryable failures are retried by the node's retry policy (``<on-error><retry>``,
``runtime.retry``). **Rate limits** are also absorbed inside one attempt: on a 429 the
runtime waits the reply's ``Retry-After`` (seconds or an HTTP date; without one, 1 s,
2 s, 4 s with jitter) and sends again, at most 3 times per attempt, and never for a
``Retry-After`` over 60 s: then the 429 fails the attempt at once, its wait in
``retry_after_ms``, and the retry policy decides. The node's ``timeout`` bounds the whole attempt, waits and repair
prompts included; without one, each request times out after 60 s.

**Token usage** of every request of the attempt (repair prompts included) is summed into
``meta["usage"]`` (``prompt_tokens``, ``completion_tokens``, ``total_tokens``), next to
``meta["model"]``, ``meta["requests"]`` and ``meta["repairs"]``.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio

from maidit_jupyter.durations import parse_retry_after_ms
from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.expressions.values import UNDEFINED, Value, to_display
from maidit_jupyter.parsing.schema_dsl import SchemaDSLError, parse_schema_dsl
from maidit_jupyter.redaction import SecretMask
from maidit_jupyter.runtimes.ai_schema import (
    WRAPPED_KEY,
    conform,
    field_summary,
    tool_parameters,
)
from maidit_jupyter.runtimes.base import NodeContext
from maidit_jupyter.runtimes.egress import EgressBlocked, flow_http_settings
from maidit_jupyter.runtimes.exposure import refuse_secrets

if TYPE_CHECKING:
    import httpx

__all__ = ["AIError", "AITransform"]

_log = logging.getLogger("maidit_jupyter")

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
BASE_URL_ENV = "MAIDIT_AI_BASE_URL"
MODEL_ENV = "MAIDIT_AI_MODEL"
#: the secrets tried, in order, when neither the node nor the frontmatter names one.
DEFAULT_KEY_NAMES = ("OPENROUTER_API_KEY", "OPENAI_API_KEY")
DEFAULT_MAX_TOKENS = 4096
DEFAULT_REPAIRS = 2
#: the timeout of one request when the node has no ``timeout``.
DEFAULT_TIMEOUT_MS = 60_000.0
#: 429 replies absorbed inside one attempt before it fails with RATE_LIMIT.
RATE_LIMIT_WAITS = 3
#: a longer ``Retry-After`` is not waited for inside the attempt.
MAX_RETRY_AFTER_S = 60.0
#: the request timeout exceeds the node's deadline by this much, so the node's deadline
#: (which covers the whole attempt) is the one that fires.
_DEADLINE_MARGIN_S = 1.0
_TOOL_NAME = "output"
_RESOURCE_KEY = "ai-http"
_HEADERS = {
    "Content-Type": "application/json",
    "HTTP-Referer": "https://flowscript.dev",
    "X-Title": "FlowScript",
}
#: how much of a reply body an error message quotes.
_EXCERPT = 300
#: how much of a failed output a repair prompt quotes.
_REPAIR_EXCERPT = 4000


class AIError(NodeRuntimeError):
    """An AI node failed.

    :ivar status: the HTTP status when there was one (``$error.status``).
    :ivar retry_after_ms: the wait a 429 asked for (``Retry-After``), for the executor.
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


class _Bearer:
    """``Authorization: Bearer <key>`` for httpx; the key never shows in a ``repr``."""

    __slots__ = ("_key",)

    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, request: httpx.Request) -> httpx.Request:
        request.headers["Authorization"] = f"Bearer {self._key}"
        return request

    def __repr__(self) -> str:
        return "<Bearer ***>"


@dataclass(kw_only=True)
class _Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    requests: int = 0

    def add(self, usage: Any) -> None:
        if not isinstance(usage, Mapping):
            return
        for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
            value = usage.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(kw_only=True)
class _Call:
    """Everything one AI node sends, resolved once per attempt."""

    node_id: str
    url: str
    origin: str
    model: str
    system: str
    user: str
    max_tokens: int
    temperature: float | None
    repairs: int
    request_timeout_s: float
    timeout_is_node_deadline: bool
    auth: _Bearer | None = field(repr=False)
    mask: SecretMask = field(repr=False)
    #: the output tool's parameters (None: text output) and whether they wrap the schema.
    parameters: dict[str, Any] | None = None
    wrapped: bool = False

    def body(self, user: str) -> dict[str, Any]:
        """The request body with ``user`` as the user message."""
        system = self.system
        tools: list[dict[str, Any]] | None = None
        if self.parameters is not None:
            fields = field_summary(self.parameters)
            if fields:
                names = ", ".join(name for name, _ in fields)
                demand = (
                    "You MUST respond using the output tool with exactly these field "
                    f"names: {names}. Use these exact names, not synonyms."
                )
                system = f"{system}\n{demand}" if system else demand
                listed = ", ".join(f"{name} ({kind})" for name, kind in fields)
                description = (
                    f"Return structured output with exactly these fields: {listed}. "
                    "Use these exact field names."
                )
            else:
                description = "Return structured output."
            tools = [
                {
                    "type": "function",
                    "function": {
                        "name": _TOOL_NAME,
                        "description": description,
                        "parameters": self.parameters,
                        "strict": True,
                    },
                }
            ]
        messages: list[dict[str, str]] = []
        if system:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": user})
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens,
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if tools is not None:
            body["tools"] = tools
            body["tool_choice"] = {"type": "function", "function": {"name": _TOOL_NAME}}
        return body


class AITransform:
    """``<transform type="ai">``: ask a chat model, optionally for structured output.

    Args:
        rng: the jitter source of rate-limit waits without ``Retry-After``.
        sleep: how to wait (tests may pass a recording sleep).
    """

    def __init__(
        self,
        *,
        rng: random.Random | None = None,
        sleep: Callable[[float], Any] | None = None,
    ) -> None:
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._sleep = sleep or anyio.sleep

    async def run(self, ctx: NodeContext) -> Value:
        """Send the node's prompt and return the (validated) output."""
        try:
            import httpx
        except ImportError:  # pragma: no cover - httpx comes with the ai/http extras
            raise NodeRuntimeError(
                "AI nodes need httpx: pip install 'maidit_jupyter[ai]'",
                code="RUNTIME_MISSING_DEPENDENCY",
            ) from None
        call = _resolve(ctx)
        refuse_secrets(ctx, "AI node", call.system, call.user)
        client = await ctx.resources.get(
            _RESOURCE_KEY, lambda: _open_client(ctx), _close_client
        )
        usage = _Usage()
        ctx.meta["model"] = call.model
        user = call.user
        problem = ""
        for round_ in range(call.repairs + 1):
            if call.parameters is not None:
                ctx.meta["repairs"] = round_
            message = await self._complete(httpx, client, call, call.body(user), usage)
            ctx.meta["usage"] = usage.as_dict()
            ctx.meta["requests"] = usage.requests
            if call.parameters is None:
                return _text_output(message)
            value, raw, problem = _structured(message, call.wrapped)
            if not problem:
                cleaned, errors = conform(value, call.parameters)
                if not errors:
                    return cleaned[WRAPPED_KEY] if call.wrapped else cleaned
                problem = "; ".join(errors)
            problem = call.mask.redact(problem)
            _log.info(
                "AI node %s: output does not match the schema (%s)",
                call.node_id,
                problem,
            )
            user = _repair_prompt(call.user, call.mask.redact(raw), problem)
        raise AIError(
            f"AI output did not match the output schema after {call.repairs} repair "
            f"prompt{'' if call.repairs == 1 else 's'}: {problem}",
            code="AI_SCHEMA_INVALID",
        )

    async def _complete(
        self,
        httpx: Any,
        client: httpx.AsyncClient,
        call: _Call,
        body: dict[str, Any],
        usage: _Usage,
    ) -> Mapping[str, Any]:
        """One chat completion: the first choice's message (429s waited out)."""
        waits = 0
        while True:
            try:
                response = await client.post(
                    call.url,
                    json=body,
                    headers=_HEADERS,
                    auth=call.auth or httpx.USE_CLIENT_DEFAULT,
                    timeout=call.request_timeout_s,
                )
            except EgressBlocked as exc:
                raise AIError(
                    f"AI request to {call.origin}: egress blocked: {exc.reason}",
                    code="RUNTIME_EGRESS_BLOCKED",
                ) from None
            except httpx.TimeoutException:
                limit = call.request_timeout_s * 1000
                if call.timeout_is_node_deadline:
                    limit -= _DEADLINE_MARGIN_S * 1000
                raise AIError(
                    f"AI request to {call.origin} timed out after {limit:g} ms",
                    code="TIMEOUT",
                    retryable=True,
                ) from None
            except httpx.HTTPError as exc:
                raise AIError(
                    f"cannot reach the AI API at {call.origin}: "
                    f"{type(exc).__name__}: {call.mask.redact(exc)}",
                    code="RUNTIME_CONNECTION_ERROR",
                    retryable=True,
                ) from None
            usage.requests += 1
            status = response.status_code
            if status == 429:
                delay = self._rate_limit_delay(response, waits)
                if delay is not None:
                    waits += 1
                    _log.info(
                        "AI node %s: rate limited (HTTP 429), waiting %.2f s",
                        call.node_id,
                        delay,
                    )
                    await self._sleep(delay)
                    continue
                raise AIError(
                    f"Rate limit exceeded (HTTP 429){_after(response)}: "
                    f"{_excerpt(response, call.mask)}",
                    code="RATE_LIMIT",
                    retryable=True,
                    status=429,
                    retry_after_ms=parse_retry_after_ms(
                        response.headers.get("retry-after")
                    ),
                )
            if status in (401, 403):
                raise AIError(
                    f"Invalid API key (HTTP {status}): {_excerpt(response, call.mask)}",
                    code="API_ERROR",
                    status=status,
                )
            if status >= 400:
                raise AIError(
                    f"AI API error (HTTP {status}): {_excerpt(response, call.mask)}",
                    code="API_ERROR",
                    retryable=status >= 500 or status == 408,
                    status=status,
                )
            try:
                data = response.json()
            except ValueError:
                raise AIError(
                    f"the AI API replied with something that is not JSON: "
                    f"{_excerpt(response, call.mask)}",
                    code="API_ERROR",
                    status=status,
                ) from None
            if isinstance(data, Mapping):
                usage.add(data.get("usage"))
            return _first_message(data, call.mask)

    def _rate_limit_delay(self, response: httpx.Response, waits: int) -> float | None:
        """How long to wait before sending again, or None to give up this attempt."""
        if waits >= RATE_LIMIT_WAITS:
            return None
        after_ms = parse_retry_after_ms(response.headers.get("retry-after"))
        if after_ms is not None:
            return after_ms / 1000 if after_ms <= MAX_RETRY_AFTER_S * 1000 else None
        base = float(2**waits)
        return base / 2 + self._rng.uniform(0, base / 2)


def _resolve(ctx: NodeContext) -> _Call:
    """Read the node's settings, the frontmatter's ``ai`` section and the environment."""
    front: Mapping[str, Any] = ctx.frontmatter.ai if ctx.frontmatter else {}
    node_id = ctx.node.id
    base = _text(ctx, "base-url") or _front_text(front, "base_url")
    base = base or ctx.env.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL
    url, origin, loopback = _endpoint(base, node_id)
    model = _text(ctx, "model") or _front_text(front, "model")
    model = model or ctx.env.get(MODEL_ENV, "").strip()
    if not model:
        raise AIError(
            f'AI node "{node_id}" has no model: set model="…" on the node, '
            f"ai.model in the frontmatter, or {MODEL_ENV} in the environment",
            code="RUNTIME_INVALID_CONFIG",
        )
    parameters: dict[str, Any] | None = None
    wrapped = False
    schema_text = ctx.config.get("output-schema")
    if isinstance(schema_text, str) and schema_text.strip():
        try:
            schema = parse_schema_dsl(schema_text)
        except SchemaDSLError as exc:
            raise AIError(
                f'AI node "{node_id}" has an invalid output-schema: {exc}',
                code="RUNTIME_INVALID_CONFIG",
            ) from None
        parameters, wrapped = tool_parameters(schema)
    user = ctx.text("user") if "user" in ctx.config else ""
    if not user.strip() and "prompt" in ctx.config:
        user = ctx.text("prompt")
    if not user.strip() and "user" not in ctx.config and "prompt" not in ctx.config:
        user = to_display(ctx.input)
    node_timeout = ctx.node.timeout_ms
    if node_timeout:
        request_timeout_s = node_timeout / 1000.0 + _DEADLINE_MARGIN_S
    else:
        request_timeout_s = DEFAULT_TIMEOUT_MS / 1000.0
    temperature = _number(ctx, "temperature", None, minimum=0.0)
    max_tokens = int(_number(ctx, "max-tokens", DEFAULT_MAX_TOKENS, minimum=1))
    repairs = int(_number(ctx, "max-retries", DEFAULT_REPAIRS, minimum=0))
    system = ctx.text("system").strip() if "system" in ctx.config else ""
    # the key last: nothing raises after it is read, so no traceback frame holds it
    auth, mask = _credentials(ctx, front, loopback)
    return _Call(
        node_id=node_id,
        url=url,
        origin=origin,
        model=model,
        system=system,
        user=user,
        max_tokens=max_tokens,
        temperature=temperature,
        repairs=repairs,
        request_timeout_s=request_timeout_s,
        timeout_is_node_deadline=bool(node_timeout),
        auth=auth,
        mask=mask,
        parameters=parameters,
        wrapped=wrapped,
    )


def _text(ctx: NodeContext, key: str) -> str:
    """A text setting rendered and trimmed ("" when absent)."""
    return ctx.text(key).strip() if key in ctx.config else ""


def _front_text(front: Mapping[str, Any], key: str) -> str:
    value = front.get(key)
    return value.strip() if isinstance(value, str) else ""


def _number(
    ctx: NodeContext, key: str, default: float | None, *, minimum: float
) -> Any:
    """A numeric setting (the parser converted literals; templates resolve here)."""
    value = ctx.setting(key, None)
    if value is None or value is UNDEFINED or (isinstance(value, str) and not value):
        return default
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    integral = key != "temperature"
    if (
        number is None
        or not math.isfinite(number)
        or number < minimum
        or (integral and not number.is_integer())
    ):
        kind = "an integer" if integral else "a number"
        raise AIError(
            f'AI node "{ctx.node.id}": {key} must be {kind} ≥ {minimum:g}, '
            f"got {value!r}",
            code="RUNTIME_INVALID_CONFIG",
        )
    return int(number) if integral else number


def _endpoint(base: str, node_id: str) -> tuple[str, str, bool]:
    """The completions URL, its origin (for messages) and whether it is loopback."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AIError(
            f'AI node "{node_id}": the base URL must be an http(s) URL, '
            f"got {parts.scheme or 'no scheme'}:…",
            code="RUNTIME_INVALID_CONFIG",
        )
    path = parts.path.rstrip("/")
    if not path.endswith("/chat/completions"):
        path += "/chat/completions"
    host = parts.hostname
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    origin = f"{parts.scheme}://{netloc}"
    url = f"{parts.scheme}://{parts.netloc}{path}"
    if parts.query:
        url += f"?{parts.query}"
    return url, origin, _is_loopback(host)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _credentials(
    ctx: NodeContext, front: Mapping[str, Any], loopback: bool
) -> tuple[_Bearer | None, SecretMask]:
    """The key as request auth (None: no key) and a mask that hides it in messages."""
    key = _api_key(ctx, front, loopback)
    return (_Bearer(key), SecretMask([key])) if key else (None, SecretMask())


def _api_key(ctx: NodeContext, front: Mapping[str, Any], loopback: bool) -> str | None:
    """The API key's value (None: send no key, only for a loopback base URL)."""
    node_id = ctx.node.id
    named = ctx.config.get("api-key")
    where = f"{node_id}.api-key"
    if not (isinstance(named, str) and named.strip()):
        named = front.get("api_key")
        where = "the frontmatter's ai.api_key"
    if isinstance(named, str) and named.strip():
        name = named.strip()
        value = ctx.secrets.get(name)
        if value:
            return value
        raise AIError(
            f'AI node "{node_id}": the secret {name!r} named by {where} has no value; '
            f"declare it in secrets: and set the environment variable {name}",
            code="RUNTIME_INVALID_CONFIG",
        )
    for name in DEFAULT_KEY_NAMES:
        value = ctx.secrets.get(name)
        if value:
            return value
    if loopback:
        return None
    raise AIError(
        f'AI node "{node_id}" has no API key: declare OPENROUTER_API_KEY (or '
        "OPENAI_API_KEY) in secrets: and set it, or name a secret with api-key=",
        code="RUNTIME_INVALID_CONFIG",
    )


async def _open_client(ctx: NodeContext) -> httpx.AsyncClient:
    """The run's AI client, under the flow's egress policy (``http:`` in the
    frontmatter), as HTTP nodes are."""
    from maidit_jupyter.runtimes.http_transport import open_client

    return open_client(flow_http_settings(ctx.frontmatter).policy)


async def _close_client(client: httpx.AsyncClient) -> None:
    await client.aclose()


def _after(response: httpx.Response) -> str:
    header = response.headers.get("retry-after")
    return f" (Retry-After: {header.strip()[:40]})" if header else ""


def _excerpt(response: httpx.Response, mask: SecretMask) -> str:
    """What a failed reply says: its ``error.message`` when JSON, else its text."""
    text = ""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, Mapping):
        error = data.get("error")
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            text = error["message"]
        elif isinstance(error, str):
            text = error
    if not text:
        text = response.text
    text = " ".join(mask.redact(text).split())
    if len(text) > _EXCERPT:
        text = text[: _EXCERPT - 3] + "..."
    return text or "(empty body)"


def _first_message(data: Any, mask: SecretMask) -> Mapping[str, Any]:
    """The first choice's message of a completion (or the error the body reports)."""
    choices = data.get("choices") if isinstance(data, Mapping) else None
    if isinstance(choices, list) and choices:
        choice = choices[0]
        message = choice.get("message") if isinstance(choice, Mapping) else None
        if isinstance(message, Mapping):
            return message
    error = data.get("error") if isinstance(data, Mapping) else None
    if isinstance(error, Mapping):
        # OpenRouter reports upstream failures in a 200 reply's body
        status = error.get("code")
        status = status if isinstance(status, int) else None
        text = " ".join(mask.redact(str(error.get("message", ""))).split())
        if status == 429:
            raise AIError(
                f"Rate limit exceeded: {text[:_EXCERPT]}",
                code="RATE_LIMIT",
                retryable=True,
                status=429,
            )
        raise AIError(
            f"AI API error{f' ({status})' if status else ''}: {text[:_EXCERPT]}",
            code="API_ERROR",
            retryable=status is not None and status >= 500,
            status=status,
        )
    raise AIError("No response choice from API", code="API_ERROR")


def _content_text(message: Mapping[str, Any]) -> str:
    """The message's text (a list of content parts is joined)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    return ""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_json(text: str) -> tuple[bool, Any]:
    """``(True, value)`` when ``text`` is JSON (NaN and Infinity are not)."""
    try:
        return True, json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False, None


def _text_output(message: Mapping[str, Any]) -> Value:
    """Without a schema: the reply's text, parsed when it is JSON as a whole."""
    text = _content_text(message)
    if not text:
        raise AIError("No content in response", code="API_ERROR")
    ok, value = _parse_json(text)
    return value if ok else text


def _structured(message: Mapping[str, Any], wrapped: bool) -> tuple[Any, str, str]:
    """``(value, raw text, problem)`` of a structured reply ("" problem: parsed)."""
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls:
        for item in calls:
            function = item.get("function") if isinstance(item, Mapping) else None
            if not isinstance(function, Mapping) or function.get("name") != _TOOL_NAME:
                continue
            arguments = function.get("arguments")
            if isinstance(arguments, Mapping):
                return dict(arguments), json.dumps(arguments), ""
            raw = arguments if isinstance(arguments, str) else ""
            ok, value = _parse_json(raw)
            if not ok:
                return None, raw, "the output tool's arguments are not valid JSON"
            return value, raw, ""
        names = ", ".join(
            str(item.get("function", {}).get("name"))
            for item in calls
            if isinstance(item, Mapping) and isinstance(item.get("function"), Mapping)
        )
        return None, "", f"called {names or 'another tool'} instead of the output tool"
    text = _content_text(message)
    ok, value = _parse_json(text)
    if not ok:
        return None, text, "did not call the output tool (and the reply is not JSON)"
    if wrapped and not (isinstance(value, dict) and WRAPPED_KEY in value):
        value = {WRAPPED_KEY: value}
    return value, text, ""


def _repair_prompt(user: str, failed: str, problem: str) -> str:
    """The user message again, with the failed output and what is wrong with it."""
    if len(failed) > _REPAIR_EXCERPT:
        failed = failed[: _REPAIR_EXCERPT - 3] + "..."
    return (
        f"{user}\n\n---\n\n"
        "Your previous response did not match the required output schema.\n"
        f"```json\n{failed}\n```\n"
        f"Schema validation error: {problem}\n\n"
        "Please provide a corrected response that strictly matches the required schema."
    )
