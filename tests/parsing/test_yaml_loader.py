"""Tests of the restricted, located YAML loader."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from maidit_jupyter.parsing import yaml_loader
from maidit_jupyter.parsing.yaml_loader import (
    YamlLimits,
    YamlProblem,
    YamlResult,
    load_yaml,
)
from maidit_jupyter.source import LineIndex, LocatedStr

PARSERS = [pytest.param(yaml.SafeLoader, id="python")]
if yaml.__with_libyaml__:
    PARSERS.insert(0, pytest.param(yaml.CSafeLoader, id="libyaml"))


@pytest.fixture(scope="module", autouse=True, params=PARSERS)
def parser(request: pytest.FixtureRequest) -> Iterator[type]:
    """Run every test with libyaml's parser (when built) and the pure Python one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yaml_loader, "_LOADER", request.param)
        yield request.param


def only_problem(result: YamlResult) -> YamlProblem:
    """Return the one problem of a result."""
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


def strings(value: Any) -> Iterator[str]:
    """Yield every key and string of a loaded value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def located_text(value: LocatedStr, document: str) -> str:
    """Return the document characters each character of ``value`` maps to."""
    return "".join(document[value.offset_of(i)] for i in range(len(value)))


# -- scalars ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        pytest.param("", None, id="empty"),
        pytest.param("~", None, id="tilde"),
        pytest.param("null", None, id="null"),
        pytest.param("Null", None, id="Null"),
        pytest.param("NULL", None, id="NULL"),
        pytest.param("nULL", "nULL", id="odd-null"),
        pytest.param("true", True, id="true"),
        pytest.param("True", True, id="True"),
        pytest.param("TRUE", True, id="TRUE"),
        pytest.param("false", False, id="false"),
        pytest.param("False", False, id="False"),
        pytest.param("FALSE", False, id="FALSE"),
        pytest.param("yes", "yes", id="yes"),
        pytest.param("no", "no", id="no"),
        pytest.param("on", "on", id="on"),
        pytest.param("off", "off", id="off"),
        pytest.param("42", 42, id="int"),
        pytest.param("-7", -7, id="negative-int"),
        pytest.param("+7", 7, id="plus-int"),
        pytest.param("007", 7, id="leading-zeros"),
        pytest.param("0o17", 15, id="octal"),
        pytest.param("0x1F", 31, id="hex"),
        pytest.param("0b101", "0b101", id="binary-stays-str"),
        pytest.param("1_000", "1_000", id="underscores-stay-str"),
        pytest.param("١٢٣", "١٢٣", id="non-ascii-digits"),
        pytest.param("9" * 5000, "9" * 5000, id="too-many-digits"),
        pytest.param("1.0", 1.0, id="float"),
        pytest.param("-1.5e-3", -0.0015, id="exponent"),
        pytest.param("1e3", 1000.0, id="int-exponent"),
        pytest.param(".5", 0.5, id="leading-dot"),
        pytest.param("5.", 5.0, id="trailing-dot"),
        pytest.param(".inf", ".inf", id="inf"),
        pytest.param("-.Inf", "-.Inf", id="minus-inf"),
        pytest.param(".nan", ".nan", id="nan"),
        pytest.param("1e999", "1e999", id="float-overflow"),
        pytest.param("1.0.0", "1.0.0", id="semver"),
        pytest.param("2024-01-01", "2024-01-01", id="date"),
        pytest.param("2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z", id="timestamp"),
        pytest.param("12:30", "12:30", id="sexagesimal"),
        pytest.param("'42'", "42", id="single-quoted-int"),
        pytest.param('"true"', "true", id="double-quoted-bool"),
        pytest.param("''", "", id="quoted-empty"),
        pytest.param("|\n  42\n", "42\n", id="literal-int"),
        pytest.param(">-\n  null\n", "null", id="folded-null"),
        pytest.param("hello world", "hello world", id="plain-str"),
    ],
)
def test_scalar_values(written: str, expected: object) -> None:
    """Scalars follow the JSON subset of the YAML 1.2 core schema."""
    result = load_yaml(f"v: {written}\n")
    assert result.problems == ()
    value = result.value["v"]
    assert value == expected
    if isinstance(expected, str):
        assert isinstance(value, LocatedStr)
    else:
        assert type(value) is type(expected)


def test_version_keeps_its_source_text() -> None:
    """``version: 1.0`` reads as a float while source_text gives it as written."""
    document = "---\nname: demo\nversion: 1.0\nlib: 1.10\n---\n"
    result = load_yaml(document[4:-4], offset=4)
    assert result.value == {"name": "demo", "version": 1.0, "lib": 1.1}
    assert result.source_text(("version",), document) == "1.0"
    assert result.source_text(("lib",), document) == "1.10"
    assert result.source_text(("missing",), document) is None


def test_mapping_keys_are_their_source_text() -> None:
    """Scalar keys are strings as written, merge keys included."""
    text = '1: a\ntrue: b\nnull: c\n~: d\n"q x": e\n<<: {f: 1}\n1.50: g\n'
    result = load_yaml(text)
    assert result.problems == ()
    assert result.value == {
        "1": "a",
        "true": "b",
        "null": "c",
        "~": "d",
        "q x": "e",
        "<<": {"f": 1},
        "1.50": "g",
    }
    for key in result.value:
        assert isinstance(key, LocatedStr)
        assert text[key.offset : key.offset + len(key)] == key


# -- structure and spans --------------------------------------------------------------

FRONTMATTER = """\
name: weather  # a comment
version: 1.0.0
config:
  retries: 3
  timeout: 2.5
  hosts:
    - a.example
    - 'b.example'
  flags: [x, {y: true}]
