"""String built-ins: ``upper lower trim replace split join truncate concat includes
starts_with ends_with substring pad_start pad_end repeat char_at len``.

They follow the original engine's JavaScript, where "str(x)" means ``String(x ?? '')``:
null and undefined become ``""``. JavaScript strings are sequences of UTF-16 code units,
so lengths and indices count code units (``len("😀")`` is 2). Python strings are
code points; :func:`to_units` and :func:`from_units` convert between the two, so a
result holds a character outside the BMP as one code point again, and only a pair
that an index cut in half stays a lone surrogate (as in JavaScript).

Sizes are checked before a string is built (``repeat``, ``pad_start``, ``pad_end``,
``join``, ``concat``, ``replace``); ``split`` checks its item count.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from maidit_jupyter.errors import ExpressionTypeError
from maidit_jupyter.expressions.builtins.base import CallContext, FunctionTable, arg
from maidit_jupyter.expressions.builtins.numeric import to_float, to_integer
from maidit_jupyter.expressions.values import (
    UNDEFINED,
    Value,
    is_array,
    js_typeof,
    less_than,
    number_to_string,
    to_string,
)

__all__ = [
    "TABLE",
    "from_units",
    "slice_bounds",
    "text_of",
    "to_units",
    "utf16_length",
]

TABLE = FunctionTable()

_WIDE = re.compile("[\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
#: JavaScript's WhiteSpace and LineTerminator characters (what ``trim`` removes).
_JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_MAX_LENGTH = 2**53 - 1


def _pair(match: re.Match[str]) -> str:
    code = ord(match.group()) - 0x10000
    return chr(0xD800 + (code >> 10)) + chr(0xDC00 + (code & 0x3FF))


def to_units(text: str) -> str:
    """``text`` with every character outside the BMP split into its surrogate pair.

    Indexing the result indexes UTF-16 code units, as JavaScript does.
    """
    return _WIDE.sub(_pair, text) if _WIDE.search(text) else text


def from_units(units: str) -> str:
    """Join surrogate pairs back into single characters; lone surrogates stay."""
    if not _SURROGATE.search(units):
        return units
    return units.encode("utf-16-le", "surrogatepass").decode(
        "utf-16-le", "surrogatepass"
    )


def utf16_length(text: str) -> int:
    """The JavaScript ``.length`` of ``text``: its UTF-16 code units."""
    return len(text) + len(_WIDE.findall(text))


def text_of(value: Value) -> str:
    """JavaScript ``String(value ?? '')``: null and undefined become ``""``."""
    return "" if value is None or value is UNDEFINED else to_string(value)


def _clamp(position: float, length: int) -> int:
    if position < 0:
        return int(max(length + position, 0))
    return int(min(position, length))


def slice_bounds(start: Value, end: Value, length: int) -> tuple[int, int]:
    """The ``[start, end)`` that JavaScript's ``slice(start, end)`` takes.

    Negative positions count from the end; an undefined ``end`` is the length.

    Args:
        start: the start argument (any value; coerced as JavaScript does).
        end: the end argument (UNDEFINED for "to the end").
        length: the length of the string (in code units) or array.

    Returns:
        The start and end indices, with ``0 <= start`` and ``end <= length``.
    """
    first = _clamp(to_integer(start), length)
    last = length if end is UNDEFINED else _clamp(to_integer(end), length)
    return first, last


@TABLE.register("upper")
def _upper(ctx: CallContext, args: Sequence[Value]) -> Value:
    """str(s) in upper case."""
    return text_of(arg(args, 0)).upper()


@TABLE.register("lower")
def _lower(ctx: CallContext, args: Sequence[Value]) -> Value:
    """str(s) in lower case."""
    return text_of(arg(args, 0)).lower()


@TABLE.register("trim")
def _trim(ctx: CallContext, args: Sequence[Value]) -> Value:
    """str(s) without leading and trailing JavaScript white space."""
    return text_of(arg(args, 0)).strip(_JS_SPACE)


def _template(replacement: str) -> list[tuple[bool, str]]:
    """Parse a replacement string: ``(True, "&"|"`"|"'")`` for ``$&`` ``$``` ``$'``,
    ``(False, text)`` for literal text (``$$`` is a ``$``; other ``$`` stay as is)."""
    parts: list[tuple[bool, str]] = []
    literal: list[str] = []
    index = 0
    while index < len(replacement):
        char = replacement[index]
        following = replacement[index + 1 : index + 2]
        if char == "$" and following == "$":
            literal.append("$")
            index += 2
        elif char == "$" and following and following in "&`'":
            if literal:
                parts.append((False, "".join(literal)))
                literal = []
            parts.append((True, following))
            index += 2
        else:
            literal.append(char)
            index += 1
    if literal:
        parts.append((False, "".join(literal)))
    return parts


