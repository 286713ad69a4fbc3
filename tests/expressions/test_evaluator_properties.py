"""Property tests: whatever the text or the tree, evaluation stays inside the language.

Two generators: arbitrary text (characters and tokens of the dialect, including names
of built-ins), and random well-formed expression trees built from grammar fragments
(literals, names from a fixed scope, operators, member access, calls of built-ins,
arrays, objects, spreads and arrows). For both, compiling and evaluating raises only
``ExpressionError`` subclasses, returns JSON-domain data, and leaves the data passed in
unchanged. Limits are tightened so that every example runs in milliseconds; the limits
themselves are tested in ``test_dos_limits.py``.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from maidit_jupyter.errors import ErrorCode, ExpressionError
from maidit_jupyter.expressions.compiled import ExpressionCompiler
from maidit_jupyter.expressions.evaluator import Evaluator, Function
from maidit_jupyter.expressions.limits import EvaluationLimits
from maidit_jupyter.expressions.scope import NodeOutputs, RootScope
from maidit_jupyter.expressions.values import UNDEFINED, Value
from tests import figures

NODE_IDS = frozenset({"fetch", "fetch-data"})
FIXED_NOW = datetime(2026, 2, 7, 15, 47, 17, 900000, tzinfo=UTC)
LIMITS = EvaluationLimits(
    max_string_length=20_000, max_items=2_000, max_steps=20_000, max_depth=30
)
SETTINGS = settings(
    max_examples=figures.scale(unit=600, ci=3_000, long=20_000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
VIEW_TYPES: tuple[type, ...] = (NodeOutputs, type(RootScope().lookup("$context")))


def make_inputs() -> dict[str, Any]:
    """The host data every example sees (fresh each time)."""
    return {
        "config": {"api": {"url": "https://api.example.test"}, "list": [3, 1, 2]},
        "secrets": {"TOKEN": "s3cr3t"},
        "outputs": {"fetch": {"items": [{"n": 2}, {"n": 1}]}, "fetch-data": [1, 2]},
        "workflow_input": [{"n": 3, "s": "x"}, {"n": None}],
        "variables": {"x": 1, "s": "abc", "items": [1, "2", None, [3]], "o": {"k": 1}},
    }


def make_scope(inputs: dict[str, Any]) -> RootScope:
    """A root scope over ``inputs``."""
    return RootScope(
        outputs=inputs["outputs"],
        config=inputs["config"],
        secrets=inputs["secrets"],
        workflow_input=inputs["workflow_input"],
        variables=inputs["variables"],
    )


def domain_violations(value: Value) -> list[str]:
    """What in ``value`` is not JSON-domain data (iterative, cycle-safe)."""
    problems: list[str] = []
    stack: list[Value] = [value]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        kind = type(item)
        if item is None or item is UNDEFINED or kind in (bool, float, str, Function):
            continue
        if kind is int:
            try:
                float(item)
            except OverflowError:
                problems.append(f"an int of {item.bit_length()} bits")
            continue
        if id(item) in seen:
            continue
        seen.add(id(item))
        if kind is list or kind is tuple:
            stack.extend(item)
        elif kind is dict or kind in VIEW_TYPES:
            problems.extend(f"key {k!r}" for k in item if type(k) is not str)
            stack.extend(item.values())
        else:
            problems.append(f"a {kind.__module__}.{kind.__qualname__}")
    return problems


def check(text: str, *, template: bool = False) -> None:
    """Compile and evaluate ``text``: an EXPR_ error or JSON data, inputs untouched."""
    inputs = make_inputs()
    before = copy.deepcopy(inputs)
    evaluator = Evaluator(limits=LIMITS, clock=lambda: FIXED_NOW, rng=random.Random(3))
    compiler = ExpressionCompiler(NODE_IDS)
    scope = make_scope(inputs)
    run: Callable[[], Value]
    try:
        if template:
            compiled = compiler.template(text)
            run = lambda: compiled.render(scope, evaluator)
        else:
            expression = compiler.expression(text)
            run = lambda: expression.evaluate(scope, evaluator)
        value: Value | ExpressionError = run()
    except ExpressionError as exc:
        value = exc
    except BaseException as exc:  # noqa: BLE001 - anything else is a crash
        figures.count("malformed flows", expressions=1, crashes=1)
        pytest.fail(
            f"{text!r} raised {type(exc).__name__}: {str(exc)[:200]}", pytrace=False
        )
    figures.count("malformed flows", expressions=1)
    if isinstance(value, ExpressionError):
        assert isinstance(value.code, ErrorCode)
        assert str(value.code).startswith("EXPR_")
    else:
        assert domain_violations(value) == [], text
        assert not template or type(value) is str
    assert inputs == before, f"{text!r} changed the data passed in"


# -- arbitrary text ------------------------------------------------------------------------

TOKENS = [
    *"()[]{}.,?:!~+-*/%<>=|&^`;#@\\\"'",
    *("=>", "...", "?.", "??", "||", "&&", "==", "===", "!=", "!==", "<=", ">="),
    *("**", "{{", "}}", "\\{{", " ", "\n"),
    *("x", "s", "o", "items", "input", "$config", "$secrets", "$item", "fetch"),
    *("fetch-data", "true", "false", "null", "undefined", "this", "__proto__"),
    *("constructor", "__class__", "length", "0", "1", "-1", "1.5", "1e3", "1e308"),
    *("9" * 20, '"s"', "'t'", '"0x1F"', '"0b11"', '"__proto__"', '""', '"\\u{1F600}"'),
    *("upper", "repeat", "range", "map", "filter", "reduce", "join", "split", "keys"),
    *("json_decode", "json_encode", "get", "set", "merge", "sort", "to_number", "len"),
    *("x => x", "(a, b) => a", "NaN", "Infinity"),
]


@pytest.mark.reliability
@SETTINGS
@given(st.text(max_size=60))
def test_arbitrary_characters(text: str) -> None:
    """Any string: a value or an EXPR_ error, nothing else."""
    check(text)


@pytest.mark.reliability
@SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))
def test_arbitrary_token_soup(text: str) -> None:
    """Any run of dialect tokens: a value or an EXPR_ error, nothing else."""
    check(text)


@pytest.mark.reliability
@settings(max_examples=figures.scale(300, 1_500, 10_000), deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))
def test_arbitrary_template(text: str) -> None:
    """Any token run inside ``{{ }}`` renders to a string or raises an EXPR_ error."""
    check("<{{ " + text + " }}>", template=True)


# -- random expression trees ---------------------------------------------------------------

LITERALS = [
    "0",
    "1",
    "-1",
    "2.5",
    "1e308",
    "9007199254740993",
    "NaN",
    "true",
    "false",
    "null",
    "undefined",
    '""',
    '"a"',
    '"__proto__"',
    '"constructor"',
    '"length"',
    '"😀é"',
    "[]",
    "{}",
]
#: strings that JavaScript converts to numbers (``-"0x1F"`` is -31).
NUMERIC_STRINGS = [
    '"10"',
    '" 7 "',
    '"-0"',
    '"1e400"',
    '"Infinity"',
    '"0x1F"',
    '"0b101"',
    '"0o17"',
    '"0x' + "f" * 300 + '"',
    '"0b' + "1" * 1100 + '"',
]
NAMES = [
    "x",
    "s",
    "o",
    "items",
    "input",
    "$config",
    "$config.api",
    "$secrets",
    "$vars",
    "$nodes",
    "$context",
    "fetch.output",
    "fetch-data.output",
    "missing",
]
PROPERTIES = ["a", "k", "n", "length", "0", "1", "api", "output", "__proto__", "__x"]
BINARY = ["+", "-", "*", "/", "%", "**", "==", "!=", "===", "!=="]
BINARY += ["<", ">", "<=", ">=", "&&", "||", "??"]
#: built-ins with the number of expression arguments they take here.
CALLS = {
    "upper": 1,
    "len": 1,
    "to_string": 1,
    "to_number": 1,
    "json_encode": 1,
    "keys": 1,
    "values": 1,
    "flatten": 1,
    "unique": 1,
    "reverse": 1,
    "compact": 1,
    "sum": 1,
    "typeof": 1,
    "is_empty": 1,
    "clone": 1,
    "abs": 1,
    "round": 2,
    "concat": 2,
    "includes": 2,
    "join": 2,
    "split": 2,
    "get": 2,
    "merge": 2,
    "equals": 2,
    "at": 2,
    "take": 2,
    "repeat": 2,
    "pad_start": 2,
    "default": 2,
    "range": 2,
    "slice": 3,
    "set": 3,
    "substring": 3,
    "replace": 3,
    "if_else": 3,
}
HIGHER_ORDER = [
    "map",
    "filter",
    "find",
    "every",
    "some",
    "sort_by",
    "group_by",
    "count",
]


def _compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    two = st.tuples(children, children)
    return st.one_of(
        st.tuples(children, st.sampled_from(BINARY), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(["!", "-", "+"]), children).map(
            lambda t: f"({t[0]}({t[1]}))"
        ),
        st.tuples(children, children, children).map(
            lambda t: f"({t[0]} ? {t[1]} : {t[2]})"
        ),
        st.tuples(children, st.sampled_from(PROPERTIES)).map(
            lambda t: f"({t[0]})[{t[1]}]" if t[1].isdigit() else f"({t[0]}).{t[1]}"
        ),
        two.map(lambda t: f"({t[0]})[{t[1]}]"),
        st.tuples(children, st.sampled_from(PROPERTIES)).map(
            lambda t: f'({t[0]})?.["{t[1]}"]'
        ),
        st.lists(children, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        two.map(lambda t: f"[{t[0]}, ...({t[1]})]"),
        st.tuples(st.sampled_from(PROPERTIES), children, children, children).map(
            lambda t: f'{{"{t[0]}": {t[1]}, [{t[2]}]: 1, ...({t[3]})}}'
        ),
        st.sampled_from(sorted(CALLS)).flatmap(
            lambda name: st.lists(
                children, min_size=CALLS[name], max_size=CALLS[name]
            ).map(lambda args: f"{name}({', '.join(args)})")
        ),
        st.tuples(st.sampled_from(HIGHER_ORDER), children, children).map(
            lambda t: f"{t[0]}({t[1]}, (x, i) => {t[2]})"
        ),
        st.tuples(children, children, children).map(
            lambda t: f"reduce({t[0]}, (acc, x) => {t[1]}, {t[2]})"
        ),
        two.map(lambda t: f"(x => {t[0]})"),
        two.map(lambda t: f"({t[0]}, {t[1]})"),
    )


TREES = st.recursive(
    st.one_of(
        st.sampled_from(LITERALS),
        st.sampled_from(NUMERIC_STRINGS),
        st.sampled_from([*NAMES, "acc", "i"]),
    ),
    _compound,
    max_leaves=12,
)


@pytest.mark.reliability
@SETTINGS
@given(TREES)
def test_random_expression_trees(text: str) -> None:
    """A well-formed tree: JSON data or an EXPR_ error, inputs unchanged."""
    check(text)


@pytest.mark.reliability
@settings(max_examples=figures.scale(300, 1_500, 10_000), deadline=None)
@given(TREES)
def test_random_trees_in_templates(text: str) -> None:
    """A well-formed tree rendered in a template: a string or an EXPR_ error."""
    check("<{{ " + text + " }}>", template=True)
