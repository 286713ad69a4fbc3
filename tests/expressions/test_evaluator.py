"""The evaluator: operators, member access, variables and scopes, arrows, sandbox, limits."""

from __future__ import annotations

import math
from typing import Any

import pytest

from maidit_jupyter.errors import (
    ErrorCode,
    ExpressionError,
    ExpressionLimitError,
    ExpressionTypeError,
    SandboxViolation,
    UndefinedFunctionError,
)
from maidit_jupyter.expressions.compiled import ExpressionCompiler
from maidit_jupyter.expressions.evaluator import Evaluator, Function
from maidit_jupyter.expressions.limits import EvaluationLimits
from maidit_jupyter.expressions.scope import RootScope, Scope
from maidit_jupyter.expressions.values import UNDEFINED

NODE_IDS = frozenset({"fetch-data", "scores", "a"})


def root(**kwargs: Any) -> RootScope:
    outputs = {"fetch-data": [{"score": 40}, {"score": 95}], "scores": [1, 2, 3]}
    return RootScope(
        outputs=kwargs.pop("outputs", outputs),
        config=kwargs.pop("config", {"pass_mark": 50, "name": "demo"}),
        secrets=kwargs.pop("secrets", {"TOKEN": "s3cret"}),
        **kwargs,
    )


def run(
    text: str, scope: Scope | None = None, evaluator: Evaluator | None = None
) -> Any:
    compiled = ExpressionCompiler(NODE_IDS).expression(text)
    return compiled.evaluate(
        scope if scope is not None else root(), evaluator or Evaluator()
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1 + 2 * 3", 7, id="precedence"),
        pytest.param("'a' + 1 + 2", "a12", id="concat-left-to-right"),
        pytest.param("1 + 2 + 'a'", "3a", id="add-then-concat"),
        pytest.param("'3' * '4'", 12, id="string-times"),
        pytest.param("'10' - 1", 9, id="string-minus"),
        pytest.param("7 / 2", 3.5, id="division"),
        pytest.param("6 / 3", 2, id="exact-division"),
        pytest.param("-7 % 3", -1, id="remainder-sign"),
        pytest.param("5.5 % 2", 1.5, id="float-remainder"),
        pytest.param("2 ** 3 ** 2", 512, id="power-right-assoc"),
        pytest.param("(-8) ** (1/3)", math.nan, id="power-nan"),
        pytest.param("1 / 0", math.inf, id="division-by-zero"),
        pytest.param("-1 / 0", -math.inf, id="negative-division-by-zero"),
        pytest.param("0 / 0", math.nan, id="zero-by-zero"),
        pytest.param("'abc' * 2", math.nan, id="nan-multiply"),
        pytest.param("1 == '1'", True, id="loose-equal"),
        pytest.param("1 === '1'", False, id="strict-equal"),
        pytest.param("null == undefined", True, id="null-undefined"),
        pytest.param("null === undefined", False, id="null-undefined-strict"),
        pytest.param("'b' > 'a'", True, id="string-compare"),
        pytest.param("'10' < '9'", True, id="lexicographic"),
        pytest.param("'10' < 9", False, id="numeric-compare"),
        pytest.param("undefined < 1", False, id="undefined-compare"),
        pytest.param("undefined >= 1", False, id="undefined-compare-ge"),
        pytest.param("null >= 0", True, id="null-ge-zero"),
        pytest.param("0 || 'x'", "x", id="or-value"),
        pytest.param("'' && 'x'", "", id="and-value"),
        pytest.param("0 ?? 'x'", 0, id="nullish-keeps-zero"),
        pytest.param("null ?? 'x'", "x", id="nullish"),
        pytest.param("!''", True, id="not"),
        pytest.param("!![]", True, id="empty-array-truthy"),
        pytest.param("-'3'", -3, id="negate-string"),
        pytest.param("+'x'", math.nan, id="plus-nan"),
        pytest.param("1 ? 'y' : 'n'", "y", id="ternary"),
        pytest.param("0.1 + 0.2", 0.30000000000000004, id="float-sum"),
        pytest.param("[1, , 3]", [1, UNDEFINED, 3], id="array-hole"),
        pytest.param("(1, 2, 3)", 3, id="sequence"),
    ],
)
def test_operators(text: str, expected: Any) -> None:
    """Operators follow JavaScript semantics."""
    result = run(text)
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(result)
    else:
        assert result == expected
        assert type(result) is type(expected)


