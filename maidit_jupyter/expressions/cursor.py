"""The parser's token cursor: position, limits, look-ahead and syntax error messages.

Internal to :mod:`maidit_jupyter.expressions.parser`, which subclasses
:class:`TokenCursor` with the grammar. Messages follow one pattern, "unexpected X;
expected Y", with dedicated wording for JavaScript syntax the language leaves out
(``typeof a``, ``a in b``, ``new X()``, regex literals, ...).
"""

from __future__ import annotations

from maidit_jupyter.errors import ExpressionSyntaxError
from maidit_jupyter.expressions.lexer import Token

__all__ = [
    "ARG_END",
    "BRACKET_END",
    "COLON",
    "ELEMENT_END",
    "END",
    "EXPRESSION",
    "GROUP_END",
    "KEYWORD_VALUES",
    "PROPERTY_END",
    "TokenCursor",
]

#: Names that are literals rather than identifiers.
KEYWORD_VALUES: dict[str, bool | None] = {"true": True, "false": False, "null": None}

# What the parser expected, for "unexpected X; expected Y" messages.
EXPRESSION = "an expression"
END = "an operator or the end of the expression"
GROUP_END = "an operator or ')'"
ARG_END = "an operator, ',' or ')'"
ELEMENT_END = "an operator, ',' or ']'"
PROPERTY_END = "an operator, ',' or '}'"
BRACKET_END = "an operator or ']'"
COLON = "an operator or ':'"
_AFTER_OPERAND = frozenset(
    {END, GROUP_END, ARG_END, ELEMENT_END, PROPERTY_END, BRACKET_END, COLON}
)
_TERM_STARTS = frozenset({"name", "num", "str", "(", "[", "{"})

_INFIX_KEYWORDS = {
    "in": (
        "the 'in' operator is not supported; "
        "use has(obj, key) or contains(list, x) instead"
    ),
    "instanceof": (
        "the 'instanceof' operator is not supported; "
        "use typeof(x) or is_array(x) instead"
    ),
}
_PREFIX_KEYWORDS = {
    "typeof": "the 'typeof' operator is not supported; call typeof(x) instead",
    "new": "'new' is not supported; call a built-in function instead, e.g. fn(x)",
    "delete": "the 'delete' operator is not supported; call delete(obj, key) instead",
    "void": "the 'void' operator is not supported",
    "await": "'await' is not supported",
}


