"""Compile once, evaluate many times: bare expressions and templates."""

from __future__ import annotations

from typing import Any

import pytest

from maidit_jupyter.errors import ExpressionError, ExpressionSyntaxError
from maidit_jupyter.expressions.compiled import ExpressionCompiler
from maidit_jupyter.expressions.evaluator import Evaluator
from maidit_jupyter.expressions.scope import RootScope

EVALUATOR = Evaluator()


def scope() -> RootScope:
    return RootScope(
        outputs={"fetch-data": {"items": [1, 2]}, "note": "has {{ braces }}"},
        config={"n": 3, "name": "demo"},
    )


@pytest.mark.parametrize(
    ("template", "value"),
    [
        pytest.param("{{ fetch-data.output }}", {"items": [1, 2]}, id="object-kept"),
        pytest.param("  {{ $config.n }}  ", 3, id="number-kept-with-spaces"),
        pytest.param("{{ $config.n > 2 }}", True, id="boolean-kept"),
        pytest.param("{{ missing }}", None, id="undefined-as-is"),
        pytest.param("n={{ $config.n }}", "n=3", id="mixed-renders"),
        pytest.param("{{ fetch-data.output }}!", '{"items":[1,2]}!', id="json-in-text"),
        pytest.param("a{{ null }}b{{ missing }}c", "abc", id="null-renders-empty"),
        pytest.param("\\{{ literal }}", "{{ literal }}", id="escaped"),
        pytest.param("{{ note.output }}", "has {{ braces }}", id="data-is-data"),
        pytest.param("plain text", "plain text", id="no-expressions"),
        pytest.param("", "", id="empty"),
        pytest.param("{{ 1 + 2 }} and {{ '}}' }}", "3 and }}", id="quoted-close"),
        pytest.param("open {{ never closed", "open {{ never closed", id="unterminated"),
    ],
)
def test_template_value(template: str, value: Any) -> None:
    """A lone ``{{ }}`` keeps its type; anything else renders as text."""
    compiled = ExpressionCompiler(frozenset({"fetch-data", "note"})).template(template)
    result = compiled.value(scope(), EVALUATOR)
    if value is None:
        assert result is not None
        assert not result
    else:
        assert result == value
        assert type(result) is type(value)


def test_render_always_gives_text() -> None:
    """The template transform renders even a single expression to text."""
    compiled = ExpressionCompiler().template("{{ 1 + 2 }}")
    assert compiled.render(scope(), EVALUATOR) == "3"


def test_each_text_is_compiled_once() -> None:
    """The compiler returns the same compiled object for the same text."""
    compiler = ExpressionCompiler()
    assert compiler.template("x {{ 1 }}") is compiler.template("x {{ 1 }}")
    assert compiler.expression("a + 1") is compiler.expression("a + 1")


def test_template_errors_are_located_in_the_template() -> None:
    """Syntax and evaluation errors carry offsets into the whole template."""
    compiler = ExpressionCompiler()
    with pytest.raises(ExpressionSyntaxError) as syntax:
        compiler.template("ok {{ 1 + }}")
    assert syntax.value.expression == "ok {{ 1 + }}"
    assert syntax.value.start >= len("ok {{ 1 +")
    with pytest.raises(ExpressionError) as evaluation:
        compiler.template("ok {{ nope(1) }}").render(scope(), EVALUATOR)
    error = evaluation.value
    assert error.expression[error.start : error.end] == "nope"
