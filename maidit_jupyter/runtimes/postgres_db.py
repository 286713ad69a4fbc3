"""PostgreSQL through psycopg 3's async API, with a small pool per run.

Why psycopg 3 and not SQLAlchemy Core: the runtimes write no SQL that needs a query
builder (the statements are a handful of fixed shapes, see :mod:`.sql`), psycopg's
``AsyncConnection`` is native async (no thread per query), binds values server-side
(``%s`` placeholders, the extended protocol), ships its own type hints, and is one
dependency instead of two. It is the driver SQLAlchemy itself uses for PostgreSQL.

Why a hand-written pool and not ``psycopg_pool``: a run needs few connections and lives
briefly. ``psycopg_pool`` connects in background workers and, when the server refuses a
login, makes the waiting node time out with ``PoolTimeout`` after its full timeout
instead of reporting the server's reason at once; it is also one more package. This pool
connects on demand (the error surfaces immediately, cleaned of the password), keeps idle
connections for the next node of the run, holds at most :data:`MAX_CONNECTIONS`, drops
a connection that is not idle after its transaction (a cancelled query closes it), and
closes everything when the run ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import anyio
import psycopg
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb

from maidit_jupyter.expressions.values import Value, to_json
from maidit_jupyter.runtimes.dbapi import Column, DatabaseError, Redactor, Result
from maidit_jupyter.runtimes.sql import Dialect

__all__ = ["MAX_CONNECTIONS", "PostgresDatabase"]

#: connections one run holds at most per server (nodes beyond wait for one).
MAX_CONNECTIONS = 10
#: seconds to wait for the server when connecting.
CONNECT_TIMEOUT = 10
CONNECTION_FAILED = "DATABASE_CONNECTION_FAILED"
#: SQLSTATE classes and codes worth trying again: connection exceptions, transaction
#: rollbacks (serialisation failures, deadlocks), lock timeouts, server shutdowns.
_RETRYABLE_CLASSES = ("08", "40", "57")
_RETRYABLE_CODES = ("55P03", "53300")
_LOGIN_REFUSED = ("28", "3D")  # bad password or role; no such database


class PostgresDatabase:
    """A pool of connections to one PostgreSQL server for one run."""

    dialect = Dialect.POSTGRES
    max_params = 65535

    def __init__(self, dsn: str, redact: Redactor, shown: str) -> None:
        self._dsn = dsn
        self._redact = redact
        self._shown = shown
        self._idle: list[psycopg.AsyncConnection[tuple[object, ...]]] = []
        self._slots = anyio.Semaphore(MAX_CONNECTIONS)
        self._closed = False

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        try:
            return await psycopg.AsyncConnection.connect(
                self._dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT
            )
        except psycopg.Error as exc:
            state = getattr(exc, "sqlstate", None) or ""
            text = self._redact(_message(exc))
            refused = state.startswith(_LOGIN_REFUSED) or "authentication" in text
            # the driver's exception (and its chain) may hold the DSN: not kept
            raise DatabaseError(
                f"Cannot connect to {self._shown}: {text}",
                code=CONNECTION_FAILED,
                retryable=isinstance(exc, psycopg.OperationalError) and not refused,
            ) from None

    async def aclose(self) -> None:
        """Close the idle connections; busy ones close when their node ends."""
        self._closed = True
        failure: BaseException | None = None
        while self._idle:
            try:
                await self._idle.pop().close()
            except Exception as exc:  # noqa: BLE001 - close the others, then report
                failure = failure or exc
        if failure is not None:
            raise DatabaseError(self._redact(failure))

    @asynccontextmanager
    async def transaction(self, *, write: bool) -> AsyncIterator[_Session]:
        """A connection of the pool inside ``BEGIN`` ... ``COMMIT``/``ROLLBACK``."""
        async with self._slots:
            conn = self._idle.pop() if self._idle else await self._connect()
            try:
                try:
                    async with conn.transaction():
                        yield _Session(conn, self._redact)
                except psycopg.Error as exc:  # the commit (deferred constraints)
                    raise _error(exc, self._redact) from None
            finally:
                reusable = (
                    not self._closed
                    and not conn.closed
                    and conn.info.transaction_status is TransactionStatus.IDLE
                )
                if reusable:
                    self._idle.append(conn)
                else:
                    with anyio.CancelScope(shield=True):
                        await conn.close()

    def adapt_param(self, value: Value) -> object:
        """Objects bind as ``jsonb``; arrays of plain values as PostgreSQL arrays
        (``id = ANY({{ ids }})``), other arrays as ``jsonb``."""
        if isinstance(value, dict):
            return Jsonb(value)
        if isinstance(value, list | tuple):
            if any(isinstance(v, dict | list | tuple) for v in value):
                return Jsonb(list(value))
            return list(value)
        return value

    def adapt_column(self, value: Value, column: Column) -> object:
        """By the column's type: ``json``/``jsonb`` get JSON (text is read as JSON
        text), array columns get arrays, other columns get objects as JSON text."""
        if value is None:
            return None
        if column.type in ("json", "jsonb"):
            return value if isinstance(value, str) else Jsonb(value)
        if isinstance(value, list | tuple) and column.category == "A":
            return list(value)
        if isinstance(value, dict | list | tuple):
            return to_json(value)
        return value

    def column_type(self, sample: Value) -> str:
        """BOOLEAN, BIGINT, DOUBLE PRECISION, JSONB or TEXT."""
        if isinstance(sample, bool):
            return "BOOLEAN"
        if isinstance(sample, int):
            return "BIGINT"
        if isinstance(sample, float):
            return "DOUBLE PRECISION"
        if isinstance(sample, dict | list | tuple):
            return "JSONB"
        return "TEXT"


def _message(exc: psycopg.Error) -> str:
    """The server's message and detail (not the parameter values of its context)."""
    diag = exc.diag
    primary = diag.message_primary
    if not primary:
        return str(exc).strip() or type(exc).__name__
    detail = diag.message_detail
    return f"{primary} ({detail})" if detail else primary


def _error(exc: psycopg.Error, redact: Redactor) -> DatabaseError:
    state = exc.sqlstate or ""
    retryable = state.startswith(_RETRYABLE_CLASSES) or state in _RETRYABLE_CODES
    if isinstance(exc, psycopg.OperationalError) and not state:
        retryable = True  # the connection broke
    return DatabaseError(redact(_message(exc)), retryable=retryable)


class _Session:
    """Statements of one PostgreSQL transaction."""

    def __init__(
        self, conn: psycopg.AsyncConnection[tuple[object, ...]], redact: Redactor
    ) -> None:
        self._conn = conn
        self._redact = redact

    async def execute(self, sql: str, params: Sequence[object]) -> Result:
        """Run one statement; fetch its rows when it returns any."""
        try:
            async with self._conn.cursor() as cursor:
                await cursor.execute(sql, list(params))
                if cursor.description is None:
                    return Result(None, [], cursor.rowcount)
                columns = [c.name for c in cursor.description]
                rows = await cursor.fetchall()
                return Result(columns, list(rows), cursor.rowcount)
        except psycopg.Error as exc:
            raise _error(exc, self._redact) from None

    async def execute_many(self, sql: str, rows: Sequence[Sequence[object]]) -> int:
        """Run one statement per value row (pipelined by psycopg)."""
        try:
            async with self._conn.cursor() as cursor:
                await cursor.executemany(sql, [list(r) for r in rows])
                return max(cursor.rowcount, 0)
        except psycopg.Error as exc:
            raise _error(exc, self._redact) from None
