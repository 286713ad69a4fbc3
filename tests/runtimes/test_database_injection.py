"""SQL injection (reliability E7): payloads are data, on SQLite and on PostgreSQL.

Every payload of :data:`PAYLOADS` goes through one flow per database: a sink inserts it
as column values, sources compare against it through ``{{ }}`` templates and through
``params``, an update sink matches it in a templated ``where``, and an upsert writes it
again. After each run the schema (tables, columns, constraints, roles, attached
databases) is unchanged, the other rows are untouched, and the stored value is exactly
the payload. Every statement executed is recorded: its text is the same as for a benign
value (values never reach SQL text). Payloads are also tried as column and table names,
where they must be refused (or, with ``create``, become exactly that quoted name).

Finally a static check reads the database modules: every ``execute`` gets a rendered
statement, never a formatted string (ruff's S608 guards the same in CI).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from maidit_jupyter.execution.state import RunStatus
from maidit_jupyter.runtimes import postgres_db, sqlite_db
from maidit_jupyter.runtimes.dbapi import Result
from tests import figures
from tests.runtimes.db_helpers import Backend, backend_for, run, write_flow

PAYLOADS: list[str] = [
    # classic string breakouts and tautologies
    "'; DROP TABLE victims; --",
    "' OR '1'='1",
    "' OR 1=1 --",
    "' OR ''='",
    "1 OR 1=1",
    "1' OR '1'='1' /*",
    "admin'--",
    "admin' #",
    "admin'/*",
    "-1",
    "0",
    "NULL",
    "1e308",
    # UNION and sub-selects
    "' UNION SELECT secret, secret, secret FROM vault --",
    "1 UNION SELECT NULL, NULL, NULL --",
    "' UNION ALL SELECT name, sql, type FROM sqlite_master --",
    "'||(SELECT secret FROM vault)||'",
    "' AND (SELECT COUNT(*) FROM vault) > 0 --",
    "' AND 1=CAST((SELECT secret FROM vault) AS int) --",
    "' || pg_read_file('/etc/passwd') || '",
    # stacked queries
    "1; DROP TABLE victims",
    "'; INSERT INTO victims (id, name, note) VALUES (999, 'pwned', 'x'); --",
    "'; UPDATE victims SET note = 'pwned'; --",
    "'; DELETE FROM victims; --",
    "'; CREATE TABLE pwned (x int); --",
    "'; ALTER TABLE victims ADD COLUMN pwned int; --",
    "'; ATTACH DATABASE 'pwned.db' AS p; --",
    "'; VACUUM INTO 'pwned.db'; --",
    "'; PRAGMA writable_schema = 1; --",
    "'; CREATE ROLE pwned SUPERUSER; --",
    "'; ALTER ROLE maidit SUPERUSER; --",
    "'; COPY victims TO '/tmp/pwned.txt'; --",
    "'; SELECT pg_sleep(5); --",
    "'; EXEC xp_cmdshell('dir'); --",
    "'; SHUTDOWN; --",
    "1 AND SLEEP(5)",
    # other quotes, comments and placeholders
    '"; DROP TABLE victims; --',
    "`; DROP TABLE victims; --",
    "]; DROP TABLE victims; --",
    "$$; DROP TABLE victims; $$",
    "$tag$ DROP TABLE victims $tag$",
    "/**/OR/**/1=1",
    "*/ DROP TABLE victims; /*",
    "-- just a comment",
    "1' ORDER BY 1--",
    "' GROUP BY id HAVING 1=1 --",
    "$1",
    "?",
    "?1",
    ":name",
    "@var",
    "%s",
    "%(name)s",
    "%%",
    "{{ $input.name }}",
    "\\{{ 1 }}",
    # backslashes and escapes
    "\\'; DROP TABLE victims; --",
    "\\\\'; DROP TABLE victims; --",
    "E'\\''; DROP TABLE victims; --",
    "\\x27 OR 1=1",
    "0x27204f5220313d31",
    "char(39)||' OR 1=1",
    # unicode look-alikes, controls, NUL, size
    "\uff07; DROP TABLE victims; --",  # fullwidth apostrophe
    "\u02bc; DROP TABLE victims; --",  # modifier letter apostrophe
    "\u2018; DROP TABLE victims; --\u2019",  # curly quotes
    "\u2019 OR 1=1 --",
    "\u00a0' OR 1=1 --",
    "😀'; DROP TABLE victims; --",
    "\r\n'; DROP TABLE victims; --",
    "\t\x0b\x0c'; --",
    "\x00'; DROP TABLE victims; --",
    "abc\x00def",
    # ~1 MB (just under the expression engine's 1,000,000-character string limit)
    "A" * 999_900 + "'; DROP TABLE victims; --",
]
assert len(PAYLOADS) >= 50
assert len(set(PAYLOADS)) == len(PAYLOADS)

SEED = [(1, "ann", "first"), (2, "bob", "second"), (3, "cy", "third")]


def _id(payload: str) -> str:
    return repr(payload[:30]) + (f"+{len(payload)}" if len(payload) > 30 else "")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    for made in backend_for(request.param, tmp_path, request):
        made.execute(
            "CREATE TABLE victims (id INTEGER PRIMARY KEY, name TEXT, note TEXT)"
        )
        made.execute("CREATE TABLE vault (secret TEXT)")
        made.execute("INSERT INTO vault (secret) VALUES ('the-secret')")
        for row in SEED:
            made.execute(
                "INSERT INTO victims (id, name, note) VALUES (%s, %s, %s)", row
            )
        yield made


Statements = list[tuple[str, list[Any]]]


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Statements:
    """Every statement the database runtimes execute: ``(text, values)``."""
    seen: Statements = []
    for module in (sqlite_db, postgres_db):
        session = module._Session
        original_execute = session.execute
        original_many = session.execute_many

        async def execute(
            self: Any,
            sql: str,
            params: Sequence[object],
            _original: Any = original_execute,
        ) -> Result:
            seen.append((sql, list(params)))
            result: Result = await _original(self, sql, params)
            return result

        async def execute_many(
            self: Any,
            sql: str,
            rows: Sequence[Sequence[object]],
            _original: Any = original_many,
        ) -> int:
            seen.extend((sql, list(r)) for r in rows)
            count: int = await _original(self, sql, rows)
            return count

        monkeypatch.setattr(session, "execute", execute)
        monkeypatch.setattr(session, "execute_many", execute_many)
    return seen


def corpus_flow(directory: Path, connection: str) -> Path:
    """Insert the payload, read it back three ways, update and upsert it."""
    node = f'type="database" connection="{connection}"'
    return write_flow(
        directory,
        f'<sink id="ins" {node} table="victims"/>\n'
        f'<source id="sel" {node} input="ins">\n'
        "  <query>SELECT id, name, note FROM victims WHERE name = {{ $input.name }} "
        "AND note = {{ $input.note }} ORDER BY id</query>\n</source>\n"
        f'<source id="miss" {node} input="ins">\n'
        "  <query>SELECT count(*) AS n FROM victims WHERE name = "
        "{{ $input.name + 'x' }} OR note = {{ 'x' + $input.note }}</query>\n"
        "</source>\n"
        f'<source id="par" {node} input="ins" params="{{{{ [$input.name] }}}}" '
        'query="SELECT count(*) AS n FROM victims WHERE name = $1"/>\n'
        f'<sink id="upd" {node} input="sel" table="victims" operation="update">\n'
        "  <where>name = {{ $item.name }} AND id = {{ $item.id }}</where>\n</sink>\n"
        f'<sink id="ups" {node} input="sel" table="victims" operation="upsert" '
        'conflictColumns="id">\n</sink>',
        name="corpus",
    )


def _shapes(seen: Statements) -> list[str]:
    return [text for text, _ in seen]


def _rows_besides(backend: Backend, row_id: int) -> list[tuple[Any, ...]]:
    return backend.execute(
        "SELECT id, name, note FROM victims WHERE id <> %s ORDER BY id", [row_id]
    ) + backend.execute("SELECT secret FROM vault")


@pytest.mark.reliability
@pytest.mark.parametrize("payload", PAYLOADS, ids=[_id(p) for p in PAYLOADS])
def test_payloads_are_plain_data(
    backend: Backend, tmp_path: Path, statements: Statements, payload: str
) -> None:
    flow = corpus_flow(tmp_path, backend.connection)
    # the statements of a benign value: the only texts any payload may produce
    benign = run(flow, workflow_input={"id": 100, "name": "benign", "note": "benign"})
    assert benign.status is RunStatus.COMPLETED, benign.results
    expected_texts = _shapes(statements)
    placeholder = "?" if backend.name == "sqlite" else "%s"
    assert (
        f"SELECT id, name, note FROM victims WHERE name = {placeholder} AND note = {placeholder} "
        "ORDER BY id"
    ) in expected_texts
    statements.clear()
    schema = backend.schema_hash()
    others = _rows_besides(backend, 101)
    files = sorted(p.name for p in tmp_path.iterdir())

    flow_run = run(flow, workflow_input={"id": 101, "name": payload, "note": payload})

    changed = backend.schema_hash() != schema or _rows_besides(backend, 101) != others
    figures.count(
        "sql injection", payloads=backend.name == "sqlite", runs=1, changed=changed
    )
    assert backend.schema_hash() == schema
    assert _rows_besides(backend, 101) == others
    assert sorted(p.name for p in tmp_path.iterdir()) == files  # nothing ATTACHed
    for text, _ in statements:
        assert text in expected_texts  # same text as for the benign value
        assert len(payload) < 4 or payload not in text
    if backend.name == "postgres" and "\x00" in payload:
        # PostgreSQL text cannot hold NUL: the insert fails as data, nothing written
        code_message = flow_run.results["ins"].error
        assert code_message is not None
        assert code_message.code == "DATABASE_ERROR"
        assert "NUL" in code_message.message or "0x00" in code_message.message
        assert backend.execute("SELECT count(*) FROM victims WHERE id = 101") == [(0,)]
        return
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results
    assert flow_run.outputs["ins"] == {"rowsAffected": 1, "batches": 1}
    assert flow_run.outputs["sel"] == [{"id": 101, "name": payload, "note": payload}]
    assert flow_run.outputs["miss"] == [{"n": 0}]
    assert flow_run.outputs["par"] == [{"n": 1}]
    assert flow_run.outputs["upd"] == {"rowsAffected": 1, "batches": 1}
    assert flow_run.outputs["ups"] == {"rowsAffected": 1, "batches": 1}
    assert backend.execute("SELECT name, note FROM victims WHERE id = 101") == [
        (payload, payload)
    ]
    # every value went to the driver as a value
    bound = [v for _, values in statements for v in values]
    assert payload in bound


def test_payloads_as_column_and_table_names(backend: Backend, tmp_path: Path) -> None:
    """A payload as a row key is no column of the table; as a (templated) table name
    it is no table. Both fail the node; nothing changes."""
    node = f'type="database" connection="{backend.connection}"'
    flow = write_flow(
        tmp_path,
        '<transform id="row" type="map" expression="$item.row"/>\n'
        f'<sink id="col" {node} input="row" table="victims"/>\n'
        f'<sink id="tab" {node} table="{{{{ $input.table }}}}"/>',
    )
    schema = backend.schema_hash()
    rows = backend.execute("SELECT * FROM victims ORDER BY id")
    codes: set[str] = set()
    for payload in PAYLOADS:
        flow_run = run(
            flow,
            workflow_input={"row": {"id": 500, payload: "x"}, "table": payload},
            keep_going=True,
        )
        for node_id in ("col", "tab"):
            error = flow_run.results[node_id].error
            assert error is not None, (node_id, payload)
            codes.add(error.code)
    assert codes <= {
        "RUNTIME_INVALID_INPUT",
        "RUNTIME_INVALID_CONFIG",
        "DATABASE_ERROR",
    }
    assert backend.schema_hash() == schema
    assert backend.execute("SELECT * FROM victims ORDER BY id") == rows


def test_created_columns_are_exactly_the_quoted_names(
    backend: Backend, tmp_path: Path
) -> None:
    """With ``create``, names come from the rows' keys: each payload becomes exactly
    one column of that name, and nothing else is created."""
    names = [p for p in PAYLOADS if "\x00" not in p and len(p.encode()) <= 63]
    row = {name: i for i, name in enumerate(names)}
    flow = write_flow(
        tmp_path,
        f'<sink id="s" type="database" connection="{backend.connection}" '
        'table="weird" create="true"/>',
    )
    before = backend.execute("SELECT count(*) FROM victims")
    flow_run = run(flow, workflow_input=row)
    if backend.name == "sqlite":
        # SQLite names are case-insensitive: duplicate names are refused as a whole
        lower = [n.lower() for n in names]
        assert len(set(lower)) == len(lower)
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results
    if backend.name == "sqlite":
        got = [
            r[1] for r in backend.execute("SELECT * FROM pragma_table_info('weird')")
        ]
    else:
        got = [
            r[0]
            for r in backend.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'weird'::regclass "
                "AND attnum > 0 ORDER BY attnum"
            )
        ]
    assert got == names
    assert backend.execute("SELECT count(*) FROM victims") == before
    values = backend.execute("SELECT * FROM weird")
    assert values == [tuple(range(len(names)))]


# -- static: no SQL is built from values ------------------------------------------------

MODULES = ["database", "dbapi", "sql", "sqlite_db", "postgres_db"]
#: calls whose f-string arguments are messages (errors, labels), never SQL.
MESSAGE_CALLS = {
    "_invalid",
    "NodeRuntimeError",
    "DatabaseError",
    "ValueError",
    "RuntimeError",
    "_plain",
}
#: functions whose f-strings build something that is not SQL, and what.
NOT_SQL = {
    "parse_connection": "the run resource's key (no password) and messages",
    "connection": "the connection string shown in messages, password masked",
    "_message": "the server's error message and detail",
    "clip": "a name cut short for a message",
    "__str__": "a table's name as messages show it",
}


def _module_tree(name: str) -> ast.Module:
    root = Path(__file__).resolve().parents[2] / "maidit_jupyter" / "runtimes"
    return ast.parse((root / f"{name}.py").read_text(encoding="utf-8"))


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {
        child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)
    }


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


@pytest.mark.parametrize("module", MODULES)
def test_every_statement_executed_is_rendered_sql(module: str) -> None:
    """``execute``/``executemany``/``execute_many`` take a variable holding rendered
    SQL (or a fixed literal), never an expression that formats text."""
    tree = _module_tree(module)
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and _call_name(node) in ("execute", "executemany", "execute_many")
    ]
    for call in calls:
        first = call.args[0] if call.args else None
        ok = isinstance(first, ast.Name) or (
            isinstance(first, ast.Call) and _call_name(first) == "render"
        )
        assert ok, f"{module}.py:{call.lineno} executes {ast.unparse(call)}"


@pytest.mark.parametrize("module", MODULES)
def test_no_formatted_text_besides_messages(module: str) -> None:
    """f-strings, ``%`` and ``.format`` appear only in messages and in the few
    non-SQL strings of :data:`NOT_SQL`; SQL is assembled from fixed pieces, quoted
    identifiers and slots (:mod:`maidit_jupyter.runtimes.sql`)."""
    tree = _module_tree(module)
    parents = _parents(tree)
    offenders: list[str] = []
    for node in ast.walk(tree):
        formatted = isinstance(node, ast.JoinedStr) or (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
        )
        if isinstance(node, ast.Call) and _call_name(node) == "format":
            formatted = True
        if not formatted:
            continue
        up: ast.AST | None = node
        allowed = False
        while up is not None:
            if (
                isinstance(up, ast.Raise)
                or (isinstance(up, ast.Call) and _call_name(up) in MESSAGE_CALLS)
                or (
                    isinstance(up, ast.FunctionDef | ast.AsyncFunctionDef)
                    and up.name in NOT_SQL
                )
            ):
                allowed = True
                break
            up = parents.get(up)
        if not allowed:
            line = getattr(node, "lineno", 0)
            offenders.append(f"{module}.py:{line}: {ast.unparse(node)[:80]}")
    assert offenders == []
