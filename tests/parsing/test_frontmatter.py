"""Tests of the frontmatter checks, through parse_document."""

from __future__ import annotations

from typing import Any

import pytest

from maidit_jupyter.errors import Diagnostic, ErrorCode, Severity
from maidit_jupyter.parsing.parser import parse_document
from maidit_jupyter.syntax.workflow import ConfigField, Frontmatter

NAME_VERSION = "name: demo\nversion: 1.0.0\n"


def read(yaml: str) -> tuple[Frontmatter, tuple[Diagnostic, ...]]:
    """Parse a document whose frontmatter is ``yaml``; return it and the diagnostics."""
    result = parse_document(f"---\n{yaml}\n---\n<workflow/>\n", path="f.flow.md")
    assert result.workflow is not None, result.diagnostics
    return result.workflow.frontmatter, result.diagnostics


def clean(yaml: str) -> Frontmatter:
    """Read frontmatter that must give no diagnostics at all."""
    frontmatter, diagnostics = read(yaml)
    assert not diagnostics, [str(d) for d in diagnostics]
    return frontmatter


def single(yaml: str) -> Diagnostic:
    """Read frontmatter that must give exactly one diagnostic."""
    _, diagnostics = read(yaml)
    assert len(diagnostics) == 1, [str(d) for d in diagnostics]
    return diagnostics[0]


def field(yaml: str, name: str) -> ConfigField:
    """The config field ``name`` of some ``config:`` lines (after name and version)."""
    frontmatter, _ = read(NAME_VERSION + yaml)
    return frontmatter.config[name]


# --- name and version -------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "version"),
    [
        pytest.param("1.0", "1.0", id="unquoted-float"),
        pytest.param("1.10", "1.10", id="unquoted-float-keeps-trailing-zero"),
        pytest.param("1.0.0", "1.0.0", id="semver"),
        pytest.param('"1.0"', "1.0", id="quoted"),
        pytest.param("'2.1.3'", "2.1.3", id="single-quoted"),
    ],
)
def test_accepted_versions_read_as_written(written: str, version: str) -> None:
    """A version of two or three numbers is kept as the text written, never a float."""
    frontmatter = clean(f"name: demo\nversion: {written}")
    assert frontmatter.version == version
    assert isinstance(frontmatter.version, str)


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        pytest.param("1.0.0-beta", "1.0.0-beta", id="prerelease"),
        pytest.param('"1.0.0+b1"', "1.0.0+b1", id="build-metadata"),
        pytest.param("true", "true", id="boolean"),
        pytest.param("1", "1", id="integer"),
        pytest.param("1.0e3", "1.0e3", id="exponent"),
        pytest.param("1.0.0.0", "1.0.0.0", id="four-parts"),
        pytest.param("v1.0", "v1.0", id="prefix"),
    ],
)
def test_rejected_versions_name_the_text_written(written: str, shown: str) -> None:
    """A version of another shape is VALID_INVALID_FIELD_TYPE with the original's message."""
    found = single(f"name: demo\nversion: {written}")
    assert found.code is ErrorCode.VALID_INVALID_FIELD_TYPE
    assert found.message == f'Invalid version format "{shown}"'
    assert found.hints == (
        "Version must be in semver format: X.Y.Z or X.Y",
        'Examples: "1.0.0", "2.1", "0.0.1"',
    )
    assert (found.line, found.column) == (3, 10)


@pytest.mark.parametrize(
    "yaml",
    [
        pytest.param("name: demo", id="absent"),
        pytest.param("name: demo\nversion:", id="empty"),
        pytest.param("name: demo\nversion: ~", id="null"),
    ],
)
def test_missing_version(yaml: str) -> None:
    """No version, or a null one, is VALID_MISSING_REQUIRED_FIELD."""
    found = single(yaml)
    assert found.code is ErrorCode.VALID_MISSING_REQUIRED_FIELD
    assert found.message == 'Frontmatter must include a "version" field'


