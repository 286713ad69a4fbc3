"""Database source and sink through real flows, on SQLite and on a real PostgreSQL.

Every test marked with the ``backend`` fixture runs twice: against a SQLite file beside
the flow and against a schema of its own on the session's PostgreSQL server.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from maidit_jupyter.execution.state import RunStatus
from tests.pg_server import PASSWORD, PgServer
from tests.runtimes.db_helpers import Backend, backend_for, run, write_flow


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from backend_for(request.param, tmp_path, request)


def people(backend: Backend) -> None:
    backend.execute(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "age INTEGER, city TEXT, UNIQUE (name, city))"
    )
    for row in [(1, "ann", 31, "oslo"), (2, "bob", 20, "rome"), (3, "cy", 45, "oslo")]:
        backend.execute(
            "INSERT INTO people (id, name, age, city) VALUES (%s, %s, %s, %s)", row
        )


def error_of(flow_run: object, node: str) -> tuple[str, str]:
    result = flow_run.results[node]  # type: ignore[attr-defined]
    assert result.error is not None, result
    return result.error.code, result.error.message


# -- SQLite connection strings -----------------------------------------------------------


def test_sqlite_absolute_and_relative_paths(tmp_path: Path) -> None:
    """``sqlite:///abs`` and ``sqlite:rel`` (relative to the flow's directory)."""
    absolute = tmp_path / "abs.db"
    (tmp_path / "sub").mkdir()
    relative = tmp_path / "sub" / "rel.db"
    for path in (absolute, relative):
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE t (v TEXT)")
            conn.execute("INSERT INTO t VALUES (?)", (path.name,))
        conn.close()
    flow = write_flow(
        tmp_path,
        f'<source id="a" type="database" connection="sqlite://{absolute}" '
        'query="SELECT v FROM t"/>\n'
        '<source id="r" type="database" connection="sqlite:sub/rel.db" '
        'query="SELECT v FROM t"/>',
    )
    flow_run = run(flow)
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results
    assert flow_run.outputs["a"] == [{"v": "abs.db"}]
    assert flow_run.outputs["r"] == [{"v": "rel.db"}]


def test_memory_database_is_shared_by_the_nodes_of_one_run(tmp_path: Path) -> None:
    """``sqlite::memory:``: one database per run, seen by every node of that run."""
    flow = write_flow(
        tmp_path,
        '<sink id="save" type="database" connection="sqlite::memory:" table="t" '
        'create="true"/>\n'
        '<source id="read" type="database" input="save" connection="sqlite::memory:" '
        'query="SELECT id, name FROM t ORDER BY id"/>',
    )
    rows = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    first = run(flow, workflow_input=rows)
    assert first.status is RunStatus.COMPLETED, first.results
    assert first.outputs["save"] == {"rowsAffected": 2, "batches": 1}
    assert first.outputs["read"] == rows
    # a new run has a new, empty in-memory database
    second = write_flow(
        tmp_path,
        '<source id="read" type="database" connection="sqlite::memory:" '
        'query="SELECT * FROM t"/>',
        name="second",
    )
    code, message = error_of(run(second), "read")
    assert code == "DATABASE_ERROR"
    assert message == "Query failed: no such table: t"


def test_a_relative_sqlite_path_stays_in_the_flow_directory(tmp_path: Path) -> None:
    flow_dir = tmp_path / "flow"
    flow_dir.mkdir()
    flow = write_flow(
        flow_dir,
        '<sink id="s" type="database" connection="sqlite:../escape.db" table="t" '
        'create="true"/>',
    )
    code, _ = error_of(run(flow, workflow_input={"a": 1}), "s")
    assert code == "RUNTIME_PATH_TRAVERSAL"
    assert not (tmp_path / "escape.db").exists()


