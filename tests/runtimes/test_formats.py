"""Parsing and rendering the file formats: json, csv, yaml, text, lines, jsonl."""

from __future__ import annotations

import json
from datetime import date
from pathlib import PurePath

import pytest

from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.expressions.values import UNDEFINED, FunctionValue
from maidit_jupyter.runtimes.formats import (
    FORMATS,
    MAX_DEPTH,
    csv_header,
    detect_format,
    detect_write_format,
    parse_data,
    render_csv,
    render_data,
    render_text,
)


class _Arrow(FunctionValue):
    __slots__ = ()


def parse_fails(text: str, fmt: str) -> NodeRuntimeError:
    with pytest.raises(NodeRuntimeError) as info:
        parse_data(text, fmt, source="data.x")
    return info.value


# -- detection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "explicit", "expected"),
    [
        ("a.json", None, "json"),
        ("a.JSON", "auto", "json"),
        ("a.csv", "", "csv"),
        ("a.yaml", None, "yaml"),
        ("a.yml", None, "yaml"),
        ("a.txt", None, "text"),
        ("a.text", None, "text"),
        ("a.md", None, "text"),
        ("a.lines", None, "lines"),
        ("a.jsonl", None, "jsonl"),
        ("a.ndjson", None, "jsonl"),
        ("a.xml", None, "text"),
        ("noext", None, "text"),
        ("a.json", "csv", "csv"),
        ("a.txt", "lines", "lines"),
    ],
)
def test_detect_format(name: str, explicit: str | None, expected: str) -> None:
    """An explicit format wins; else the extension; an unknown one reads as text."""
    assert detect_format(PurePath(name), explicit) == expected


@pytest.mark.parametrize(
    ("name", "explicit", "value", "expected"),
    [
        ("out", None, {"a": 1}, "json"),
        ("out", None, [1], "json"),
        ("out", None, (1,), "json"),
        ("out", "auto", "text", "text"),
        ("out.dat", None, 5, "text"),
        ("out.csv", None, "x", "csv"),
        ("out.txt", None, {"a": 1}, "text"),
        ("out.yml", None, {"a": 1}, "yaml"),
        ("out.json", "jsonl", [1], "jsonl"),
    ],
)
def test_detect_write_format(
    name: str, explicit: str | None, value: object, expected: str
) -> None:
    """Writing: explicit, extension, else objects/arrays as json and the rest as text."""
    assert detect_write_format(PurePath(name), explicit, value) == expected


@pytest.mark.parametrize("explicit", ["xml", "JSON", "txt", " json"])
def test_unknown_format_is_a_config_error(explicit: str) -> None:
    """Format names are exact; anything else is reported, not read as text."""
    with pytest.raises(NodeRuntimeError) as info:
        detect_format(PurePath("a.json"), explicit)
    assert info.value.code == "RUNTIME_INVALID_CONFIG"
    assert "Unknown file format" in info.value.message
    with pytest.raises(NodeRuntimeError):
        render_data(1, explicit)