@pytest.mark.parametrize(
    ("yaml", "line", "column"),
    [
        pytest.param("version: 1.0.0", 2, 1, id="absent-at-frontmatter-start"),
        pytest.param("name: ''\nversion: 1.0.0", 2, 7, id="empty-at-value"),
        pytest.param("name: '   '\nversion: 1.0.0", 2, 7, id="blank-at-value"),
        pytest.param("name: 5\nversion: 1.0.0", 2, 7, id="number-at-value"),
    ],
)
def test_missing_name_is_located(yaml: str, line: int, column: int) -> None:
    """A missing or non-string name is reported at its value, or at the frontmatter start."""
    found = single(yaml)
    assert found.code is ErrorCode.VALID_MISSING_REQUIRED_FIELD
    assert found.message == 'Frontmatter must include a "name" field'
    assert (found.line, found.column) == (line, column)


def test_name_is_trimmed() -> None:
    """Blanks around the name are dropped."""
    assert clean("name: '  demo  '\nversion: 1.0.0").name == "demo"


@pytest.mark.parametrize(
    ("yaml", "description"),
    [
        pytest.param("description: Grades students", "Grades students", id="string"),
        pytest.param("description: 5", None, id="number-ignored"),
        pytest.param("", None, id="absent"),
    ],
)
def test_description(yaml: str, description: str | None) -> None:
    """A string description is kept; anything else is ignored, as in the original."""
    assert clean(NAME_VERSION + yaml).description == description


# --- trigger ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml", "trigger"),
    [
        pytest.param("trigger: manual", {"type": "manual"}, id="manual"),
        pytest.param("trigger: webhook", {"type": "webhook"}, id="webhook"),
        pytest.param("trigger: schedule", {"type": "schedule"}, id="schedule"),
        pytest.param(
            "trigger: {schedule: '0 9 * * MON'}",
            {"type": "schedule", "schedule": "0 9 * * MON"},
            id="mapping-by-key",
        ),
        pytest.param(
            "trigger:\n  type: webhook\n  config: {path: /hook}",
            {"type": "webhook", "config": {"path": "/hook"}},
            id="mapping-with-type",
        ),
        pytest.param("trigger: {}", {"type": "manual"}, id="empty-mapping"),
        pytest.param("", None, id="absent"),
    ],
)
def test_trigger(yaml: str, trigger: dict[str, Any] | None) -> None:
    """A trigger string or mapping is kept with its type resolved."""
    frontmatter = clean(NAME_VERSION + yaml)
    assert frontmatter.trigger == trigger


@pytest.mark.parametrize(
    ("yaml", "message", "column"),
    [
        pytest.param(
            "trigger: cron",
            "unknown trigger 'cron'; runs start as 'manual'",
            10,
            id="string",
        ),
        pytest.param(
            "trigger: {type: cron}", "unknown trigger type 'cron'", 17, id="mapping"
        ),
    ],
)
def test_unknown_trigger_is_a_warning(yaml: str, message: str, column: int) -> None:
    """An unknown trigger warns at its value and falls back to manual."""
    frontmatter, diagnostics = read(NAME_VERSION + yaml)
    assert len(diagnostics) == 1
    found = diagnostics[0]
    assert found.severity is Severity.WARNING
    assert found.message == message
    assert (found.line, found.column) == (4, column)
    assert frontmatter.trigger is not None
    assert frontmatter.trigger["type"] == "manual"


def test_trigger_of_another_shape_is_an_error() -> None:
    """A list trigger is VALID_INVALID_FIELD_TYPE and dropped."""
    frontmatter, diagnostics = read(NAME_VERSION + "trigger: [manual]")
    assert [d.message for d in diagnostics] == ["trigger must be a string or a mapping"]
    assert frontmatter.trigger is None


# --- config -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "type_name", "default", "has_default"),
    [
        pytest.param("{type: string}", "string", None, False, id="string"),
        pytest.param("{type: number, default: 1.5}", "number", 1.5, True, id="number"),
        pytest.param(
            "{type: boolean, default: false}", "boolean", False, True, id="boolean"
        ),
        pytest.param(
            "{type: object, default: {a: 1}}", "object", {"a": 1}, True, id="object"
        ),
        pytest.param(
            "{type: array, default: [1, 2]}", "array", [1, 2], True, id="array"
        ),
        pytest.param(
            "{default: hi}", "string", "hi", True, id="type-defaults-to-string"
        ),
        pytest.param(
            "{type: number, default: ~}", "number", None, True, id="null-default"
        ),
    ],
)
def test_config_field_types(
    spec: str, type_name: str, default: object, has_default: bool
) -> None:
    """Each declared type is kept with its default."""
    frontmatter = clean(f"{NAME_VERSION}config:\n  f: {spec}")
    declared = frontmatter.config["f"]
    assert (declared.name, declared.type, declared.default, declared.has_default) == (
        "f",
        type_name,
        default,
        has_default,
    )


