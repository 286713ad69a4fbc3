"""Reading references by shape gives exactly what parsing gives."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from maidit_jupyter.expressions import parse_expression
from maidit_jupyter.expressions.lexer import tokenize
from maidit_jupyter.planning.analysis import _Compiler, _read
from maidit_jupyter.planning.shapes import roles_of, shape_of

NODE_IDS = frozenset({"a", "b", "fetch-data", "L4_40", "x"})
NAMES = [
    "a",
    "b",
    "fetch-data",
    "L4_40",
    "x",
    "y",
    "input",
    "$item",
    "undefined",
    "len",
]
KEYS = ["a", "fetch-data", "TOKEN", "nope", "L4_40"]
SKELETONS = [
    "{0}",
    "{0}.output",
    "{0}.output.items[{1}.output]",
    "len({0}) + len({1}.output) + len({2}.output)",
    "{0} && {1} || !{2}",
    "{0} ? {1}.output : {2}",
    '$context["{k}"].output + {0}',
    "$nodes.{k}.output",
    "$secrets.{k} + {0}",
    '$secrets["{k}"]',
    "$config.{k} ?? {1}",
    "{{...{0}, grade: {1}.output >= 90 ? 'A' : 'B'}}",
    "[{0}, ...{1}, {2}.output]",
    "upper({0}.output.name) + concat({1}, {2})",
    "{0}[{1}][{2}]",
    "{0}?.output?.x",
    "-{0} * {1} ** 2",
    "({0}, {1})",
]


@settings(max_examples=600, deadline=None)
@given(
    st.sampled_from(SKELETONS),
    st.lists(st.sampled_from(NAMES), min_size=6, max_size=6),
    st.lists(st.sampled_from(KEYS), min_size=2, max_size=2),
)
def test_second_text_of_a_shape_reads_like_a_parse(
    skeleton: str, names: list[str], keys: list[str]
) -> None:
    """After one text of a shape is parsed, another is read from its tokens alone."""
    first = skeleton.format(*names[:3], k=keys[0])
    second = skeleton.format(*names[3:], k=keys[1])
    compiler = _Compiler(NODE_IDS)
    compiler.compile(first)
    shape = shape_of(tokenize(second, NODE_IDS))
    if shape is not None and shape == shape_of(tokenize(first, NODE_IDS)):
        assert shape in compiler._shapes  # the second text takes the token-only path
    got = compiler.compile(second)
    expected = _read(parse_expression(second, node_ids=NODE_IDS), second, NODE_IDS)
    assert got == expected


def test_arrows_and_errors_are_never_cached() -> None:
    """Shapes with arrows (shadowing) or bad tokens have no shape."""
    assert shape_of(tokenize("map(a, a => a)")) is None
    assert shape_of(tokenize("a = 1")) is None
    assert shape_of(tokenize("a + 1")) == ("name", "+", "num", "eof")


def test_roles_name_identifiers_calls_and_container_keys() -> None:
    """Roles are token positions of identifiers, callee names and container keys."""
    text = 'len($context["a"].output) + b'
    tokens = tokenize(text)
    roles = roles_of(parse_expression(text), tokens)
    assert [tokens[i][1] for i in roles.identifiers] == ["$context", "b"]
    assert [tokens[i][1] for i in roles.calls] == ["len"]
    assert [(c, tokens[k][1]) for c, _, k, _ in roles.members] == [("$context", "a")]
