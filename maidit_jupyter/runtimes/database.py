"""``<source type="database">`` and ``<sink type="database">``: SQLite and PostgreSQL.

Connection strings (``connection``, a template)::

    sqlite:///abs/path.db       an absolute path
    sqlite:relative/path.db     relative to the flow's directory, and confined to it
    sqlite::memory:             one in-memory database shared by the nodes of a run
    postgresql://user:pass@host:port/db   (also postgres://)

The original's ``:memory:`` and ``file:path`` forms are read as SQLite too. A run opens
each database once (SQLite: one connection; PostgreSQL: a small pool, see
:mod:`.postgres_db`) and closes it when it ends. Each node runs in **one transaction**:
its rows are all written or none are.

Values never become SQL text (:mod:`.sql`): each ``{{ }}`` of a ``query`` (or of a
sink's ``where``) is bound as a parameter, as are ``params`` (``$1``, ``$2``; also
``?`` for SQLite). A ``{{ }}`` inside quotes or a comment is refused. A sink writes only
the columns its table has (the rows' keys are checked against the table), with
identifiers double-quoted; ``create="true"`` creates a missing table from the rows' keys.

Sink operations: ``insert`` (default; one multi-row ``INSERT`` per ``batch`` rows),
``upsert`` (``INSERT ... ON CONFLICT (conflictColumns) DO UPDATE``), ``update`` (``SET``
the row's other columns ``WHERE`` its ``conflictColumns`` match ``AND`` the ``where``
text, whose ``{{ }}`` see the row as ``$item``; with neither, as in the original and in
SQL, every row of the table). Rows may differ in keys: each writes its own columns.

Source output: a list of row objects. Sink output: ``{rowsAffected, batches}``. Errors:
``RUNTIME_INVALID_CONFIG``, ``RUNTIME_INVALID_INPUT``, ``ENOENT`` (a SQLite file that
is not there), ``DATABASE_CONNECTION_FAILED``, ``DATABASE_ERROR`` ("Query failed: ..." /
"Execute failed: ..."). No message ever holds the connection string's password.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from maidit_jupyter.errors import ExpressionError, NodeRuntimeError
from maidit_jupyter.expressions.scope import Scope
from maidit_jupyter.expressions.values import UNDEFINED, Value, to_string, truthy
from maidit_jupyter.runtimes.base import NodeContext, SettingError
from maidit_jupyter.runtimes.dbapi import (
    Column,
    Database,
    DatabaseError,
    Redactor,
    Session,
    to_value,
)
from maidit_jupyter.runtimes.files import resolve_path
from maidit_jupyter.runtimes.sql import (
    INVALID_CONFIG,
    ColumnSlot,
    Dialect,
    ExprSlot,
    ParamSlot,
    Slot,
    Sql,
    TableName,
    clip,
    compile_query,
    create_table,
    insert,
    parse_table,
    table_columns,
    update,
    upsert,
)

__all__ = ["DatabaseSink", "DatabaseSource", "Target", "parse_connection"]

INVALID_INPUT = "RUNTIME_INVALID_INPUT"
_MEMORY = frozenset(
    {":memory:", "sqlite::memory:", "sqlite://:memory:", "file::memory:"}
)
_DEFAULT_BATCH = 100
_OPERATIONS = ("insert", "upsert", "update")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a connection string points.

    :ivar key: the run resource's key (holds no password).
    :ivar shown: the string as messages show it (password masked).
    :ivar path: the SQLite file (None: in memory or PostgreSQL).
    """

    dialect: Dialect
    key: str
    shown: str
    redact: Redactor
    path: Path | None = None
    dsn: str | None = None


def _invalid(message: str) -> NodeRuntimeError:
    return NodeRuntimeError(message, code=INVALID_CONFIG)


