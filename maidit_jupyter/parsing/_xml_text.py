"""Text for the XML reader: references, located strings and problem messages."""

from __future__ import annotations

import re

from maidit_jupyter.parsing.xml import XmlProblem
from maidit_jupyter.source import LocatedStr

__all__ = [
    "AMP_HINT",
    "Pieces",
    "decode",
    "decode_into",
    "located",
    "problem",
    "short",
]

#: text pieces, each with the document offset of its first character.
Pieces = list[tuple[str, int]]

#: a well-formed reference; an '&' that starts none is a literal character.
_REFERENCE = re.compile(r"&(?:#[0-9]+|#x[0-9A-Fa-f]+|[A-Za-z_][\w.\-:]*);")
_PREDEFINED = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&apos;": "'"}
AMP_HINT = (
    "write '&amp;' for a literal '&'; only &lt; &gt; &amp; &quot; &apos; "
    "and character references are recognised"
)


def short(text: str) -> str:
    """Return ``text`` cut to a length fit for a message."""
    return text if len(text) <= 40 else text[:39] + "…"


def problem(message: str, start: int, end: int, *hints: str) -> XmlProblem:
    """Return a problem (a shorthand)."""
    return XmlProblem(message=message, start=start, end=end, hints=hints)


def _is_xml_char(code: int) -> bool:
    """Tell whether code point ``code`` may appear in an XML document."""
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _reference(ref: str, start: int, problems: list[XmlProblem]) -> str:
    """Return what the well-formed reference ``ref`` found at ``start`` stands for.

    Unknown entities and invalid character references are reported and kept raw.
    """
    replacement = _PREDEFINED.get(ref)
    if replacement is not None:
        return replacement
    end = start + len(ref)
    if ref[1] != "#":
        problems.append(problem(f"unknown entity '{short(ref)}'", start, end, AMP_HINT))
        return ref
    hexadecimal = ref[2] == "x"
    digits = (ref[3:-1] if hexadecimal else ref[2:-1]).lstrip("0") or "0"
    code = int(digits, 16 if hexadecimal else 10) if len(digits) <= 8 else -1
    if _is_xml_char(code):
        return chr(code)
    problems.append(
        problem(
            f"invalid character reference '{short(ref)}'",
            start,
            end,
            "it does not name a character allowed in XML",
        )
    )
    return ref


def decode_into(
    text: str,
    pieces: Pieces | None,
    start: int,
    end: int,
    problems: list[XmlProblem],
) -> None:
    """Add ``text[start:end]`` to ``pieces`` with references decoded and checked.

    With ``pieces`` None the references are only checked.
    """
    last = start
    for ref in _REFERENCE.finditer(text, start, end):
        at = ref.start()
        replacement = _reference(ref.group(), at, problems)
        if pieces is not None:
            if at > last:
                pieces.append((text[last:at], last))
            pieces.append((replacement, at))
        last = ref.end()
    if pieces is not None and end > last:
        pieces.append((text[last:end], last))


def decode(text: str, start: int, end: int, problems: list[XmlProblem]) -> LocatedStr:
    """Return the attribute value ``text[start:end]`` with references decoded."""
    if text.find("&", start, end) == -1:
        return LocatedStr(text[start:end], start)
    pieces: Pieces = []
    decode_into(text, pieces, start, end, problems)
    return located(pieces, start, end)


def located(pieces: Pieces, offset: int, end: int | None = None) -> LocatedStr:
    """Join text ``pieces`` into one located string.

    ``offset`` locates the empty string when there are no pieces. ``end``, when
    given, is where the raw text ends: the end of a value whose last character came
    from a reference (``&gt;``) then maps past the whole reference.
    """
    if len(pieces) == 1 and (end is None or pieces[0][1] + len(pieces[0][0]) == end):
        return LocatedStr(*pieces[0])
    if not pieces:
        return LocatedStr("", offset)
    marks: list[tuple[int, int]] = []
    parts: list[str] = []
    length, following = 0, pieces[0][1]
    for piece, at in pieces:
        if at != following:
            marks.append((length, at))
        parts.append(piece)
        length += len(piece)
        following = at + len(piece)
    if end is not None and following != end:
        marks.append((length, end))
    return LocatedStr("".join(parts), pieces[0][1], tuple(marks))
