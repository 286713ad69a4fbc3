"""Tests of ConfigReader through parse_document: how settings of configured nodes are read."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from maidit_jupyter.errors import ErrorCode, Severity
from maidit_jupyter.parsing.parser import ParseResult
from maidit_jupyter.source import LocatedStr
from maidit_jupyter.syntax import nodes as n
from tests.flows import BODY_LINE, codes, document, only, parse


def config_of(body: str, node_id: str | None = None) -> Mapping[str, n.ConfigValue]:
    """The config of a configured node (the first one by default) of a body without errors."""
    result = parse(body)
    assert result.workflow is not None
    assert not result.errors, [str(d) for d in result.errors]
    nodes = list(result.workflow.walk())
    found = nodes[0] if node_id is None else next(x for x in nodes if x.id == node_id)
    assert isinstance(found, n.ConfiguredNode)
    return found.config


def located_text(value: object, text: str) -> str:
    """The characters of ``text`` a located value says it came from."""
    assert isinstance(value, LocatedStr), value
    return text[value.offset_of(0) : value.offset_of(len(value))]


# --- attributes and children ---------------------------------------------------------


def test_attributes_are_settings() -> None:
    """Every attribute except id, type and input is a setting."""
    config = config_of('<source id="a" type="file" path="data.json" encoding="utf-8"/>')
    assert dict(config) == {"path": "data.json", "encoding": "utf-8"}


def test_child_element_wins_over_attribute() -> None:
    """A child element sets the same setting as an attribute, and wins."""
    config = config_of(
        '<source id="a" type="file" path="attr.json"><path> child.json </path></source>'
    )
    assert config["path"] == "child.json"


def test_request_keys_merge_into_source_config_with_nesting() -> None:
    """A source's <request> YAML is merged into its config, nested headers included."""
    config = config_of(
        '<source id="a" url="http://attr">\n'
        "  <request>\n"
        "    url: http://request\n"
        "    method: post\n"
        "    headers:\n"
        "      Authorization: Bearer {{ $secrets.T }}\n"
        "      Accept: application/json\n"
        "    params:\n"
        "      page: 2\n"
        "  </request>\n"
        "</source>",
    )
    assert dict(config) == {
        "url": "http://request",
        "method": "POST",
        "headers": {
            "Authorization": "Bearer {{ $secrets.T }}",
            "Accept": "application/json",
        },
        "params": {"page": 2},
    }


def test_other_children_override_request_keys() -> None:
    """Children other than <request> override what <request> set."""
    config = config_of(
        '<source id="a"><request>\n  url: http://request\n  method: get\n</request>'
        "<url>http://child</url></source>"
    )
    assert (config["url"], config["method"]) == ("http://child", "GET")


def test_sink_request_is_not_flattened() -> None:
    """A sink's <request> stays a mapping under ``request``, with an unknown-setting warning."""
    result = parse(
        '<set var="a"/><sink id="s" input="a" url="http://x">'
        "<request>\n  method: post\n  headers:\n    A: b\n</request></sink>"
    )
    assert result.workflow is not None
    sink = result.workflow.nodes[1]
    assert isinstance(sink, n.SinkNode)
    assert sink.config["request"] == {"method": "post", "headers": {"A": "b"}}
    assert "method" not in sink.config
    warning = only(result.diagnostics, ErrorCode.VALID_UNKNOWN_FIELD)
    assert warning.severity is Severity.WARNING
    assert warning.message == "http:sink does not read a setting named 'request'"


@pytest.mark.parametrize(
    ("child", "value"),
    [
        pytest.param(
            "<headers>\n  X-A: 1\n  X-B: two\n</headers>",
            {"X-A": 1, "X-B": "two"},
            id="multi-line",
        ),
        pytest.param("<headers>X-A: 1</headers>", {"X-A": 1}, id="single-line"),
        pytest.param(
            "<headers>{X-A: '1', X-B: [a, b]}</headers>",
            {"X-A": "1", "X-B": ("a", "b")},
            id="flow-mapping-lists-are-tuples",
        ),
        pytest.param(
            "<auth>\n  type: bearer\n  token: '{{ $secrets.T }}'\n</auth>",
            {"type": "bearer", "token": "{{ $secrets.T }}"},
            id="auth",
        ),
    ],
)
def test_structured_children_are_yaml(child: str, value: object) -> None:
    """Structured settings are YAML mappings, even on one line."""
    config = config_of(f'<source id="a" url="http://x">{child}</source>')
    key = child[1:].split(">")[0]
    assert config[key] == value


