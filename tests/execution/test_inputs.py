"""Run inputs: config overrides, required/type/enum enforcement, secrets."""

from __future__ import annotations

from typing import Any

import pytest

from maidit_jupyter.execution.inputs import (
    RunInputError,
    parse_override,
    resolve_config,
    resolve_secrets,
)
from maidit_jupyter.syntax.workflow import ConfigField

FIELDS = {
    "limit": ConfigField(name="limit", type="number", default=10, has_default=True),
    "mode": ConfigField(
        name="mode",
        type="string",
        default="fast",
        has_default=True,
        enum=("fast", "slow"),
    ),
    "token_name": ConfigField(name="token_name", type="string", required=True),
    "tags": ConfigField(name="tags", type="array"),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a=1", ("a", 1), id="json-number"),
        pytest.param("a=hello", ("a", "hello"), id="plain-text"),
        pytest.param(' a ={"x": [1]}', ("a", {"x": [1]}), id="json-object"),
        pytest.param("a=", ("a", ""), id="empty-value"),
        pytest.param("a=b=c", ("a", "b=c"), id="equals-in-value"),
    ],
)
def test_parse_override(text: str, expected: tuple[str, Any]) -> None:
    """KEY=VALUE with JSON values when they parse."""
    assert parse_override(text) == expected


@pytest.mark.parametrize("text", ["novalue", "=1"])
def test_bad_override_is_a_usage_error(text: str) -> None:
    """A missing '=' or key raises ValueError with the original's message."""
    with pytest.raises(ValueError, match="config override"):
        parse_override(text)


def test_defaults_then_overrides() -> None:
    """Defaults fill in; overrides win; fields without value or default are absent."""
    config = resolve_config(FIELDS, {"limit": 3, "token_name": "X"})
    assert config == {"limit": 3, "mode": "fast", "token_name": "X"}


def test_every_problem_is_reported_at_once() -> None:
    """Unknown keys, missing required values, wrong types and enum misses together."""
    with pytest.raises(RunInputError) as info:
        resolve_config(FIELDS, {"limt": 1, "limit": "ten", "mode": "medium"})
    assert info.value.problems == (
        (
            "--config sets 'limt', which the flow does not declare (did you mean 'limit'?); "
            "declared: limit, mode, token_name, tags"
        ),
        "config 'limit' must be a number, but --config limit gives 'ten'",
        "config 'mode' must be one of 'fast', 'slow', but --config mode gives 'medium'",
        (
            "config 'token_name' is required and has no default; "
            "set it with --config token_name=VALUE"
        ),
    )


def test_secrets_come_from_the_environment_and_the_caller() -> None:
    """Declared secrets are read; given values win; only used ones must be set."""
    values = resolve_secrets(
        ["A", "B", "C"],
        {"A": "env-a", "B": "env-b"},
        used=["A"],
        given={"B": "given-b"},
    )
    assert values == {"A": "env-a", "B": "given-b"}
    with pytest.raises(
        RunInputError, match="secret 'C' is used by the flow but not set"
    ):
        resolve_secrets(["A", "C"], {"A": "x"}, used=["C"])
