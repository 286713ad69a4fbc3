"""The tokenizer: one compiled regular expression matches a whole token at a time.

A token is a plain tuple ``(kind, value, start, end)``:

* ``kind`` is ``"name"``, ``"num"``, ``"str"``, ``"bad"``, ``"eof"``, or, for
  punctuation and operators, the operator itself (``"("``, ``"==="``, ``"?."``, ...);
* ``value`` is the name, the number's source text, the decoded string, the operator,
  or for ``"bad"`` the error message;
* ``start`` and ``end`` are offsets into the expression.

The lexer never raises. Something that cannot start a token becomes one ``"bad"`` token
and lexing stops there; the parser reports it when it gets that far, so errors come out
in left-to-right order. The list always ends with a ``"bad"`` or an ``"eof"`` token.
"""

from __future__ import annotations

import re

__all__ = ["Token", "number_key", "number_value", "tokenize"]

Token = tuple[str, str, int, int]

_MAX_SAFE_INTEGER = 2**53

_START = "A-Za-z$_\u0080-\U0010ffff"
_PART = "0-9" + _START

_TOKEN_RE = re.compile(
    rf"""
    [\x20\t\n\r\f\v]*+
    (?:
        (?P<name>[{_START}][{_PART}]*+)
      | (?P<num>(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)(?:[eE][+-]?[0-9]++)?+)
      | (?P<str>"[^"\\]*+(?:\\[\s\S][^"\\]*+)*+"|'[^'\\]*+(?:\\[\s\S][^'\\]*+)*+')
      | (?P<badop>>>>?|<<|//|/\*|\{{\{{)
      | (?P<op>===|!==|\.\.\.|\*\*|\?\?|\?\.(?![0-9])|=>|==|!=|<=|>=|&&|\|\|
              |[-+*/%<>!~?:.,()\[\]{{}}])
      | (?P<char>[\s\S])
    )
    """,
    re.VERBOSE,
)
_PART_RUN_RE = re.compile(rf"[{_PART}]*+")
_PART_RE = re.compile(rf"[{_PART}]")
_DASH_RUN_RE = re.compile(rf"(?:-[{_PART}]++)++")
_ESCAPE_RE = re.compile(
    r"""\\(?:
        u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})
      | u\{([0-9a-fA-F]+)\}
      | u([0-9a-fA-F]{4})
      | x([0-9a-fA-F]{2})
      | (\r\n|[\s\S])
    )""",
    re.VERBOSE,
)
_SIMPLE_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "0": "\0",
    # A backslash before a line break continues the string on the next line.
    "\n": "",
    "\r": "",
    "\r\n": "",
    "\u2028": "",
    "\u2029": "",
}
_BAD_OPERATORS = {
    ">>": "bitwise operator '>>' is not supported",
    ">>>": "bitwise operator '>>>' is not supported",
    "<<": "bitwise operator '<<' is not supported",
    "//": "comments are not supported in expressions",
    "/*": "comments are not supported in expressions",
    "{{": (
        "templates ('{{ }}') are not allowed inside expressions; "
        "write the expression without the braces"
    ),
}
_BAD_CHARS = {
    "=": "assignment ('=') is not supported; use '==' or '===' to compare",
    "&": "bitwise operator '&' is not supported; use '&&' for a logical and",
    "|": (
        "bitwise operator '|' is not supported; use '||' for a logical or, "
        "and call functions such as upper(x) instead of pipe filters"
    ),
    "^": "bitwise operator '^' is not supported",
    "`": (
        "template literals (backticks) are not supported; "
        "build strings with '+' or concat(...)"
    ),
    ";": "unexpected ';'; an expression cannot contain statements",
}


class _BadEscape(Exception):
    """A malformed ``\\x`` or ``\\u`` escape at ``offset`` (relative to the string body)."""

    def __init__(self, offset: int, length: int) -> None:
        super().__init__(offset, length)
        self.offset = offset
        self.length = length


class _DashedLimit:
    """The length of the longest dashed node id, remembered for the last id set.

    A flow's expressions are all lexed with the same ``node_ids`` object, so an
    identity check makes the lookup O(1). (An ``lru_cache`` would compare a new but
    equal set element by element on every call: quadratic over a document.)
    """

    def __init__(self) -> None:
        self._last: tuple[frozenset[str], int] = (frozenset(), 0)

    def __call__(self, node_ids: frozenset[str]) -> int:
        last_ids, limit = self._last
        if node_ids is not last_ids:
            limit = max((len(i) for i in node_ids if "-" in i), default=0)
            self._last = (node_ids, limit)
        return limit


_dashed_limit = _DashedLimit()