def test_short_circuit_skips_the_other_side() -> None:
    """&&, || and ?? never evaluate the side they do not need."""
    assert run("false && nope()") is False
    assert run("true || nope()") is True
    assert run("1 ?? nope()") == 1
    assert run("true ? 1 : nope()") == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("scores.output", [1, 2, 3], id="node-output"),
        pytest.param("fetch-data.output[1].score", 95, id="dashed-id"),
        pytest.param('$context["fetch-data"].output[0].score', 40, id="context"),
        pytest.param('$nodes["scores"].output.length', 3, id="nodes"),
        pytest.param("scores", {"output": [1, 2, 3]}, id="wrapper"),
        pytest.param("$config.pass_mark", 50, id="config"),
        pytest.param("$secrets.TOKEN", "s3cret", id="secret"),
        pytest.param("nothing", UNDEFINED, id="unknown-name"),
        pytest.param("nothing.deeper.still", UNDEFINED, id="null-safe"),
        pytest.param("null.x", UNDEFINED, id="member-of-null"),
        pytest.param("'abc'.length", 3, id="string-length"),
        pytest.param("'abc'[1]", "b", id="string-index"),
        pytest.param("'abc'.toUpperCase", UNDEFINED, id="no-methods"),
        pytest.param("[1, 2][5]", UNDEFINED, id="out-of-range"),
        pytest.param("[1, 2][-1]", UNDEFINED, id="no-negative-index"),
        pytest.param("[1, 2]['1']", 2, id="string-index-into-array"),
        pytest.param("{a: 1}?.a", 1, id="optional-chaining"),
        pytest.param("(5).x", UNDEFINED, id="member-of-number"),
    ],
)
def test_variables_and_member_access(text: str, expected: Any) -> None:
    """Names resolve through scopes; member access is null-safe and JS-like."""
    assert run(text) == expected


def test_scope_layers_shadow_and_fall_back() -> None:
    """Per-item layers shadow the run's variables without copying them."""
    outputs: dict[str, Any] = {}
    base = root(outputs=outputs, workflow_input={"x": 1}, variables={"total": 9})
    item = base.child(input=[4], **{"$item": {"score": 70}, "$index": 2})
    assert run("$item.score > $config.pass_mark && $index == 2", item) is True
    assert run("input", item) == [4]
    assert run("$input.x", item) == 1
    assert run("total + $vars.total", item) == 18
    outputs["late"] = "arrived"  # outputs recorded after the scope was built are seen
    assert run("$nodes.late.output", item) == "arrived"
    assert {"$item", "input", "$config", "late", "total"} <= set(item.names())


def test_object_literals_and_spread() -> None:
    """Object literals with computed keys, shorthand and spreads build plain dicts."""
    scope = root().child(**{"$item": {"name": "Ann", "score": 95}, "k": "grade"})
    assert run('{...$item, [k]: $item.score >= 90 ? "A" : "B"}', scope) == {
        "name": "Ann",
        "score": 95,
        "grade": "A",
    }
    assert run("{k}", scope) == {"k": "grade"}
    assert run("[...[1, 2], ...'ab', 3]") == [1, 2, "a", "b", 3]
    assert run("{...null, ...[7]}") == {"0": 7}


def test_arrows_are_values_called_only_by_builtins() -> None:
    """An arrow evaluates to a Function that closes over its scope."""
    value = run("x => x + 1")
    assert isinstance(value, Function)
    assert value.arrow.params == ("x",)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("$config.__class__", id="dunder"),
        pytest.param("$config['__cla' + 'ss__']", id="built-dunder"),
        pytest.param("{}.constructor", id="constructor"),
        pytest.param("[].__proto__", id="proto"),
        pytest.param("{__proto__: 1}", id="proto-literal"),
        pytest.param("{['__proto__']: 1}", id="proto-computed"),
        pytest.param("this", id="this"),
        pytest.param("scores.prototype", id="prototype"),
    ],
)
def test_blocked_names_are_sandbox_violations(text: str) -> None:
    """Blocked names raise EXPR_BLOCKED_ACCESS."""
    with pytest.raises(SandboxViolation) as info:
        run(text)
    assert info.value.code is ErrorCode.EXPR_BLOCKED_ACCESS