def test_structured_child_holding_one_template_stays_a_template() -> None:
    """``<body>{{ input }}</body>`` is the template text, not a YAML flow mapping."""
    config = config_of(
        '<set var="a"/><sink id="s" input="a" url="http://x" method="POST">'
        "<body>{{ input }}</body></sink>",
        "s",
    )
    assert config["body"] == "{{ input }}"


def test_templates_inside_structured_yaml_are_values() -> None:
    """A YAML value that starts with ``{{`` is the template text, whatever it holds."""
    config = config_of(
        '<set var="a"/><sink id="s" input="a" url="http://x" method="POST"><body>\n'
        "  name: {{ input.name }}\n"
        '  pick: {{ a ? b : c }}{{ "}}" }}\n'
        "  tags: [{{ input.tag }}, '{{ input.x }}']\n"
        '  quoted: "{{ \\"x\\" }}"\n'
        "</body><headers>X-Id: {{ $config.id }}</headers></sink>",
        "s",
    )
    assert config["body"] == {
        "name": "{{ input.name }}",
        "pick": '{{ a ? b : c }}{{ "}}" }}',
        "tags": ("{{ input.tag }}", "{{ input.x }}"),
        "quoted": '{{ "x" }}',
    }
    assert config["headers"] == {"X-Id": "{{ $config.id }}"}


def test_child_with_only_element_children_is_a_mapping() -> None:
    """A child holding only elements is a mapping of their texts."""
    config = config_of(
        '<source id="a" url="http://x"><response><extract>data.items</extract>'
        "</response></source>"
    )
    assert config["response"] == {"extract": "data.items"}


@pytest.mark.parametrize(
    ("element", "key"),
    [
        pytest.param(
            '<transform id="t" input="a"><template>\n  name: {{ input.name }}\n'
            "  age: {{ input.age }}\n</template></transform>",
            "template",
            id="template",
        ),
        pytest.param(
            '<ai id="t" input="a"><system>\n  role: a bot\n  rule: answer: yes\n'
            "</system></ai>",
            "system",
            id="system",
        ),
        pytest.param(
            '<ai id="t" input="a"><prompt>\n  Q: why?\n  A: because\n</prompt></ai>',
            "prompt",
            id="prompt",
        ),
        pytest.param(
            '<source id="t" type="database" connection="c"><query>\n'
            "  SELECT a::text\n  FROM t WHERE x = 'a:b'\n</query></source>",
            "query",
            id="query",
        ),
        pytest.param(
            '<transform id="t" type="map" input="a"><expression>{\n  a: 1,\n'
            "  b: 2\n}</expression></transform>",
            "expression",
            id="expression",
        ),
        pytest.param(
            '<ai id="t" input="a"><output-schema>{a: string,\n b: number}'
            "</output-schema></ai>",
            "output-schema",
            id="output-schema",
        ),
    ],
)
def test_text_children_are_never_mappings(element: str, key: str) -> None:
    """Text settings full of colons stay text."""
    value = config_of(f'<set var="a"/>{element}', "t")[key]
    assert isinstance(value, str)
    assert ":" in value