secrets: []
empty:
"""


def test_nested_mappings_and_lists() -> None:
    """Block and flow collections nest into dicts and lists."""
    result = load_yaml(FRONTMATTER)
    assert result.problems == ()
    assert result.value == {
        "name": "weather",
        "version": "1.0.0",
        "config": {
            "retries": 3,
            "timeout": 2.5,
            "hosts": ["a.example", "b.example"],
            "flags": ["x", {"y": True}],
        },
        "secrets": [],
        "empty": None,
    }


def test_request_body() -> None:
    """An element's YAML body, such as a request, reads as a mapping."""
    text = "method: GET\nurl: https://api.example/v1?q=1\nheaders:\n  Accept: application/json\n"
    result = load_yaml(text)
    assert result.problems == ()
    assert result.value == {
        "method": "GET",
        "url": "https://api.example/v1?q=1",
        "headers": {"Accept": "application/json"},
    }


@pytest.mark.parametrize(
    ("path", "line", "column", "written"),
    [
        pytest.param((), 1, 1, FRONTMATTER.rstrip("\n"), id="root"),
        pytest.param(("name",), 1, 7, "weather", id="plain"),
        pytest.param(("config", "retries"), 4, 12, "3", id="nested"),
        pytest.param(
            ("config", "hosts"), 7, 5, "- a.example\n    - 'b.example'", id="block-list"
        ),
        pytest.param(("config", "hosts", 1), 8, 7, "'b.example'", id="quoted-item"),
        pytest.param(("config", "flags"), 9, 10, "[x, {y: true}]", id="flow-list"),
        pytest.param(
            ("config", "flags", 1, "y"), 9, 18, "true", id="flow-mapping-value"
        ),
        pytest.param(("secrets",), 10, 10, "[]", id="empty-flow"),
        pytest.param(("empty",), 11, 7, "", id="empty-value"),
    ],
)
def test_value_spans(
    path: tuple[str | int, ...], line: int, column: int, written: str
) -> None:
    """Every value node has its document span, by path."""
    document = "---\n" + FRONTMATTER + "---\nbody\n"
    result = load_yaml(document[4 : 4 + len(FRONTMATTER)], offset=4)
    start, end = result.value_spans[path]
    position = LineIndex(document).position(start)
    assert (position.line, position.column) == (line + 1, column)
    assert document[start:end] == written


def test_key_spans() -> None:
    """Every mapping entry has the span of its key, by the entry's path."""
    document = "---\n" + FRONTMATTER
    result = load_yaml(document[4:], offset=4)
    index = LineIndex(document)
    assert set(result.key_spans) == {
        ("name",),
        ("version",),
        ("config",),
        ("config", "retries"),
        ("config", "timeout"),
        ("config", "hosts"),
        ("config", "flags"),
        ("config", "flags", 1, "y"),
        ("secrets",),
        ("empty",),
    }
    start, end = result.key_spans[("config", "timeout")]
    assert document[start:end] == "timeout"
    assert index.position(start).line == 6
    assert index.position(start).column == 3


