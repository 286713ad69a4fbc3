"""SQL text for the database runtimes: values are bound, never written into the text.

Everything a database node executes is a :class:`Sql`: literal text pieces and
:class:`Slot` pieces, rendered with the driver's placeholder (``?`` for sqlite3, ``%s``
for psycopg) by :meth:`Sql.render`. A slot says where its value comes from, and the
value travels separately to the driver. No value ever becomes SQL text.

* :func:`compile_query` reads a query template. Each ``{{ expr }}`` becomes a slot
  (:class:`ExprSlot`); the ``params`` placeholders ``$1``, ``$2`` (and ``?``, ``?N`` for
  SQLite) become :class:`ParamSlot` slots. A small lexer follows quotes, comments and
  PostgreSQL dollar quotes, so a ``{{ }}`` inside a quoted string, a quoted identifier or
  a comment is refused with a clear error instead of being pasted there.
* The statement builders (:func:`insert`, :func:`upsert`, :func:`update`,
  :func:`create_table`) write identifiers through :func:`quote_identifier` (double
  quotes, embedded quotes doubled) and values as :class:`ColumnSlot` slots. The sink only
  writes columns the table has (or, with ``create``, the columns it creates).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.expressions.template import ExprSegment, segment_template

__all__ = [
    "COLUMN_TYPES",
    "INVALID_CONFIG",
    "ColumnSlot",
    "Dialect",
    "ExprSlot",
    "ParamSlot",
    "Slot",
    "Sql",
    "TableName",
    "clip",
    "compile_query",
    "create_table",
    "insert",
    "parse_table",
    "quote_identifier",
    "table_columns",
    "update",
    "upsert",
]

INVALID_CONFIG = "RUNTIME_INVALID_CONFIG"

#: PostgreSQL truncates longer identifiers, so a longer name would not be the one asked.
_PG_NAME_BYTES = 63


class Dialect(enum.Enum):
    """The SQL flavour of a connection."""

    SQLITE = "sqlite"
    POSTGRES = "postgresql"

    @property
    def placeholder(self) -> str:
        """The driver's positional placeholder."""
        return "?" if self is Dialect.SQLITE else "%s"


@dataclass(frozen=True, slots=True)
class ExprSlot:
    """The value of a ``{{ expr }}`` of a template; ``offset`` is where ``source`` starts."""

    source: str
    offset: int


@dataclass(frozen=True, slots=True)
class ParamSlot:
    """The ``index``-th value (0-based) of the node's ``params``."""

    index: int


@dataclass(frozen=True, slots=True)
class ColumnSlot:
    """The value of column ``name`` in the row being written."""

    name: str


Slot = ExprSlot | ParamSlot | ColumnSlot


@dataclass(frozen=True, slots=True)
class Sql:
    """A statement: text pieces and slots, in order."""

    pieces: tuple[str | Slot, ...]

    def render(self, dialect: Dialect) -> str:
        """The statement text with the dialect's placeholder for every slot.

        For psycopg a literal ``%`` is written ``%%`` (values always travel apart, so
        the driver always reads the text for placeholders).
        """
        out: list[str] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(
                    piece.replace("%", "%%") if dialect is Dialect.POSTGRES else piece
                )
            else:
                out.append(dialect.placeholder)
        return "".join(out)

    @property
    def slots(self) -> tuple[Slot, ...]:
        """The slots in the order their values are passed."""
        return tuple(p for p in self.pieces if not isinstance(p, str))

    def __add__(self, other: Sql) -> Sql:
        return Sql(self.pieces + other.pieces)


def _sql(*pieces: str | Slot) -> Sql:
    return Sql(tuple(pieces))


# -- query templates ----------------------------------------------------------------------


class _State(enum.Enum):
    NORMAL = "normal SQL"
    STRING = "a quoted SQL string"
    IDENT = "a quoted SQL identifier"
    LINE_COMMENT = "an SQL comment"
    BLOCK_COMMENT = "an SQL /* comment */"
    DOLLAR = "a dollar-quoted SQL string"


_IDENT_CHAR = re.compile(r"[\w$]")
_PG_PARAM = re.compile(r"\$(\d+)")
_DOLLAR_TAG = re.compile(r"\$(?:[^\W\d]\w*)?\$")
_QMARK = re.compile(r"\?(\d*)")
_CLOSERS = {'"': '"', "`": "`", "[": "]"}


def _invalid(message: str) -> NodeRuntimeError:
    return NodeRuntimeError(message, code=INVALID_CONFIG)