def test_unknown_setting_warns_and_keeps_the_original_rule() -> None:
    """An unknown child warns; multi-line all-colon text is a mapping, other text stays."""
    result = parse(
        '<source id="a" type="file" path="p">\n'
        "  <extra>\n    a: 1\n    b: two\n  </extra>\n"
        "  <single>a: 1</single>\n"
        "  <mixed>\n    a: 1\n    no colon here\n  </mixed>\n"
        "</source>"
    )
    assert result.workflow is not None
    source = result.workflow.nodes[0]
    assert isinstance(source, n.SourceNode)
    assert source.config["extra"] == {"a": 1, "b": "two"}
    assert source.config["single"] == "a: 1"
    assert source.config["mixed"] == "a: 1\n    no colon here"
    warnings = [(d.code, d.severity, d.line, d.column) for d in result.diagnostics]
    assert warnings == [
        (ErrorCode.VALID_UNKNOWN_FIELD, Severity.WARNING, BODY_LINE + 1, 3),
        (ErrorCode.VALID_UNKNOWN_FIELD, Severity.WARNING, BODY_LINE + 5, 3),
        (ErrorCode.VALID_UNKNOWN_FIELD, Severity.WARNING, BODY_LINE + 6, 3),
    ]


def test_unknown_attribute_setting_suggests_the_close_one() -> None:
    """A misspelt setting gets a did-you-mean hint and the runtime's settings."""
    result = parse('<source id="a" type="file" pth="x" path="p"/>')
    found = only(result.diagnostics, ErrorCode.VALID_UNKNOWN_FIELD)
    assert found.message == "file:source does not read a setting named 'pth'"
    assert found.hints == (
        "Did you mean 'path'?",
        "file:source reads: path, format, encoding",
    )
    assert found.column == len('<source id="a" type="file" ') + 1


# --- conversion ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "key", "value"),
    [
        pytest.param(
            '<sink id="x" type="file" path="o" pretty="false"/>',
            "pretty",
            False,
            id="bool-false",
        ),
        pytest.param(
            '<sink id="x" type="file" path="o" createDir="TRUE"/>',
            "createDir",
            True,
            id="bool-upper",
        ),
        pytest.param(
            '<sink id="x" type="database" connection="c" table="t" batch="10"/>',
            "batch",
            10,
            id="int",
        ),
        pytest.param(
            '<source id="x" url="http://h" timeout="5s"/>',
            "timeout",
            5000.0,
            id="duration",
        ),
        pytest.param(
            '<source id="x" url="http://h" timeout="5000"/>',
            "timeout",
            5000.0,
            id="duration-plain-ms",
        ),
        pytest.param(
            '<source id="x" url="http://h" method="get"/>',
            "method",
            "GET",
            id="choice-case",
        ),
        pytest.param(
            '<source id="x" type="file" path="p" format="CSV"/>',
            "format",
            "csv",
            id="choice-lower",
        ),
        pytest.param(
            '<source id="x" type="file" path="p" format="csv"/>',
            "format",
            "csv",
            id="choice",
        ),
        pytest.param('<ai id="x" temperature="0.5"/>', "temperature", 0.5, id="number"),
        pytest.param(
            '<ai id="x" max-tokens=" 200 "/>', "max-tokens", 200, id="int-blanks"
        ),
        pytest.param('<ai id="x" api-key=" MY_KEY "/>', "api-key", "MY_KEY", id="name"),
        pytest.param(
            '<sink id="x" type="database" connection="c" table="t" conflictColumns="a, b"/>',
            "conflictColumns",
            ("a", "b"),
            id="list",
        ),
        pytest.param(
            '<sink id="x" type="file" path="o"><pretty>true</pretty></sink>',
            "pretty",
            True,
            id="child-bool",
        ),
    ],
)
def test_values_are_converted_by_the_runtime_schema(
    element: str, key: str, value: object
) -> None:
    """Booleans, numbers, durations, choices and lists become typed values."""
    converted = config_of(element)[key]
    assert converted == value
    assert type(converted) is type(value)


