"""Hostile documents are rejected with located errors and touch no file or socket."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from maidit_jupyter.errors import ErrorCode
from maidit_jupyter.validation.validator import check_document

_EVENTS: list[str] = []
_WATCHING = [False]


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _WATCHING[0] and (event == "open" or event.startswith("socket.")):
        _EVENTS.append(event)


sys.addaudithook(_audit)


@contextmanager
def no_io() -> Iterator[None]:
    _EVENTS.clear()
    _WATCHING[0] = True
    try:
        yield
    finally:
        _WATCHING[0] = False
    assert _EVENTS == [], f"the parser did I/O: {_EVENTS}"


HEADER = "---\nname: attack\nversion: 1.0.0\n---\n"
LAUGHS = (
    HEADER
    + '<!DOCTYPE lolz [\n  <!ENTITY lol "lol">\n'
    + "".join(
        f'  <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + ']>\n<workflow>\n  <transform id="t"><template>&lol9;</template></transform>\n</workflow>\n'
)
EXTERNAL_ENTITY = (
    HEADER
    + '<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    + '<workflow>\n  <transform id="t"><template>&xxe;</template></transform>\n</workflow>\n'
)
EXTERNAL_DTD = (
    HEADER
    + '<!DOCTYPE workflow SYSTEM "http://127.0.0.1:9/evil.dtd">\n<workflow>\n</workflow>\n'
)
YAML_BOMB = (
    "---\nname: bomb\nversion: 1.0.0\n"
    + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
        for i in range(8)
    )
    + "---\n<workflow>\n</workflow>\n"
)
HUGE = HEADER + "<workflow>\n" + ("<!-- padding -->" * 3_300_000) + "</workflow>\n"


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        pytest.param(LAUGHS, ErrorCode.PARSE_XML_INVALID, 5, id="billion-laughs"),
        pytest.param(
            EXTERNAL_ENTITY, ErrorCode.PARSE_XML_INVALID, 5, id="external-entity"
        ),
        pytest.param(EXTERNAL_DTD, ErrorCode.PARSE_XML_INVALID, 5, id="external-dtd"),
        pytest.param(YAML_BOMB, ErrorCode.PARSE_YAML_INVALID, 4, id="yaml-alias-bomb"),
        pytest.param(HUGE, ErrorCode.PARSE_XML_INVALID, 6, id="50-megabytes"),
    ],
)
def test_attack_document_is_rejected_with_a_located_error(
    text: str, code: ErrorCode, line: int
) -> None:
    """The first error has the attack's code and line; nothing is read or fetched."""
    check_document(HEADER + "<workflow/>\n")  # import everything the parser uses first
    with no_io():
        checked = check_document(text, path="attack.flow.md")
    errors = checked.report.errors
    assert errors, "the attack was accepted"
    assert errors[0].code is code
    assert errors[0].line == line
    assert "lol" * 100 not in repr(checked.workflow)


def test_huge_document_is_about_fifty_megabytes() -> None:
    """The size attack really is that size (guards the fixture)."""
    assert len(HUGE) > 50_000_000
