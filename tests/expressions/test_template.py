"""Template segmentation and parsing."""

from __future__ import annotations

import pytest

from maidit_jupyter.errors import ExpressionSyntaxError
from maidit_jupyter.expressions import (
    ExprSegment,
    ParsedSegment,
    TextSegment,
    is_single_expression,
    parse_template,
    segment_template,
)
from tests.expressions.sexpr import sexpr

P = pytest.param


def _text(text: str, start: int, *, unterminated: bool = False) -> TextSegment:
    """A verbatim text segment starting at ``start``."""
    return TextSegment(
        text=text, start=start, end=start + len(text), unterminated=unterminated
    )


def _expr(source: str, start: int, end: int, source_start: int) -> ExprSegment:
    """An expression segment."""
    return ExprSegment(source=source, start=start, end=end, source_start=source_start)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        P("", (), id="empty"),
        P("plain text", (_text("plain text", 0),), id="text-only"),
        P("{{a}}", (_expr("a", 0, 5, 2),), id="expression-only"),
        P("{{  a + 1  }}", (_expr("a + 1", 0, 13, 4),), id="trimmed"),
        P(
            "Hi {{ name }}!",
            (_text("Hi ", 0), _expr("name", 3, 13, 6), _text("!", 13)),
            id="text-around",
        ),
        P(
            "{{a}}{{b}}",
            (_expr("a", 0, 5, 2), _expr("b", 5, 10, 7)),
            id="adjacent-expressions",
        ),
        P(
            r"a \{{ b }}",
            (_text("a ", 0), TextSegment(text="{{", start=2, end=5), _text(" b }}", 5)),
            id="escaped-braces",
        ),
        P(
            r"\{{{{x}}",
            (TextSegment(text="{{", start=0, end=3), _expr("x", 3, 8, 5)),
            id="escape-then-expression",
        ),
        P(
            r"\\{{x}}",
            (_text("\\", 0), TextSegment(text="{{", start=1, end=4), _text("x}}", 4)),
            id="only-backslash-brace-brace-escapes",
        ),
        P('{{ "}}" }}', (_expr('"}}"', 0, 10, 3),), id="closing-inside-double-quotes"),
        P("{{ '}}' }}", (_expr("'}}'", 0, 10, 3),), id="closing-inside-single-quotes"),
        P(
            r'{{ "a\"}}" }}',
            (_expr(r'"a\"}}"', 0, 13, 3),),
            id="escaped-quote-inside-string",
        ),
        P('{{ "it\'s" }}', (_expr('"it\'s"', 0, 12, 3),), id="other-quote-inside"),
        P(
            "a {{ b",
            (_text("a ", 0), _text("{{ b", 2, unterminated=True)),
            id="unterminated",
        ),
        P(
            "{{ 'x }} y",
            (_text("{{ 'x }} y", 0, unterminated=True),),
            id="open-string-swallows-rest",
        ),
        P(
            "{{ a }} {{ b",
            (_expr("a", 0, 7, 3), _text(" ", 7), _text("{{ b", 8, unterminated=True)),
            id="unterminated-after-expression",
        ),
        P("{{}}", (_expr("", 0, 4, 2),), id="empty-expression"),
        P("}} a", (_text("}} a", 0),), id="stray-closing"),
        P(
            "{{{a: 1}}}",
            (_expr("{a: 1", 0, 9, 2), _text("}", 9)),
            id="first-close-wins",
        ),
        P("{ {a} }", (_text("{ {a} }", 0),), id="single-braces-are-text"),
    ],
)
def test_segment_template(
    template: str, expected: tuple[TextSegment | ExprSegment, ...]
) -> None:
    """Segmentation follows the original engine's rules."""
    assert segment_template(template) == expected


def test_expression_offsets_map_into_template() -> None:
    """source_start locates the trimmed source inside the template."""
    template = "x = {{\n   total * 2 }} units"
    (_, segment, _) = segment_template(template)
    assert isinstance(segment, ExprSegment)
    at = segment.source_start
    assert template[at : at + len(segment.source)] == segment.source == "total * 2"
    assert template[segment.start : segment.end] == "{{\n   total * 2 }}"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        P("{{ a }}", True, id="bare"),
        P("  {{ a }}\n", True, id="whitespace-around"),
        P("x{{ a }}", False, id="text-before"),
        P("{{ a }}{{ b }}", False, id="two-expressions"),
        P("", False, id="empty"),
        P("text", False, id="no-expression"),
        P(r"\{{ a }}", False, id="escaped"),
        P("{{ a }} {{", False, id="unterminated-after"),
    ],
)
def test_is_single_expression(template: str, expected: bool) -> None:
    """Only one expression with white space around keeps the value's type."""
    assert is_single_expression(segment_template(template)) is expected


def test_parse_template() -> None:
    """parse_template parses each expression and keeps the text segments."""
    ids = frozenset({"fetch-data"})
    template = parse_template("n={{ fetch-data.count + 1 }}.", node_ids=ids)
    kinds = [type(part).__name__ for part in template.segments]
    assert kinds == ["TextSegment", "ParsedSegment", "TextSegment"]
    parsed = template.segments[1]
    assert isinstance(parsed, ParsedSegment)
    assert sexpr(parsed.expr) == "(+ (. fetch-data count) 1)"
    assert parsed.expr.start == 0
    assert not template.single_expression
    assert parse_template(" {{ x }} ").single_expression


@pytest.mark.parametrize(
    ("template", "message", "offending"),
    [
        P("a {{ b c }} d", "unexpected identifier 'c'", "c", id="juxtaposition"),
        P(
            "{{ ok }} and {{\n  1 +  }}",
            "unexpected end of the expression",
            "",
            id="second-expression",
        ),
        P("x {{ }} y", "empty expression", "{{ }}", id="empty-expression"),
        P("{{ a = 1 }}", "assignment ('=') is not supported", "=", id="assignment"),
        P(
            "{{ {{ a }} }}",
            "templates ('{{ }}') are not allowed inside expressions",
            "{{",
            id="nested-template",
        ),
    ],
)
def test_parse_template_error_offsets(
    template: str, message: str, offending: str
) -> None:
    """Syntax errors are located in the template text, not in the expression."""
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_template(template)
    error = info.value
    assert error.message.startswith(message)
    assert error.expression == template
    assert template[error.start : error.end] == offending


def test_error_offset_of_second_expression() -> None:
    """The end-of-expression error of a later segment points just after its source."""
    template = "{{ ok }} and {{\n  1 +  }}"
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_template(template)
    assert info.value.start == template.index("+") + 1


def test_unterminated_is_text_when_parsing() -> None:
    """An unterminated {{ is not an error when parsing: it stays text."""
    template = parse_template("a {{ b")
    assert template.segments == (_text("a ", 0), _text("{{ b", 2, unterminated=True))