@pytest.mark.parametrize(
    ("element", "key"),
    [
        pytest.param(
            '<sink id="x" type="file" path="o" pretty="{{ $config.p }}"/>',
            "pretty",
            id="bool",
        ),
        pytest.param(
            '<sink id="x" type="database" connection="c" table="t" batch="{{ $config.n }}"/>',
            "batch",
            id="int",
        ),
        pytest.param(
            '<source id="x" url="http://h" timeout="{{ $config.t }}"/>',
            "timeout",
            id="duration",
        ),
        pytest.param(
            '<source id="x" url="http://h" method="{{ $config.m }}"/>',
            "method",
            id="choice",
        ),
    ],
)
def test_templates_are_never_converted(element: str, key: str) -> None:
    """A value holding ``{{ }}`` is kept as text, to be resolved at run time."""
    value = config_of(element)[key]
    assert isinstance(value, LocatedStr)
    assert value.startswith("{{")


@pytest.mark.parametrize(
    ("element", "message", "value"),
    [
        pytest.param(
            '<sink id="x" type="file" path="o" pretty="maybe"/>',
            "<sink> pretty must be true or false, got 'maybe'",
            "maybe",
            id="bool",
        ),
        pytest.param(
            '<sink id="x" type="database" connection="c" table="t" batch="ten"/>',
            "<sink> batch must be a whole number, got 'ten'",
            "ten",
            id="int",
        ),
        pytest.param(
            '<sink id="x" type="database" connection="c" table="t" batch="0"/>',
            "<sink> batch must be at least 1, got '0'",
            "0",
            id="int-minimum",
        ),
        pytest.param(
            '<ai id="x" temperature="hot"/>',
            "<ai> temperature must be a number, got 'hot'",
            "hot",
            id="number",
        ),
        pytest.param(
            '<source id="x" url="http://h" timeout="soon"/>',
            '<source> timeout must be a duration such as "30s" or "500ms", got \'soon\'',
            "soon",
            id="duration",
        ),
        pytest.param(
            '<source id="x" url="http://h" method="FETCH"/>',
            "<source> method must be one of GET, POST, PUT, PATCH, DELETE, HEAD, "
            "OPTIONS, got 'FETCH'",
            "FETCH",
            id="choice",
        ),
        pytest.param(
            '<sink id="x" type="file" path="o" format="xml"/>',
            "<sink> format must be one of auto, json, csv, yaml, text, lines, jsonl, "
            "got 'xml'",
            "xml",
            id="format",
        ),
    ],
)
def test_bad_values_are_reported_at_the_value(
    element: str, message: str, value: str
) -> None:
    """A value of the wrong kind is VALID_INVALID_FIELD_TYPE at the value's column."""
    result = parse(element)
    found = only(result.diagnostics, ErrorCode.VALID_INVALID_FIELD_TYPE)
    assert found.message == message
    assert (found.line, found.column) == (BODY_LINE, element.index(f'"{value}"') + 2)
    assert found.span is not None
    assert found.span.end.column == found.span.column + len(value)


# --- args, CDATA, entities ----------------------------------------------------------


def test_arg_children_are_args() -> None:
    """``<arg name value>`` (or text) children become ``config["args"]``."""
    config = config_of(
        '<transform id="py" type="python" function="pkg.mod:fn">'
        '<arg name="x" value="{{ input }}"/><arg name=" y ">text {{ 1 }}</arg>'
        "</transform>"
    )
    assert config["function"] == "pkg.mod:fn"
    assert config["args"] == {"x": "{{ input }}", "y": "text {{ 1 }}"}


def test_arg_without_name_is_an_error() -> None:
    """An <arg> without name is VALID_MISSING_REQUIRED_FIELD and is skipped."""
    result = parse(
        '<transform id="py" type="python" function="fn"><arg value="1"/></transform>'
    )
    found = only(result.diagnostics, ErrorCode.VALID_MISSING_REQUIRED_FIELD)
    assert found.message == '<arg> requires a "name" attribute'
    assert result.workflow is not None
    python = result.workflow.nodes[0]
    assert isinstance(python, n.TransformNode)
    assert "args" not in python.config