def test_a_missing_sqlite_file_is_not_created_by_a_source(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path,
        '<source id="q" type="database" connection="sqlite:nope.db" query="SELECT 1"/>',
    )
    code, message = error_of(run(flow), "q")
    assert code == "ENOENT"
    assert "nope.db" in message
    assert not (tmp_path / "nope.db").exists()


@pytest.mark.parametrize(
    "connection",
    ["mysql://u:hunter2@h/db", "sqlite://rel.db", "sqlite:", "odbc:hunter2"],
)
def test_unsupported_connection_strings(tmp_path: Path, connection: str) -> None:
    flow = write_flow(
        tmp_path,
        f'<source id="q" type="database" connection="{connection}" query="SELECT 1"/>',
    )
    code, message = error_of(run(flow), "q")
    assert code == "RUNTIME_INVALID_CONFIG"
    assert "hunter2" not in message


# -- sources --------------------------------------------------------------------------------


def test_templated_values_are_bound(backend: Backend, tmp_path: Path) -> None:
    """``{{ $input.id }}`` and ``{{ input.city }}`` are parameters, typed."""
    people(backend)
    flow = write_flow(
        tmp_path,
        f'<source id="q" type="database" connection="{backend.connection}">\n'
        "  <query>SELECT id, name FROM people WHERE age >= {{ $input.age }} AND "
        "city = {{ $input.city }} ORDER BY id</query>\n</source>",
    )
    flow_run = run(flow, workflow_input={"age": 30, "city": "oslo"})
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results
    assert flow_run.outputs["q"] == [{"id": 1, "name": "ann"}, {"id": 3, "name": "cy"}]
    assert flow_run.results["q"].meta == {"rows": 2}


def test_params_fill_dollar_placeholders(backend: Backend, tmp_path: Path) -> None:
    """``params`` (a YAML list, a JSON string, a lone template) fill ``$1``, ``$2``;
    a placeholder may repeat, and templates and params mix."""
    people(backend)
    connection = backend.connection
    flow = write_flow(
        tmp_path,
        f'<source id="a" type="database" connection="{connection}">\n'
        "  <query>SELECT name FROM people WHERE city = $2 AND age > $1 ORDER BY id"
        "</query>\n  <params>\n    - 25\n    - oslo\n  </params>\n</source>\n"
        f'<source id="b" type="database" connection="{connection}" '
        'params=\'["rome"]\' query="SELECT name FROM people WHERE city = $1 OR '
        'name = $1"/>\n'
        f'<source id="c" type="database" connection="{connection}" '
        'params="{{ [$input.min] }}">\n'
        "  <query>SELECT count(*) AS n FROM people WHERE age > $1 AND city = "
        "{{ $input.city }}</query>\n</source>",
    )
    flow_run = run(flow, workflow_input={"min": 40, "city": "oslo"})
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results
    assert flow_run.outputs["a"] == [{"name": "ann"}, {"name": "cy"}]
    assert flow_run.outputs["b"] == [{"name": "bob"}]
    assert flow_run.outputs["c"] == [{"n": 1}]


def test_sqlite_question_mark_placeholders(tmp_path: Path) -> None:
    """SQLite's ``?`` and ``?N`` work as well as ``$N``; a ``?`` in a string is text."""
    flow = write_flow(
        tmp_path,
        '<source id="q" type="database" connection="sqlite::memory:" '
        'params=\'[1, "two", 3]\' query="SELECT ? AS a, ?3 AS c, ?2 AS b, '
        "'?' AS lit, $1 AS again\"/>",
    )
    flow_run = run(flow)
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results
    assert flow_run.outputs["q"] == [
        {"a": 1, "c": 3, "b": "two", "lit": "?", "again": 1}
    ]


