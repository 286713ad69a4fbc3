"""A short text preview of any output, without serialising all of it.

The original engine serialised every full output to show 50 characters of it in the log
(a 100 MB output cost 100 MB of JSON). :func:`preview` encodes lazily and stops once it
has enough text; outputs that are not JSON show their ``repr``. Secrets are redacted
*before* the text is cut, so a cut never leaves part of a secret behind.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from maidit_jupyter.expressions.values import UNDEFINED, FunctionValue
from maidit_jupyter.redaction import SecretMask

__all__ = ["preview"]

#: text kept beyond the limit before redacting, so a secret across the cut is still seen.
_MARGIN = 256


class _Enough(Exception):
    """The preview has all the text it needs."""


class _Writer:
    """Writes JSON.stringify's text of a value, stopping after ``wanted`` characters."""

    def __init__(self, wanted: int) -> None:
        self.wanted = wanted
        self.parts: list[str] = []
        self.size = 0

    def put(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= self.wanted:
            raise _Enough

    def value(self, value: Any, depth: int = 0) -> None:
        if value is None or value is UNDEFINED or isinstance(value, FunctionValue):
            self.put("null")
        elif value is True or value is False:
            self.put("true" if value else "false")
        elif isinstance(value, int):
            self.put(str(value))
        elif isinstance(value, float):
            if not math.isfinite(value):
                self.put("null")
            else:
                self.put(str(int(value)) if value.is_integer() else repr(value))
        elif isinstance(value, str):
            self.put(json.dumps(value[: self.wanted], ensure_ascii=False))
        elif depth > 100:
            raise ValueError("nested too deeply")
        elif isinstance(value, list | tuple):
            self.put("[")
            for index, item in enumerate(value):
                if index:
                    self.put(",")
                self.value(item, depth + 1)
            self.put("]")
        elif isinstance(value, Mapping):
            self.put("{")
            first = True
            for key, item in value.items():
                if item is UNDEFINED or isinstance(item, FunctionValue):
                    continue
                self.put(
                    ("" if first else ",") + json.dumps(str(key), ensure_ascii=False)
                )
                self.put(":")
                self.value(item, depth + 1)
                first = False
            self.put("}")
        else:
            raise TypeError(type(value).__name__)


def _head(value: Any, wanted: int, *, quote: bool) -> str:
    if isinstance(value, str) and not quote:
        return value[:wanted]
    writer = _Writer(wanted)
    try:
        writer.value(value)
    except _Enough:
        pass
    except (TypeError, ValueError):
        try:
            return repr(value)[:wanted]
        except Exception:  # noqa: BLE001 - a repr that raises must not break a report
            return f"<{type(value).__name__}>"
    return "".join(writer.parts)


def preview(
    value: Any, limit: int, mask: SecretMask | None = None, *, quote: bool = False
) -> str:
    """At most ``limit`` characters showing ``value`` (``-`` for undefined), redacted.

    A string shows as itself, or with ``quote`` as JSON (in quotes, escaped), as the
    original engine's log shows every output.
    """
    if value is UNDEFINED:
        return "-"
    text = _head(value, limit + _MARGIN, quote=quote)
    if mask:
        text = mask.redact(text)
    return text if len(text) <= limit else text[: max(0, limit - 3)] + "..."