def _positions(text: str, search: str) -> list[int]:
    """Where ``replaceAll`` replaces: non-overlapping, every position for ``""``."""
    if not search:
        return list(range(len(text) + 1))
    found: list[int] = []
    position = text.find(search)
    while position != -1:
        found.append(position)
        position = text.find(search, position + len(search))
    return found


def _special(kind: str, text: str, position: int, after: int) -> str:
    """What ``$&``, ``$``` or ``$'`` inserts for the match ``text[position:after]``."""
    if kind == "&":
        return text[position:after]
    return text[:position] if kind == "`" else text[after:]


@TABLE.register("replace")
def _replace(ctx: CallContext, args: Sequence[Value]) -> Value:
    """str(s) with every literal occurrence of ``old`` replaced by ``new``.

    As JavaScript's ``replaceAll``: ``$&``, ``$``` and ``$'`` in ``new`` insert the
    match and the text before or after it, ``$$`` a dollar; an arrow as ``new`` is
    called with ``(match, position, s)``.
    """
    text = to_units(text_of(arg(args, 0)))
    search = to_units(text_of(arg(args, 1)))
    replacement = arg(args, 2)
    if not ctx.is_function(replacement):
        literal = to_units(text_of(replacement))
        if "$" not in literal:  # the exact size, known before any position is collected
            count = text.count(search) if search else len(text) + 1
            ctx.check_string(
                len(text) + count * (len(literal) - len(search)), "replace"
            )
    positions = _positions(text, search)
    ctx.step(len(positions))
    total = len(text) - len(search) * len(positions)
    pieces: list[str] = []
    if ctx.is_function(replacement):
        whole = from_units(text)
        for position in positions:
            result = ctx.call(replacement, [from_units(search), position, whole])
            pieces.append(to_units(to_string(result)))
            total += len(pieces[-1])
            ctx.check_string(total, "replace")
    else:
        parts = _template(to_units(text_of(replacement)))
        if all(not special for special, _ in parts):
            piece = "".join(value for _, value in parts)
            total += len(piece) * len(positions)
            ctx.check_string(total, "replace")
            pieces = [piece] * len(positions)
        else:
            for position in positions:
                after = position + len(search)
                sizes = {"&": len(search), "`": position, "'": len(text) - after}
                total += sum(sizes[v] if sp else len(v) for sp, v in parts)
                ctx.check_string(total, "replace")
                pieces.append(
                    "".join(
                        _special(v, text, position, after) if sp else v
                        for sp, v in parts
                    )
                )
    out: list[str] = []
    last = 0
    for position, piece in zip(positions, pieces, strict=True):
        out.append(text[last:position])
        out.append(piece)
        last = position + len(search)
    out.append(text[last:])
    return from_units("".join(out))


@TABLE.register("split")
def _split(ctx: CallContext, args: Sequence[Value]) -> Value:
    """str(s) split at ``delim``; an empty or missing ``delim`` gives the code units."""
    text = to_units(text_of(arg(args, 0)))
    delim = to_units(text_of(arg(args, 1)))
    if not delim:
        ctx.check_items(len(text), "split")
        ctx.step(len(text))
        return list(text)
    ctx.check_items(text.count(delim) + 1, "split")
    parts = text.split(delim)
    ctx.step(len(parts))
    return [from_units(part) for part in parts]