def test_params_must_match_the_placeholders(backend: Backend, tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path,
        f'<source id="few" type="database" connection="{backend.connection}" '
        "params='[1]' query=\"SELECT $1 AS a, $2 AS b\"/>\n"
        f'<source id="many" type="database" connection="{backend.connection}" '
        "params='[1, 2]' query=\"SELECT $1 AS a\"/>",
    )
    flow_run = run(flow, keep_going=True)
    assert error_of(flow_run, "few") == (
        "RUNTIME_INVALID_CONFIG",
        "query: placeholder 2 has no value; params holds 1",
    )
    code, message = error_of(flow_run, "many")
    assert code == "RUNTIME_INVALID_CONFIG"
    assert "params holds 2 values but the query uses 1" in message


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT * FROM people WHERE name = '{{ $input.name }}'", "remove the quotes"),
        ("SELECT * FROM people WHERE name LIKE '%{{ $input.name }}%'", "LIKE"),
        ('SELECT "{{ $input.name }}" FROM people', "quoted SQL identifier"),
        ("SELECT 1 -- {{ $input.name }}", "SQL comment"),
        ("SELECT 1 /* {{ $input.name }} */", "SQL /* comment */"),
        ("SELECT * FROM people_{{ $input.name }}", "touches a name"),
    ],
)
def test_templates_in_quotes_or_comments_are_refused(
    backend: Backend, tmp_path: Path, query: str, expected: str
) -> None:
    """Nothing is pasted into SQL text: a misplaced ``{{ }}`` is a clear error."""
    people(backend)
    flow = write_flow(
        tmp_path,
        f'<source id="q" type="database" connection="{backend.connection}">\n'
        f"  <query>{query}</query>\n</source>",
    )
    code, message = error_of(run(flow, workflow_input={"name": "ann"}), "q")
    assert code == "RUNTIME_INVALID_CONFIG"
    assert message.startswith("query: {{ $input.name }} ")
    assert expected in message


def test_dollar_quotes_and_escaped_strings(
    postgres_server: PgServer, tmp_path: Path
) -> None:
    """PostgreSQL's ``$$...$$``, ``E'\\''`` and ``'it''s'`` are followed; ``%`` works."""
    flow = write_flow(
        tmp_path,
        f'<source id="q" type="database" connection="{postgres_server.dsn}">\n'
        "  <query>SELECT $$a {{ b }} $1$$ AS d, E'x\\'y' AS e, 'it''s' AS s, "
        "'50%' AS p, {{ $input.v }}::text AS v, $tag$ $$ $tag$ AS t</query>\n"
        "</source>",
    )
    flow_run = run(flow, workflow_input={"v": "bound"})
    # the {{ b }} inside $$...$$ is refused like any quoted template
    code, message = error_of(flow_run, "q")
    assert code == "RUNTIME_INVALID_CONFIG"
    assert "dollar-quoted" in message
    flow.write_text(flow.read_text().replace("{{ b }}", "\\{{ b }}"))
    flow_run = run(flow, workflow_input={"v": "bound"})
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results
    assert flow_run.outputs["q"] == [
        {
            "d": "a {{ b }} $1",
            "e": "x'y",
            "s": "it's",
            "p": "50%",
            "v": "bound",
            "t": " $$ ",
        }
    ]


def test_postgres_values_come_back_as_plain_data(
    postgres_server: PgServer, tmp_path: Path
) -> None:
    flow = write_flow(
        tmp_path,
        f'<source id="q" type="database" connection="{postgres_server.dsn}">\n'
        "  <query>SELECT 1.50::numeric AS n, 2::numeric AS whole, "
        "DATE '2024-01-02' AS d, TIMESTAMPTZ '2024-01-02 03:04:05+00' AS ts, "
        "'{\"a\": [1, 2]}'::jsonb AS j, ARRAY[1, 2] AS arr, '\\xdead'::bytea AS b, "
        "'00000000-0000-0000-0000-000000000001'::uuid AS u, "
        "3 = ANY({{ $input.ids }}) AS has, {{ $input.doc }}->>'k' AS k</query>\n"
        "</source>",
    )
    flow_run = run(flow, workflow_input={"ids": [1, 3], "doc": {"k": "v"}})
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results
    assert flow_run.outputs["q"] == [
        {
            "n": 1.5,
            "whole": 2,
            "d": "2024-01-02",
            "ts": "2024-01-02T03:04:05+00:00",
            "j": {"a": [1, 2]},
            "arr": [1, 2],
            "b": "\\xdead",
            "u": "00000000-0000-0000-0000-000000000001",
            "has": True,
            "k": "v",
        }
    ]


