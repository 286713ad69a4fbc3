"""Expression errors explained: node, field, caret under the column, names only."""

from __future__ import annotations

import pytest

from maidit_jupyter.errors import ExpressionError
from maidit_jupyter.expressions.compiled import ExpressionCompiler
from maidit_jupyter.expressions.evaluator import Evaluator
from maidit_jupyter.expressions.explain import explain
from maidit_jupyter.expressions.scope import RootScope


def test_explain_marks_the_column_and_lists_names_not_values() -> None:
    """The message names node and field, underlines the call and hides secret values."""
    scope = RootScope(secrets={"TOKEN": "hunter2"}).child(**{"$item": {"name": "a"}})
    expression = ExpressionCompiler().expression("$item.name + uper($item.name)")
    with pytest.raises(ExpressionError) as info:
        expression.evaluate(scope, Evaluator())
    text = explain(info.value, node="grade", field="expression", names=scope.names())
    lines = text.splitlines()
    assert lines[0].startswith(
        "EXPR_UNDEFINED_FUNCTION in node 'grade', field 'expression'"
    )
    assert lines[1] == "  $item.name + uper($item.name)"
    assert lines[2] == "  " + " " * len("$item.name + ") + "^^^^"
    assert lines[3].startswith("available variables: ")
    assert "$secrets" in lines[3]
    assert "hunter2" not in text


def test_arrow_map_expression_is_called_per_item() -> None:
    """A map expression that is an arrow is called with each item."""
    evaluator = Evaluator()
    arrow = ExpressionCompiler().expression("item => ({...item, passed: true})")
    function = arrow.evaluate(RootScope(), evaluator)
    assert evaluator.call(function, [{"a": 1}]) == {"a": 1, "passed": True}