def test_config_field_required_description_and_enum() -> None:
    """required, description and enum are kept."""
    declared = clean(
        NAME_VERSION + "config:\n  mode:\n    type: string\n    required: true\n"
        "    description: How to run\n    enum: [fast, slow]\n    default: fast"
    ).config["mode"]
    assert declared.required is True
    assert declared.description == "How to run"
    assert declared.enum == ("fast", "slow")
    assert declared.default == "fast"


@pytest.mark.parametrize(
    ("yaml", "type_name", "default"),
    [
        pytest.param("limit: 10", "number", 10, id="number"),
        pytest.param("ratio: 0.5", "number", 0.5, id="float"),
        pytest.param("debug: true", "boolean", True, id="boolean"),
        pytest.param("who: world", "string", "world", id="string"),
        pytest.param("tags: [a, b]", "array", ["a", "b"], id="array"),
    ],
)
def test_bare_value_is_a_default_with_inferred_type(
    yaml: str, type_name: str, default: object
) -> None:
    """``limit: 10`` declares a field whose default is 10 and whose type is number."""
    frontmatter = clean(f"{NAME_VERSION}config:\n  {yaml}")
    (declared,) = frontmatter.config.values()
    assert (declared.type, declared.default, declared.has_default) == (
        type_name,
        default,
        True,
    )


def test_bare_null_declares_a_field_without_default() -> None:
    """``limit:`` alone declares a string field with no default, like ``limit: {}``."""
    declared = clean(NAME_VERSION + "config:\n  limit:").config["limit"]
    assert (declared.type, declared.default, declared.has_default) == (
        "string",
        None,
        False,
    )


def test_config_field_span_is_its_key() -> None:
    """A config field is located at its key."""
    declared = field("config:\n  limit: 10", "limit")
    assert declared.span is not None
    assert (declared.span.line, declared.span.column) == (5, 3)


@pytest.mark.parametrize(
    ("spec", "message", "column"),
    [
        pytest.param(
            "{type: integer}",
            "config field 'f' has unknown type 'integer'",
            13,
            id="unknown-type",
        ),
        pytest.param(
            "{type: number, default: 'x'}",
            "config field 'f' is declared number but its default is string",
            30,
            id="default-type-mismatch",
        ),
        pytest.param(
            "{type: number, default: true}",
            "config field 'f' is declared number but its default is boolean",
            30,
            id="boolean-is-not-a-number",
        ),
        pytest.param(
            "{type: boolean, default: 1}",
            "config field 'f' is declared boolean but its default is number",
            31,
            id="number-is-not-a-boolean",
        ),
        pytest.param(
            "{enum: [a, b], default: c}",
            "config field 'f': default 'c' is not one of the enum values",
            30,
            id="default-outside-enum",
        ),
        pytest.param(
            "{enum: a}", "config field 'f': enum must be a list", 13, id="enum-not-list"
        ),
        pytest.param(
            "{required: yes}",
            "config field 'f': required must be true or false",
            17,
            id="required-not-boolean",
        ),
    ],
)
def test_config_field_errors(spec: str, message: str, column: int) -> None:
    """Each bad field definition is VALID_INVALID_FIELD_TYPE at the offending value."""
    found = single(f"{NAME_VERSION}config:\n  f: {spec}")
    assert (found.code, found.severity) == (
        ErrorCode.VALID_INVALID_FIELD_TYPE,
        Severity.ERROR,
    )
    assert found.message == message
    assert (found.line, found.column) == (5, column)


def test_unknown_type_falls_back_to_string() -> None:
    """A field with an unknown type is kept as a string field."""
    assert field("config:\n  f: {type: integer}", "f").type == "string"