def parse_connection(text: str, base_dir: Path) -> Target:
    """Read a connection string.

    Raises:
        NodeRuntimeError: ``RUNTIME_INVALID_CONFIG`` for an empty or unsupported string,
            ``RUNTIME_PATH_TRAVERSAL`` for a relative SQLite path leaving the flow's
            directory.
    """
    raw = text.strip()
    redact = Redactor(raw)
    if raw in _MEMORY:
        return Target(Dialect.SQLITE, "database:sqlite::memory:", raw, redact)
    scheme = raw.partition(":")[0].lower()
    if scheme in ("postgresql", "postgres") and raw[len(scheme) :].startswith("://"):
        digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        return Target(
            Dialect.POSTGRES,
            f"database:postgresql:{digest}",
            redact.connection(raw),
            redact,
            dsn=raw,
        )
    if scheme in ("sqlite", "file"):
        rest = raw[len(scheme) + 1 :]
        if rest.startswith("//"):
            rest = rest[2:]
            if not rest.startswith("/"):
                raise _invalid(
                    f"connection: {clip(redact.connection(raw))}: write "
                    "sqlite:///absolute/path.db (three "
                    "slashes), sqlite:relative/path.db or sqlite::memory:"
                )
        if not rest:
            raise _invalid("connection: the SQLite database path is empty")
        if "\0" in rest:
            raise _invalid("connection: the SQLite path holds a NUL character")
        # an absolute path is the flow's explicit choice; a relative one is confined
        path = (
            Path(os.path.realpath(rest))
            if rest.startswith("/")
            else resolve_path(rest, base_dir)
        )
        return Target(Dialect.SQLITE, f"database:sqlite:{path}", raw, redact, path=path)
    shown = redact.connection(raw) if "://" in raw else "(not shown)"
    raise _invalid(
        f"connection: unsupported connection string {shown}; use sqlite:path.db, "
        "sqlite:///absolute/path.db, sqlite::memory: or postgresql://user:pass@host/db"
    )


def _connection(ctx: NodeContext) -> Target:
    value = ctx.setting("connection")
    if value is UNDEFINED or value is None or not to_string(value).strip():
        raise _invalid(f'database {ctx.node.tag} "{ctx.node.id}" has no connection')
    return parse_connection(to_string(value), ctx.base_dir)


async def _open(ctx: NodeContext, target: Target, *, may_create: bool) -> Database:
    """The run's database for ``target``, opened the first time it is asked for."""
    if (
        target.path is not None
        and ctx.resources.peek(target.key) is None
        and not may_create
        and not target.path.exists()
    ):
        raise NodeRuntimeError(
            f"SQLite database not found: {target.path}", code="ENOENT"
        )

    async def open_() -> Database:
        if target.dialect is Dialect.SQLITE:
            from maidit_jupyter.runtimes.sqlite_db import SqliteDatabase

            path = ":memory:" if target.path is None else str(target.path)
            try:
                return await SqliteDatabase.open(path)
            except DatabaseError as exc:
                raise DatabaseError(
                    f"Cannot open {target.shown}: {target.redact(exc.message)}",
                    code="DATABASE_CONNECTION_FAILED",
                ) from None
        try:
            from maidit_jupyter.runtimes.postgres_db import PostgresDatabase
        except ImportError:  # pragma: no cover - the postgres extra is not installed
            raise _invalid(
                "PostgreSQL needs psycopg: pip install 'maidit_jupyter[postgres]'"
            ) from None
        assert target.dsn is not None
        return PostgresDatabase(target.dsn, target.redact, target.shown)

    async def close(database: Database) -> None:
        try:
            await database.aclose()
        except Exception as exc:  # noqa: BLE001 - RunResources logs; keep it redacted
            raise RuntimeError(target.redact(exc)) from None

    return await ctx.resources.get(target.key, open_, close)


# -- binding ------------------------------------------------------------------------------


def _plain(value: Value, where: str) -> Value:
    """A value that can be bound: undefined is NULL, functions are refused."""
    if value is UNDEFINED:
        return None
    if value is None or isinstance(value, str | int | float | bool | dict | list):
        return value
    if isinstance(value, tuple):
        return list(value)
    raise NodeRuntimeError(
        f"{where}: a {type(value).__name__} cannot be sent to a database",
        code=INVALID_INPUT,
    )


def _evaluate(
    ctx: NodeContext, slot: ExprSlot, raw: str, key: str, scope: Scope
) -> Value:
    """Evaluate one ``{{ }}`` of a query template (errors located in the template)."""
    try:
        return ctx.compiler.expression(slot.source).evaluate(scope, ctx.evaluator)
    except ExpressionError as exc:
        exc.expression = raw
        exc.start += slot.offset
        exc.end += slot.offset
        raise SettingError(exc, key) from None


