"""Parse expression text into the AST of :mod:`maidit_jupyter.expressions.nodes`.

Why a hand-written lexer and Pratt parser instead of a parsing library: zero
dependencies, exact control over error messages and spans, linear time, and easy depth
limits (a counter that raises a syntax error, never a ``RecursionError``).

Two limits protect everything downstream: ``max_depth`` bounds both the parser's own
nesting (brackets, prefix operators, operands) and the height of the resulting tree, so
code that walks the AST recursively (evaluation, printing, ``==`` and ``repr`` of
nodes) stays far from Python's recursion limit.
"""

from __future__ import annotations

import re

from maidit_jupyter.errors import ExpressionSyntaxError
from maidit_jupyter.expressions.cursor import (
    ARG_END,
    BRACKET_END,
    COLON,
    ELEMENT_END,
    END,
    EXPRESSION,
    GROUP_END,
    KEYWORD_VALUES,
    PROPERTY_END,
    TokenCursor,
)
from maidit_jupyter.expressions.lexer import number_key, number_value, tokenize
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
    ObjectLiteral,
    Property,
    Sequence,
    Spread,
    Unary,
)
from maidit_jupyter.expressions.operators import (
    BINARY_POWER,
    LOGICAL_OPERATORS,
    PREFIX_OPERATORS,
)

__all__ = ["parse_expression"]

#: the most common expression, a dotted name path such as ``$item.score`` or
#: ``scores.output``: read without tokenizing. (Dashed ids take the full parser.)
_SIMPLE_PATH = re.compile(
    r"\s*(([A-Za-z_$][\w$]*)(?:\.[A-Za-z_$][\w$]*){0,20})\s*", re.ASCII
)
_LITERAL_WORDS = frozenset({"true", "false", "null"})

_POSTFIX = frozenset({".", "?.", "[", "("})
_METHOD_CALL = "only direct function calls are allowed (e.g. fn(x), not obj.method(x))"


def parse_expression(
    text: str,
    *,
    node_ids: frozenset[str] = frozenset(),
    max_depth: int = 100,
    max_length: int = 20_000,
) -> Expr:
    """Parse one expression.

    Args:
        text: the expression, without ``{{ }}``.
        node_ids: the flow's node ids, so that dashed ids such as ``fetch-data`` read
            as one identifier instead of a subtraction.
        max_depth: the deepest nesting accepted, counting brackets, prefix operators
            and operands, and the largest height of the resulting tree.
        max_length: the longest text accepted, in characters.

    Returns:
        The expression's AST; offsets are relative to ``text``.

    Raises:
        ExpressionSyntaxError: the text is not a valid expression. Nothing else is
            raised, whatever the input.
    """
    if len(text) > max_length:
        size = len(text)
        message = (
            f"expression is too long ({size} characters; the limit is {max_length})"
        )
        raise ExpressionSyntaxError(
            message, expression=text, start=max_length, end=len(text)
        )
    path = _SIMPLE_PATH.fullmatch(text)
    if path is not None and path.group(2) not in _LITERAL_WORDS:
        return _path(text, path.start(1), path.end(1))
    parser = _Parser(text, tokenize(text, node_ids), max_depth)
    try:
        return parser.parse()
    except RecursionError:
        raise parser.too_deep(0, len(text)) from None


def _path(text: str, start: int, end: int) -> Expr:
    """Build the Identifier/Member chain of the dotted path ``text[start:end]``."""
    names = text[start:end].split(".")
    position = start + len(names[0])
    expr: Expr = Identifier(name=names[0], start=start, end=position)
    for name in names[1:]:
        position += 1 + len(name)
        expr = Member(
            object=expr,
            property=name,
            computed=None,
            optional=False,
            start=start,
            end=position,
        )
    return expr