# -- sinks ----------------------------------------------------------------------------------


def sink_flow(
    tmp_path: Path, backend: Backend, attributes: str, body: str = ""
) -> Path:
    closing = f">\n{body}</sink>" if body else "/>"
    return write_flow(
        tmp_path,
        f'<sink id="s" type="database" connection="{backend.connection}" '
        f"{attributes}{closing}",
    )


def test_insert_in_batches(backend: Backend, tmp_path: Path) -> None:
    people(backend)
    rows = [{"id": 10 + i, "name": f"p{i}", "age": i, "city": "x"} for i in range(5)]
    flow = sink_flow(tmp_path, backend, 'table="people" batch="2"')
    flow_run = run(flow, workflow_input=rows)
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results
    assert flow_run.outputs["s"] == {"rowsAffected": 5, "batches": 3}
    assert backend.execute(
        "SELECT id, name FROM people WHERE id >= 10 ORDER BY id"
    ) == [(10 + i, f"p{i}") for i in range(5)]


def test_insert_rows_with_different_keys(backend: Backend, tmp_path: Path) -> None:
    """Each row writes its own keys; a column a row lacks keeps its default."""
    backend.execute("CREATE TABLE t (id INTEGER, a TEXT DEFAULT 'dflt', b TEXT)")
    rows = [{"id": 1, "a": "x"}, {"id": 2, "b": "y"}, {"id": 3, "b": "z"}]
    flow_run = run(sink_flow(tmp_path, backend, 'table="t"'), workflow_input=rows)
    assert flow_run.outputs["s"] == {"rowsAffected": 3, "batches": 2}
    assert backend.execute("SELECT id, a, b FROM t ORDER BY id") == [
        (1, "x", None),
        (2, "dflt", "y"),
        (3, "dflt", "z"),
    ]


def test_upsert_on_conflict_columns(backend: Backend, tmp_path: Path) -> None:
    """``conflictColumns="name, city"``: two columns; existing rows update."""
    people(backend)
    rows = [
        {"id": 1, "name": "ann", "city": "oslo", "age": 32},
        {"id": 7, "name": "dee", "city": "rome", "age": 50},
        {"id": 2, "name": "bob", "city": "rome", "age": 21},
    ]
    flow = sink_flow(
        tmp_path,
        backend,
        'table="people" operation="upsert" conflictColumns="name, city" batch="2"',
    )
    flow_run = run(flow, workflow_input=rows)
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results
    assert flow_run.outputs["s"] == {"rowsAffected": 3, "batches": 2}
    assert backend.execute("SELECT id, name, age FROM people ORDER BY id") == [
        (1, "ann", 32),
        (2, "bob", 21),
        (3, "cy", 45),
        (7, "dee", 50),
    ]


def test_upsert_needs_conflict_columns(backend: Backend, tmp_path: Path) -> None:
    people(backend)
    flow = sink_flow(tmp_path, backend, 'table="people" operation="upsert"')
    assert error_of(run(flow, workflow_input={"id": 1}), "s") == (
        "RUNTIME_INVALID_CONFIG",
        'Upsert operation requires "conflictColumns" to be specified',
    )


def test_update_by_key_columns(backend: Backend, tmp_path: Path) -> None:
    people(backend)
    rows = [{"id": 1, "age": 99}, {"id": 3, "age": 98}, {"id": 42, "age": 1}]
    flow = sink_flow(
        tmp_path, backend, 'table="people" operation="update" conflictColumns="id"'
    )
    flow_run = run(flow, workflow_input=rows)
    assert flow_run.outputs["s"] == {"rowsAffected": 2, "batches": 1}
    assert backend.execute("SELECT id, age FROM people ORDER BY id") == [
        (1, 99),
        (2, 20),
        (3, 98),
    ]