def _params(ctx: NodeContext) -> list[Value]:
    """``params`` as the original reads it: a list as is; a string parsed as JSON
    (a non-list wrapped, unparsable text the one value); anything else wrapped."""
    value = ctx.setting("params", UNDEFINED)
    if value is UNDEFINED or value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return [value]
        return list(parsed) if isinstance(parsed, list) else [parsed]
    return [value]


def _raw_text(ctx: NodeContext, key: str) -> str | None:
    """A text setting as written (its templates not evaluated), or None."""
    raw = ctx.config.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _invalid(f"{key}: expected SQL text, got {type(raw).__name__}")
    return str(raw)


# -- source -------------------------------------------------------------------------------


class DatabaseSource:
    """Run a query; the output is the list of rows (objects by column name)."""

    async def run(self, ctx: NodeContext) -> Value:
        """Bind the query's ``{{ }}`` and ``params``, run it in one transaction."""
        target = _connection(ctx)
        raw = _raw_text(ctx, "query")
        if raw is None or not raw.strip():
            raise _invalid('Database source requires a "query" configuration')
        statement = compile_query(raw, target.dialect)
        params = _params(ctx)
        used: set[int] = set()
        values: list[Value] = []
        for slot in statement.slots:
            if isinstance(slot, ExprSlot):
                value = _evaluate(ctx, slot, raw, "query", ctx.scope)
                values.append(_plain(value, "query"))
            elif isinstance(slot, ParamSlot):
                if slot.index >= len(params):
                    raise _invalid(
                        f"query: placeholder {slot.index + 1} has no value; params "
                        f"holds {len(params)}"
                    )
                used.add(slot.index)
                values.append(_plain(params[slot.index], "params"))
        if len(used) < len(params):
            raise _invalid(
                f"params holds {len(params)} values but the query uses {len(used)} "
                "(write $1, $2, ... where they go)"
            )
        database = await _open(ctx, target, may_create=False)
        bound = [database.adapt_param(v) for v in values]
        try:
            async with database.transaction(write=False) as session:
                result = await session.execute(statement.render(target.dialect), bound)
        except DatabaseError as exc:
            raise _failed("Query failed", exc) from None
        columns = result.columns or []
        rows: list[Value] = [
            {name: to_value(cell) for name, cell in zip(columns, row, strict=True)}
            for row in result.rows
        ]
        ctx.meta["rows"] = len(rows)
        if result.columns is None:  # a statement that returns no rows
            ctx.meta["rowsAffected"] = max(result.rowcount, 0)
        return rows


def _failed(prefix: str, exc: DatabaseError) -> DatabaseError:
    if exc.code != "DATABASE_ERROR":
        return exc
    return DatabaseError(
        f"{prefix}: {exc.message}", code=exc.code, retryable=exc.retryable
    )


# -- sink ---------------------------------------------------------------------------------