def test_block_scalar_span_ends_with_its_text() -> None:
    """A block scalar's span leaves out the blank lines after it."""
    text = "script: |\n  echo hi\n\n\n# done\nnext: 1\n"
    result = load_yaml(text)
    start, end = result.value_spans[("script",)]
    assert text[start:end] == "|\n  echo hi"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   \n\n", id="blank"),
        pytest.param("# only a comment\n  # another\n", id="comments"),
    ],
)
def test_empty_text_is_none(text: str) -> None:
    """Empty and comment-only text reads as None without problems."""
    result = load_yaml(text)
    assert result.value is None
    assert result.problems == ()


def test_root_scalar() -> None:
    """A document may be a single scalar."""
    result = load_yaml("  hello  \n", offset=10)
    assert result.value == "hello"
    assert result.value.offset == 12
    assert result.value_spans[()] == (12, 17)


# -- located strings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        pytest.param("k: plain text\n", ("k",), "plain text", id="plain"),
        pytest.param("k: 'single'\n", ("k",), "single", id="single-quoted"),
        pytest.param('k: "double"\n', ("k",), "double", id="double-quoted"),
        pytest.param("k: ü😀x\n", ("k",), "ü😀x", id="non-ascii"),
        pytest.param("- [a, 'b c']\n", (0, 1), "b c", id="flow-item"),
    ],
)
def test_one_line_strings_map_exactly(
    text: str, path: tuple[str | int, ...], value: str
) -> None:
    """A one-line scalar without escapes is offset at its first content character."""
    result = load_yaml(text, offset=100)
    located = result.value
    for part in path:
        located = located[part]
    assert located == value
    assert located.offset == 100 + text.index(value)
    assert located.marks == ()


def test_escaped_strings_locate_their_words() -> None:
    """Escapes map each word to where it was written; the escape itself is best effort."""
    text = "a: 'it''s ok'\nb: \"tab\\there \\u263A end\"\n"
    value = load_yaml(text).value
    assert value == {"a": "it's ok", "b": "tab\there ☺ end"}
    assert located_text(value["a"], text) == "it's ok"
    b = value["b"]
    for word in ("tab", "here", "end"):
        index = b.index(word)
        assert text[b.offset_of(index) : b.offset_of(index) + len(word)] == word


def test_block_scalar_lines_map_to_their_document_lines() -> None:
    """Each line of a literal block scalar maps to its own document line."""
    document = "---\nrun: |\n  first line\n    indented\n\n  last\nx: 1\n---\n"
    value = load_yaml(document[4:-4], offset=4).value
    text = value["run"]
    assert text == "first line\n  indented\n\nlast\n"
    index = LineIndex(document)
    for word, line in (("first", 3), ("indented", 4), ("last", 6)):
        offset = text.offset_of(text.index(word))
        assert document[offset : offset + len(word)] == word
        assert index.position(offset).line == line


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param(
            "k: >\n  one\n  two\n\n  three\n", "one two\nthree\n", id="folded"
        ),
        pytest.param(
            "k: plain\n  continued\n", "plain continued", id="multi-line-plain"
        ),
        pytest.param(
            "k: 'quoted\n  across'\n", "quoted across", id="multi-line-quoted"
        ),
        pytest.param('k: "joined\\\n  here"\n', "joinedhere", id="escaped-line-break"),
    ],
)
def test_folded_strings_locate_every_word(text: str, value: str) -> None:
    """Folded and multi-line scalars map each word to its own line."""
    located = load_yaml(text).value["k"]
    assert located == value
    for word in value.replace("joinedhere", "joined here").split():
        offset = located.offset_of(located.index(word))
        assert text[offset : offset + len(word)] == word


def decode_amp(document: str, start: int, end: int) -> LocatedStr:
    """Decode ``&amp;`` in ``document[start:end]`` the way an XML reader would."""
    raw = document[start:end]
    parts: list[str] = []
    marks: list[tuple[int, int]] = []
    position = 0
    while (found := raw.find("&amp;", position)) != -1:
        parts.append(raw[position:found] + "&")
        position = found + 5
        marks.append((len("".join(parts)), start + position))
    parts.append(raw[position:])
    return LocatedStr("".join(parts), start, tuple(marks))