def _shorten(text: str, limit: int = 30) -> str:
    """Cut ``text`` to about ``limit`` characters for a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class TokenCursor:
    """A position in a token list, with the nesting and height limits.

    Attributes:
        text: the expression text.
        tokens: its tokens, ending with ``eof`` or ``bad``.
        i: index of the current token.
        tok: the current token; ``kind`` is its kind.
        last_end: end offset of the last consumed token.
        depth: current nesting, checked against ``max_depth``.
        height: height of the node the last parse method returned.
    """

    __slots__ = (
        "depth",
        "height",
        "i",
        "kind",
        "last_end",
        "max_depth",
        "text",
        "tok",
        "tokens",
    )

    def __init__(self, text: str, tokens: list[Token], max_depth: int) -> None:
        self.text = text
        self.tokens = tokens
        self.max_depth = max_depth
        self.i = 0
        self.tok = tokens[0]
        self.kind = self.tok[0]
        self.last_end = 0
        self.depth = 0
        self.height = 0

    def advance(self) -> Token:
        """Consume the current token (never the final ``eof`` or ``bad``) and return it."""
        tok = self.tok
        self.last_end = tok[3]
        self.i += 1
        self.tok = self.tokens[self.i]
        self.kind = self.tok[0]
        return tok

    def error(self, message: str, start: int, end: int) -> ExpressionSyntaxError:
        """Build a syntax error located in this expression."""
        return ExpressionSyntaxError(
            message, expression=self.text, start=start, end=end
        )

    def too_deep(self, start: int, end: int) -> ExpressionSyntaxError:
        """Build the error for exceeding ``max_depth``."""
        message = (
            f"expression is nested too deeply; the limit is {self.max_depth} levels"
        )
        return self.error(message, start, end)

    def enter(self) -> None:
        """Count one level of parser nesting."""
        self.depth += 1
        if self.depth > self.max_depth:
            raise self.too_deep(self.tok[2], self.tok[3])

    def set_height(self, height: int, start: int) -> None:
        """Record the height of a node just built from ``start``, checking the limit."""
        if height > self.max_depth:
            raise self.too_deep(start, self.last_end)
        self.height = height

    def describe(self, tok: Token) -> str:
        """Name a token for a message."""
        kind, value, start, end = tok
        if kind == "eof":
            return "end of the expression"
        if kind == "name":
            if value in KEYWORD_VALUES:
                return f"'{value}'"
            return f"identifier '{_shorten(value)}'"
        if kind == "num":
            return f"number {_shorten(self.text[start:end])}"
        if kind == "str":
            return f"string {_shorten(self.text[start:end])}"
        return f"'{kind}'"

    def unexpected(self, expected: str) -> ExpressionSyntaxError:
        """Build the error for the current token, given what would have been valid."""
        kind, value, start, end = self.tok
        if kind == "bad":
            return self.error(value, start, end)
        if expected in _AFTER_OPERAND:
            if kind == "name" and value in _INFIX_KEYWORDS:
                return self.error(_INFIX_KEYWORDS[value], start, end)
            prev = self.tokens[self.i - 1]
            if (
                kind in _TERM_STARTS
                and prev[0] == "name"
                and prev[1] in _PREFIX_KEYWORDS
                and (self.i < 2 or self.tokens[self.i - 2][0] not in (".", "?."))
            ):
                return self.error(_PREFIX_KEYWORDS[prev[1]], prev[2], prev[3])
            if kind in (")", "]", "}") and expected == END:
                return self.error(f"unmatched '{kind}'; expected {END}", start, end)
        if kind == "/" and expected == EXPRESSION:
            message = (
                "regular expression literals are not supported; pass the pattern "
                "as a string to match(), test() or match_all()"
            )
            return self.error(message, start, end)
        if kind == "=>":
            message = (
                "unexpected '=>'; arrow function parameters must be a name or a "
                "parenthesised list of names, e.g. (a, b) => a + b"
            )
            return self.error(message, start, end)
        return self.error(
            f"unexpected {self.describe(self.tok)}; expected {expected}", start, end
        )

    def arrow_ahead(self) -> bool:
        """Whether the ``(`` at the current token starts ``(a, b) =>``.

        Only names and commas are skipped, and each belongs to this one parenthesis,
        so the look-ahead costs linear time over the whole parse.
        """
        tokens = self.tokens
        j = self.i + 1
        if tokens[j][0] == ")":
            return tokens[j + 1][0] == "=>"
        while tokens[j][0] == "name":
            j += 1
            kind = tokens[j][0]
            if kind == ")":
                return tokens[j + 1][0] == "=>"
            if kind != ",":
                return False
            j += 1
        return False

    def arrow_params(self) -> tuple[str, ...]:
        """Consume ``x =>`` or ``(a, b) =>`` (as checked by :meth:`arrow_ahead`).

        Returns:
            The parameter names.
        """
        if self.kind == "name":
            name = self._param()
            self.advance()
            return (name,)
        self.advance()
        params: dict[str, None] = {}
        while self.kind == "name":
            name = self._param()
            if name in params:
                message = f"duplicate parameter name '{name}'"
                raise self.error(message, self.tokens[self.i - 1][2], self.last_end)
            params[name] = None
            if self.kind == ",":
                self.advance()
        self.advance()
        self.advance()
        return tuple(params)

    def _param(self) -> str:
        """Consume one parameter name."""
        _, name, start, end = self.advance()
        if name in KEYWORD_VALUES:
            raise self.error(f"'{name}' cannot be a parameter name", start, end)
        return name