@pytest.mark.parametrize(
    ("template", "value"),
    [
        pytest.param("<![CDATA[a < b]]>", "a < b", id="cdata"),
        pytest.param(
            "<![CDATA[<b>{{ x }}</b> & more]]>",
            "<b>{{ x }}</b> & more",
            id="cdata-markup",
        ),
        pytest.param("x &amp;&amp; y &lt; z", "x && y < z", id="entities"),
        pytest.param("a &#60; b &#x3E; c", "a < b > c", id="character-references"),
        pytest.param("a < 2 && b", "a < 2 && b", id="raw-characters"),
        pytest.param("one <![CDATA[<two>]]> three", "one <two> three", id="mixed"),
    ],
)
def test_template_text_decoding(template: str, value: str) -> None:
    """CDATA is text and entities are decoded in a template."""
    config = config_of(f'<transform id="t"><template>{template}</template></transform>')
    assert config["template"] == value


# --- locations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "path"),
    [
        pytest.param(
            '<source id="a" type="file" path="data/in.json"/>',
            ("path",),
            id="attribute",
        ),
        pytest.param(
            '<source id="a" type="file">\n  <path>  data/in.json  </path>\n</source>',
            ("path",),
            id="child-text",
        ),
        pytest.param(
            '<source id="a" url="http://x">\n  <request>\n    headers:\n'
            "      Authorization: Bearer {{ $secrets.T }}\n  </request>\n</source>",
            ("headers", "Authorization"),
            id="nested-yaml",
        ),
        pytest.param(
            '<source id="a" url="http://x"><headers>\n  X-Id: {{ $config.id }}\n'
            "</headers></source>",
            ("headers", "X-Id"),
            id="yaml-template",
        ),
        pytest.param(
            '<transform id="a" type="filter" condition="a &lt; b &amp;&amp; c"/>',
            ("condition",),
            id="attribute-entities",
        ),
        pytest.param(
            '<transform id="a"><template>x &amp;&amp; {{ y }}</template></transform>',
            ("template",),
            id="text-entities",
        ),
    ],
)
def test_located_values_map_back_to_their_characters(
    body: str, path: tuple[str, ...]
) -> None:
    """A config value's LocatedStr offsets cover exactly the characters it was read from."""
    text = document(body)
    value: object = config_of(body)
    for key in path:
        assert isinstance(value, Mapping)
        value = value[key]
    assert isinstance(value, LocatedStr)
    written = located_text(value, text)
    assert written.replace("&lt;", "<").replace("&amp;", "&") == value


def test_located_value_with_entity_points_at_raw_characters() -> None:
    """Characters after a decoded entity are located after the entity's raw text."""
    body = '<transform id="a" type="filter" condition="a &lt; b"/>'
    text = document(body)
    value = config_of(body)["condition"]
    assert isinstance(value, LocatedStr)
    assert value == "a < b"
    assert text[value.offset_of(2) : value.offset_of(2) + 4] == "&lt;"
    assert text[value.offset_of(4)] == "b"


# --- invalid YAML -------------------------------------------------------------------


def invalid_request() -> ParseResult:
    """A source whose <request> has a YAML error on its third line."""
    return parse(
        '<source id="h">\n'
        "  <request>\n"
        "    url: http://x\n"
        "    method: @get\n"
        "  </request>\n"
        "  <headers>\n    A: 1\n    B: 2\n  </headers>\n"
        "</source>"
    )


def test_invalid_yaml_in_a_child_is_located_at_the_bad_line() -> None:
    """Invalid YAML in a structured child is PARSE_YAML_INVALID on the bad line."""
    result = invalid_request()
    found = only(result.diagnostics, ErrorCode.PARSE_YAML_INVALID)
    assert found.message.startswith("Invalid YAML in <request>: ")
    assert (found.line, found.column) == (BODY_LINE + 3, len("    method: ") + 1)


def test_invalid_yaml_does_not_stop_reading_the_rest() -> None:
    """After a YAML error, the child is read line by line and other children still are."""
    result = invalid_request()
    assert result.workflow is not None
    source = result.workflow.nodes[0]
    assert isinstance(source, n.SourceNode)
    assert source.config["url"] == "http://x"
    assert source.config["headers"] == {"A": 1, "B": 2}
    assert "PARSE_YAML_INVALID" in codes(result.diagnostics)
