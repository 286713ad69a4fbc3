"""What the database runtimes need from a driver, and what drivers share.

A :class:`Database` is opened once per run per connection string (kept in the run's
:class:`~maidit_jupyter.runtimes.base.RunResources`); :meth:`Database.transaction` gives
a :class:`Session` inside one transaction, committed when the block ends and rolled back
when it raises (or is cancelled). Every statement goes through :meth:`Session.execute`
or :meth:`Session.execute_many` with its values apart from its text. Driver failures
come out as :class:`DatabaseError` with a message already cleaned of the connection's
password (:class:`Redactor`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote

from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.expressions.values import Value
from maidit_jupyter.redaction import REDACTED, SecretMask
from maidit_jupyter.runtimes.sql import Dialect

__all__ = [
    "DATABASE_ERROR",
    "Column",
    "Database",
    "DatabaseError",
    "Redactor",
    "Result",
    "Session",
    "to_value",
]

DATABASE_ERROR = "DATABASE_ERROR"


class DatabaseError(NodeRuntimeError):
    """The database refused or failed a statement (the message is redacted)."""

    def __init__(
        self, message: str, *, code: str = DATABASE_ERROR, retryable: bool = False
    ) -> None:
        super().__init__(message, code=code, retryable=retryable)


@dataclass(frozen=True, slots=True)
class Result:
    """What a statement returned: column names (None if it returns no rows), rows,
    and the driver's row count."""

    columns: list[str] | None
    rows: list[tuple[Any, ...]]
    rowcount: int


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: its declared type and (PostgreSQL) its type category."""

    type: str
    category: str = ""


class Session(Protocol):
    """Statements inside one transaction."""

    async def execute(self, sql: str, params: Sequence[object]) -> Result:
        """Run one statement with its bound values."""
        ...

    async def execute_many(self, sql: str, rows: Sequence[Sequence[object]]) -> int:
        """Run one statement once per value row; return the rows affected."""
        ...


class Database(Protocol):
    """A connection (SQLite) or a pool (PostgreSQL) of one run."""

    dialect: Dialect
    #: the most values one statement may carry.
    max_params: int

    def transaction(self, *, write: bool) -> AbstractAsyncContextManager[Session]:
        """One transaction: committed at the end of the block, rolled back on error."""
        ...

    def adapt_param(self, value: Value) -> object:
        """A query value (``{{ }}``, ``params``) as the driver binds it."""
        ...

    def adapt_column(self, value: Value, column: Column) -> object:
        """A value written into ``column`` as the driver binds it."""
        ...

    def column_type(self, sample: Value) -> str:
        """The column type ``create`` declares for a first value like ``sample``."""
        ...

    async def aclose(self) -> None:
        """Close the connection(s)."""
        ...


class Redactor:
    """Removes a connection string's password (and the whole string) from text.

    The password is found in the URL's user-info (``user:PASSWORD@host``, raw and
    percent-decoded) and in a ``password=`` query parameter. Every common encoding of
    each form is masked (:class:`~maidit_jupyter.redaction.SecretMask`); a password
    too short for the mask is replaced as is.
    """

    def __init__(self, connection: str) -> None:
        secrets: set[str] = set()
        _, sep, rest = connection.partition("://")
        if sep:
            authority, at, _ = rest.rpartition("@")
            if at and ":" in authority:
                secrets.add(authority.partition(":")[2])
            query = rest.partition("?")[2]
            for key, value in parse_qsl(query, keep_blank_values=True):
                if key.lower() == "password":
                    secrets.add(value)
            for key, _, value in (part.partition("=") for part in query.split("&")):
                if unquote(key).lower() == "password":
                    secrets.add(value)
        secrets |= {unquote(s) for s in secrets}
        secrets.discard("")
        self._passwords = SecretMask(secrets)
        self._short = sorted((s for s in secrets if len(s) < 4), key=len, reverse=True)
        self._whole = SecretMask([connection]) if secrets else SecretMask()

    def __call__(self, text: object) -> str:
        """``text`` without the connection string or its password in any form."""
        return self._hide_password(self._whole.redact(text))

    def _hide_password(self, text: str) -> str:
        cleaned = self._passwords.redact(text)
        for secret in self._short:
            cleaned = cleaned.replace(secret, REDACTED)
        return cleaned

    def connection(self, connection: str) -> str:
        """The connection string as it may be shown: the password replaced by ``***``."""
        scheme, sep, rest = connection.partition("://")
        if not sep:
            return self._hide_password(connection)
        authority, at, host = rest.rpartition("@")
        if at and ":" in authority:
            user = authority.partition(":")[0]
            rest = f"{user}:{REDACTED}@{host}"
        return self._hide_password(f"{scheme}://{rest}")


def to_value(obj: object) -> Value:
    """A value the driver returned, as plain data the expressions work with.

    Numbers stay numbers (``NUMERIC`` becomes an int when whole, else a float), dates
    and times become ISO 8601 text, UUIDs and other types their text, bytes
    ``\\x``-prefixed hex (PostgreSQL's own text form), JSON documents and arrays data.
    """
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, decimal.Decimal):
        if obj.is_finite() and obj == obj.to_integral_value():
            return int(obj)
        return float(obj) if not obj.is_nan() else math.nan
    if isinstance(obj, dt.datetime | dt.date | dt.time):
        return obj.isoformat()
    if isinstance(obj, bytes | bytearray | memoryview):
        return "\\x" + bytes(obj).hex()
    if isinstance(obj, dict):
        return {str(k): to_value(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_value(v) for v in obj]
    if isinstance(obj, uuid.UUID):
        return str(obj)
    return str(obj)
