"""The built-in table: exactly the documented names, and robust to any arguments."""

from __future__ import annotations

import itertools
import math

import pytest

from maidit_jupyter.errors import ExpressionError
from maidit_jupyter.expressions.builtins import BUILTINS
from maidit_jupyter.expressions.functions import ALL_FUNCTION_NAMES
from maidit_jupyter.expressions.values import UNDEFINED
from tests.expressions.builtins.context import Arrow, TestContext

ODD_VALUES = [
    None,
    UNDEFINED,
    True,
    0,
    -1.5,
    math.nan,
    math.inf,
    "",
    "x",
    [],
    [1, "a"],
    {},
    {"a": [1]},
]


def test_table_holds_every_documented_name() -> None:
    """Every name the validator accepts has an implementation, and nothing else."""
    assert set(BUILTINS) == set(ALL_FUNCTION_NAMES)


@pytest.mark.parametrize("name", sorted(ALL_FUNCTION_NAMES))
def test_any_arguments_give_a_value_or_an_expression_error(name: str) -> None:
    """No argument combination makes a built-in raise anything but ExpressionError."""
    function = BUILTINS[name]
    argument_lists: list[list[object]] = [[]]
    argument_lists += [[value] for value in ODD_VALUES]
    argument_lists += [
        list(pair) for pair in itertools.product(ODD_VALUES[:8], repeat=2)
    ]
    argument_lists.append(["x", Arrow(lambda *args: args[0] if args else None), 2])
    for args in argument_lists:
        try:
            result = function(TestContext(), args)
        except ExpressionError:
            continue
        assert is_plain(result), (name, args, result)


def is_plain(value: object, depth: int = 0) -> bool:
    """Whether a result is expression data: JSON-like values, UNDEFINED or an arrow."""
    if depth > 50:
        return False
    if (
        value is None
        or value is UNDEFINED
        or isinstance(value, bool | int | float | str | Arrow)
    ):
        return True
    if isinstance(value, list | tuple):
        return all(is_plain(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(k, str) and is_plain(v, depth + 1) for k, v in value.items()
        )
    return False