# -- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        ("json", '{"a": 1, "b": [true, null, 1.5]}', {"a": 1, "b": [True, None, 1.5]}),
        ("json", "12345678901234567890123", 12345678901234567890123),
        ("json", '"\\u00e9\\ud83d\\ude00 ü"', "é😀 ü"),
        ("json", '{"a": 1, "a": 2}', {"a": 2}),
        ("json", "1e400", float("inf")),
        ("text", "a\r\nb\n", "a\r\nb\n"),
        ("text", "", ""),
        ("lines", "a\nb\n", ["a", "b"]),
        ("lines", "a\r\nb\rc", ["a", "b", "c"]),
        ("lines", "a\n\n", ["a", ""]),
        ("lines", "\n", [""]),
        ("lines", "", []),
        ("lines", "tab\there\x0cff", ["tab\there\x0cff"]),
        ("jsonl", '{"a":1}\n\n  \n[2]\n"x"', [{"a": 1}, [2], "x"]),
        ("jsonl", "", []),
        ("jsonl", "1\r\n2\r\n", [1, 2]),
        ("csv", "a,b\n1,2\n3,4\n", [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]),
        ("csv", "a,b\r\n1,2\r\n", [{"a": "1", "b": "2"}]),
        ("csv", 'a,b\n"x, y","say ""hi"""\n', [{"a": "x, y", "b": 'say "hi"'}]),
        ("csv", 'a,b\n"line1\nline2",2\n', [{"a": "line1\nline2", "b": "2"}]),
        ("csv", 'a,b\n"cr\r\nlf",2\n', [{"a": "cr\r\nlf", "b": "2"}]),
        ("csv", "a,b,c\n1\n", [{"a": "1", "b": "", "c": ""}]),
        ("csv", "a,b\n1,2,3,4\n", [{"a": "1", "b": "2"}]),
        ("csv", "a,b\n\n1,2\n   \n", [{"a": "1", "b": "2"}]),
        ("csv", "a,b\n 1 , 2\n", [{"a": " 1 ", "b": " 2"}]),
        ("csv", "a,b\n", []),
        ("csv", "", []),
        ("csv", "\n\n", []),
        ("csv", "n\n1\n2", [{"n": "1"}, {"n": "2"}]),
        ("csv", "a,a\n1,2\n", [{"a": "2"}]),
        ("csv", "a,b\n,\n", [{"a": "", "b": ""}]),
        ("yaml", "a: 1\nb: [x, 2.5]\n", {"a": 1, "b": ["x", 2.5]}),
        ("yaml", "", None),
        ("yaml", "# only a comment\n", None),
        ("yaml", "--- [1]\n...\n", [1]),
        (
            "yaml",
            "d: 2024-01-02\nt: 2024-01-02T10:00:00Z",
            {"d": "2024-01-02", "t": "2024-01-02T10:00:00Z"},
        ),
    ],
)
def test_parse(fmt: str, text: str, expected: object) -> None:
    """Each format parses to plain JSON-compatible data."""
    result = parse_data(text, fmt)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("scalar", "expected"),
    [
        ("2024-01-02", "2024-01-02"),
        ("12:30:00", "12:30:00"),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("0x1F", 31),
        ("0o17", 15),
        ("017", 17),
        ("+5", 5),
        ("-1.5e3", -1500.0),
        (".5", 0.5),
        (".inf", ".inf"),
        (".nan", ".nan"),
        ("1e400", "1e400"),
        ("1_000", "1_000"),
        ("'42'", "42"),
        ('"true"', "true"),
        ("!!str 42", "42"),
        ("! 42", "42"),
        ("|\n  block\n", "block\n"),
        ("12345678901234567890", 12345678901234567890),
        ("héllo", "héllo"),
    ],
)
def test_yaml_scalars_are_json_compatible(scalar: str, expected: object) -> None:
    """Dates, times and YAML 1.1 booleans stay strings; numbers follow the core schema."""
    value = parse_data(f"v: {scalar}", "yaml")
    assert isinstance(value, dict)
    assert value["v"] == expected
    assert type(value["v"]) is type(expected)


