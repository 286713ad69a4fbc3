"""Printing ASTs back to source text."""

from __future__ import annotations

import pytest

from maidit_jupyter.expressions import parse_expression, to_source
from tests.expressions.sexpr import without_offsets

P = pytest.param
IDS = frozenset({"fetch-data"})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        P("a+b*c", "a + b * c", id="spacing"),
        P("(a + b) * c", "(a + b) * c", id="needed-parentheses"),
        P("((a)) + ((b))", "a + b", id="redundant-parentheses-dropped"),
        P("a - (b - c)", "a - (b - c)", id="right-operand-same-level"),
        P("(a - b) - c", "a - b - c", id="left-operand-same-level"),
        P("a ?? (b || c)", "a ?? (b || c)", id="mixed-logical-right"),
        P("(a ?? b) || c", "a ?? b || c", id="mixed-logical-left"),
        P("2 ** 3 ** 2", "2 ** 3 ** 2", id="power-right-assoc"),
        P("(2 ** 3) ** 2", "(2 ** 3) ** 2", id="power-left-grouped"),
        P("(-2) ** 2", "(-2) ** 2", id="unary-base"),
        P("2 ** -2", "2 ** -2", id="unary-exponent"),
        P("- -a", "- -a", id="double-negation-spaced"),
        P("-(a + b)", "-(a + b)", id="unary-of-binary"),
        P("(-a).b", "(-a).b", id="member-of-unary"),
        P("(a ? b : c) ? d : e", "(a ? b : c) ? d : e", id="conditional-test"),
        P("a ? b : c ? d : e", "a ? b : c ? d : e", id="conditional-chain"),
        P("x => {a: 1}", "x => ({a: 1})", id="object-body"),
        P("(x) => x", "x => x", id="single-param"),
        P("() => (a, b)", "() => (a, b)", id="sequence-body"),
        P("(x => x) || y", "(x => x) || y", id="arrow-operand"),
        P("1..x", "(1.0).x", id="member-of-number"),
        P("[1,,]", "[1, ,]", id="trailing-hole"),
        P("[,]", "[,]", id="only-hole"),
        P("{'a b': 1, c, [k]: v, ...r}", '{"a b": 1, c, [k]: v, ...r}', id="object"),
        P("{'x': 1}", "{x: 1}", id="plain-string-key"),
        P("f(...a, (b, c))", "f(...a, (b, c))", id="call"),
        P("a?.b?.[c]", "a?.b?.[c]", id="optional-chain"),
        P("'a\\nb'", '"a\\nb"', id="string-escapes"),
        P("1e999", "1e999", id="infinity"),
        P("1e21", "1e+21", id="large-float"),
        P("a, (b, c)", "a, (b, c)", id="nested-sequence"),
        P("fetch-data.x - y", "fetch-data.x - y", id="dashed-id"),
    ],
)
def test_to_source(source: str, expected: str) -> None:
    """The printer spaces operators and keeps only the parentheses it needs."""
    expr = parse_expression(source, node_ids=IDS)
    printed = to_source(expr)
    assert printed == expected
    again = parse_expression(printed, node_ids=IDS)
    assert without_offsets(again) == without_offsets(expr)
