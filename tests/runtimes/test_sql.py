"""The SQL text of the database runtimes: query templates, names, statements, and
keeping a connection string's password out of messages."""

from __future__ import annotations

import pytest

from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.runtimes.dbapi import Redactor
from maidit_jupyter.runtimes.sql import (
    ColumnSlot,
    Dialect,
    ExprSlot,
    ParamSlot,
    TableName,
    compile_query,
    create_table,
    insert,
    parse_table,
    quote_identifier,
    update,
    upsert,
)

SQLITE, PG = Dialect.SQLITE, Dialect.POSTGRES


@pytest.mark.parametrize(
    ("dialect", "query", "text", "slots"),
    [
        (SQLITE, "SELECT 1", "SELECT 1", []),
        (
            SQLITE,
            "SELECT * FROM t WHERE a = {{ x }} AND b = {{y}}",
            "SELECT * FROM t WHERE a = ? AND b = ?",
            [ExprSlot("x", 29), ExprSlot("y", 44)],
        ),
        (
            PG,
            "SELECT * FROM t WHERE a = {{ x }} AND b LIKE 'a%'",
            "SELECT * FROM t WHERE a = %s AND b LIKE 'a%%'",
            [ExprSlot("x", 29)],
        ),
        (
            PG,
            "SELECT $2, $1, $2",
            "SELECT %s, %s, %s",
            [ParamSlot(1), ParamSlot(0), ParamSlot(1)],
        ),
        (
            SQLITE,
            "SELECT ?, ?5, ?, $1",
            "SELECT ?, ?, ?, ?",
            [ParamSlot(0), ParamSlot(4), ParamSlot(5), ParamSlot(0)],
        ),
        (PG, "SELECT j ? 'k', a$1 FROM t", "SELECT j ? 'k', a$1 FROM t", []),
        (SQLITE, "SELECT '?', \"?\", [?], `?`", "SELECT '?', \"?\", [?], `?`", []),
        (PG, "SELECT 'it''s', {{ x }}", "SELECT 'it''s', %s", [ExprSlot("x", 19)]),
        (PG, "SELECT E'\\'', {{ x }}", "SELECT E'\\'', %s", [ExprSlot("x", 17)]),
        (PG, "SELECT $$ ' $$, {{ x }}", "SELECT $$ ' $$, %s", [ExprSlot("x", 19)]),
        (PG, "SELECT $a$ $$ ' $a$, $1", "SELECT $a$ $$ ' $a$, %s", [ParamSlot(0)]),
        (
            PG,
            "SELECT /* /* */ ' */ {{ x }}",
            "SELECT /* /* */ ' */ %s",
            [ExprSlot("x", 24)],
        ),
        (
            SQLITE,
            "SELECT 1 -- it's\n, {{ x }}",
            "SELECT 1 -- it's\n, ?",
            [ExprSlot("x", 22)],
        ),
        (SQLITE, "SELECT '\\{{ x }}'", "SELECT '{{ x }}'", []),
        (
            SQLITE,
            "SELECT {{ x }}, (\n{{ y }})",
            "SELECT ?, (\n?)",
            [ExprSlot("x", 10), ExprSlot("y", 21)],
        ),
    ],
)
def test_compile_query(
    dialect: Dialect, query: str, text: str, slots: list[object]
) -> None:
    statement = compile_query(query, dialect)
    assert statement.render(dialect) == text
    assert list(statement.slots) == slots
    for slot in statement.slots:
        if isinstance(slot, ExprSlot):
            assert query[slot.offset : slot.offset + len(slot.source)] == slot.source


@pytest.mark.parametrize(
    ("dialect", "query", "expected"),
    [
        (SQLITE, "SELECT '{{ x }}'", "inside a quoted SQL string"),
        (SQLITE, "SELECT 'a' || '{{ x }}'", "inside a quoted SQL string"),
        (PG, "SELECT 'it''s {{ x }}'", "inside a quoted SQL string"),
        (PG, "SELECT E'\\' {{ x }}'", "inside a quoted SQL string"),
        (PG, "SELECT $$ {{ x }} $$", "inside a dollar-quoted SQL string"),
        (PG, "SELECT $q$ $$ {{ x }} $q$", "inside a dollar-quoted SQL string"),
        (SQLITE, 'SELECT "{{ x }}"', "inside a quoted SQL identifier"),
        (SQLITE, "SELECT [{{ x }}]", "inside a quoted SQL identifier"),
        (SQLITE, "SELECT `{{ x }}`", "inside a quoted SQL identifier"),
        (SQLITE, "SELECT 1 -- {{ x }}", "inside an SQL comment"),
        (PG, "SELECT 1 /* /* */ {{ x }} */", "inside an SQL /* comment */"),
        (SQLITE, "SELECT * FROM t{{ x }}", "touches a name"),
        (SQLITE, "SELECT {{ x }}1", "touches a name"),
        (PG, "SELECT $0", "$0 is not a parameter"),
        (SQLITE, "SELECT ?0", "?0 is not a parameter"),
    ],
)
def test_misplaced_templates_are_refused(
    dialect: Dialect, query: str, expected: str
) -> None:
    with pytest.raises(NodeRuntimeError) as info:
        compile_query(query, dialect)
    assert info.value.code == "RUNTIME_INVALID_CONFIG"
    assert expected in info.value.message


