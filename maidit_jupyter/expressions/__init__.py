"""The expression language: lexer, parser, AST, templates and reference collection.

Expressions are JavaScript-like (the original engine used jsep): literals, names,
member access and optional chaining, calls of built-in functions by name, arrays and
objects with spread, arrow functions, and the usual operators with JavaScript
precedence. Templates embed expressions in text as ``{{ expr }}``.

Typical use::

    expr = parse_expression('fetch-data.output.items', node_ids=ids)
    refs = collect_references(expr, ids)
    template = parse_template("Hello {{ $input.name }}!", node_ids=ids)

Every syntax error is an :class:`~maidit_jupyter.errors.ExpressionSyntaxError` with
``start``/``end`` offsets into the text; nothing else is raised. Evaluation lives
elsewhere.
"""

from __future__ import annotations

from maidit_jupyter.expressions.functions import (
    ALL_FUNCTION_NAMES,
    BUILTIN_FUNCTION_NAMES,
    HIGHER_ORDER_FUNCTION_NAMES,
    suggest_function,
)
from maidit_jupyter.expressions.nodes import (
    ArrayLiteral,
    Arrow,
    Binary,
    Call,
    Conditional,
    Expr,
    Identifier,
    Literal,
    Logical,
    Member,
    Node,
    ObjectLiteral,
    Property,
    Sequence,
    Spread,
    Unary,
    children,
    walk,
)
from maidit_jupyter.expressions.parser import parse_expression
from maidit_jupyter.expressions.printer import to_source
from maidit_jupyter.expressions.references import (
    CallRef,
    NodeRef,
    References,
    collect_references,
)
from maidit_jupyter.expressions.template import (
    ExprSegment,
    ParsedSegment,
    Template,
    TextSegment,
    is_single_expression,
    parse_template,
    segment_template,
)

__all__ = [
    "ALL_FUNCTION_NAMES",
    "BUILTIN_FUNCTION_NAMES",
    "HIGHER_ORDER_FUNCTION_NAMES",
    "ArrayLiteral",
    "Arrow",
    "Binary",
    "Call",
    "CallRef",
    "Conditional",
    "Expr",
    "ExprSegment",
    "Identifier",
    "Literal",
    "Logical",
    "Member",
    "Node",
    "NodeRef",
    "ObjectLiteral",
    "ParsedSegment",
    "Property",
    "References",
    "Sequence",
    "Spread",
    "Template",
    "TextSegment",
    "Unary",
    "children",
    "collect_references",
    "is_single_expression",
    "parse_expression",
    "parse_template",
    "segment_template",
    "suggest_function",
    "to_source",
    "walk",
]