@TABLE.register("join")
def _join(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The items as strings (null/undefined as ``""``) joined by ``delim``."""
    items = arg(args, 0)
    if items is None or items is UNDEFINED:
        return ""
    if not is_array(items):
        raise ExpressionTypeError(f"join() expects an array, got {js_typeof(items)}")
    ctx.step(len(items))
    delim = text_of(arg(args, 1))
    return from_units(delim.join(_strings(ctx, items, len(delim), "join")))


def _strings(
    ctx: CallContext, values: Sequence[Value], gap: int, name: str
) -> list[str]:
    """str() of each value, checking the joined length (with ``gap`` between) as it
    grows, so a long list of long strings fails before it is all built."""
    parts: list[str] = []
    size = -gap
    for value in values:
        parts.append(text_of(value))
        size += len(parts[-1]) + gap
        ctx.check_string(size, name)
    return parts


def _length_of(value: Value) -> float:
    """``value.length`` as a number, for a string or an array; NaN otherwise."""
    if isinstance(value, str):
        return utf16_length(value)
    return len(value) if is_array(value) else float("nan")


@TABLE.register("truncate")
def _truncate(ctx: CallContext, args: Sequence[Value]) -> Value:
    """str(s) cut to ``len`` code units ending in ``suffix`` (default ``"..."``)."""
    text = text_of(arg(args, 0))
    limit, suffix = arg(args, 1), arg(args, 2)
    if suffix is UNDEFINED:
        suffix = "..."
    units = to_units(text)
    if less_than(limit, len(units)) is False:  # JavaScript: s.length <= len
        return text
    if suffix is None:
        raise ExpressionTypeError("truncate(): the suffix cannot be null")
    end = to_float(limit) - _length_of(suffix)
    first, last = slice_bounds(0, end, len(units))
    return from_units(units[first:last]) + to_string(suffix)


@TABLE.register("concat")
def _concat(ctx: CallContext, args: Sequence[Value]) -> Value:
    """str() of every argument, joined."""
    return from_units("".join(_strings(ctx, args, 0, "concat")))


@TABLE.register("includes")
def _includes(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether str(s) contains str(sub)."""
    return to_units(text_of(arg(args, 1))) in to_units(text_of(arg(args, 0)))


@TABLE.register("starts_with")
def _starts_with(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether str(s) starts with str(prefix)."""
    text = to_units(text_of(arg(args, 0)))
    return text.startswith(to_units(text_of(arg(args, 1))))


@TABLE.register("ends_with")
def _ends_with(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether str(s) ends with str(suffix)."""
    return to_units(text_of(arg(args, 0))).endswith(to_units(text_of(arg(args, 1))))


@TABLE.register("substring")
def _substring(ctx: CallContext, args: Sequence[Value]) -> Value:
    """JavaScript ``substring``: negatives and NaN are 0, reversed bounds swap."""
    units = to_units(text_of(arg(args, 0)))
    start, end = arg(args, 1), arg(args, 2)
    first = min(max(to_integer(start), 0), len(units))
    last = len(units) if end is UNDEFINED else min(max(to_integer(end), 0), len(units))
    first, last = int(first), int(last)
    return from_units(units[min(first, last) : max(first, last)])


def _pad(args: Sequence[Value], ctx: CallContext, *, at_start: bool) -> str:
    """``padStart``/``padEnd`` of str(s) to ``len`` code units with ``fill``."""
    text = text_of(arg(args, 0))
    units = to_units(text)
    target = min(max(to_integer(arg(args, 1)), 0), _MAX_LENGTH)
    fill = arg(args, 2)
    filler = to_units(" " if fill is UNDEFINED else to_string(fill))
    if target <= len(units) or not filler:
        return text
    ctx.check_string(int(target), "pad_start" if at_start else "pad_end")
    repeats, rest = divmod(int(target) - len(units), len(filler))
    padding = filler * repeats + filler[:rest]
    return from_units(padding + units if at_start else units + padding)


@TABLE.register("pad_start")
def _pad_start(ctx: CallContext, args: Sequence[Value]) -> Value:
    """str(s) padded on the left with ``fill`` (default a space) to ``len`` units."""
    return _pad(args, ctx, at_start=True)


@TABLE.register("pad_end")
def _pad_end(ctx: CallContext, args: Sequence[Value]) -> Value:
    """str(s) padded on the right with ``fill`` (default a space) to ``len`` units."""
    return _pad(args, ctx, at_start=False)


@TABLE.register("repeat")
def _repeat(ctx: CallContext, args: Sequence[Value]) -> Value:
    """str(s) repeated ``n`` times; a negative or infinite ``n`` is an error."""
    text = text_of(arg(args, 0))
    count = to_integer(arg(args, 1))
    if count < 0 or count == math.inf:
        raise ExpressionTypeError(
            f"repeat(): invalid count {number_to_string(count)} "
            "(it must be a finite number, 0 or more)"
        )
    if not text:
        return ""
    ctx.check_string(len(text) * int(count), "repeat")
    return text * int(count)


@TABLE.register("char_at")
def _char_at(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The code unit of str(s) at index ``i`` (default 0), or ``""`` out of range."""
    units = to_units(text_of(arg(args, 0)))
    index = to_integer(arg(args, 1))
    return units[int(index)] if 0 <= index < len(units) else ""


@TABLE.register("len")
def _len(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The length of str(s) in UTF-16 code units."""
    return utf16_length(text_of(arg(args, 0)))