def test_a_refusal_says_how_to_fix_it() -> None:
    with pytest.raises(NodeRuntimeError) as info:
        compile_query("SELECT * FROM t WHERE name LIKE '%{{ q }}%'", SQLITE)
    assert info.value.message == (
        "query: {{ q }} is inside a quoted SQL string. A {{ }} in a query is sent to "
        "the database as a bound parameter, never pasted into the SQL text, so it "
        "cannot sit inside quotes: remove the quotes around it (name = {{ x }}), and "
        "build patterns in the expression (name LIKE {{ '%' + x + '%' }})"
    )


@pytest.mark.parametrize(
    ("text", "table"),
    [
        ("people", TableName("people")),
        (" public.people ", TableName("people", "public")),
        ('"My Table"', TableName("My Table")),
        ('"s"."a.b"', TableName("a.b", "s")),
        ('"we""ird"', TableName('we"ird')),
        ("'; DROP TABLE x; --", None),
        ("a.b.c", None),
        ("a b", None),
        ("", None),
        ("a\x00", None),
    ],
)
def test_parse_table(text: str, table: TableName | None) -> None:
    if table is None:
        with pytest.raises(NodeRuntimeError):
            parse_table(text)
    else:
        assert parse_table(text) == table


def test_quote_identifier() -> None:
    assert quote_identifier('a"; DROP TABLE t; --', SQLITE) == '"a""; DROP TABLE t; --"'
    assert quote_identifier("x" * 100, SQLITE) == '"' + "x" * 100 + '"'
    for bad in ("", "a\x00b"):
        with pytest.raises(NodeRuntimeError):
            quote_identifier(bad, SQLITE)
    with pytest.raises(NodeRuntimeError, match="63 bytes"):
        quote_identifier("é" * 32, PG)


def test_statements() -> None:
    table = TableName("t", "s")
    statement = insert(table, ["a", 'b"'], 2, PG)
    assert statement.render(PG) == (
        'INSERT INTO "s"."t" ("a", "b""") VALUES (%s, %s), (%s, %s)'
    )
    assert statement.slots == (ColumnSlot("a"), ColumnSlot('b"')) * 2
    assert upsert(TableName("t"), ["id", "v"], ["id"], SQLITE).render(SQLITE) == (
        'INSERT INTO "t" ("id", "v") VALUES (?, ?) ON CONFLICT ("id") '
        'DO UPDATE SET "v" = excluded."v"'
    )
    assert upsert(TableName("t"), ["id"], ["id"], SQLITE).render(SQLITE) == (
        'INSERT INTO "t" ("id") VALUES (?) ON CONFLICT ("id") DO NOTHING'
    )
    where = compile_query("v > {{ $item.min }}", PG, "where")
    changed = update(TableName("t"), ["v%"], ["id"], where, PG)
    assert changed.render(PG) == (
        'UPDATE "t" SET "v%%" = %s WHERE "id" = %s AND (v > %s)'
    )
    assert changed.slots == (
        ColumnSlot("v%"),
        ColumnSlot("id"),
        ExprSlot("$item.min", 7),
    )
    assert (
        create_table(TableName("t"), [("a", "TEXT"), ("b", "")], SQLITE).render(SQLITE)
        == 'CREATE TABLE IF NOT EXISTS "t" ("a" TEXT, "b")'
    )
    with pytest.raises(ValueError, match="not a column type"):
        create_table(TableName("t"), [("a", "TEXT); DROP TABLE t; --")], SQLITE)


@pytest.mark.parametrize(
    ("dsn", "secret", "shown"),
    [
        (
            "postgresql://app:s3cr%40t%2F@db:5432/x",
            "s3cr@t/",
            "postgresql://app:***@db:5432/x",
        ),
        ("postgresql://app:ab@db/x", "ab", "postgresql://app:***@db/x"),
        (
            "postgres://app@db/x?sslmode=require&password=Hunter22",
            "Hunter22",
            "postgres://app@db/x?sslmode=require&password=***",
        ),
        ("postgresql://db/x", None, "postgresql://db/x"),
    ],
)
def test_redactor(dsn: str, secret: str | None, shown: str) -> None:
    redact = Redactor(dsn)
    assert redact.connection(dsn) == shown
    if secret is not None:
        message = f"failed for {dsn} with {secret} and {secret.encode().hex()}"
        cleaned = redact(message)
        assert secret not in cleaned
        assert dsn not in cleaned
        from urllib.parse import quote

        assert quote(secret, safe="") not in redact(quote(secret, safe=""))