def test_yaml_keys_are_their_text() -> None:
    """Keys are the text written (a number or null key included)."""
    assert parse_data("1: a\nnull: b\n2024-01-01: c", "yaml") == {
        "1": "a",
        "null": "b",
        "2024-01-01": "c",
    }


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: &x 1\nb: *x\n", "anchors and aliases are not allowed at line 1"),
        ("a: *x\n", "anchors and aliases"),
        (
            "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n",
            "anchors and aliases",
        ),
        ("a: 1\na: 2\n", "duplicate key 'a' at line 2, column 1"),
        ("--- 1\n--- 2\n", "only one document is allowed at line 2"),
        ("a: !!binary aGk=\n", "tag 'tag:yaml.org,2002:binary' is not allowed"),
        ("a: !!python/object:os.system x\n", "is not allowed"),
        ("a: !!set {x}\n", "is not allowed"),
        ("? [1]\n: 2\n", "mapping keys must be scalars"),
        ("a: [1\n", "at line 2, column 1"),
        ("a:\n\t- 1\n", "at line 2"),
        ("a: \x07\n", "(#x0007) at offset 3"),
        ("[" * (MAX_DEPTH + 1), f"nested deeper than {MAX_DEPTH} levels"),
    ],
)
def test_yaml_rejects(text: str, fragment: str) -> None:
    """Anchors (alias bombs), duplicates, tags and syntax errors are located errors."""
    error = parse_fails(text, "yaml")
    assert error.code == "PARSE_ERROR"
    assert error.message.startswith("Invalid YAML in data.x: ")
    assert fragment in error.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"a": 1,}', "at line 1, column 9"),
        ('{\n  "a": [1, 2\n}', "at line 3, column 1"),
        ("", "Expecting value at line 1, column 1"),
        ("NaN", "NaN is not valid JSON"),
        ("[1, -Infinity]", "-Infinity is not valid JSON"),
        ("1" * 5000, "digits"),
        ("[" * 100_000, "nested too deeply"),
        ("{'a': 1}", "at line 1, column 2"),
    ],
)
def test_json_rejects(text: str, fragment: str) -> None:
    """Invalid JSON is PARSE_ERROR with a line and column."""
    error = parse_fails(text, "json")
    assert error.code == "PARSE_ERROR"
    assert error.message.startswith("Invalid JSON in data.x: ")
    assert fragment in error.message


def test_jsonl_bad_line_is_named() -> None:
    """A bad jsonl line is reported by its line number (blank lines counted)."""
    error = parse_fails('{"a": 1}\n\n{oops}\n[3]\n', "jsonl")
    assert error.code == "PARSE_ERROR"
    assert error.message.startswith("Invalid JSON on line 3 of data.x: ")
    assert "column 2" in error.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('a,b\n1,"open\n2,3\n', "unexpected end of data at line 3"),
        ('a,b\n1,"x"y\n', "',' expected after '\"' at line 2"),
    ],
)
def test_csv_rejects_malformed_quoting(text: str, fragment: str) -> None:
    """An unclosed quote is an error, not a field that swallows the rest of the file."""
    error = parse_fails(text, "csv")
    assert error.code == "PARSE_ERROR"
    assert error.message.startswith("Invalid CSV in data.x: ")
    assert fragment in error.message


def test_csv_header() -> None:
    """The header is the first non-blank record."""
    assert csv_header('\n"a,1",b\n1,2\n') == ["a,1", "b"]
    assert csv_header("\n \n") is None


# -- rendering ---------------------------------------------------------------------------

NESTED = {"name": "Zoë", "tags": ["a", "b"], "n": {"x": 1}, "none": None}