def test_unknown_function_is_located_with_a_hint() -> None:
    """Calling an unknown function names it, suggests one and marks the name."""
    with pytest.raises(UndefinedFunctionError) as info:
        run("1 + uper('x')")
    error = info.value
    assert error.code is ErrorCode.EXPR_UNDEFINED_FUNCTION
    assert "did you mean upper()?" in error.message
    assert (error.expression, error.start, error.end) == ("1 + uper('x')", 4, 8)


def test_errors_are_located_at_the_failing_node() -> None:
    """An error inside a sub-expression keeps the innermost location."""
    with pytest.raises(ExpressionError) as info:
        run("[1, 2, ...5]")
    assert info.value.code is ErrorCode.EXPR_TYPE_ERROR
    assert info.value.expression[info.value.start : info.value.end] == "...5"


@pytest.mark.parametrize(
    ("text", "limits"),
    [
        pytest.param("[...x, ...x]", EvaluationLimits(max_items=3), id="spread-items"),
        pytest.param(
            "{...x, ...{a: 1, b: 2}}", EvaluationLimits(max_items=3), id="object-spread"
        ),
        pytest.param("'ab' + 'cd'", EvaluationLimits(max_string_length=3), id="concat"),
    ],
)
def test_limits_are_checked_before_building(
    text: str, limits: EvaluationLimits
) -> None:
    """Going over a limit raises EXPR_LIMIT_EXCEEDED."""
    scope = root().child(x=[1, 2])
    with pytest.raises(ExpressionLimitError) as info:
        run(text, scope, Evaluator(limits=limits))
    assert info.value.code is ErrorCode.EXPR_LIMIT_EXCEEDED


def test_unsupported_unary_operator_fails_at_evaluation() -> None:
    """``~`` parses but does not evaluate."""
    with pytest.raises(ExpressionError) as info:
        run("~1")
    assert info.value.code is ErrorCode.EXPR_EVAL_ERROR


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "filter(fetch-data.output, x => x.score < 50)", [{"score": 40}], id="filter"
        ),
        pytest.param("map(scores.output, x => x * 2)", [2, 4, 6], id="map"),
        pytest.param("reduce(scores.output, (acc, x) => acc + x, 0)", 6, id="reduce"),
        pytest.param(
            "length(filter(fetch-data.output, x => x.score < 50)) > 0",
            True,
            id="review-example",
        ),
        pytest.param(
            "map(scores.output, (x, i) => x + $config.pass_mark + i)",
            [51, 53, 55],
            id="closure",
        ),
        pytest.param("find(scores.output, x => x > 1)", 2, id="find"),
        pytest.param("every(scores.output, x => x > 0)", True, id="every"),
        pytest.param("count(scores.output, x => x != 2)", 2, id="count"),
        pytest.param(
            "sort_by(fetch-data.output, x => -x.score)[0].score", 95, id="sort-by"
        ),
    ],
)
def test_arrows_through_higher_order_builtins(text: str, expected: Any) -> None:
    """Built-ins call arrows with the item (and index); arrows see their scope."""
    assert run(text) == expected


def test_step_budget_stops_runaway_nesting() -> None:
    """Arrow calls spend the step budget: nested maps over big ranges are refused."""
    text = "map(range(0, 1000), x => map(range(0, 1000), y => y))"
    with pytest.raises(ExpressionLimitError):
        run(text, evaluator=Evaluator(limits=EvaluationLimits(max_steps=10_000)))


def test_calling_something_that_is_not_an_arrow_is_a_type_error() -> None:
    with pytest.raises(ExpressionTypeError, match="is not a function"):
        Evaluator().call(3, [1])


def test_an_arrow_over_data_nested_too_deeply_is_a_limit_error() -> None:
    """A map arrow stringifying data nested 100,000 deep stops with a clear limit error,
    not a RecursionError out of the engine."""
    evaluator = Evaluator()
    arrow = ExpressionCompiler().expression("item => item + ''")
    function = arrow.evaluate(RootScope(), evaluator)
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ExpressionLimitError, match="nest too deeply"):
        evaluator.call(function, [deep])