def test_located_input_maps_through_its_marks() -> None:
    """A LocatedStr input maps values, keys and spans through its own marks."""
    document = (
        "<request>\nmethod: GET\nurl: http://x/?a=1&amp;b=2&amp;c=3\n"
        "headers:\n  X-Pair: 'p&amp;q'\n</request>\n"
    )
    start = document.index("method")
    text = decode_amp(document, start, document.index("</request>"))
    result = load_yaml(text, offset=999)  # the offset is ignored for a LocatedStr
    assert result.problems == ()
    url = result.value["url"]
    assert url == "http://x/?a=1&b=2&c=3"
    assert located_text(url, document) == url
    assert located_text(result.value["headers"]["X-Pair"], document) == "p&q"
    span = result.value_spans[("url",)]
    assert document[span[0] : span[1]] == "http://x/?a=1&amp;b=2&amp;c=3"
    key = result.key_spans[("headers", "X-Pair")]
    assert document[key[0] : key[1]] == "X-Pair"


# -- problems ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "at"),
    [
        pytest.param(
            "a: &x 1\nb: *x\n", "anchors and aliases are not allowed", "&x", id="anchor"
        ),
        pytest.param(
            "a: [1]\nb: *x\n", "anchors and aliases are not allowed", "*x", id="alias"
        ),
        pytest.param(
            "a: &x\n  b: 1\n",
            "anchors and aliases are not allowed",
            "&x",
            id="block-anchor",
        ),
        pytest.param(
            "a: 1\n--- \nb: 2\n",
            "only one YAML document is allowed",
            "---",
            id="documents",
        ),
        pytest.param(
            "a: b\x01\n",
            "character U+0001 is not allowed in YAML",
            "\x01",
            id="control",
        ),
        pytest.param(
            "a: \ud800\n",
            "character U+D800 is not allowed in YAML",
            "\ud800",
            id="surrogate",
        ),
    ],
)
def test_problems_that_stop_reading(text: str, message: str, at: str) -> None:
    """Anchors, aliases, extra documents and bad characters end reading, located."""
    result = load_yaml(text, offset=5)
    problem = only_problem(result)
    assert problem.message == message
    assert text[problem.start - 5 : problem.end - 5] == at
    assert problem.hints
    assert result.value is None
    assert result.value_spans == {}
    assert result.key_spans == {}


@pytest.mark.parametrize(
    ("text", "at", "value"),
    [
        pytest.param(
            "a: !!python/object:os.system x\n",
            "!!python/object:os.system",
            {"a": "x"},
            id="python",
        ),
        pytest.param("a: !foo x\n", "!foo", {"a": "x"}, id="local"),
        pytest.param("a: !!str 1\n", "!!str", {"a": 1}, id="str"),
        pytest.param("a: ! x\n", "!", {"a": "x"}, id="non-specific"),
        pytest.param("a: !<tag:x,1:y> x\n", "!<tag:x,1:y>", {"a": "x"}, id="verbatim"),
        pytest.param("a: !!map\n  b: 1\n", "!!map", {"a": {"b": 1}}, id="collection"),
    ],
)
def test_tags_are_reported(text: str, at: str, value: object) -> None:
    """Explicit tags are problems; the tagged node is read as if untagged."""
    result = load_yaml(text)
    problem = only_problem(result)
    assert problem.message == "tags are not allowed"
    assert text[problem.start : problem.end] == at
    assert result.value == value


def test_duplicate_key_keeps_the_first_value() -> None:
    """A repeated key is reported at the repetition and its value is ignored."""
    text = "a: {x: 1}\nb: 2\na: {x: 3, y: 4}\n"
    result = load_yaml(text)
    problem = only_problem(result)
    assert problem.message == "duplicate key 'a'"
    assert problem.hints == ("each key may appear once",)
    assert (problem.start, problem.end) == (text.rindex("a:"), text.rindex("a:") + 1)
    assert result.value == {"a": {"x": 1}, "b": 2}
    assert text[slice(*result.value_spans[("a", "x")])] == "1"
    assert ("a", "y") not in result.value_spans
    assert result.key_spans[("a",)] == (0, 1)


def test_duplicate_keys_compare_as_written() -> None:
    """Keys are compared as strings: ``1`` and ``'1'`` are the same key."""
    result = load_yaml("1: a\n'1': b\n")
    assert only_problem(result).message == "duplicate key '1'"
    assert result.value == {"1": "a"}