def clip(name: object, limit: int = 60) -> str:
    """A name for a message: quoted, and cut short when long (it may be data)."""
    text = str(name)
    if len(text) > limit:
        return repr(text[:limit]) + f"... ({len(text)} characters)"
    return repr(text)


class _QueryLexer:
    """Follows a query's quoting across its text segments and collects the pieces."""

    def __init__(self, field: str, dialect: Dialect) -> None:
        self.field = field
        self.dialect = dialect
        self.state = _State.NORMAL
        self.closer = ""  # what ends the quote or comment we are in
        self.backslash = False  # inside an E'' string, where \ escapes
        self.depth = 0  # nesting of PostgreSQL block comments
        self.pieces: list[str | Slot] = []
        self.last = " "  # the character before the current one
        self.next_param = 0  # 0-based index a bare ``?`` takes
        self.after_slot: ExprSegment | None = None

    def text(self, text: str) -> None:
        if self.after_slot is not None and text and _IDENT_CHAR.match(text[0]):
            raise self._glued(self.after_slot)
        self.after_slot = None
        literal: list[str] = []
        i, size = 0, len(text)
        while i < size:
            char = text[i]
            if self.state is not _State.NORMAL:
                i = self._inside(text, i, literal)
                continue
            pair = text[i : i + 2]
            glued = bool(_IDENT_CHAR.match(self.last))
            slot: ParamSlot | None = None
            width = 1
            if char == "'":
                self._enter(_State.STRING, "'")
                pg = self.dialect is Dialect.POSTGRES
                self.backslash = (
                    pg and self.last in "eE" and not self._word_before(text, i)
                )
            elif char == '"' or (
                self.dialect is Dialect.SQLITE and char in "`[" and not glued
            ):
                self._enter(_State.IDENT, _CLOSERS[char])
            elif pair == "--":
                self._enter(_State.LINE_COMMENT, "\n")
                width = 2
            elif pair == "/*":
                self._enter(_State.BLOCK_COMMENT, "*/")
                self.depth = 1
                width = 2
            elif char == "$" and not glued:
                number = _PG_PARAM.match(text, i)
                tag = _DOLLAR_TAG.match(text, i)
                if number is not None:
                    slot = ParamSlot(int(number.group(1)) - 1)
                    width = number.end() - i
                    if slot.index < 0:
                        raise _invalid(f"{self.field}: $0 is not a parameter; use $1")
                elif tag is not None and self.dialect is Dialect.POSTGRES:
                    self._enter(_State.DOLLAR, tag.group())
                    width = tag.end() - i
            elif char == "?" and self.dialect is Dialect.SQLITE:
                mark = _QMARK.match(text, i)
                assert mark is not None
                width = mark.end() - i
                number_text = mark.group(1)
                index = int(number_text) - 1 if number_text else self.next_param
                if index < 0:
                    raise _invalid(f"{self.field}: ?0 is not a parameter; use ?1")
                slot = ParamSlot(index)
            if slot is not None:
                self._flush(literal)
                self.pieces.append(slot)
                self.next_param = max(self.next_param, slot.index + 1)
            else:
                literal.append(text[i : i + width])
            self.last = text[i + width - 1]
            i += width
        self._flush(literal)

    def _word_before(self, text: str, i: int) -> bool:
        """Whether the character before ``text[i-1]`` continues a word (``THE'``)."""
        before = text[i - 2] if i >= 2 else " "
        return bool(_IDENT_CHAR.match(before))

    def _enter(self, state: _State, closer: str) -> None:
        self.state = state
        self.closer = closer
        self.backslash = False

    def _inside(self, text: str, i: int, literal: list[str]) -> int:
        """Consume text inside a quote or comment; return where to go on."""
        if self.backslash and text[i] == "\\":
            literal.append(text[i : i + 2])
            self.last = text[min(i + 1, len(text) - 1)]
            return i + 2
        nests = self.state is _State.BLOCK_COMMENT and self.dialect is Dialect.POSTGRES
        if nests and text.startswith("/*", i):
            self.depth += 1
            literal.append("/*")
            return i + 2
        if text.startswith(self.closer, i):
            end = i + len(self.closer)
            if self.state is _State.BLOCK_COMMENT:
                self.depth -= 1
                if self.depth > 0:
                    literal.append(self.closer)
                    return end
            literal.append(self.closer)
            self.state = _State.NORMAL
            self.last = " "  # what follows a quote or comment is not glued to a name
            return end
        literal.append(text[i])
        self.last = text[i]
        return i + 1

    def _flush(self, literal: list[str]) -> None:
        if literal:
            self.pieces.append("".join(literal))
            literal.clear()

    def expression(self, segment: ExprSegment) -> None:
        shown = "{{ " + segment.source + " }}"
        if self.state is _State.STRING or self.state is _State.DOLLAR:
            raise _invalid(
                f"{self.field}: {shown} is inside {self.state.value}. A {{{{ }}}} in a "
                "query is sent to the database as a bound parameter, never pasted into "
                "the SQL text, so it cannot sit inside quotes: remove the quotes around "
                "it (name = {{ x }}), and build patterns in the expression "
                "(name LIKE {{ '%' + x + '%' }})"
            )
        if self.state is _State.IDENT:
            raise _invalid(
                f"{self.field}: {shown} is inside a quoted SQL identifier. Only values "
                "can come from {{ }} (they are bound as parameters); table and column "
                "names must be written in the query"
            )
        if self.state is not _State.NORMAL:
            raise _invalid(
                f"{self.field}: {shown} is inside {self.state.value}; remove it, or "
                "write \\{{ for a literal {{"
            )
        if _IDENT_CHAR.match(self.last):
            raise self._glued(segment)
        self.pieces.append(ExprSlot(segment.source, segment.source_start))
        self.last = " "
        self.after_slot = segment

    def _glued(self, segment: ExprSegment) -> NodeRuntimeError:
        return _invalid(
            f"{self.field}: {{{{ {segment.source} }}}} touches a name or number. A "
            "{{ }} stands for one value bound as a parameter, never for part of a name, "
            "a keyword or a number: put a space around it"
        )

    def finish(self) -> Sql:
        return Sql(tuple(self.pieces))


