"""SQLite through the standard library's ``sqlite3``, off the event loop.

One connection per database per run (an in-memory database is therefore shared by the
nodes of a run). Transactions are serialised by a lock, one node at a time: SQLite has
one writer anyway, and a node's statements must not mix with another node's. Every
call runs in a worker thread; when the node is cancelled (a timeout, Ctrl-C) the running
statement is interrupted (``sqlite3.Connection.interrupt``), the thread is waited for,
and the transaction is rolled back before the lock is released.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import TypeVar

import anyio

from maidit_jupyter.expressions.values import Value, to_json
from maidit_jupyter.runtimes.dbapi import Column, DatabaseError, Result
from maidit_jupyter.runtimes.sql import Dialect

__all__ = ["SqliteDatabase"]

T = TypeVar("T")

#: seconds a statement waits for another connection's write lock.
_BUSY_TIMEOUT = 5.0
_DRIVER_ERRORS = (sqlite3.Error, ValueError, OverflowError)


class _Skipped(Exception):
    """A call cancelled before its thread started."""


def _error(exc: BaseException) -> DatabaseError:
    message = str(exc) or type(exc).__name__
    busy = isinstance(exc, sqlite3.OperationalError) and (
        "locked" in message or "busy" in message
    )
    return DatabaseError(message, retryable=busy)


class SqliteDatabase:
    """One SQLite connection of a run."""

    dialect = Dialect.SQLITE
    #: SQLite's historical default limit of variables per statement (newer builds
    #: allow more; this one works everywhere).
    max_params = 999

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._lock = anyio.Lock()

    @classmethod
    async def open(cls, path: str) -> SqliteDatabase:
        """Open ``path`` (``:memory:`` for a new in-memory database)."""

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(
                path,
                timeout=_BUSY_TIMEOUT,
                isolation_level=None,  # transactions are begun and ended here
                check_same_thread=False,  # used by one worker thread at a time
            )

        try:
            connection = await anyio.to_thread.run_sync(connect)
        except _DRIVER_ERRORS as exc:
            raise _error(exc) from None
        return cls(connection)

    async def aclose(self) -> None:
        """Close the connection (after the running transaction, if any)."""
        async with self._lock:
            await anyio.to_thread.run_sync(self._conn.close)

    async def call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(connection)`` in a worker thread; interrupt it when cancelled."""
        state = threading.Lock()
        finished = threading.Event()
        flags = {"started": False, "cancelled": False}
        connection = self._conn

        def run() -> T:
            with state:
                if flags["cancelled"]:
                    raise _Skipped
                flags["started"] = True
            try:
                return work(connection)
            finally:
                finished.set()

        try:
            return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            with state:
                flags["cancelled"] = True
                started = flags["started"]
            if started:
                connection.interrupt()
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(finished.wait)
            raise

    @asynccontextmanager
    async def transaction(self, *, write: bool) -> AsyncIterator[_Session]:
        """One transaction (``BEGIN IMMEDIATE`` for writes: the write lock up front)."""
        begin = "BEGIN IMMEDIATE" if write else "BEGIN"
        async with self._lock:
            try:
                await self.call(lambda c: c.execute(begin))
            except _DRIVER_ERRORS as exc:
                raise _error(exc) from None
            try:
                yield _Session(self)
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await self.call(_rollback)
                raise
            try:
                await self.call(lambda c: c.commit())
            except _DRIVER_ERRORS as exc:
                with anyio.CancelScope(shield=True):
                    await self.call(_rollback)
                raise _error(exc) from None

    def adapt_param(self, value: Value) -> object:
        """Objects and arrays are bound as JSON text (``json_each`` reads them)."""
        if isinstance(value, dict | list | tuple):
            return to_json(value)
        return _scalar(value)

    def adapt_column(self, value: Value, column: Column) -> object:
        """Objects and arrays are stored as JSON text."""
        return self.adapt_param(value)

    def column_type(self, sample: Value) -> str:
        """INTEGER, REAL, TEXT, or no type (any value) for a column of nulls."""
        if isinstance(sample, bool | int):
            return "INTEGER"
        if isinstance(sample, float):
            return "REAL"
        if sample is None:
            return ""
        return "TEXT"


def _scalar(value: Value) -> object:
    if value is None or isinstance(value, str | int | float):
        return value
    if not isinstance(value, dict | list | tuple):
        # undefined (a missing value) is NULL; nothing else reaches here
        return None
    return to_json(value)


def _rollback(connection: sqlite3.Connection) -> None:
    # nothing to roll back, or the connection is gone: the error that got us here is
    # the one to report
    with suppress(sqlite3.Error):
        connection.rollback()


class _Session:
    """Statements of one SQLite transaction."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def execute(self, sql: str, params: Sequence[object]) -> Result:
        """Run one statement; fetch its rows when it returns any."""

        def work(connection: sqlite3.Connection) -> Result:
            cursor = connection.execute(sql, tuple(params))
            try:
                if cursor.description is None:
                    return Result(None, [], cursor.rowcount)
                columns = [d[0] for d in cursor.description]
                return Result(columns, cursor.fetchall(), cursor.rowcount)
            finally:
                cursor.close()

        try:
            return await self._db.call(work)
        except _DRIVER_ERRORS as exc:
            raise _error(exc) from None

    async def execute_many(self, sql: str, rows: Sequence[Sequence[object]]) -> int:
        """Run one statement per value row."""

        def work(connection: sqlite3.Connection) -> int:
            cursor = connection.executemany(sql, [tuple(r) for r in rows])
            try:
                return max(cursor.rowcount, 0)
            finally:
                cursor.close()

        try:
            return await self._db.call(work)
        except _DRIVER_ERRORS as exc:
            raise _error(exc) from None