class _Parser(TokenCursor):
    """A Pratt parser over a token list; one instance parses one expression."""

    __slots__ = ()

    def parse(self) -> Expr:
        """Parse the whole token list."""
        if self.kind == "eof":
            raise self.error("empty expression", 0, len(self.text))
        expr = self._sequence()
        if self.kind != "eof":
            raise self.unexpected(END)
        return expr

    # -- grammar -----------------------------------------------------------------------

    def _sequence(self) -> Expr:
        """sequence := assign (',' assign)*"""
        first = self._assign()
        if self.kind != ",":
            return first
        height = self.height
        items = [first]
        while self.kind == ",":
            self.advance()
            items.append(self._assign())
            height = max(height, self.height)
        self.set_height(height + 1, first.start)
        return Sequence(expressions=tuple(items), start=first.start, end=self.last_end)

    def _assign(self) -> Expr:
        """assign := arrow | binary ('?' assign ':' assign)?"""
        self.enter()
        kind = self.kind
        start = self.tok[2]
        expr: Expr
        if (kind == "name" and self.tokens[self.i + 1][0] == "=>") or (
            kind == "(" and self.arrow_ahead()
        ):
            expr = self._arrow(start)
        else:
            expr = self._binary(0)
            if self.kind == "?":
                expr = self._conditional(expr, start)
        self.depth -= 1
        return expr

    def _conditional(self, test: Expr, start: int) -> Conditional:
        """The rest of ``test ? consequent : alternate`` (right-associative)."""
        height = self.height
        self.advance()
        consequent = self._assign()
        height = max(height, self.height)
        if self.kind != ":":
            raise self.unexpected(COLON)
        self.advance()
        alternate = self._assign()
        self.set_height(max(height, self.height) + 1, start)
        return Conditional(
            test=test,
            consequent=consequent,
            alternate=alternate,
            start=start,
            end=self.last_end,
        )

    def _binary(self, min_power: int) -> Expr:
        """Operators binding tighter than ``min_power`` (precedence climbing)."""
        start = self.tok[2]
        left = self._unary()
        height = self.height
        while True:
            power = BINARY_POWER.get(self.kind)
            if power is None or power <= min_power:
                self.height = height
                return left
            op_tok = self.advance()
            op = op_tok[0]
            if op == "**":
                if isinstance(left, Unary) and left.start == start:
                    message = (
                        f"unary '{left.op}' cannot be the left operand of '**'; add "
                        f"parentheses: ({left.op}a) ** b or {left.op}(a ** b)"
                    )
                    raise self.error(message, op_tok[2], op_tok[3])
                power -= 1
            self.enter()
            right = self._binary(power)
            self.depth -= 1
            height = max(height, self.height) + 1
            if height > self.max_depth:
                raise self.too_deep(start, self.last_end)
            if op in LOGICAL_OPERATORS:
                left = Logical(
                    op=op, left=left, right=right, start=start, end=self.last_end
                )
            else:
                left = Binary(
                    op=op, left=left, right=right, start=start, end=self.last_end
                )

    def _unary(self) -> Expr:
        """unary := ('!' | '-' | '+' | '~') unary | postfix"""
        kind = self.kind
        if kind not in PREFIX_OPERATORS:
            return self._postfix()
        start = self.advance()[2]
        self.enter()
        operand = self._unary()
        self.depth -= 1
        self.set_height(self.height + 1, start)
        return Unary(op=kind, operand=operand, start=start, end=self.last_end)

    def _postfix(self) -> Expr:
        """postfix := primary ('.' name | '?.' name | '?.'? '[' assign ']' | call)*"""
        start = self.tok[2]
        expr = self._primary()
        if self.kind not in _POSTFIX:
            return expr
        height = self.height
        while True:
            kind = self.kind
            if kind == "(":
                expr = self._call(expr, start)
            elif kind in _POSTFIX:
                name, key, optional = self._member_part()
                expr = Member(
                    object=expr,
                    property=name,
                    computed=key,
                    optional=optional,
                    start=start,
                    end=self.last_end,
                )
            else:
                self.height = height
                return expr
            height = max(height, self.height) + 1
            if height > self.max_depth:
                raise self.too_deep(start, self.last_end)

    def _member_part(self) -> tuple[str | None, Expr | None, bool]:
        """Consume ``.name``, ``?.name``, ``[key]`` or ``?.[key]``.

        Returns the name or the key and whether the access is optional, and leaves
        ``self.height`` at the key's height (0 for a name). After the dot any word is
        a name, keywords included.
        """
        op = self.advance()[0]
        optional = op == "?."
        if op == "[" or (optional and self.kind == "["):
            if optional:
                self.advance()
            key = self._assign()
            if self.kind != "]":
                raise self.unexpected(BRACKET_END)
            self.advance()
            return None, key, optional
        if self.kind == "name":
            self.height = 0
            return self.advance()[1], None, optional
        if optional and self.kind == "(":
            message = (
                "optional calls ('?.(') are not supported; call functions directly"
            )
            raise self.error(message, self.last_end - 2, self.tok[3])
        raise self.unexpected(f"a property name after '{op}'")

    def _call(self, callee: Expr, start: int) -> Call:
        """``name(args)``; leaves ``self.height`` at the tallest argument's height."""
        if not isinstance(callee, Identifier):
            if isinstance(callee, Member):
                raise self.error(_METHOD_CALL, callee.start, callee.end)
            message = "only a function name can be called (e.g. fn(x))"
            raise self.error(message, callee.start, callee.end)
        self.advance()
        args: list[Expr | Spread] = []
        height = 0
        while self.kind != ")":
            args.append(self._element())
            height = max(height, self.height)
            if self.kind == ",":
                self.advance()
            elif self.kind != ")":
                raise self.unexpected(ARG_END)
        self.advance()
        self.height = height
        return Call(
            callee=callee.name,
            callee_start=callee.start,
            callee_end=callee.end,
            args=tuple(args),
            start=start,
            end=self.last_end,
        )

    def _element(self) -> Expr | Spread:
        """An array element or a call argument: ``...x`` or ``x``."""
        if self.kind == "...":
            return self._spread()
        return self._assign()

    def _spread(self) -> Spread:
        """``...argument``."""
        start = self.advance()[2]
        argument = self._assign()
        self.set_height(self.height + 1, start)
        return Spread(argument=argument, start=start, end=self.last_end)

    def _primary(self) -> Expr:
        """A literal, a name, ``( sequence )``, an array or an object."""
        kind, value, start, end = self.tok
        if kind == "name":
            self.advance()
            self.height = 1
            if value in KEYWORD_VALUES:
                return Literal(value=KEYWORD_VALUES[value], start=start, end=end)
            return Identifier(name=value, start=start, end=end)
        if kind == "num" or kind == "str":
            self.advance()
            self.height = 1
            literal = number_value(value) if kind == "num" else value
            return Literal(value=literal, start=start, end=end)
        if kind == "(":
            self.advance()
            expr = self._sequence()
            if self.kind != ")":
                raise self.unexpected(GROUP_END)
            self.advance()
            return expr
        if kind == "[":
            return self._array()
        if kind == "{":
            return self._object()
        raise self.unexpected(EXPRESSION)

    def _array(self) -> ArrayLiteral:
        """``[a, ...b, , c]``: holes are ``None``; a trailing comma adds no hole."""
        start = self.advance()[2]
        elements: list[Expr | Spread | None] = []
        height = 0
        while self.kind != "]":
            if self.kind == ",":
                self.advance()
                elements.append(None)
                continue
            elements.append(self._element())
            height = max(height, self.height)
            if self.kind == ",":
                self.advance()
            elif self.kind != "]":
                raise self.unexpected(ELEMENT_END)
        self.advance()
        self.set_height(height + 1, start)
        return ArrayLiteral(elements=tuple(elements), start=start, end=self.last_end)

    def _object(self) -> ObjectLiteral:
        """``{key: value, [k]: v, ...rest, short}``."""
        start = self.advance()[2]
        properties: list[Property | Spread] = []
        height = 0
        while self.kind != "}":
            if self.kind == "...":
                properties.append(self._spread())
            else:
                properties.append(self._property())
            height = max(height, self.height)
            if self.kind == ",":
                self.advance()
            elif self.kind != "}":
                raise self.unexpected(PROPERTY_END)
        self.advance()
        self.set_height(height + 1, start)
        return ObjectLiteral(
            properties=tuple(properties), start=start, end=self.last_end
        )

    def _property(self) -> Property:
        """One ``key: value`` entry, or a shorthand ``name``."""
        kind, value, start, end = self.tok
        computed: Expr | None = None
        key: str | None = value
        key_height = 0
        if kind == "[":
            self.advance()
            computed, key = self._assign(), None
            key_height = self.height
            if self.kind != "]":
                raise self.unexpected(BRACKET_END)
        elif kind == "num":
            key = number_key(number_value(value))
        elif kind != "name" and kind != "str":
            raise self.unexpected("a property name, '[', '...' or '}'")
        self.advance()
        item: Expr
        shorthand = kind == "name" and (self.kind == "," or self.kind == "}")
        if shorthand:
            if value in KEYWORD_VALUES:
                message = (
                    f"'{value}' cannot be a shorthand property; write '{value}: value'"
                )
                raise self.error(message, start, end)
            item = Identifier(name=value, start=start, end=end)
            self.height = 1
        else:
            if self.kind != ":":
                raise self.unexpected("':' after the property key")
            self.advance()
            item = self._assign()
        self.set_height(max(key_height, self.height) + 1, start)
        return Property(
            key=key,
            computed=computed,
            value=item,
            shorthand=shorthand,
            start=start,
            end=self.last_end,
        )

    def _arrow(self, start: int) -> Arrow:
        """``x => body`` or ``(a, b) => body``; ``{`` starts an object literal body."""
        params = self.arrow_params()
        body = self._assign()
        self.set_height(self.height + 1, start)
        return Arrow(params=params, body=body, start=start, end=self.last_end)