def test_update_with_a_where_bound_per_row(backend: Backend, tmp_path: Path) -> None:
    """``where`` templates are bound per row, with ``$item`` the row."""
    people(backend)
    rows = [{"name": "ann", "age": 1}, {"name": "cy", "age": 2}]
    flow = sink_flow(
        tmp_path,
        backend,
        'table="people" operation="update" batch="1"',
        "  <where>name = {{ $item.name }} AND city = {{ $input[0].city ?? 'oslo' }}"
        "</where>\n",
    )
    flow_run = run(flow, workflow_input=rows)
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results
    assert flow_run.outputs["s"] == {"rowsAffected": 2, "batches": 2}
    assert backend.execute("SELECT id, age FROM people ORDER BY id") == [
        (1, 1),
        (2, 20),
        (3, 2),
    ]


def test_create_makes_a_missing_table(backend: Backend, tmp_path: Path) -> None:
    rows = [
        {"id": 1, "name": "a", "score": 1.5, "ok": True, "tags": ["x"], "n": None},
        {"id": 2, "name": "b", "score": 2.5, "ok": False, "tags": [], "n": 4},
    ]
    missing = sink_flow(tmp_path, backend, 'table="fresh"')
    code, message = error_of(run(missing, workflow_input=rows), "s")
    assert code == "DATABASE_ERROR"
    assert message == (
        "Execute failed: table 'fresh' does not exist; create it first, or add "
        'create="true" to create it from the rows'
    )
    flow = sink_flow(tmp_path, backend, 'table="fresh" create="true"')
    first = run(flow, workflow_input=rows)
    assert first.outputs["s"] == {"rowsAffected": 2, "batches": 1}
    second = run(flow, workflow_input=rows[:1])  # now it exists: just inserts
    assert second.outputs["s"] == {"rowsAffected": 1, "batches": 1}
    got = backend.execute("SELECT id, name, score, ok, tags, n FROM fresh ORDER BY id")
    if backend.name == "sqlite":
        assert got == [
            (1, "a", 1.5, 1, '["x"]', None),
            (1, "a", 1.5, 1, '["x"]', None),
            (2, "b", 2.5, 0, "[]", 4),
        ]
    else:
        assert got == [
            (1, "a", 1.5, True, ["x"], None),
            (1, "a", 1.5, True, ["x"], None),
            (2, "b", 2.5, False, [], 4),
        ]