def test_unknown_field_key_is_a_warning() -> None:
    """A misspelt key of a field definition warns at the key and lists the known keys."""
    found = single(NAME_VERSION + "config:\n  f:\n    type: string\n    defualt: x")
    assert (found.code, found.severity) == (
        ErrorCode.VALID_UNKNOWN_FIELD,
        Severity.WARNING,
    )
    assert found.message == "unknown key 'defualt' in config field 'f'"
    assert (found.line, found.column) == (7, 5)
    assert found.hints == ("Field keys: type, default, required, description, enum",)


def test_config_must_be_a_mapping() -> None:
    """A config list is an error and gives no fields."""
    frontmatter, diagnostics = read(NAME_VERSION + "config: [a]")
    assert [d.code for d in diagnostics] == [ErrorCode.VALID_INVALID_FIELD_TYPE]
    assert frontmatter.config == {}


# --- secrets ------------------------------------------------------------------------


def test_secrets_keep_valid_names_and_report_each_bad_one() -> None:
    """Each bad secret name is an error at the item; the good names are kept."""
    frontmatter, diagnostics = read(
        NAME_VERSION + "secrets: [API_KEY, 'bad-name', 5, _OK2]"
    )
    assert frontmatter.secrets == ("API_KEY", "_OK2")
    assert [(d.code, d.line, d.column) for d in diagnostics] == [
        (ErrorCode.VALID_INVALID_FIELD_TYPE, 4, 20),
        (ErrorCode.VALID_INVALID_FIELD_TYPE, 4, 32),
    ]
    assert diagnostics[0].message == (
        "secret name 'bad-name' is not an environment variable name"
    )


@pytest.mark.parametrize(
    ("yaml", "secrets"),
    [
        pytest.param("secrets: []", (), id="empty"),
        pytest.param("secrets:\n  - A\n  - B", ("A", "B"), id="block-list"),
        pytest.param("", (), id="absent"),
    ],
)
def test_secret_lists(yaml: str, secrets: tuple[str, ...]) -> None:
    """A list of environment variable names is kept in order."""
    assert clean(NAME_VERSION + yaml).secrets == secrets


def test_secrets_must_be_a_list() -> None:
    """A single secret name not in a list is an error at the value."""
    found = single(NAME_VERSION + "secrets: API_KEY")
    assert found.message == "secrets must be a list of environment variable names"
    assert (found.line, found.column) == (4, 10)


# --- runtime ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml", "runtime"),
    [
        pytest.param("timeout: 5m", {"timeout_ms": 300_000.0}, id="timeout-duration"),
        pytest.param("timeout: 5000", {"timeout_ms": 5000.0}, id="timeout-number-ms"),
        pytest.param("timeout: PT1M", {"timeout_ms": 60_000.0}, id="timeout-iso"),
        pytest.param("concurrency: 4", {"concurrency": 4}, id="concurrency"),
        pytest.param(
            "retry: {max: 2, backoff: linear}",
            {"retry": {"max": 2, "backoff": "linear"}},
            id="retry",
        ),
    ],
)
def test_runtime_settings(yaml: str, runtime: dict[str, Any]) -> None:
    """runtime timeout (ms), concurrency and retry are kept."""
    assert clean(f"{NAME_VERSION}runtime:\n  {yaml}").runtime == runtime


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        pytest.param(
            "timeout: soon",
            "runtime.timeout is not a valid duration: 'soon'",
            id="timeout-not-duration",
        ),
        pytest.param(
            "timeout: 0",
            "runtime.timeout is not a valid duration: 0",
            id="timeout-zero",
        ),
        pytest.param(
            "concurrency: 0",
            "runtime.concurrency must be a whole number of at least 1, got 0",
            id="concurrency-zero",
        ),
        pytest.param(
            "concurrency: true",
            "runtime.concurrency must be a whole number of at least 1, got True",
            id="concurrency-boolean",
        ),
        pytest.param(
            "concurrency: 2.5",
            "runtime.concurrency must be a whole number of at least 1, got 2.5",
            id="concurrency-float",
        ),
        pytest.param("retry: 3", "runtime.retry must be a mapping", id="retry-number"),
    ],
)
def test_bad_runtime_settings(yaml: str, message: str) -> None:
    """A bad runtime value is an error at the value and is dropped."""
    frontmatter, diagnostics = read(f"{NAME_VERSION}runtime:\n  {yaml}")
    assert [(d.code, d.message) for d in diagnostics] == [
        (ErrorCode.VALID_INVALID_FIELD_TYPE, message)
    ]
    assert diagnostics[0].line == 5
    assert frontmatter.runtime == {}