def compile_query(text: str, dialect: Dialect, field: str = "query") -> Sql:
    """Turn a query template into a statement whose ``{{ }}`` and ``$N`` are slots.

    Args:
        text: the query as written in the flow (templates not evaluated).
        dialect: the connection's dialect (PostgreSQL: dollar quotes, ``E''`` strings,
            nested comments; SQLite: ``?`` placeholders and ```name```/``[name]``
            identifiers).
        field: the setting's name, for messages.

    Raises:
        NodeRuntimeError: ``RUNTIME_INVALID_CONFIG`` for a ``{{ }}`` inside a quoted
            string, a quoted identifier or a comment, or glued to a name.
    """
    lexer = _QueryLexer(field, dialect)
    for segment in segment_template(text):
        if isinstance(segment, ExprSegment):
            lexer.expression(segment)
        else:
            lexer.text(segment.text)
    return lexer.finish()


# -- identifiers ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableName:
    """A table, optionally in a schema, as written in the flow."""

    name: str
    schema: str | None = None

    def sql(self, dialect: Dialect) -> str:
        """The quoted (qualified) name."""
        name = quote_identifier(self.name, dialect)
        if self.schema is None:
            return name
        return ".".join((quote_identifier(self.schema, dialect), name))

    def __str__(self) -> str:
        return self.name if self.schema is None else f"{self.schema}.{self.name}"


def quote_identifier(name: str, dialect: Dialect) -> str:
    """``name`` as a double-quoted SQL identifier (embedded quotes doubled).

    Raises:
        NodeRuntimeError: an empty name, a NUL, or (PostgreSQL) a name longer than 63
            bytes, which the server would silently shorten.
    """
    if not name or "\0" in name:
        raise NodeRuntimeError(
            f"invalid SQL name {clip(name)}: names must be non-empty and hold no NUL",
            code="RUNTIME_INVALID_INPUT",
        )
    if dialect is Dialect.POSTGRES and len(name.encode("utf-8")) > _PG_NAME_BYTES:
        raise NodeRuntimeError(
            f"SQL name {clip(name)} is longer than PostgreSQL's 63 bytes",
            code="RUNTIME_INVALID_INPUT",
        )
    return '"' + name.replace('"', '""') + '"'


_TABLE_PART = re.compile(r'"((?:[^"]|"")+)"|([^".\s]+)')


def parse_table(text: str) -> TableName:
    """Read ``table``, ``schema.table`` or double-quoted parts (``"My Table"``).

    Raises:
        NodeRuntimeError: ``RUNTIME_INVALID_CONFIG`` for anything else.
    """
    parts: list[str] = []
    pos, raw = 0, text.strip()
    while True:
        found = _TABLE_PART.match(raw, pos)
        if found is None:
            break
        parts.append(
            found.group(1).replace('""', '"') if found.group(1) else found.group(2)
        )
        pos = found.end()
        if pos < len(raw) and raw[pos] == "." and len(parts) < 2:
            pos += 1
            continue
        break
    if not parts or pos != len(raw) or any("\0" in p for p in parts):
        raise _invalid(
            f"table: {clip(text)} is not a table name; write table, schema.table or a "
            'double-quoted name such as "My Table"'
        )
    return TableName(parts[-1], parts[0] if len(parts) == 2 else None)