def test_objects_are_json_in_text_and_jsonb_columns(
    postgres_server: PgServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for backend in backend_for("postgres", tmp_path, request):
        backend.execute("CREATE TABLE docs (id int, body jsonb, raw text, tags text[])")
        rows = [{"id": 1, "body": {"a": [1]}, "raw": {"b": 2}, "tags": ["p", "q"]}]
        flow_run = run(
            sink_flow(tmp_path, backend, 'table="docs"'), workflow_input=rows
        )
        assert flow_run.status is RunStatus.COMPLETED, flow_run.results
        assert backend.execute("SELECT body, raw, tags FROM docs") == [
            ({"a": [1]}, '{"b":2}', ["p", "q"])
        ]


def test_unknown_columns_are_refused(backend: Backend, tmp_path: Path) -> None:
    """Column names come from the table, never from data: a key that is not a
    column fails the node before anything is written."""
    people(backend)
    before = backend.schema_hash()
    flow = sink_flow(tmp_path, backend, 'table="people"')
    rows = [{"id": 9, "name": "x"}, {"id": 10, "name": "y", "nope": 1}]
    code, message = error_of(run(flow, workflow_input=rows), "s")
    assert code == "RUNTIME_INVALID_INPUT"
    assert message.startswith("table 'people' has no column 'nope' (its columns: ")
    assert backend.execute("SELECT count(*) FROM people") == [(3,)]
    assert backend.schema_hash() == before


@pytest.mark.parametrize("operation", ["insert", "upsert"])
def test_one_transaction_per_node(
    backend: Backend, tmp_path: Path, operation: str
) -> None:
    """A failing row rolls back the rows the node wrote before it (earlier batches
    included), and a table the node created."""
    people(backend)
    rows = [
        {"id": 20, "name": "ok1", "city": "a"},
        {"id": 21, "name": "ok2", "city": "a"},
        {"id": 22, "name": None, "city": "a"},  # NOT NULL
    ]
    flow = sink_flow(
        tmp_path,
        backend,
        f'table="people" operation="{operation}" conflictColumns="id" batch="1"',
    )
    code, message = error_of(run(flow, workflow_input=rows), "s")
    assert code == "DATABASE_ERROR"
    assert message.startswith("Execute failed: ")
    assert "null" in message.lower()
    assert backend.execute("SELECT count(*) FROM people") == [(3,)]
    created = sink_flow(tmp_path, backend, 'table="made" create="true" batch="1"')
    bad = [{"id": 1}, {"id": 2**70}]  # too large for a 64-bit integer
    assert run(created, workflow_input=bad).status is RunStatus.FAILED
    assert "made" not in backend.schema()


def test_empty_input_writes_nothing(backend: Backend, tmp_path: Path) -> None:
    flow = sink_flow(tmp_path, backend, 'table="never"')
    assert run(flow, workflow_input=[]).outputs["s"] == {
        "rowsAffected": 0,
        "batches": 0,
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("text", "Database sink input must be an object or array of objects"),
        ([{"a": 1}, 2], "Database sink input item 1 is not an object"),
    ],
)
def test_sink_input_must_be_objects(
    tmp_path: Path, value: object, message: str
) -> None:
    flow = write_flow(
        tmp_path,
        '<sink id="s" type="database" connection="sqlite::memory:" table="t" '
        'create="true"/>',
    )
    assert error_of(run(flow, workflow_input=value), "s") == (
        "RUNTIME_INVALID_INPUT",
        message,
    )


def test_nodes_of_one_wave_share_the_database(backend: Backend, tmp_path: Path) -> None:
    """Twelve nodes at once: SQLite serialises their transactions; PostgreSQL's pool
    (ten connections) makes the last ones wait."""
    backend.execute("CREATE TABLE hits (node TEXT, n INTEGER)")
    body = "\n".join(
        f'<sink id="s{i}" type="database" connection="{backend.connection}" '
        f'table="hits" input="src"/>'
        for i in range(12)
    )
    flow = write_flow(
        tmp_path,
        '<transform id="src" type="map" expression="{node: \'n\', n: $item}"/>\n'
        + body,
        frontmatter="runtime:\n  concurrency: 12\n",
    )
    flow_run = run(flow, workflow_input=list(range(50)))
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results
    assert backend.execute("SELECT count(*), sum(n) FROM hits") == [(600, 12 * 1225)]


def test_a_timeout_cancels_a_running_query(backend: Backend, tmp_path: Path) -> None:
    """A per-node timeout interrupts the statement (SQLite) or cancels it on the
    server (PostgreSQL); the node fails at once, not when the query would end."""
    if backend.name == "sqlite":
        slow = (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
            "WHERE x < 1000000000) SELECT count(*) FROM c"
        )
    else:
        slow = "SELECT pg_sleep(30)"
    flow = write_flow(
        tmp_path,
        f'<source id="q" type="database" connection="{backend.connection}" '
        f'timeout="300ms" query="{slow}"/>',
    )
    started = time.monotonic()
    flow_run = run(flow)
    assert time.monotonic() - started < 5
    assert flow_run.status is RunStatus.FAILED


# -- secrets --------------------------------------------------------------------------------