@pytest.mark.parametrize(
    ("value", "fmt", "pretty", "expected"),
    [
        (
            {"a": 1, "b": [1, 2]},
            "json",
            True,
            '{\n  "a": 1,\n  "b": [\n    1,\n    2\n  ]\n}',
        ),
        ({"a": 1, "b": [1, 2]}, "json", False, '{"a":1,"b":[1,2]}'),
        ([], "json", True, "[]"),
        ({}, "json", True, "{}"),
        ("hi", "json", True, '"hi"'),
        (None, "json", True, "null"),
        (UNDEFINED, "json", True, "null"),
        (2**70, "json", True, "1180591620717411303424"),
        (1.0, "json", True, "1"),
        (0.1 + 0.2, "json", True, "0.30000000000000004"),
        (
            [float("nan"), float("inf"), -float("inf")],
            "json",
            False,
            "[null,null,null]",
        ),
        ([UNDEFINED, _Arrow()], "json", False, "[null,null]"),
        ({"u": UNDEFINED, "f": _Arrow(), "k": 1}, "json", False, '{"k":1}'),
        (
            {2: "a", False: "b", None: "c"},
            "json",
            False,
            '{"2":"a","false":"b","null":"c"}',
        ),
        ({"t": (1, 2)}, "json", False, '{"t":[1,2]}'),
        ({"d": date(2024, 1, 2)}, "json", False, '{"d":"2024-01-02"}'),
        ("é😀\u2028", "json", False, '"é😀\u2028"'),
        ("\ud800", "json", False, '"\\ud800"'),
        ("plain", "text", True, "plain"),
        (42, "text", True, "42"),
        (1.5, "text", True, "1.5"),
        (1e21, "text", True, "1e+21"),
        (True, "text", True, "true"),
        (None, "text", True, "null"),
        (UNDEFINED, "text", True, "undefined"),
        ({"a": 1}, "text", False, '{"a":1}'),
        ({"a": 1}, "text", True, '{\n  "a": 1\n}'),
        ([1, "x"], "text", False, '[1,"x"]'),
        (
            ["a", 1, None, True, {"x": 1}, [2]],
            "lines",
            True,
            'a\n1\nnull\ntrue\n{"x":1}\n[2]\n',
        ),
        ("one", "lines", True, "one\n"),
        (7, "lines", True, "7\n"),
        ([], "lines", True, ""),
        ([{"a": 1}, [2], "x", None], "jsonl", True, '{"a":1}\n[2]\n"x"\nnull\n'),
        ({"a": 1}, "jsonl", True, '{"a":1}\n'),
        ([], "jsonl", True, ""),
        ({"a": 1, "b": ["x", None]}, "yaml", True, "a: 1\nb:\n- x\n- null\n"),
        (
            {"d": "2024-01-02", "y": "yes", "n": "1"},
            "yaml",
            True,
            "d: '2024-01-02'\ny: 'yes'\nn: '1'\n",
        ),
        ({"é": "ü"}, "yaml", True, "é: ü\n"),
        ({"x": float("nan"), "u": UNDEFINED}, "yaml", True, "x: null\n"),
        ([], "csv", True, ""),
        ({"a": 1}, "csv", True, ""),
        ("text", "csv", True, ""),
        (None, "csv", True, ""),
    ],
)
def test_render(value: object, fmt: str, pretty: bool, expected: str) -> None:
    """Each format renders as JavaScript would (with the documented deviations)."""
    assert render_text(value, fmt, pretty=pretty) == expected
    data = render_data(value, fmt, pretty=pretty)
    assert data == expected.replace("\ud800", "\ufffd").encode()


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([{"a": 1, "b": "x"}], "a,b\n1,x\n"),
        ([{"a": 1}, {"b": 2, "a": 3}], "a,b\n1,\n3,2\n"),
        ([{"a": "x,y"}], 'a\n"x,y"\n'),
        ([{"a": 'say "hi"'}], 'a\n"say ""hi"""\n'),
        ([{"a": "l1\nl2"}], 'a\n"l1\nl2"\n'),
        ([{"a": "cr\rhere"}], 'a\n"cr\rhere"\n'),
        ([{"a": None, "b": UNDEFINED, "c": True, "d": 1.0}], "a,b,c,d\n,,true,1\n"),
        ([{"a": {"x": [1, "y"]}}], 'a\n"{""x"":[1,""y""]}"\n'),
        ([{"a": [1, 2]}], 'a\n"[1,2]"\n'),
        ([{"a": ""}], 'a\n""\n'),
        ([{"a,b": 1}], '"a,b"\n1\n'),
        ([["h1", "h2"], [1, None]], "h1,h2\n1,\n"),
        ((({"a": 1}),), "a\n1\n"),
        ([{"a": " padded "}], "a\n padded \n"),
        ([{"a": "é"}], "a\né\n"),
    ],
)
def test_render_csv(rows: object, expected: str) -> None:
    """Headers are the union of keys; values are String(v ?? ''); RFC 4180 quoting."""
    assert render_text(rows, "csv") == expected


@pytest.mark.parametrize(
    "rows", [[{"a": 1}, "x"], [{"a": 1}, [1]], [1, 2], ["a"], [None]]
)
def test_render_csv_rejects_mixed_rows(rows: list[object]) -> None:
    """Rows must all be objects or all arrays."""
    with pytest.raises(NodeRuntimeError) as info:
        render_text(rows, "csv")
    assert info.value.code == "RUNTIME_INVALID_INPUT"


