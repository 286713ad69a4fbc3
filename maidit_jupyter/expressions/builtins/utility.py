"""Utility built-ins: JSON, base64, URL encoding, UUIDs, regular expressions, hashes.

They behave like the JavaScript functions the original engine called (``JSON.stringify``,
``btoa``/``atob``, ``encodeURIComponent``, ``RegExp``). A pattern is JavaScript regular
expression source, translated to Python's :mod:`re` by :func:`translate_regex`: named
groups, ASCII ``\\d``/``\\w``/``\\b``, JavaScript's ``\\s`` and ``.``, and ``$`` as the end
of the input. Text longer than ``limits.max_regex_input`` is refused before matching.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import sys
import urllib.parse
import uuid as uuid_module
from collections.abc import Sequence

import regex

from maidit_jupyter.errors import ExpressionLimitError, ExpressionTypeError
from maidit_jupyter.expressions.builtins.base import CallContext, FunctionTable, arg
from maidit_jupyter.expressions.values import (
    UNDEFINED,
    Value,
    is_array,
    is_object,
    number_to_string,
    to_string,
    truthy,
)

__all__ = ["TABLE", "json_text", "translate_regex"]

TABLE = FunctionTable()

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_URI_UNRESERVED = (
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()"
)
# What ``\s`` matches in JavaScript (Python's ASCII ``\s`` misses Unicode spaces).
_JS_SPACE = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_ALGORITHMS = {
    "md5": "md5",
    "sha1": "sha1",
    "sha224": "sha224",
    "sha256": "sha256",
    "sha384": "sha384",
    "sha512": "sha512",
    "sha512-224": "sha512_224",
    "sha512-256": "sha512_256",
    "sha3-224": "sha3_224",
    "sha3-256": "sha3_256",
    "sha3-384": "sha3_384",
    "sha3-512": "sha3_512",
    "blake2b256": "blake2b256",
    "blake2b512": "blake2b",
}


# -- JSON ------------------------------------------------------------------------------


def _quote(text: str) -> str:
    """A JSON string literal; lone surrogates escaped, as ``JSON.stringify`` does."""
    quoted = json.dumps(text, ensure_ascii=False)
    return _LONE_SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", quoted)


def _number(value: float) -> str:
    try:
        return number_to_string(value) if math.isfinite(value) else "null"
    except OverflowError:  # an int beyond any JavaScript number
        return "null"


def _stringify(
    ctx: CallContext, value: Value, gap: str, indent: str, depth: int
) -> str | None:
    """``JSON.stringify`` of ``value``; None where JavaScript leaves the value out."""
    if value is UNDEFINED or ctx.is_function(value):
        return None
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        ctx.check_string(
            len(value) + 2, "JSON"
        )  # escaping never shortens: refuse early
        return _quote(value)
    if not (is_array(value) or is_object(value)):
        return "null"  # nothing else reaches an expression
    if depth >= ctx.limits.max_depth:
        raise ExpressionLimitError("JSON: the value is nested too deeply")
    ctx.step(len(value))
    inner = indent + gap
    parts: list[str] = []
    if is_array(value):
        for item in value:
            parts.append(_stringify(ctx, item, gap, inner, depth + 1) or "null")
    else:
        for key, item in value.items():
            text = _stringify(ctx, item, gap, inner, depth + 1)
            if text is not None:
                parts.append(_quote(to_string(key)) + (": " if gap else ":") + text)
    start, end = ("[", "]") if is_array(value) else ("{", "}")
    if not parts or not gap:
        return start + ",".join(parts) + end
    return f"{start}\n{inner}" + f",\n{inner}".join(parts) + f"\n{indent}{end}"


def json_text(ctx: CallContext, value: Value, gap: str = "") -> str | None:
    """JavaScript ``JSON.stringify(value, null, gap)``; None where it gives undefined.

    Numbers print as JavaScript prints them (``1e-7``, ``1e+21``), undefined and
    functions are left out of objects and are ``null`` in arrays.
    """
    text = _stringify(ctx, value, gap, "", 0)
    if text is not None:
        ctx.check_string(len(text), "JSON")
    return text


def _parse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _parse_number(text: str) -> int | float:
    number = float(text)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


@TABLE.register("json_encode")
def json_encode(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Compact JSON (undefined for undefined or a function, as in JavaScript)."""
    text = json_text(ctx, arg(args, 0))
    return UNDEFINED if text is None else text


