"""OAuth2 client-credentials tokens for HTTP nodes, fetched once and cached per run.

``<auth>type: oauth2 / token_url / client_id / client_secret / scope</auth>`` makes the
node send ``Authorization: Bearer <token>``. The token is fetched with a form POST
(``grant_type=client_credentials``; the client's credentials in the form, or as HTTP
Basic with ``client_auth: basic``) through the run's guarded client, so the token
endpoint obeys the egress policy too. It is cached under its endpoint, client id and
scope until ``expires_in`` (default one hour) minus a safety margin; concurrent nodes
wait for one fetch. A 401 from the API drops the cached token once (the caller fetches
a new one and repeats the request).

No message built here holds the secret or the token: the endpoint is shown redacted,
and only the standard ``error`` code of a refusal is quoted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.expressions.values import to_string

if TYPE_CHECKING:
    import httpx

__all__ = ["AUTH_ERROR", "OAuth2Config", "TokenCache"]

AUTH_ERROR = "RUNTIME_AUTH_ERROR"
#: how long a token request may take (the original's 10 s).
TOKEN_TIMEOUT_S = 10.0
#: tokens are renewed this long before they expire (at most a tenth of their life).
MARGIN_S = 60.0
DEFAULT_EXPIRES_S = 3600.0


@dataclass(frozen=True, slots=True)
class OAuth2Config:
    """The ``auth`` settings of the client-credentials grant."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str | None = None
    audience: str | None = None
    client_auth: str = "post"

    @classmethod
    def read(cls, auth: Mapping[str, object]) -> OAuth2Config:
        """Read ``auth``; a missing or empty required key is a configuration error."""
        values = {
            key: to_string(auth[key]).strip()
            for key in ("token_url", "client_id", "client_secret", "scope", "audience")
            if auth.get(key) is not None
        }
        missing = [
            key
            for key in ("token_url", "client_id", "client_secret")
            if not values.get(key)
        ]
        if missing:
            raise NodeRuntimeError(
                "OAuth2 requires token_url, client_id and client_secret "
                f"(missing: {', '.join(missing)})",
                code="RUNTIME_INVALID_CONFIG",
            )
        client_auth = to_string(auth.get("client_auth", "post")).strip().lower()
        if client_auth not in ("post", "basic"):
            raise NodeRuntimeError(
                "auth.client_auth must be post or basic",
                code="RUNTIME_INVALID_CONFIG",
            )
        return cls(
            token_url=values["token_url"],
            client_id=values["client_id"],
            client_secret=values["client_secret"],
            scope=values.get("scope") or None,
            audience=values.get("audience") or None,
            client_auth=client_auth,
        )

    @property
    def key(self) -> str:
        """What a token is cached under (the original's ``url::client_id``, + scope)."""
        return f"{self.token_url}::{self.client_id}::{self.scope or ''}"


@dataclass(slots=True)
class _Token:
    value: str
    expires_at: float


class TokenCache:
    """The run's OAuth2 tokens.

    Args:
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, anyio.Lock] = {}
        #: token requests made (for reports and tests).
        self.fetches = 0

    async def token(
        self,
        client: httpx.AsyncClient,
        config: OAuth2Config,
        shown_url: str,
    ) -> str:
        """A valid access token for ``config``: cached, or fetched once for all waiters."""
        cached = self._tokens.get(config.key)
        if cached is not None and cached.expires_at > self.clock():
            return cached.value
        lock = self._locks.setdefault(config.key, anyio.Lock())
        async with lock:
            cached = self._tokens.get(config.key)
            if cached is not None and cached.expires_at > self.clock():
                return cached.value
            token = await self._fetch(client, config, shown_url)
            self._tokens[config.key] = token
            return token.value

    def invalidate(self, config: OAuth2Config, value: str) -> None:
        """Forget the token ``value`` (the API refused it), unless already renewed."""
        cached = self._tokens.get(config.key)
        if cached is not None and cached.value == value:
            del self._tokens[config.key]

    async def _fetch(
        self, client: httpx.AsyncClient, config: OAuth2Config, shown_url: str
    ) -> _Token:
        import httpx

        form = {"grant_type": "client_credentials"}
        auth: httpx.BasicAuth | None = None
        if config.client_auth == "basic":
            auth = httpx.BasicAuth(config.client_id, config.client_secret)
        else:
            form |= {
                "client_id": config.client_id,
                "client_secret": config.client_secret,
            }
        if config.scope:
            form["scope"] = config.scope
        if config.audience:
            form["audience"] = config.audience
        self.fetches += 1
        started = self.clock()
        response = await client.post(
            config.token_url,
            data=form,
            headers={"Accept": "application/json"},
            auth=auth or httpx.USE_CLIENT_DEFAULT,
            timeout=TOKEN_TIMEOUT_S,
        )
        try:
            data = response.json() if response.content else {}
        except ValueError:
            data = None
        if not response.is_success:
            code = data.get("error") if isinstance(data, dict) else None
            detail = f" ({code})" if isinstance(code, str) and code.isascii() else ""
            raise NodeRuntimeError(
                f"OAuth2 token request to {shown_url} failed: HTTP "
                f"{response.status_code}{detail[:80]}",
                code=AUTH_ERROR,
                retryable=response.status_code == 429 or response.status_code >= 500,
            )
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise NodeRuntimeError(
                f"OAuth2 token response from {shown_url} has no access_token",
                code=AUTH_ERROR,
            )
        assert isinstance(data, dict)
        expires = data.get("expires_in", DEFAULT_EXPIRES_S)
        try:
            lifetime = float(expires)
        except (TypeError, ValueError):
            lifetime = DEFAULT_EXPIRES_S
        lifetime = max(lifetime, 0.0)
        return _Token(token, started + lifetime - min(MARGIN_S, lifetime / 10))