def test_render_csv_with_columns() -> None:
    """Given columns fix the order; a key outside them is an error."""
    rows = [{"b": 2, "a": 1}]
    assert render_csv(rows, columns=["a", "b", "c"], header=False) == "1,2,\n"
    with pytest.raises(NodeRuntimeError) as info:
        render_csv([{"z": 1}], columns=["a"])
    assert info.value.code == "RUNTIME_INVALID_INPUT"
    assert "'z'" in info.value.message


@pytest.mark.parametrize("fmt", ["json", "yaml", "text", "jsonl", "lines", "csv"])
@pytest.mark.parametrize(
    "value", [{1j: 1}, [object()], {"s": {1, 2}}, [b"bytes"]], ids=str
)
def test_render_rejects_values_the_format_cannot_hold(fmt: str, value: object) -> None:
    """Non-JSON values are RUNTIME_INVALID_INPUT, never a TypeError."""
    if fmt == "csv":
        value = [{"k": value}]
    with pytest.raises(NodeRuntimeError) as info:
        render_data(value, fmt)
    assert info.value.code == "RUNTIME_INVALID_INPUT"


@pytest.mark.parametrize("fmt", ["json", "yaml", "text"])
def test_render_rejects_cycles_and_depth(fmt: str) -> None:
    """A cyclic or absurdly deep value is an error, not a RecursionError."""
    cyclic: list[object] = []
    cyclic.append(cyclic)
    deep: list[object] = []
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    for value in (cyclic, deep):
        with pytest.raises(NodeRuntimeError) as info:
            render_data(value, fmt)
        assert info.value.code == "RUNTIME_INVALID_INPUT"


def test_render_encoding() -> None:
    """The encoding applies; a character it cannot hold is an input error."""
    assert render_data("é", "text", encoding="latin-1") == b"\xe9"
    with pytest.raises(NodeRuntimeError) as info:
        render_data("😀", "text", encoding="latin-1")
    assert info.value.code == "RUNTIME_INVALID_INPUT"
    with pytest.raises(NodeRuntimeError) as info:
        render_data("x", "text", encoding="no-such-codec")
    assert info.value.code == "RUNTIME_INVALID_CONFIG"


# -- round trips -------------------------------------------------------------------------

ROUND_TRIPS: list[tuple[str, object]] = [
    ("json", NESTED),
    ("json", [2**64, -(2**80), 0.5, 'ü\n\t"', None, True]),
    ("yaml", NESTED),
    (
        "yaml",
        {"d": "2024-01-02", "b": "true", "n": "007", "e": "", "m": "a: b", "k": "~"},
    ),
    ("yaml", [{"x": [[], {}]}, "multi\nline\n", "  lead", 1.25]),
    ("jsonl", [NESTED, [1], "s", None]),
    ("lines", ["a", "", " b ", "c,d"]),
    ("text", "any\ntext\r\n"),
    (
        "csv",
        [{"a": "1", "b": 'q"uote'}, {"a": "x,y", "b": "l1\nl2"}, {"a": "", "b": " "}],
    ),
]


@pytest.mark.parametrize(("fmt", "value"), ROUND_TRIPS)
def test_round_trip(fmt: str, value: object) -> None:
    """What is rendered parses back to the same data."""
    assert parse_data(render_data(value, fmt).decode(), fmt) == value


def test_json_pretty_matches_json_dumps() -> None:
    """Pretty output is JSON.stringify(v, null, 2), which json.dumps matches here."""
    value = {"a": [1, {"b": None}], "c": "ü"}
    assert render_text(value, "json") == json.dumps(value, indent=2, ensure_ascii=False)


def test_formats_constant() -> None:
    """The six formats, as the parser's settings list them."""
    assert set(FORMATS) == {"json", "csv", "yaml", "text", "lines", "jsonl"}
