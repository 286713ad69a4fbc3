"""Start tags for the XML reader: fast when well-formed, precisely reported when not."""

from __future__ import annotations

import re

from maidit_jupyter.parsing._xml_text import decode, problem, short
from maidit_jupyter.parsing.xml import XmlAttribute, XmlProblem
from maidit_jupyter.source import LocatedStr

__all__ = ["NAME", "Tag", "attributes", "missing_quote", "tag_contents"]

#: an element or attribute name.
NAME = r"[A-Za-z_][\w.\-:]*"
#: the white space, name, '=' and double or single quoted value of an attribute.
_ATTRIBUTE = re.compile(rf"""(\s+)({NAME})(\s*=\s*)(?:"([^"]*)"|'([^']*)')""")
_TAG_CLOSE = re.compile(r"\s*(/?)>")
_ATTR_NAME = re.compile(rf"(\s*)({NAME})(\s*=\s*)?")
_UNQUOTED = re.compile(r"""(?:[^\s"'<>`/]|/(?!>))+""")
_JUNK = re.compile(r"(?:[^\s<>/A-Za-z_]|/(?!>))+")
_NOT_SPACE = re.compile(r"\S")
#: a line break followed by markup: inside a quoted value it means a missing quote.
_LINE_MARKUP = re.compile(r"\n[ \t]*<[A-Za-z_/!?]")

#: what reading a start tag gives: its attributes, the offset after it, whether it is
#: self-closing, and where it breaks off without a '>' (-1 if it has one).
Tag = tuple[tuple[XmlAttribute, ...], int, bool, int]


def missing_quote(text: str, start: int, end: int) -> bool:
    """Tell whether quoted text ``text[start:end]`` runs into markup on a new line."""
    return (
        text.find("\n", start, end) != -1
        and _LINE_MARKUP.search(text, start, end) is not None
    )


def attributes(
    text: str, start: int, end: int, problems: list[XmlProblem]
) -> tuple[XmlAttribute, ...]:
    """Read the well-formed attributes that fill ``text[start:end]``."""
    if start == end:
        return ()
    found, pos = [], start
    for space, name, equals, double, single in _ATTRIBUTE.findall(text, start, end):
        name_at = pos + len(space)
        value_at = name_at + len(name) + len(equals) + 1
        raw = double or single
        pos = value_at + len(raw) + 1
        found.append(
            XmlAttribute(
                name=name,
                value=LocatedStr(raw, value_at)
                if "&" not in raw
                else decode(text, value_at, pos - 1, problems),
                start=name_at,
                end=pos,
            )
        )
    if len(found) > 1 and len({attribute.name for attribute in found}) < len(found):
        unique: list[XmlAttribute] = []
        for attribute in found:
            _add(unique, problems, attribute)
        return tuple(unique)
    return tuple(found)


def tag_contents(text: str, tag: str, pos: int, problems: list[XmlProblem]) -> Tag:
    """Read the rest of start tag ``tag`` from ``pos``, reporting every mistake."""
    found: list[XmlAttribute] = []
    last = pos  # end of the last token, where a broken tag ends
    after_value = False
    while True:
        close = _TAG_CLOSE.match(text, pos)
        if close is not None:
            return tuple(found), close.end(), close.group(1) == "/", -1
        attr = _ATTR_NAME.match(text, pos)
        if attr is None:
            nonspace = _NOT_SPACE.search(text, pos)
            if nonspace is None:
                return tuple(found), last, False, len(text)
            pos = nonspace.start()
            if text[pos] == "<":
                return tuple(found), last, False, pos
            junk = _JUNK.match(text, pos)
            junk_end = pos + 1 if junk is None else junk.end()
            problems.append(
                problem(
                    f"unexpected '{short(text[pos:junk_end])}' in start tag"
                    f" <{short(tag)}>",
                    pos,
                    junk_end,
                    'attributes are written name="value"',
                )
            )
            pos = last = junk_end
            after_value = False
            continue
        name, name_at, name_end = attr.group(2), attr.start(2), attr.end(2)
        if after_value and not attr.group(1):
            problems.append(
                problem(
                    f"missing white space before attribute '{short(name)}'",
                    name_at,
                    name_end,
                    "separate attributes with a space",
                )
            )
        after_value = False
        pos = attr.end()
        if attr.group(3) is None:
            problems.append(_no_value(name, name_at, name_end))
            pos = last = name_end
            continue
        quote = text[pos : pos + 1]
        if quote in ('"', "'"):
            closing = text.find(quote, pos + 1)
            if closing == -1 or missing_quote(text, pos + 1, closing):
                return _unterminated(text, found, problems, name, name_at, pos)
            value = decode(text, pos + 1, closing, problems)
            pos = last = closing + 1
            _add(
                found,
                problems,
                XmlAttribute(name=name, value=value, start=name_at, end=pos),
            )
            after_value = True
            continue
        unquoted = _UNQUOTED.match(text, pos)
        if unquoted is None:
            problems.append(_no_value(name, name_at, name_end))
            last = name_end
            continue
        value = decode(text, pos, unquoted.end(), problems)
        pos = last = unquoted.end()
        problems.append(
            problem(
                f"unquoted value of attribute '{short(name)}'",
                name_at,
                pos,
                f'quote it: {short(name)}="{short(value)}"',
            )
        )
        _add(
            found,
            problems,
            XmlAttribute(name=name, value=value, start=name_at, end=pos),
        )
        after_value = True


def _unterminated(
    text: str,
    found: list[XmlAttribute],
    problems: list[XmlProblem],
    name: str,
    name_at: int,
    quote_at: int,
) -> Tag:
    """Recover from a value without its closing quote: end the tag on its line.

    The value runs to the last ``>`` of its line, where the tag ends (self-closing after
    ``/>``), or without one to the end of the line.
    """
    line_end = text.find("\n", quote_at + 1)
    if line_end == -1:
        line_end = len(text)
    gt = text.rfind(">", quote_at + 1, line_end)
    self_closing = False
    if gt == -1:
        value_end = tag_end = line_end
    else:
        tag_end = gt + 1
        self_closing = gt - 1 > quote_at and text[gt - 1] == "/"
        value_end = gt - 1 if self_closing else gt
    value = decode(text, quote_at + 1, value_end, problems)
    problems.append(
        problem(
            f"unterminated value of attribute '{short(name)}'",
            name_at,
            value_end,
            f"close the value with {text[quote_at]}",
        )
    )
    _add(
        found,
        problems,
        XmlAttribute(name=name, value=value, start=name_at, end=value_end),
    )
    return tuple(found), tag_end, self_closing, -1


def _add(
    found: list[XmlAttribute], problems: list[XmlProblem], attribute: XmlAttribute
) -> None:
    """Add ``attribute``, or report it if the tag already has one of that name."""
    if any(other.name == attribute.name for other in found):
        problems.append(
            problem(
                f"duplicate attribute '{short(attribute.name)}'",
                attribute.start,
                attribute.end,
                "remove one of them; the first one is used",
            )
        )
    else:
        found.append(attribute)


def _no_value(name: str, start: int, end: int) -> XmlProblem:
    """Return the problem of an attribute written without a value."""
    return problem(
        f"attribute '{short(name)}' has no value",
        start,
        end,
        f'give it a quoted value: {short(name)}="…"',
    )
