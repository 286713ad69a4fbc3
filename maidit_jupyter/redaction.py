"""Keep secret values out of every output: masks for a secret and its common encodings.

A secret leaks in more shapes than its raw text: inside a JSON string its quotes and
backslashes are escaped (and escaped again when that JSON text is itself a string inside
JSON), in a URL it is percent-encoded (``quote`` or ``quote_plus``), in a
Basic-auth header or a data URL it is base64 (standard or URL-safe alphabet), in a
``repr`` its backslashes double, in HTML its ``&<>"'`` become entities. :class:`SecretMask` searches for all of these forms and
replaces each with ``***``; :meth:`SecretMask.contains` tells whether any is present (a
checkpoint uses it to refuse storing an output that holds a secret).

Values shorter than :data:`MIN_SECRET_LENGTH` are not searched for: masking them would
redact ordinary words and numbers (Airflow's masker has the same rule).
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

__all__ = ["MIN_SECRET_LENGTH", "REDACTED", "SecretMask", "as_mask", "redact"]

MIN_SECRET_LENGTH = 4
REDACTED = "***"


def _forms(secret: str) -> set[str]:
    """The raw value and the encodings it commonly travels in."""
    raw = secret.encode("utf-8", "surrogatepass")
    escaped = {
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1],
        repr(secret)[1:-1],
    }
    forms = {
        secret,
        *escaped,
        # an escaped form inside JSON text (a node returned ``json.dumps(secret)``, and
        # its output is stored or shown as JSON) has its backslashes escaped again
        *(json.dumps(form, ensure_ascii=False)[1:-1] for form in escaped),
        *(json.dumps(form)[1:-1] for form in escaped),
        # shown in HTML (a widget, a DataFrame's table) ``& < > " '`` are escaped
        html.escape(secret),
        html.escape(secret, quote=False),
        # of the bytes: a value from the environment may hold surrogates (bytes that
        # are not UTF-8), which quote() refuses as text
        quote(raw, safe=""),
        quote(raw),
        quote_plus(raw),  # its safe characters are "" already
    }
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        forms.add(text)
        forms.add(text.rstrip("="))
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class SecretMask:
    """Masks a set of secret values and their encodings in text.

    Args:
        secrets: the secret values (short ones are ignored).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.forms: tuple[str, ...] = ()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Mask ``secrets`` too, from now on.

        A run learns secrets while it runs: a ``<call>`` resolves the called flow's
        declared secrets from the environment, and the calling run's mask (its report,
        log, checkpoint) must hide them as well.
        """
        forms = set(self.forms)
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH:
                forms |= _forms(secret)
        if len(forms) == len(self.forms):
            return
        ordered = tuple(sorted(forms, key=len, reverse=True))
        pattern = re.compile("|".join(re.escape(form) for form in ordered))
        # the pattern last: a reader sees the old mask or the new one, never neither
        self.forms = ordered
        self._pattern = pattern

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __repr__(self) -> str:
        return f"<SecretMask of {len(self.forms)} forms>"

    def contains(self, text: str) -> bool:
        """Whether ``text`` holds a secret in any of its forms."""
        return self._pattern is not None and self._pattern.search(text) is not None

    def redact(self, text: object) -> str:
        """``text`` with every form of every secret replaced by ``***``.

        Anything that is not a string is first turned into one; if that fails, the
        result is ``<redaction-failed>`` (fail closed, never the raw value).
        """
        if not isinstance(text, str):
            try:
                text = str(text)
            except Exception:  # noqa: BLE001 - fail closed on hostile objects
                return "<redaction-failed>"
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)


def as_mask(secrets: Iterable[str] | SecretMask) -> SecretMask:
    """``secrets`` as a mask (built once; pass the mask around, not the values)."""
    return secrets if isinstance(secrets, SecretMask) else SecretMask(secrets)


def redact(text: object, secrets: Iterable[str] | SecretMask) -> str:
    """Replace every secret value of ``secrets`` (and its encodings) in ``text``."""
    return as_mask(secrets).redact(text)
