"""Built-in function names and suggestions."""

from __future__ import annotations

import pytest

from maidit_jupyter.expressions import (
    ALL_FUNCTION_NAMES,
    BUILTIN_FUNCTION_NAMES,
    HIGHER_ORDER_FUNCTION_NAMES,
    suggest_function,
)

P = pytest.param


def test_builtin_names() -> None:
    """The original engine has 118 built-ins; the union adds the higher-order ones."""
    assert len(BUILTIN_FUNCTION_NAMES) == 118
    assert {
        "upper",
        "array_concat",
        "typeof",
        "switch",
        "pretty",
    } <= BUILTIN_FUNCTION_NAMES
    assert {
        "map",
        "filter",
        "reduce",
        "sort_by",
        "group_by",
    } == HIGHER_ORDER_FUNCTION_NAMES - BUILTIN_FUNCTION_NAMES
    assert ALL_FUNCTION_NAMES == BUILTIN_FUNCTION_NAMES | HIGHER_ORDER_FUNCTION_NAMES


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        P("uper", "upper", id="missing-letter"),
        P("lenght", "length", id="swapped-letters"),
        P("filtre", "filter", id="higher-order"),
        P("startsWith", "starts_with", id="camel-case"),
        P("UPPER", "upper", id="upper-case"),
        P("toJSON", None, id="nothing-close"),
        P("upper", None, id="known-name"),
        P("x", None, id="too-short"),
    ],
)
def test_suggest_function(name: str, expected: str | None) -> None:
    """Suggestions find the closest known name, or nothing."""
    assert suggest_function(name) == expected