def _forms(secret: str) -> list[str]:
    return [secret, quote(secret, safe=""), quote_plus(secret), quote(secret)]


def test_a_refused_login_never_shows_the_password(
    postgres_server: PgServer, tmp_path: Path
) -> None:
    wrong = "Wr0ng@#/?%:pass"
    dsn = postgres_server.dsn_with_password(wrong)
    flow = write_flow(
        tmp_path,
        f'<source id="q" type="database" connection="{dsn}" query="SELECT 1"/>',
    )
    flow_run = run(flow)
    code, message = error_of(flow_run, "q")
    assert code == "DATABASE_CONNECTION_FAILED"
    assert "password authentication failed" in message
    assert "postgresql://maidit:***@127.0.0.1:" in message
    for form in _forms(wrong):
        assert form not in message
    assert flow_run.results["q"].attempts == 1  # a refused login is not retried


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://u:Secr3t%zz@127.0.0.1:1/db",  # a bad percent escape
        "postgresql://u:Secr3t@127.0.0.1:1/db?bogus=1",  # an unknown option
        "postgresql://u@127.0.0.1:1/db?password=Secr3t&bogus=1",
        "postgres://u:Secr3t@127.0.0.1:1/db",  # nothing listening
    ],
)
def test_driver_errors_never_show_the_password(tmp_path: Path, dsn: str) -> None:
    flow = write_flow(
        tmp_path,
        f'<source id="q" type="database" connection="{dsn.replace("&", "&amp;")}" '
        'query="SELECT 1"/>',
    )
    flow_run = run(flow)
    code, message = error_of(flow_run, "q")
    assert code == "DATABASE_CONNECTION_FAILED"
    assert "Secr3t" not in message


def test_cli_json_report_and_log_never_show_the_password(
    postgres_server: PgServer, tmp_path: Path
) -> None:
    """``maidit run --format json``: the password (a secret templated into the DSN,
    or written in it) is in no output, log, checkpoint or error."""
    secret = "Canary!@#%/?&=+:" + "x" * 8
    host = f"127.0.0.1:{postgres_server.port}"
    flow = write_flow(
        tmp_path,
        '<source id="q" type="database" query="SELECT 1" connection="postgresql://'
        "maidit:{{ url_encode($secrets.DB_PASSWORD) }}@" + host + '/maidit_test"/>\n'
        '<source id="lit" type="database" query="SELECT 1" connection="postgresql://'
        f'maidit:{quote("Literal-pw-9", safe="")}@{host}/maidit_test"/>',
        frontmatter="secrets:\n  - DB_PASSWORD\n",
    )
    env = {**os.environ, "DB_PASSWORD": secret}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "maidit_jupyter", "run", str(flow)),
            *("--format", "json", "--keep-going"),
        ],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["nodes"]["q"]["error"]["code"] == "DATABASE_CONNECTION_FAILED"
    assert report["nodes"]["lit"]["error"]["code"] == "DATABASE_CONNECTION_FAILED"
    log_text = flow.read_text().split("</workflow>", 1)[1]
    state = "".join(
        p.read_text() for p in (tmp_path / ".maidit-state").rglob("*") if p.is_file()
    )
    for form in _forms(secret):
        for where, text in [
            ("stdout", done.stdout),
            ("stderr", done.stderr),
            ("log", log_text),
            ("checkpoint", state),
        ]:
            assert form not in text, where
    for text in (done.stdout, done.stderr, log_text, state):
        assert "Literal-pw-9" not in text
    # and the correct password works through the same template
    ok = subprocess.run(
        [
            *(sys.executable, "-m", "maidit_jupyter", "run", str(flow)),
            *("--format", "json", "--keep-going", "--no-log"),
        ],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "DB_PASSWORD": PASSWORD},
        cwd=tmp_path,
        timeout=120,
    )
    assert json.loads(ok.stdout)["nodes"]["q"]["output"] == [{"?column?": 1}]