def _rows(value: Value) -> list[dict[str, Value]]:
    """The input as rows: one object, or a list of objects."""
    items: Sequence[Value]
    if isinstance(value, dict):
        items = [value]
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise NodeRuntimeError(
            "Database sink input must be an object or array of objects",
            code=INVALID_INPUT,
        )
    rows: list[dict[str, Value]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise NodeRuntimeError(
                f"Database sink input item {index} is not an object",
                code=INVALID_INPUT,
            )
        rows.append(item)
    return rows


def _keys(ctx: NodeContext) -> list[str]:
    value = ctx.setting("conflictColumns", UNDEFINED)
    if value is UNDEFINED or value is None:
        return []
    parts: list[Value] = (
        list(value) if isinstance(value, list | tuple) else to_string(value).split(",")
    )
    return [k for k in (to_string(p).strip() for p in parts) if k]


def _batch(ctx: NodeContext) -> int:
    value = ctx.setting("batch", _DEFAULT_BATCH)
    try:
        size = int(to_string(value))
    except ValueError:
        size = 0
    if size < 1:
        raise _invalid(f"batch must be a whole number of at least 1, got {value!r}")
    return size


@dataclass(frozen=True, slots=True)
class _Plan:
    operation: str
    table: TableName
    keys: list[str]
    batch: int
    create: bool
    where: Sql | None
    where_raw: str


class DatabaseSink:
    """Write the input's rows into a table in one transaction."""

    async def run(self, ctx: NodeContext) -> Value:
        """Insert, upsert or update; the output is ``{rowsAffected, batches}``."""
        target = _connection(ctx)
        plan = self._plan(ctx, target.dialect)
        rows = _rows(ctx.input)
        if not rows:
            return {"rowsAffected": 0, "batches": 0}
        names = _column_order(rows)
        database = await _open(ctx, target, may_create=plan.create)
        try:
            async with database.transaction(write=True) as session:
                columns = await _table(session, database, plan, rows, names)
                missing = [
                    n for n in names if _find(columns, n, target.dialect) is None
                ]
                if missing:
                    raise NodeRuntimeError(
                        f"table {clip(plan.table)} has no column "
                        + ", ".join(clip(m) for m in missing[:5])
                        + " (its columns: "
                        + ", ".join(list(columns)[:20])
                        + ")",
                        code=INVALID_INPUT,
                    )
                writer = _Writer(ctx, session, database, plan, columns)
                return await writer.write(rows, names)
        except DatabaseError as exc:
            raise _failed("Execute failed", exc) from None

    def _plan(self, ctx: NodeContext, dialect: Dialect) -> _Plan:
        operation = to_string(ctx.setting("operation", "insert")).strip().lower()
        if operation not in _OPERATIONS:
            raise _invalid(f"Unknown database operation: {operation}")
        table_text = ctx.setting("table")
        if table_text is UNDEFINED or table_text is None:
            raise _invalid('Database sink requires a "table" configuration')
        keys = _keys(ctx)
        if operation == "upsert" and not keys:
            raise _invalid(
                'Upsert operation requires "conflictColumns" to be specified'
            )
        where_raw = _raw_text(ctx, "where") or ""
        where = None
        if where_raw.strip():
            if operation != "update":
                raise _invalid(f"where applies to update only, not to {operation}")
            where = compile_query(where_raw, dialect, "where")
            if any(isinstance(s, ParamSlot) for s in where.slots):
                raise _invalid(
                    "where: a sink has no params; write the values as {{ }} (they are "
                    "bound as parameters, with $item the row being written)"
                )
        return _Plan(
            operation=operation,
            table=parse_table(to_string(table_text)),
            keys=keys,
            batch=_batch(ctx),
            create=truthy(ctx.setting("create", False)),
            where=where,
            where_raw=where_raw,
        )


def _column_order(rows: Sequence[Mapping[str, Value]]) -> list[str]:
    """Every key of the rows, the first row's first, in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(str(key), None)
    return list(seen)


async def _table(
    session: Session,
    database: Database,
    plan: _Plan,
    rows: Sequence[Mapping[str, Value]],
    names: Sequence[str],
) -> dict[str, Column]:
    """The table's columns; with ``create``, a missing table is created first."""
    dialect = database.dialect
    query, params = table_columns(plan.table, dialect)
    found = await session.execute(query.render(dialect), params)
    columns = {
        str(r[0]): Column(str(r[1]).lower(), str(r[2] or "")) for r in found.rows
    }
    if columns:
        return columns
    if not plan.create:
        raise DatabaseError(
            f"table {clip(plan.table)} does not exist; create it first, or add "
            'create="true" to create it from the rows'
        )
    declared: list[tuple[str, str]] = []
    for name in names:
        sample = next((r[name] for r in rows if r.get(name) is not None), None)
        declared.append((name, database.column_type(sample)))
    statement = create_table(plan.table, declared, dialect)
    await session.execute(statement.render(dialect), [])
    return {n: Column(t.lower()) for n, t in declared}


class _Writer:
    """Writes rows by the plan, in runs of consecutive rows that have the same keys."""

    def __init__(
        self,
        ctx: NodeContext,
        session: Session,
        database: Database,
        plan: _Plan,
        columns: Mapping[str, Column],
    ) -> None:
        self.ctx = ctx
        self.session = session
        self.db = database
        self.plan = plan
        self.columns = columns
        self.dialect = database.dialect
        self.affected = 0
        self.batches = 0

    async def write(self, rows: list[dict[str, Value]], names: list[str]) -> Value:
        start = 0
        while start < len(rows):
            shape = _shape(rows[start], names)
            end = start + 1
            while end < len(rows) and _shape(rows[end], names) == shape:
                end += 1
            if not shape:
                raise NodeRuntimeError(
                    f"Database sink input item {start} has no columns",
                    code=INVALID_INPUT,
                )
            await self._run(rows, start, end, shape)
            start = end
        return {"rowsAffected": self.affected, "batches": self.batches}

    async def _run(
        self, rows: list[dict[str, Value]], start: int, end: int, shape: list[str]
    ) -> None:
        plan = self.plan
        missing_keys = [k for k in plan.keys if k not in shape]
        if missing_keys and plan.operation != "insert":
            raise NodeRuntimeError(
                f"Database sink input item {start} has no value for the key column(s) "
                + ", ".join(clip(k) for k in missing_keys),
                code=INVALID_INPUT,
            )
        if plan.operation == "insert":
            # one multi-row INSERT per batch (within the driver's limit of values)
            per_statement = max(1, min(plan.batch, self.db.max_params // len(shape)))
            one_row = insert(plan.table, shape, 1, self.dialect).slots
            for first in range(start, end, per_statement):
                last = min(first + per_statement, end)
                statement = insert(plan.table, shape, last - first, self.dialect)
                values = [
                    value
                    for index in range(first, last)
                    for value in self._bind(one_row, rows[index], index)
                ]
                text = statement.render(self.dialect)
                result = await self.session.execute(text, values)
                self.affected += max(result.rowcount, 0)
                self.batches += 1
            return
        if plan.operation == "upsert":
            statement = upsert(plan.table, shape, plan.keys, self.dialect)
        else:
            settable = [c for c in shape if c not in plan.keys]
            if not settable:
                raise NodeRuntimeError(
                    f"Database sink input item {start} has nothing to update besides "
                    "its key column(s)",
                    code=INVALID_INPUT,
                )
            statement = update(
                plan.table, settable, plan.keys, plan.where, self.dialect
            )
        text = statement.render(self.dialect)
        for first in range(start, end, plan.batch):
            last = min(first + plan.batch, end)
            value_rows = [
                self._bind(statement.slots, rows[index], index)
                for index in range(first, last)
            ]
            self.affected += await self.session.execute_many(text, value_rows)
            self.batches += 1

    def _bind(
        self, slots: Sequence[Slot], row: Mapping[str, Value], index: int
    ) -> list[object]:
        """The values of ``slots`` for ``row``: its columns, and the ``where``
        templates evaluated with ``$item`` the row and ``$index`` its position."""
        scope: Scope | None = None
        values: list[object] = []
        for slot in slots:
            if isinstance(slot, ColumnSlot):
                value = _plain(row.get(slot.name), f"column {clip(slot.name)}")
                column = _find(self.columns, slot.name, self.dialect) or Column("")
                values.append(self.db.adapt_column(value, column))
            elif isinstance(slot, ExprSlot):
                if scope is None:
                    scope = self.ctx.scope.child(**{"$item": row, "$index": index})
                value = _evaluate(self.ctx, slot, self.plan.where_raw, "where", scope)
                values.append(self.db.adapt_param(_plain(value, "where")))
            else:  # pragma: no cover - _plan refuses params in a sink
                raise _invalid("a sink has no params")
        return values


def _find(columns: Mapping[str, Column], name: str, dialect: Dialect) -> Column | None:
    """A column by name; for SQLite in any case (SQLite matches names so)."""
    found = columns.get(name)
    if found is None and dialect is Dialect.SQLITE:
        folded = name.casefold()
        found = next((c for n, c in columns.items() if n.casefold() == folded), None)
    return found


def _shape(row: Mapping[str, Value], names: Sequence[str]) -> list[str]:
    """The row's columns, in the order of ``names``."""
    return [n for n in names if n in row]