def tokenize(text: str, node_ids: frozenset[str] = frozenset()) -> list[Token]:
    """Split ``text`` into tokens.

    Args:
        text: the expression.
        node_ids: the flow's node ids; a name directly followed by ``-part`` runs is
            read as one identifier when the longest such dashed prefix is a node id.

    Returns:
        The tokens, ending with an ``"eof"`` or a ``"bad"`` token.
    """
    tokens: list[Token] = []
    append = tokens.append
    match = _TOKEN_RE.match
    dash_limit = _dashed_limit(node_ids) if node_ids else 0
    size = len(text)
    pos = 0
    while True:
        m = match(text, pos)
        if m is None:
            append(("eof", "", size, size))
            return tokens
        kind = m.lastgroup or ""
        start = m.start(kind)
        pos = m.end()
        if kind == "name":
            if (
                dash_limit
                and pos < size
                and text[pos] == "-"
                and not (tokens and tokens[-1][0] in (".", "?."))
            ):
                pos = _merge_dashed(text, start, pos, node_ids, dash_limit)
            append(("name", text[start:pos], start, pos))
        elif kind == "op":
            value = text[start:pos]
            append((value, value, start, pos))
        elif kind == "num":
            if pos < size and _PART_RE.match(text, pos):
                run = _PART_RUN_RE.match(text, pos)
                end = run.end() if run else pos
                append(("bad", _bad_number(text[start:end]), start, end))
                return tokens
            append(("num", text[start:pos], start, pos))
        elif kind == "str":
            body = text[start + 1 : pos - 1]
            if "\\" in body:
                try:
                    body = _ESCAPE_RE.sub(_unescape, body)
                except _BadEscape as bad:
                    at = start + 1 + bad.offset
                    escape = text[at : at + bad.length]
                    message = f"invalid escape sequence '{escape}' in a string"
                    append(("bad", message, at, at + bad.length))
                    return tokens
            append(("str", body, start, pos))
        elif kind == "badop":
            op = text[start:pos]
            append(("bad", _BAD_OPERATORS[op], start, pos))
            return tokens
        else:
            append(_bad_char(text, start))
            return tokens


def _merge_dashed(
    text: str, start: int, end: int, node_ids: frozenset[str], limit: int
) -> int:
    """Return the end of the longest dashed node id starting at ``start`` (or ``end``).

    Only ``limit`` characters are looked at, so lexing stays linear.
    """
    run = _DASH_RUN_RE.match(text, end, min(len(text), start + limit))
    if run is None:
        return end
    stop = run.end()
    # The run may have been cut by the window: the last candidate must end at a
    # character that cannot continue a name.
    if stop < len(text) and _PART_RE.match(text, stop):
        stop = text.rfind("-", end, stop)
    while stop > end:
        if text[start:stop] in node_ids:
            return stop
        stop = text.rfind("-", end, stop)
    return end


def _unescape(m: re.Match[str]) -> str:
    """Decode one backslash escape (a ``re.sub`` callback)."""
    high, low, braced, four, two, other = m.groups()
    if high is not None:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + int(low, 16) - 0xDC00)
    if braced is not None:
        code = int(braced, 16)
        if code > 0x10FFFF:
            raise _BadEscape(m.start(), m.end() - m.start())
        return chr(code)
    if four is not None:
        return chr(int(four, 16))
    if two is not None:
        return chr(int(two, 16))
    if other in ("x", "u"):
        raise _BadEscape(m.start(), 2)
    return _SIMPLE_ESCAPES.get(other, other)


def _bad_number(source: str) -> str:
    """Describe a number directly followed by name characters."""
    if source[:2].lower() in ("0x", "0o", "0b"):
        return f"invalid number '{source}'; only decimal numbers are supported"
    if "_" in source:
        return f"invalid number '{source}'; '_' separators are not supported"
    return f"invalid number '{source}'; a number cannot be followed by a letter"


def _bad_char(text: str, start: int) -> Token:
    """Build the ``"bad"`` token for a character that cannot start a token."""
    char = text[start]
    if char in "\"'":
        message = f"unterminated string; expected a closing {char}"
        return ("bad", message, start, len(text))
    message = _BAD_CHARS.get(char, "")
    if not message:
        shown = f"'{char}'" if char.isprintable() else f"U+{ord(char):04X}"
        message = f"unexpected character {shown}"
    return ("bad", message, start, start + 1)


def number_value(source: str) -> int | float:
    """Return the value of a number token: ``int`` when integral and exact, else float."""
    if source.isdigit() and len(source) <= 16:
        value = int(source)
        if value <= _MAX_SAFE_INTEGER:
            return value
    return float(source)


def number_key(value: float) -> str:
    """Spell a number as JavaScript's ``String(n)`` does (for object literal keys)."""
    if isinstance(value, int):
        return str(value)
    if value == float("inf"):
        return "Infinity"
    if value.is_integer() and value < 1e21:
        return str(int(value))
    mantissa, _, exponent = repr(value).partition("e")
    if not exponent:
        return mantissa
    power = int(exponent)
    if -6 <= power < 0:
        return "0." + "0" * (-power - 1) + mantissa.replace(".", "")
    return f"{mantissa}e{power:+d}"
