"""The expression AST: one frozen dataclass per syntactic form.

Every node carries ``start`` and ``end``, character offsets into the expression string
(half-open, ``text[start:end]`` is the node's source). A node's span covers exactly the
tokens it was parsed from: parentheses *around* a node are not part of its span, but
parentheses around one of its operands are part of the parent's span (so the span of
``(a) + b`` is the whole text while ``a`` spans one character).

Nodes compare by value *including* their offsets; to compare shapes only, print them
with :func:`~maidit_jupyter.expressions.printer.to_source`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeAlias

from maidit_jupyter._records import record

__all__ = [
    "ArrayLiteral",
    "Arrow",
    "Binary",
    "Call",
    "Conditional",
    "Expr",
    "Identifier",
    "Literal",
    "Logical",
    "Member",
    "Node",
    "ObjectLiteral",
    "Property",
    "Sequence",
    "Spread",
    "Unary",
    "children",
    "walk",
]


@record
class Literal:
    """A number, string, ``true``, ``false`` or ``null``.

    Attributes:
        value: ``int`` for integral literals written without ``.`` or exponent (up to
            2**53), otherwise ``float``; ``str``; ``bool``; ``None`` for ``null``.
    """

    value: str | int | float | bool | None
    start: int
    end: int


@record
class Identifier:
    """A name such as ``x``, ``$item``, ``undefined`` or a dashed node id ``fetch-data``."""

    name: str
    start: int
    end: int


@record
class Member:
    """Property access: ``a.b``, ``a[x]``, ``a?.b`` or ``a?.[x]``.

    Attributes:
        object: the expression whose property is read.
        property: the name after the dot, or ``None`` for computed access.
        computed: the key expression between brackets, or ``None`` for ``a.b``.
        optional: whether the access was written with ``?.``.
    """

    object: Expr
    property: str | None
    computed: Expr | None
    optional: bool
    start: int
    end: int


@record
class Call:
    """A call of a function by name, ``fn(a, ...rest)``.

    Only a bare identifier can be called, so the callee is a name, not an expression.

    Attributes:
        callee: the function name.
        callee_start: offset of the name.
        callee_end: end offset of the name.
        args: the arguments; spread arguments are :class:`Spread`.
    """

    callee: str
    callee_start: int
    callee_end: int
    args: tuple[Expr | Spread, ...]
    start: int
    end: int


@record
class ArrayLiteral:
    """An array ``[a, ...b, , c]``; ``None`` elements are holes."""

    elements: tuple[Expr | Spread | None, ...]
    start: int
    end: int


@record
class Property:
    """One ``key: value`` entry of an object literal.

    Attributes:
        key: the key text (names, strings and numbers all become strings; a number key
            is spelt as JavaScript would, ``1.50`` gives ``"1.5"``), or ``None`` when
            computed.
        computed: the key expression of ``[k]: v``, or ``None``.
        value: the value expression.
        shorthand: whether written as ``{name}`` (then ``value`` is that identifier).
    """

    key: str | None
    computed: Expr | None
    value: Expr
    shorthand: bool
    start: int
    end: int


@record
class ObjectLiteral:
    """An object ``{a: 1, "b": x, [k]: v, ...rest, short}``."""

    properties: tuple[Property | Spread, ...]
    start: int
    end: int


@record
class Spread:
    """``...argument`` inside an array, an object or call arguments."""

    argument: Expr
    start: int
    end: int


@record
class Unary:
    """A prefix operator: ``!``, ``-``, ``+`` or ``~`` (which evaluation rejects)."""

    op: str
    operand: Expr
    start: int
    end: int


@record
class Binary:
    """An arithmetic or comparison operator: ``== != === !== < > <= >= + - * / % **``."""

    op: str
    left: Expr
    right: Expr
    start: int
    end: int


@record
class Logical:
    """A short-circuit operator: ``&&``, ``||`` or ``??``."""

    op: str
    left: Expr
    right: Expr
    start: int
    end: int


@record
class Conditional:
    """The ternary ``test ? consequent : alternate``."""

    test: Expr
    consequent: Expr
    alternate: Expr
    start: int
    end: int


@record
class Arrow:
    """An arrow function ``x => body`` or ``(a, b) => body``; the body is an expression.

    There are no statements, so a braced body is an object literal: ``x => {a: 1}``
    parses like ``x => ({a: 1})``.
    """

    params: tuple[str, ...]
    body: Expr
    start: int
    end: int


@record
class Sequence:
    """Comma-separated expressions ``a, b``: all are evaluated, the last is the value."""

    expressions: tuple[Expr, ...]
    start: int
    end: int


Expr: TypeAlias = (
    Literal
    | Identifier
    | Member
    | Call
    | ArrayLiteral
    | ObjectLiteral
    | Unary
    | Binary
    | Logical
    | Conditional
    | Arrow
    | Sequence
)
"""Any expression node."""

Node: TypeAlias = Expr | Spread | Property
"""Any node of the AST, including the parts that are not expressions by themselves."""


def children(node: Node) -> tuple[Node, ...]:
    """Return the direct sub-nodes of ``node`` in source order (array holes skipped)."""
    if isinstance(node, Literal | Identifier):
        return ()
    if isinstance(node, Member):
        if node.computed is None:
            return (node.object,)
        return (node.object, node.computed)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, ArrayLiteral):
        return tuple(element for element in node.elements if element is not None)
    if isinstance(node, ObjectLiteral):
        return node.properties
    if isinstance(node, Property):
        if node.computed is None:
            return (node.value,)
        return (node.computed, node.value)
    if isinstance(node, Spread):
        return (node.argument,)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary | Logical):
        return (node.left, node.right)
    if isinstance(node, Conditional):
        return (node.test, node.consequent, node.alternate)
    if isinstance(node, Arrow):
        return (node.body,)
    return node.expressions


def walk(node: Node) -> Iterator[Node]:
    """Yield ``node`` and then every node below it, depth first, in source order.

    The walk is iterative, so it works on trees of any depth.
    """
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))