@TABLE.register("json_decode")
def json_decode(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The value a JSON text holds, or null when it is not JSON."""
    text = to_string(arg(args, 0))
    try:
        return json.loads(
            text,
            parse_float=_parse_number,
            parse_int=_parse_number,
            parse_constant=_parse_constant,
        )
    except ValueError:
        return None
    except RecursionError:
        raise ExpressionLimitError(
            "json_decode: the text is nested too deeply"
        ) from None


@TABLE.register("pretty")
def pretty(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Indented JSON; ``indent`` is a number of spaces (≤ 10) or a string (default 2)."""
    indent = arg(args, 1)
    gap = ""
    if indent is UNDEFINED:
        gap = "  "
    elif isinstance(indent, str):
        gap = indent[:10]
    elif isinstance(indent, int | float) and not isinstance(indent, bool):
        gap = " " * int(min(10, indent)) if indent >= 1 else ""
    text = json_text(ctx, arg(args, 0), gap)
    return UNDEFINED if text is None else text


# -- encodings -------------------------------------------------------------------------


def _text(value: Value) -> str:
    """``String(value ?? '')``."""
    return "" if value is None or value is UNDEFINED else to_string(value)


@TABLE.register("base64_encode")
def base64_encode(ctx: CallContext, args: Sequence[Value]) -> Value:
    """JavaScript ``btoa``: base64 of a Latin-1 string; other characters are an error."""
    text = _text(arg(args, 0))
    ctx.check_string((len(text) + 2) // 3 * 4, "base64_encode")
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        raise ExpressionTypeError(
            "base64_encode: the string contains characters outside of the Latin1 range"
        ) from None
    return base64.b64encode(data).decode("ascii")


@TABLE.register("base64_decode")
def base64_decode(ctx: CallContext, args: Sequence[Value]) -> Value:
    """JavaScript ``atob``: the Latin-1 string base64 stands for, or null if invalid."""
    data = re.sub(r"[\t\n\f\r ]", "", _text(arg(args, 0)))
    if len(data) % 4 == 0 and data.endswith("="):
        data = data[:-2] if data.endswith("==") else data[:-1]
    if len(data) % 4 == 1 or not re.fullmatch(r"[A-Za-z0-9+/]*", data):
        return None
    try:
        decoded = base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
    except binascii.Error:
        return None
    return decoded.decode("latin-1")


@TABLE.register("url_encode")
def url_encode(ctx: CallContext, args: Sequence[Value]) -> Value:
    """``encodeURIComponent``: UTF-8 percent-encoding except ``A-Za-z0-9-_.!~*'()``."""
    try:
        data = _text(arg(args, 0)).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        raise ExpressionTypeError("url_encode: URI malformed") from None
    escaped = len(data.translate(None, _URI_UNRESERVED))  # each becomes %XX
    ctx.check_string(len(data) + 2 * escaped, "url_encode")
    return urllib.parse.quote(data, safe="!~*'()")


@TABLE.register("url_decode")
def url_decode(ctx: CallContext, args: Sequence[Value]) -> Value:
    """``decodeURIComponent``; the argument itself when it is malformed."""
    value = arg(args, 0)
    text = _text(value)
    if re.search(r"%(?![0-9A-Fa-f]{2})", text):
        return value
    try:
        return urllib.parse.unquote(text, errors="strict")
    except UnicodeDecodeError:
        return value


@TABLE.register("uuid")
def uuid(ctx: CallContext, args: Sequence[Value]) -> Value:
    """A random (version 4) UUID, from the evaluation's generator."""
    return str(uuid_module.UUID(int=ctx.rng.getrandbits(128), version=4))


# -- regular expressions ---------------------------------------------------------------


def _escape(source: str, i: int, in_class: bool) -> tuple[str, int]:
    """The Python form of the escape whose letter is ``source[i]``, and what follows."""
    letter, rest = source[i], source[i + 1 :]
    if letter == "k" and not in_class:
        name = re.match(r"<([A-Za-z_$][\w$]*)>", rest)
        if name is None:
            raise ExpressionTypeError(f"Invalid regular expression: /{source}/")
        return f"(?P={name.group(1)})", i + 1 + name.end()
    if letter == "s":
        return (_JS_SPACE if in_class else f"[{_JS_SPACE}]"), i + 1
    if letter == "S" and not in_class:
        return f"[^{_JS_SPACE}]", i + 1
    if letter == "c" and rest[:1].isascii() and rest[:1].isalpha():
        return re.escape(chr(ord(rest[0]) % 32)), i + 2
    hex_digits = {"x": 2, "u": 4}.get(letter, 0)
    if hex_digits and re.match(f"[0-9A-Fa-f]{{{hex_digits}}}", rest):
        return "\\" + letter + rest[:hex_digits], i + 1 + hex_digits
    if letter in "dDwWbBfnrtv0123456789":
        return "\\" + letter, i + 1
    return re.escape(letter), i + 1  # an identity escape: the character itself


def translate_regex(source: str) -> str:
    """Python :mod:`re` syntax for JavaScript regex ``source`` (no flags).

    Raises:
        ExpressionTypeError: syntax JavaScript would reject, such as ``(?i)``.
    """
    out: list[str] = []
    in_class, i = False, 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source):
            escape, i = _escape(source, i + 1, in_class)
            out.append(escape)
            continue
        i += 1
        if in_class:
            if char == "]":
                in_class = False
            elif char in "[&~|" or (char == "-" and out[-1] == "-"):
                char = "\\" + char
        elif char == "[":
            in_class = True
            if source.startswith("^]", i) or source.startswith("]", i):
                empty = source.startswith("]", i)
                out.append("(?!)" if empty else r"[\s\S]")
                i += 1 if empty else 2
                in_class = False
                continue
        elif char == "$":
            char = r"\Z"
        elif char == ".":
            char = "[^\\n\\r\\u2028\\u2029]"
        elif char == "(" and source.startswith("?", i):
            group = re.match(r"\?(?::|=|!|<=|<!|<([A-Za-z_$][\w$]*)>)", source[i:])
            if group is None:
                raise ExpressionTypeError(f"Invalid regular expression: /{source}/")
            char = f"(?P<{group.group(1)}>" if group.group(1) else "(" + group.group(0)
            i += group.end()
        out.append(char)
    return "".join(out)


def _regex(ctx: CallContext, args: Sequence[Value]) -> tuple[regex.Pattern[str], str]:
    text = _text(arg(args, 0))
    if len(text) > ctx.limits.max_regex_input:
        raise ExpressionLimitError(
            f"a regular expression may run on at most {ctx.limits.max_regex_input} "
            f"characters; this text has {len(text)}"
        )
    pattern = arg(args, 1)
    source = "(?:)" if pattern is UNDEFINED else to_string(pattern)
    try:
        return regex.compile(
            translate_regex(source), regex.ASCII | regex.VERSION0
        ), text
    except (regex.error, OverflowError, RecursionError):
        raise ExpressionTypeError(f"Invalid regular expression: /{source}/") from None


def _timed_out(ctx: CallContext) -> ExpressionLimitError:
    seconds = ctx.limits.max_regex_seconds
    return ExpressionLimitError(
        f"the regular expression ran longer than {seconds:g} s (too much backtracking)"
    )


@TABLE.register("match")
def match(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The text of the first match, or null (as the original engine returns it)."""
    pattern, text = _regex(ctx, args)
    try:
        found = pattern.search(text, timeout=ctx.limits.max_regex_seconds)
    except TimeoutError:
        raise _timed_out(ctx) from None
    if found is None:
        return None
    return found.group(0)


@TABLE.register("test")
def test(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Whether the pattern matches anywhere in the string."""
    pattern, text = _regex(ctx, args)
    try:
        return pattern.search(text, timeout=ctx.limits.max_regex_seconds) is not None
    except TimeoutError:
        raise _timed_out(ctx) from None


@TABLE.register("match_all")
def match_all(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Every (non-overlapping) match of the pattern, as whole strings."""
    pattern, text = _regex(ctx, args)
    found: list[Value] = []
    try:
        for item in pattern.finditer(text, timeout=ctx.limits.max_regex_seconds):
            found.append(item.group(0))
            ctx.check_items(len(found), "match_all")
    except TimeoutError:
        raise _timed_out(ctx) from None
    ctx.step(len(found))
    return found


# -- hashes and output -----------------------------------------------------------------


_NATIVE_UTF16 = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"


@TABLE.register("hash")
def hash_(ctx: CallContext, args: Sequence[Value]) -> Value:
    """djb2 (unsigned 32-bit) without an algorithm, else the hex digest (0 if unknown)."""
    text, algorithm = _text(arg(args, 0)), arg(args, 1)
    units = text.encode(_NATIVE_UTF16, "surrogatepass")  # JavaScript's code units
    if truthy(algorithm):
        name = _ALGORITHMS.get(to_string(algorithm).lower())
        if name is None:
            return 0
        data = units.decode(_NATIVE_UTF16, "replace").encode("utf-8")
        if name == "blake2b256":
            return hashlib.blake2b(data, digest_size=32).hexdigest()
        try:
            return hashlib.new(name, data).hexdigest()
        except ValueError:  # not in this build of OpenSSL
            return 0
    ctx.step(len(units) // 2)
    value = 5381  # h = int32(h * 33) ^ unit, kept as its unsigned 32-bit pattern
    for unit in memoryview(units).cast("H"):
        value = (value * 33 & 0xFFFFFFFF) ^ unit
    return value
