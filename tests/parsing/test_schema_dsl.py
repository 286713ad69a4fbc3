"""Tests of the output-schema DSL of AI nodes (reference §9.7)."""

from __future__ import annotations

from typing import Any

import pytest

from maidit_jupyter.parsing.schema_dsl import SchemaDSLError, parse_schema_dsl


def obj(**properties: Any) -> dict[str, Any]:
    """The JSON Schema of an object whose keys are all required."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def array(items: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of an array."""
    return {"type": "array", "items": items}


STRING = {"type": "string"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}


@pytest.mark.parametrize(
    ("text", "schema"),
    [
        pytest.param("string", STRING, id="string"),
        pytest.param(" number ", NUMBER, id="number-trimmed"),
        pytest.param("boolean", BOOLEAN, id="boolean"),
        pytest.param("string[]", array(STRING), id="array"),
        pytest.param("string []", array(STRING), id="array-with-space"),
        pytest.param("string[][]", array(array(STRING)), id="nested-array"),
        pytest.param("{}", obj(), id="empty-object"),
        pytest.param("{ }", obj(), id="empty-object-with-space"),
        pytest.param("{a: string}", obj(a=STRING), id="object"),
        pytest.param("{a: string,}", obj(a=STRING), id="trailing-comma"),
        pytest.param("{a: string}[]", array(obj(a=STRING)), id="array-of-objects"),
        pytest.param(
            "{user: {name: string}, tags: string[]}",
            obj(user=obj(name=STRING), tags=array(STRING)),
            id="nested-object",
        ),
        pytest.param(
            "{a: {b: number[]}[]}",
            obj(a=array(obj(b=array(NUMBER)))),
            id="deep",
        ),
        pytest.param(
            "{\n  name: string,\n  score: number,\n  ok: boolean\n}",
            obj(name=STRING, score=NUMBER, ok=BOOLEAN),
            id="multi-line",
        ),
        pytest.param(
            '{"a": string}',
            obj(**{'"a"': STRING}),
            id="quotes-kept",
        ),
    ],
)
def test_valid_schemas(text: str, schema: dict[str, Any]) -> None:
    """Each schema text gives its JSON Schema; every object key is required."""
    assert parse_schema_dsl(text) == schema


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "{a string}",
            'Invalid schema syntax: missing colon in "a string"',
            id="missing-colon",
        ),
        pytest.param(
            "{: string}",
            'Invalid schema syntax: empty key in ": string"',
            id="empty-key",
        ),
        pytest.param(
            "{a: }", 'Invalid schema syntax: empty type for key "a"', id="empty-type"
        ),
        pytest.param("int", 'Unknown schema type: "int"', id="unknown-scalar"),
        pytest.param("", 'Unknown schema type: ""', id="empty"),
        pytest.param("[string]", 'Unknown schema type: "[string]"', id="brackets"),
        pytest.param(
            "{a: string", 'Unknown schema type: "{a: string"', id="unclosed-object"
        ),
        pytest.param(
            "{a: string[}", 'Unknown schema type: "string["', id="unclosed-array"
        ),
        pytest.param("{a: date}", 'Unknown schema type: "date"', id="unknown-nested"),
        pytest.param(
            "string" + "[]" * 40,
            "Invalid schema syntax: nested too deeply",
            id="too-deep",
        ),
    ],
)
def test_schema_errors(text: str, message: str) -> None:
    """Each mistake raises SchemaDSLError with the original's message."""
    with pytest.raises(SchemaDSLError) as raised:
        parse_schema_dsl(text)
    assert str(raised.value) == message


def test_schema_error_is_a_value_error() -> None:
    """SchemaDSLError is a ValueError, so callers may catch either."""
    assert issubclass(SchemaDSLError, ValueError)