def _names(columns: Iterable[str], dialect: Dialect) -> str:
    return ", ".join(quote_identifier(c, dialect) for c in columns)


# -- statements -----------------------------------------------------------------------------


def table_columns(table: TableName, dialect: Dialect) -> tuple[Sql, list[str]]:
    """The statement listing a table's columns (name, type, category) and its values.

    No rows means no such table. The table's name is a bound value here too.
    """
    if dialect is Dialect.SQLITE:
        if table.schema is None:
            query = _sql(
                "SELECT name, type, '' FROM pragma_table_info(", ParamSlot(0), ")"
            )
            return query, [table.name]
        query = _sql(
            "SELECT name, type, '' FROM pragma_table_info(",
            ParamSlot(0),
            ", ",
            ParamSlot(1),
            ")",
        )
        return query, [table.name, table.schema]
    query = _sql(
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
        "t.typcategory FROM pg_catalog.pg_attribute a "
        "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
        "WHERE a.attrelid = pg_catalog.to_regclass(",
        ParamSlot(0),
        ") AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    )
    return query, [table.sql(dialect)]


#: the column types ``create`` may declare (anything else is refused).
COLUMN_TYPES = frozenset(
    {"", "INTEGER", "REAL", "TEXT", "BOOLEAN", "BIGINT", "DOUBLE PRECISION", "JSONB"}
)


def create_table(
    table: TableName, columns: Sequence[tuple[str, str]], dialect: Dialect
) -> Sql:
    """``CREATE TABLE IF NOT EXISTS`` with ``(name, type)`` columns."""
    pieces: list[str | Slot] = [
        "CREATE TABLE IF NOT EXISTS ",
        table.sql(dialect),
        " (",
    ]
    for i, (name, kind) in enumerate(columns):
        if kind not in COLUMN_TYPES:
            raise ValueError(f"not a column type create declares: {kind!r}")
        pieces.extend((", " if i else "", quote_identifier(name, dialect)))
        if kind:
            pieces.extend((" ", kind))
    pieces.append(")")
    return Sql(tuple(pieces))


def insert(
    table: TableName, columns: Sequence[str], rows: int, dialect: Dialect
) -> Sql:
    """A multi-row ``INSERT``: ``rows`` tuples of one slot per column."""
    pieces: list[str | Slot] = [
        "INSERT INTO ",
        table.sql(dialect),
        " (",
        _names(columns, dialect),
        ") VALUES ",
    ]
    for row in range(rows):
        pieces.append(", (" if row else "(")
        for i, column in enumerate(columns):
            pieces.extend((", " if i else "", ColumnSlot(column)))
        pieces.append(")")
    return Sql(tuple(pieces))


def upsert(
    table: TableName,
    columns: Sequence[str],
    keys: Sequence[str],
    dialect: Dialect,
) -> Sql:
    """A one-row ``INSERT ... ON CONFLICT (keys) DO UPDATE`` (or ``DO NOTHING``)."""
    pieces = list(insert(table, columns, 1, dialect).pieces)
    pieces.extend((" ON CONFLICT (", _names(keys, dialect), ") "))
    others = [c for c in columns if c not in keys]
    if not others:
        pieces.append("DO NOTHING")
    for i, column in enumerate(others):
        name = quote_identifier(column, dialect)
        pieces.extend(
            ("DO UPDATE SET " if i == 0 else ", ", name, " = excluded.", name)
        )
    return Sql(tuple(pieces))


def update(
    table: TableName,
    columns: Sequence[str],
    keys: Sequence[str],
    where: Sql | None,
    dialect: Dialect,
) -> Sql:
    """``UPDATE t SET c = ?... [WHERE k = ? AND ... [AND (where)]]`` for one row."""
    pieces: list[str | Slot] = ["UPDATE ", table.sql(dialect), " SET "]
    for i, column in enumerate(columns):
        pieces.extend(
            (
                ", " if i else "",
                quote_identifier(column, dialect),
                " = ",
                ColumnSlot(column),
            )
        )
    conditions: list[list[str | Slot]] = [
        [quote_identifier(k, dialect), " = ", ColumnSlot(k)] for k in keys
    ]
    if where is not None and where.pieces:
        conditions.append(["(", *where.pieces, ")"])
    for i, condition in enumerate(conditions):
        pieces.append(" AND " if i else " WHERE ")
        pieces.extend(condition)
    return Sql(tuple(pieces))