def test_unknown_runtime_key_is_a_warning() -> None:
    """An unknown runtime key warns at the key and lists the known settings."""
    frontmatter, diagnostics = read(
        NAME_VERSION + "runtime:\n  concurrency: 2\n  budget: 5"
    )
    (found,) = diagnostics
    assert (found.code, found.severity) == (
        ErrorCode.VALID_UNKNOWN_FIELD,
        Severity.WARNING,
    )
    assert found.message == "unknown runtime setting 'budget' is ignored"
    assert (found.line, found.column) == (6, 3)
    assert found.hints == ("Known settings: timeout, concurrency, retry",)
    assert frontmatter.runtime == {"concurrency": 2}


def test_runtime_must_be_a_mapping() -> None:
    """A scalar runtime is an error."""
    assert single(NAME_VERSION + "runtime: 5").message == "runtime must be a mapping"


# --- other keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        pytest.param("nmae", "Did you mean 'name'?", id="name"),
        pytest.param("secret", "Did you mean 'secrets'?", id="secrets"),
        pytest.param("evolutoin", "Did you mean 'evolution'?", id="evolution"),
        pytest.param(
            "zzzz",
            "Known keys: name, version, description, trigger, config, secrets, "
            "runtime, schemas, evolution, ai, http",
            id="nothing-close",
        ),
    ],
)
def test_unknown_top_level_key_warns_with_did_you_mean(key: str, hint: str) -> None:
    """An unknown top-level key is a located warning with a did-you-mean hint."""
    found = single(f"{NAME_VERSION}{key}: 1")
    assert (found.code, found.severity) == (
        ErrorCode.VALID_UNKNOWN_FIELD,
        Severity.WARNING,
    )
    assert found.message == f"unknown frontmatter key {key!r} is ignored"
    assert (found.line, found.column) == (4, 1)
    assert found.hints == (hint,)


def test_kept_sections() -> None:
    """schemas, evolution, ai and http are kept as data; raw holds everything."""
    frontmatter = clean(
        NAME_VERSION + "schemas: {user: {name: string}}\nevolution: {generation: 1}\n"
        "ai: {model: m}\nhttp: {allow_hosts: [example.org]}"
    )
    assert frontmatter.schemas == {"user": {"name": "string"}}
    assert frontmatter.evolution == {"generation": 1}
    assert frontmatter.ai == {"model": "m"}
    assert frontmatter.http == {"allow_hosts": ["example.org"]}
    assert set(frontmatter.raw) == {
        "name",
        "version",
        "schemas",
        "evolution",
        "ai",
        "http",
    }


def test_section_of_wrong_shape_is_an_error() -> None:
    """A kept section that is not a mapping is an error and dropped."""
    frontmatter, diagnostics = read(NAME_VERSION + "schemas: 5")
    assert [d.message for d in diagnostics] == ["schemas must be a mapping"]
    assert frontmatter.schemas is None


def test_key_spans_point_at_keys() -> None:
    """Every top-level key is located at its first character."""
    frontmatter = clean("name: demo\nversion: 1.0.0\nsecrets: [A]")
    assert {
        key: (span.line, span.column) for key, span in frontmatter.key_spans.items()
    } == {"name": (2, 1), "version": (3, 1), "secrets": (4, 1)}


def test_every_problem_is_reported_at_once() -> None:
    """Frontmatter problems of different keys are all reported together, in order."""
    _, diagnostics = read(
        "name: demo\nversion: 1\nsecrets: [a-b]\nruntime: {concurrency: 0}\nnmae: x"
    )
    assert [(d.code, d.line) for d in diagnostics] == [
        (ErrorCode.VALID_UNKNOWN_FIELD, 6),
        (ErrorCode.VALID_INVALID_FIELD_TYPE, 3),
        (ErrorCode.VALID_INVALID_FIELD_TYPE, 4),
        (ErrorCode.VALID_INVALID_FIELD_TYPE, 5),
    ]
