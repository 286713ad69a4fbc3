"""Helpers of the database tests: flows on disk, and the two databases under test.

A :class:`Backend` is a database the flows write to (``connection`` goes into the flow)
and the test inspects directly: a SQLite file beside the flow, or a schema of its own
on the session's PostgreSQL server (the DSN sets ``search_path`` to it, so flows use
plain table names).
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import maidit_jupyter
from maidit_jupyter.execution.flow_run import FlowRun
from tests.pg_server import PgServer

__all__ = ["Backend", "backend_for", "run", "write_flow"]


def write_flow(
    directory: Path, body: str, *, frontmatter: str = "", name: str = "db"
) -> Path:
    """Write a flow whose workflow is ``body``; return its path."""
    path = directory / f"{name}.flow.md"
    path.write_text(
        f"---\nname: {name}\nversion: 1.0.0\n{frontmatter}---\n<workflow>\n{body}\n"
        "</workflow>\n",
        encoding="utf-8",
    )
    return path


def run(path: Path, **options: Any) -> FlowRun:
    """Run a flow without writing a checkpoint."""
    options.setdefault("checkpoint", False)
    return maidit_jupyter.run_sync(path, **options)


class Backend:
    """A database the flows of one test use."""

    name: str
    #: what a flow's ``connection`` holds.
    connection: str

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one statement outside any flow; return its rows."""
        raise NotImplementedError

    def schema(self) -> str:
        """A description of every table, column, index and constraint."""
        raise NotImplementedError

    def schema_hash(self) -> str:
        """A hash of :meth:`schema`."""
        return hashlib.sha256(self.schema().encode()).hexdigest()

    def close(self) -> None:
        """Release what the backend holds."""


class SqliteBackend(Backend):
    """A SQLite file beside the flow, named relative to it."""

    name = "sqlite"

    def __init__(self, directory: Path) -> None:
        self.path = directory / "data.db"
        self.connection = "sqlite:data.db"
        self._conn = sqlite3.connect(self.path, isolation_level=None)

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql.replace("%s", "?"), tuple(params)).fetchall()

    def schema(self) -> str:
        rows = self._conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        databases = self._conn.execute("PRAGMA database_list").fetchall()
        return repr((rows, [d[1] for d in databases]))

    def close(self) -> None:
        self._conn.close()


class PostgresBackend(Backend):
    """A fresh schema on the session's server, first on the DSN's search path."""

    name = "postgres"

    def __init__(self, server: PgServer) -> None:
        import psycopg

        self.server = server
        self.schema_name = "t_" + uuid.uuid4().hex[:12]
        self._conn = psycopg.connect(server.dsn, autocommit=True)
        self._conn.execute(f'CREATE SCHEMA "{self.schema_name}"')
        self._conn.execute(f'SET search_path TO "{self.schema_name}"')
        self.connection = server.dsn + f"?options=-csearch_path%3D{self.schema_name}"

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cursor:
            cursor.execute(sql, list(params) if params else None)
            return cursor.fetchall() if cursor.description else []

    def schema(self) -> str:
        tables = self.execute(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2"
        )
        columns = self.execute(
            "SELECT table_schema, table_name, column_name, data_type, is_nullable, "
            "column_default FROM information_schema.columns "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "ORDER BY 1, 2, 3"
        )
        constraints = self.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace NOT IN ('pg_catalog'::regnamespace, "
            "'information_schema'::regnamespace) ORDER BY 1"
        )
        roles = self.execute("SELECT rolname, rolsuper FROM pg_roles ORDER BY 1")
        return repr((tables, columns, constraints, roles))

    def close(self) -> None:
        try:
            self._conn.execute(f'DROP SCHEMA "{self.schema_name}" CASCADE')
        finally:
            self._conn.close()


def backend_for(
    name: str, directory: Path, request: pytest.FixtureRequest
) -> Iterator[Backend]:
    """The backend ``name`` for a test (the server only when PostgreSQL is asked)."""
    backend: Backend
    if name == "sqlite":
        backend = SqliteBackend(directory)
    else:
        backend = PostgresBackend(request.getfixturevalue("postgres_server"))
    try:
        yield backend
    finally:
        backend.close()