@pytest.mark.parametrize(
    ("text", "at"),
    [
        pytest.param("{[a, b]: 1, c: 2}\n", "[a, b]", id="flow-list"),
        pytest.param("? {x: 1}\n: 1\nc: 2\n", "{x: 1}", id="flow-mapping"),
        pytest.param("? - a\n  - b\n: 1\nc: 2\n", "- a\n  - b", id="block-list"),
    ],
)
def test_complex_keys_are_dropped(text: str, at: str) -> None:
    """A list or mapping used as a key is reported and its entry dropped."""
    result = load_yaml(text)
    problem = only_problem(result)
    assert problem.message == "mapping keys must be scalars, not lists or mappings"
    assert text[problem.start : problem.end] == at
    assert result.value == {"c": 2}
    assert set(result.value_spans) == {(), ("c",)}


def test_depth_limit() -> None:
    """Nesting up to max_depth is fine; one level more is a located problem."""
    assert load_yaml("[" * 64 + "]" * 64).problems == ()
    problem = only_problem(load_yaml("[" * 65 + "]" * 65))
    assert problem.message == "YAML is nested deeper than 64 levels"
    assert problem.start == 64
    text = "a:\n  b:\n    c: 1\n"
    problem = only_problem(load_yaml(text, limits=YamlLimits(max_depth=2)))
    assert problem.message == "YAML is nested deeper than 2 levels"
    assert problem.start == text.index("c")


def test_node_limit() -> None:
    """More nodes than max_nodes (keys included) is a located problem."""
    limits = YamlLimits(max_nodes=5)
    assert load_yaml("[1, 2, 3, 4]", limits=limits).problems == ()
    problem = only_problem(load_yaml("[1, 2, 3, 4, 5]", limits=limits))
    assert problem.message == "YAML has more than 5 nodes"
    assert (problem.start, problem.end) == (13, 14)
    text = "{a: 1, b: 2, c: 3}"
    assert only_problem(load_yaml(text, limits=limits)).start == text.index("c")


def test_size_limit() -> None:
    """Text over max_chars is rejected before parsing, at the first extra character."""
    result = load_yaml("a: [1, 2, *x]", offset=3, limits=YamlLimits(max_chars=10))
    problem = only_problem(result)
    assert problem.message == "YAML text is 13 characters; the limit is 10"
    assert (problem.start, problem.end) == (13, 14)
    assert result.value is None


def test_syntax_error_points_at_the_bad_line() -> None:
    """A syntax error is one problem at PyYAML's mark, with an indentation hint."""
    document = "---\nname: demo\nversion: 1\n  extra: x\n---\n"
    result = load_yaml(document[4:-4], offset=4)
    problem = only_problem(result)
    assert problem.message.startswith("mapping values are not allowed")
    assert problem.hints == ("check the indentation",)
    position = LineIndex(document).position(problem.start)
    assert (position.line, position.column) == (4, 8)
    assert result.value is None


def test_bad_indentation_on_line_three() -> None:
    """A key indented less than its siblings is reported on its own line."""
    text = "config:\n  retries: 3\n timeout: 5\n"
    problem = only_problem(load_yaml(text))
    assert LineIndex(text).position(problem.start).line == 3
    assert problem.hints == ("check the indentation",)
    assert not problem.message.startswith("invalid")


INDENT = ("check the indentation",)
TABS = ("indent with spaces; YAML does not allow tabs there",)


@pytest.mark.parametrize(
    ("text", "hints"),
    [
        pytest.param("a: 'unclosed\n", (), id="unclosed-quote"),
        pytest.param("a: [1, 2\n", (), id="unclosed-flow"),
        pytest.param("a:\n\t- b\n", TABS, id="tab"),
        pytest.param("a: b: c\n", INDENT, id="nested-colon"),
        pytest.param("%YAML 9.9\n--- a\n", (), id="bad-directive"),
        pytest.param("- a\nb: c\n", INDENT, id="list-then-map"),
        pytest.param("key: value\n- item\n", INDENT, id="map-then-list"),
        pytest.param('k: "\\q"\n', (), id="bad-escape"),
        pytest.param("a: @b\n", (), id="reserved-character"),
    ],
)
def test_syntax_errors_are_clean(text: str, hints: tuple[str, ...]) -> None:
    """Syntax errors give one lower-case, single-line, located message."""
    problem = only_problem(load_yaml(text))
    assert problem.message[0].islower()
    assert "\n" not in problem.message
    assert problem.hints == hints
    assert 0 <= problem.start <= problem.end <= len(text)


# -- attacks ----------------------------------------------------------------------------


def billion_laughs() -> str:
    """Return the classic alias bomb: nine levels of nine aliases each."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        name, previous = chr(97 + level), chr(96 + level)
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_rejected_at_once(parser: type) -> None:
    """The billion-laughs bomb stops at its first anchor, within 50 ms."""
    text = billion_laughs()
    result = load_yaml(text)
    assert only_problem(result).message == "anchors and aliases are not allowed"
    assert result.problems[0].start == text.index("&a")


def test_huge_text_is_rejected_without_parsing(parser: type) -> None:
    """A 50 MB text is rejected by its length alone, within 50 ms."""
    text = "a: [" + "x, " * (50 * 1024 * 1024 // 3) + "]"
    problem = only_problem(load_yaml(text))
    assert (
        problem.message == f"YAML text is {len(text)} characters; the limit is 1000000"
    )
    assert problem.start == 1_000_000


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000, id="flow-lists"),
        pytest.param("{a: " * 100_000, id="flow-mappings"),
        pytest.param("".join(" " * i + "- \n" for i in range(1_000)), id="block-lists"),
        pytest.param(
            "".join(" " * i + "k:\n" for i in range(1_000)), id="block-mappings"
        ),
    ],
)
def test_deep_nesting_is_rejected(parser: type, text: str) -> None:
    """Deep nesting stops at the depth limit, without RecursionError."""
    problem = only_problem(load_yaml(text))
    assert problem.message == "YAML is nested deeper than 64 levels"


def test_typical_frontmatter_loads(parser: type) -> None:
    """A 200-line frontmatter loads completely."""
    lines = []
    for i in range(40):
        lines += [
            f"key{i}: value {i}",
            f"num{i}: {i}.5",
            f"list{i}:",
            f"  - a{i}",
            f"  - 'b{i}'",
        ]
    text = "\n".join(lines) + "\n"
    result = load_yaml(text)
    assert result.problems == ()
    assert len(result.value) == 120


# -- properties -------------------------------------------------------------------------

TOKENS = [
    *"abc01 :-?[]{},'\"|>!&*#%@`\\.~=\n\t",
    "---",
    "...",
    "  ",
    "<<",
    "é",
    "😀",
    "\x85",
    "\u2028",
    "\ufeff",
    "\r",
    "\x00",
    "\ud800",
    "%YAML 1.2\n",
    "%TAG ! !x\n",
    "\\x41",
    "''",
]
yaml_like = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)


def check_within(result: YamlResult, offset: int, length: int) -> None:
    """Assert every span and located string of a result lies in the document."""
    for problem in result.problems:
        assert offset <= problem.start <= problem.end <= offset + length, problem
        assert problem.message
    for spans in (result.value_spans, result.key_spans):
        for start, end in spans.values():
            assert offset <= start <= end <= offset + length
    for text in strings(result.value):
        assert isinstance(text, LocatedStr)
        for i in range(len(text)):
            assert offset <= text.offset_of(i) < offset + length


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(max_size=60), yaml_like), offset=st.integers(0, 50))
def test_any_text_loads_without_raising(text: str, offset: int) -> None:
    """Any string loads without an exception, every span inside the document."""
    check_within(load_yaml(text, offset=offset), offset, len(text))


# Without digits, nothing PyYAML writes plainly reads as a different type in YAML 1.2;
# line and paragraph separators and control characters do not survive its dumper.
words = st.text(
    st.characters(
        exclude_characters="0123456789", exclude_categories=("Cc", "Cs", "Zl", "Zp")
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(
    value=st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_infinity=False, allow_nan=False)
        | words,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(words, children, max_size=4)
        ),
        max_leaves=12,
    ),
    style=st.sampled_from([None, True, False]),
)
def test_dumped_data_round_trips(value: object, style: bool | None) -> None:
    """Whatever safe_dump writes from JSON data reads back equal, every span in place."""
    text = yaml.safe_dump(value, default_flow_style=style, allow_unicode=True)
    result = load_yaml(text)
    assert result.problems == ()
    assert result.value == value
    check_within(result, 0, len(text))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("|\x85 0", id="next-line"),
        pytest.param("|\u2028 0", id="line-separator"),
        pytest.param("|\r\n 0", id="crlf"),
    ],
)
def test_block_scalar_after_any_yaml_line_break_is_located(text: str) -> None:
    """A block scalar's text is located after whatever line break YAML saw."""
    value = load_yaml(text).value
    assert value == "0"
    assert value.offset_of(0) == text.index("0")
