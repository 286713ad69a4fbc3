"""Tests of the tolerant, located XML reader."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given, settings, strategies as st

from maidit_jupyter.parsing.xml import (
    XmlDocument,
    XmlElement,
    XmlProblem,
    read_workflow,
)
from maidit_jupyter.source import LocatedStr

LT_HINT = "a '<' followed by a letter starts a tag: write 'a < b' with spaces or '&lt;'"
HEADER = "---\nname: x\nversion: 1.0.0\n---\n"

_IO_EVENTS: list[str] = []
_WATCHING = [False]


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _WATCHING[0] and (
        event in ("open", "os.system", "subprocess.Popen", "urllib.Request")
        or event.startswith("socket.")
    ):
        _IO_EVENTS.append(event)


sys.addaudithook(_audit)


@contextmanager
def no_io() -> Iterator[None]:
    """Fail if the block opens a file, a socket or a process."""
    _IO_EVENTS.clear()
    _WATCHING[0] = True
    try:
        yield
    finally:
        _WATCHING[0] = False
    assert _IO_EVENTS == [], f"the reader did I/O: {_IO_EVENTS}"


def problems(doc: XmlDocument) -> list[tuple[str, int]]:
    """Return the messages and start offsets of a document's problems."""
    return [(problem.message, problem.start) for problem in doc.problems]


def root(doc: XmlDocument) -> XmlElement:
    """Return the root, failing if there is none."""
    assert doc.root is not None
    return doc.root


def walk(element: XmlElement) -> Iterator[XmlElement]:
    """Yield an element and all its descendants (iteratively)."""
    stack = [element]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def assert_located(source: str, value: LocatedStr) -> None:
    """Every character maps to itself, or to the '&' of the reference it came from."""
    for index, char in enumerate(value):
        offset = value.offset_of(index)
        assert 0 <= offset < len(source)
        assert source[offset] in (char, "&"), (index, char, source[offset])


def assert_consistent(source: str, doc: XmlDocument) -> None:
    """Check the invariants every result must satisfy."""
    size = len(source)
    assert 0 <= doc.end <= size
    starts = [problem.start for problem in doc.problems]
    assert starts == sorted(starts)
    for problem in doc.problems:
        assert 0 <= problem.start <= problem.end <= size, problem
        first_word = problem.message.split()[0]
        assert first_word.islower() or first_word.isupper()  # "DOCTYPE" is fine
    if doc.root is None:
        return
    for element in walk(doc.root):
        assert source[element.start] == "<"
        assert element.start < element.start_tag_end <= element.end <= size
        assert_located(source, element.text)
        previous = element.start_tag_end
        for child in element.children:
            assert previous <= child.start
            assert child.end <= element.end
            previous = child.end
        for attribute in element.attributes:
            assert element.start < attribute.start < attribute.end <= size
            assert source.startswith(attribute.name, attribute.start)
            assert_located(source, attribute.value)


# -- structure and offsets ------------------------------------------------------------


def test_elements_have_document_offsets() -> None:
    """Start, start-tag end and end are absolute offsets into the whole text."""
    body = '<workflow id="w">\n  <source id="s"/>\n  <sink id="k"></sink>\n</workflow>'
    text = HEADER + body
    doc = read_workflow(text, len(HEADER))
    workflow = root(doc)
    base = len(HEADER)
    assert (workflow.tag, workflow.start) == ("workflow", base)
    assert workflow.start_tag_end == base + len('<workflow id="w">')
    assert workflow.end == doc.end == len(text)
    source, sink = workflow.children
    assert source.start == text.index("<source")
    assert source.start_tag_end == source.end == text.index("\n  <sink")
    assert sink.start_tag_end == text.index("</sink>")
    assert sink.end == text.index("\n</workflow>")
    assert doc.problems == ()


def test_attributes_have_offsets_and_located_values() -> None:
    """An attribute spans name to closing quote; its value points at its characters."""
    text = "<workflow>\n  <source id = 'src'\n    type=\"http\"/>\n</workflow>"
    source = root(read_workflow(text)).children[0]
    first, second = source.attributes
    assert (first.name, first.value) == ("id", "src")
    assert first.start == text.index("id")
    assert first.end == text.index("'src'") + 5
    assert first.value.offset == text.index("src'")
    assert second.value.offset == text.index('http"')
    assert source.attr("type") == "http"
    assert source.attr("missing") is None
    assert source.attribute("id") is first
    assert source.attribute("missing") is None


def test_text_is_joined_around_children_and_comments() -> None:
    """Direct text is every piece between children, untrimmed and located."""
    text = "<workflow> ab<x>inner</x>cd<!-- note -->ef\n</workflow>"
    workflow = root(read_workflow(text))
    assert workflow.text == " abcdef\n"
    assert workflow.text.offset_of(0) == text.index(" ab")
    assert workflow.text.offset_of(3) == text.index("cd")
    assert workflow.text.offset_of(5) == text.index("ef")
    assert workflow.children[0].text == "inner"
    assert_consistent(text, read_workflow(text))


def test_empty_text_is_located_after_the_start_tag() -> None:
    """An element without text still has a located empty string."""
    text = "<workflow><a></a><b/></workflow>"
    a, b = root(read_workflow(text)).children
    assert a.text == ""
    assert a.text.offset == a.start_tag_end
    assert b.text.offset == b.end


def test_entities_are_decoded_and_located_in_text() -> None:
    """``a &lt; b`` reads as ``a < b``; the '<' points at the '&' of the reference."""
    text = "<workflow><condition>a &lt; b</condition></workflow>"
    value = root(read_workflow(text)).children[0].text
    assert value == "a < b"
    assert value.offset_of(2) == text.index("&lt;")
    assert value.offset_of(4) == text.index("b<")
    assert value.offset_of(5) == text.index("</condition>")


def test_entities_are_decoded_and_located_in_attributes() -> None:
    """References in attribute values are decoded the same way."""
    text = '<workflow condition="x &gt; 1 &amp;&amp; y &quot;&apos;"/>'
    value = root(read_workflow(text)).attr("condition")
    assert value == "x > 1 && y \"'"
    assert value is not None
    assert value.offset_of(2) == text.index("&gt;")
    assert value.offset_of(4) == text.index("1 &amp;")
    assert value.offset_of(7) == text.index("&amp;&amp;") + len("&amp;")
    assert value.offset_of(9) == text.index("y &quot;")


@pytest.mark.parametrize(
    ("reference", "decoded"),
    [
        pytest.param("&#65;", "A", id="decimal"),
        pytest.param("&#x42;", "B", id="hexadecimal"),
        pytest.param("&#x1F600;", "\U0001f600", id="astral"),
        pytest.param("&#0000067;", "C", id="leading-zeros"),
        pytest.param("&#9;", "\t", id="tab"),
    ],
)
def test_character_references_are_decoded(reference: str, decoded: str) -> None:
    """Decimal and hexadecimal references give one character at the '&'."""
    text = f"<workflow>[{reference}]</workflow>"
    doc = read_workflow(text)
    assert root(doc).text == f"[{decoded}]"
    assert root(doc).text.offset_of(1) == text.index("&")
    assert root(doc).text.offset_of(2) == text.index("]")
    assert doc.problems == ()


def test_cdata_is_raw_located_text() -> None:
    """CDATA content is text, not decoded, with markup characters kept."""
    text = "<workflow>a<![CDATA[x &lt; <b> && ]]>z</workflow>"
    doc = read_workflow(text)
    assert root(doc).text == "ax &lt; <b> && z"
    assert root(doc).children == ()
    assert root(doc).text.offset_of(1) == text.index("x &lt;")
    assert root(doc).text.offset_of(15) == text.index("z<")
    assert doc.problems == ()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("$item.a < 2 && x", id="less-than-and"),
        pytest.param("x <= 3", id="less-or-equal"),
        pytest.param("<$x", id="less-than-dollar"),
        pytest.param("1<2", id="less-than-digit"),
        pytest.param("a > b >= c", id="greater-than"),
        pytest.param("a & b", id="lone-ampersand"),
        pytest.param("&x and &&", id="ampersand-without-semicolon"),
        pytest.param("&#; &#x; &#xZ; &; &1;", id="malformed-references"),
        pytest.param("<<< < <= <-", id="many-less-than"),
        pytest.param("]]> -->", id="closers"),
    ],
)
def test_raw_markup_characters_are_literal_text(content: str) -> None:
    """A '<' or '&' that cannot start markup or a reference is a literal character."""
    text = f"<workflow><condition>{content}</condition></workflow>"
    doc = read_workflow(text)
    condition = root(doc).children[0]
    assert condition.text == content
    assert condition.text.marks == ()
    assert condition.text.offset == text.index(content)
    assert doc.problems == ()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("a < 2 && b", id="less-than-and"),
        pytest.param("<b> && </b>", id="tags"),
        pytest.param("x > 1 & y", id="lone-ampersand"),
        pytest.param("'single' inside", id="other-quote"),
        pytest.param("multi\n  line", id="multi-line"),
    ],
)
def test_raw_markup_characters_are_literal_in_attributes(value: str) -> None:
    """Inside a quoted value, '<', '>' and '&&' are ordinary characters."""
    text = f'<workflow condition="{value}" id="w"/>'
    doc = read_workflow(text)
    assert root(doc).attr("condition") == value
    assert root(doc).attr("id") == "w"
    assert doc.problems == ()


# -- problems -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "at"),
    [
        pytest.param(
            "<workflow>&foo;</workflow>", "unknown entity '&foo;'", "&foo;", id="entity"
        ),
        pytest.param(
            '<workflow a="x &nbsp;"/>',
            "unknown entity '&nbsp;'",
            "&nbsp;",
            id="entity-in-attribute",
        ),
        pytest.param(
            "<workflow>&#0;</workflow>",
            "invalid character reference '&#0;'",
            "&#0;",
            id="null-reference",
        ),
        pytest.param(
            "<workflow>&#x110000;</workflow>",
            "invalid character reference '&#x110000;'",
            "&#x",
            id="beyond-unicode",
        ),
        pytest.param(
            "<workflow>&#xD800;</workflow>",
            "invalid character reference '&#xD800;'",
            "&#x",
            id="surrogate",
        ),
        pytest.param(
            "<workflow>&#" + "9" * 5000 + ";</workflow>",
            "invalid character reference '&#" + "9" * 37 + "…'",
            "&#",
            id="huge-reference",
        ),
        pytest.param(
            "<workflow><!-- open</workflow>",
            "unterminated comment",
            "<!--",
            id="comment",
        ),
        pytest.param(
            "<workflow><![CDATA[ open</workflow>",
            "unterminated CDATA section",
            "<![CDATA[",
            id="cdata",
        ),
        pytest.param(
            "<!DOCTYPE workflow>\n<workflow/>",
            "DOCTYPE declarations are not allowed",
            "<!DOCTYPE",
            id="doctype",
        ),
        pytest.param(
            "<workflow><!DOCTYPE x [ <!ELEMENT x ANY> ]></workflow>",
            "DOCTYPE declarations are not allowed",
            "<!DOCTYPE",
            id="doctype-inside",
        ),
        pytest.param(
            '<workflow><!ENTITY x "y"></workflow>',
            "entity declarations are not allowed",
            "<!ENTITY",
            id="entity-declaration",
        ),
        pytest.param(
            "<workflow><!ELEMENT x ANY></workflow>",
            "markup declarations are not allowed",
            "<!ELEMENT",
            id="other-declaration",
        ),
        pytest.param(
            '<?xml version="1.0"?>\n<workflow/>',
            "processing instructions are not allowed",
            "<?xml",
            id="xml-declaration",
        ),
        pytest.param(
            "<workflow><?php echo 1 ?></workflow>",
            "processing instructions are not allowed",
            "<?php",
            id="processing-instruction",
        ),
        pytest.param(
            '<workflow id="a" x="1" id="b"/>',
            "duplicate attribute 'id'",
            'id="b"',
            id="duplicate",
        ),
        pytest.param(
            "<workflow id=a/>", "unquoted value of attribute 'id'", "id=", id="unquoted"
        ),
        pytest.param(
            "<workflow disabled/>",
            "attribute 'disabled' has no value",
            "disabled",
            id="no-value",
        ),
        pytest.param(
            "<workflow id= />", "attribute 'id' has no value", "id", id="empty-value"
        ),
        pytest.param(
            '<workflow id="abc',
            "unterminated value of attribute 'id'",
            "id",
            id="unterminated-at-end",
        ),
        pytest.param(
            '<workflow>\n<a id="abc/>\n<b x="1"/>\n</workflow>',
            "unterminated value of attribute 'id'",
            "id",
            id="unterminated-before-markup",
        ),
        pytest.param(
            '<workflow a="1"b="2"/>',
            "missing white space before attribute 'b'",
            "b=",
            id="missing-space",
        ),
        pytest.param(
            '<workflow !! id="w"/>',
            "unexpected '!!' in start tag <workflow>",
            "!!",
            id="junk-in-tag",
        ),
        pytest.param(
            "<workflow><source></sink></source></workflow>",
            "mismatched closing tag </sink>; expected </source>",
            "</sink>",
            id="mismatched",
        ),
        pytest.param(
            "<workflow><source>", "unclosed <source>", "<source>", id="unclosed"
        ),
        pytest.param(
            "</stray><workflow/>",
            "unexpected closing tag </stray>",
            "</stray>",
            id="stray-before-root",
        ),
        pytest.param(
            "<workflow>a </ b</workflow>",
            "stray '</' without an element name",
            "</ ",
            id="bare-end-tag-opener",
        ),
        pytest.param(
            '<workflow></workflow id="x">',
            "unexpected text in closing tag </workflow>",
            'id="x"',
            id="junk-in-end-tag",
        ),
        pytest.param(
            "<workflow><a></a</workflow>",
            "closing tag </a> has no closing '>'",
            "</a",
            id="end-tag-without-gt",
        ),
        pytest.param(
            "<workflow>\n<a id='x'\n<b/>\n</a></workflow>",
            "start tag <a> has no closing '>'",
            "<a",
            id="start-tag-without-gt",
        ),
    ],
)
def test_every_problem_is_reported_at_its_start(
    text: str, message: str, at: str
) -> None:
    """Each kind of mistake gives its message at the offset of the offending text."""
    doc = read_workflow(text)
    assert (message, text.index(at)) in problems(doc), problems(doc)
    assert_consistent(text, doc)


def test_unknown_entity_stays_raw() -> None:
    """An unknown or invalid reference is kept as written, nothing is expanded."""
    text = '<workflow v="&foo;&#0;">x&bar;y</workflow>'
    doc = read_workflow(text)
    assert root(doc).attr("v") == "&foo;&#0;"
    assert root(doc).text == "x&bar;y"
    assert [message for message, _ in problems(doc)] == [
        "unknown entity '&foo;'",
        "invalid character reference '&#0;'",
        "unknown entity '&bar;'",
    ]


def test_duplicate_attribute_keeps_the_first() -> None:
    """Only the first of two same-named attributes is kept, on both paths."""
    for text in ('<workflow id="a" id="b"/>', '<workflow id="a" id="b" x=1/>'):
        doc = read_workflow(text)
        assert [a.name for a in root(doc).attributes].count("id") == 1
        assert root(doc).attr("id") == "a"


def test_problems_carry_hints() -> None:
    """Problems explain how to fix them."""
    doc = read_workflow("<workflow id=a>&nbsp;</workflow>")
    unquoted, entity = doc.problems
    assert unquoted.hints == ('quote it: id="a"',)
    assert any("&amp;" in hint for hint in entity.hints)


def test_depth_limit_is_reported_and_stops_reading() -> None:
    """Nesting deeper than ``max_depth`` is one problem; the tree read so far stays."""
    text = "<workflow><a><b><c><d/></c></b></a></workflow><!DOCTYPE x>"
    doc = read_workflow(text, max_depth=3)
    assert problems(doc) == [("elements nest deeper than 3 levels", text.index("<c>"))]
    assert [element.tag for element in walk(root(doc))] == ["workflow", "a", "b"]
    assert doc.end == len(text)
    assert_consistent(text, doc)


# -- recovery -------------------------------------------------------------------------


def test_mismatched_end_tag_closes_the_elements_in_between() -> None:
    """An end tag of an outer element closes the inner ones, each reported unclosed once."""
    text = "<workflow><a><b><c></a><d/></workflow>"
    doc = read_workflow(text)
    assert problems(doc) == [
        ("unclosed <b>", text.index("<b>")),
        ("unclosed <c>", text.index("<c>")),
    ]
    a, d = root(doc).children
    assert (a.tag, d.tag) == ("a", "d")
    assert a.end == text.index("<d/>")
    b = a.children[0]
    assert b.end == b.children[0].end == text.index("</a>")
    assert doc.problems[0].hints == ("close it with </b>",)


def test_wrong_closing_tag_is_one_problem() -> None:
    """A misspelt closing tag is reported once; the element is not also unclosed."""
    text = "<workflow><source id='a'></sink></workflow>"
    doc = read_workflow(text)
    assert problems(doc) == [
        ("mismatched closing tag </sink>; expected </source>", text.index("</sink>")),
    ]
    assert root(doc).children[0].tag == "source"


def test_stray_end_tag_is_ignored() -> None:
    """An end tag matching no open element is reported and skipped."""
    text = "<workflow><a>x</b>y</a></workflow>"
    doc = read_workflow(text)
    assert problems(doc) == [
        ("mismatched closing tag </b>; expected </a>", text.index("</b>"))
    ]
    assert doc.problems[0].hints == (
        "no <b> element is open, so this closing tag is ignored",
    )
    a = root(doc).children[0]
    assert a.text == "xy"
    assert a.end == text.index("</workflow>")


def test_open_elements_at_the_end_are_each_unclosed() -> None:
    """At the end of the text every open element is reported at its start tag."""
    text = "<workflow>\n  <if condition='x'>\n    <sink id='s'>"
    doc = read_workflow(text)
    assert problems(doc) == [
        ("unclosed <workflow>", 0),
        ("unclosed <if>", text.index("<if")),
        ("unclosed <sink>", text.index("<sink")),
    ]
    assert doc.problems[1].end == text.index("\n    <sink")
    assert doc.end == root(doc).end == len(text)
    assert root(doc).children[0].children[0].attr("id") == "s"


def test_less_than_before_a_letter_gets_the_spacing_hint() -> None:
    """``a<b`` in text opens a tag; its problem says how to write a comparison."""
    text = "<workflow><condition>a<b && c</condition></workflow>"
    doc = read_workflow(text)
    assert problems(doc) == [("unclosed <b>", text.index("<b"))]
    assert LT_HINT in doc.problems[0].hints
    assert root(doc).children[0].text == "a"


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        pytest.param("<workflow><if>$x<y > 2</if></workflow>", "y", id="glued"),
        pytest.param("<workflow><if>a <b</if></workflow>", "b", id="cut-off"),
        pytest.param("<workflow><if>a <b && c=1</if></workflow>", "b", id="junk"),
    ],
)
def test_tags_from_text_get_the_hint_instead_of_attribute_problems(
    text: str, tag: str
) -> None:
    """A tag that came from text is not reported attribute by attribute."""
    doc = read_workflow(text)
    assert [message for message, _ in problems(doc)] == [f"unclosed <{tag}>"]
    assert LT_HINT in doc.problems[0].hints


def test_forgotten_gt_at_a_line_end_is_not_blamed_on_text() -> None:
    """A start tag cut off by a line break gets no 'a < b' hint."""
    text = "<workflow>\n  <source id='a'\n  <sink/>\n</workflow>"
    doc = read_workflow(text)
    unclosed = doc.problems[0]
    assert unclosed.message == "unclosed <source>"
    assert unclosed.hints == (
        "the start tag <source> has no closing '>'",
        "close it with </source>",
    )


def test_unterminated_value_ends_the_tag_on_its_line() -> None:
    """A value missing its quote stops at the tag's '>' on the same line."""
    text = '<workflow>\n  <a id="x/>\n  <b id="y"/>\n</workflow>'
    doc = read_workflow(text)
    a, b = root(doc).children
    assert a.attr("id") == "x"
    assert a.end == a.start_tag_end == text.index("\n  <b")
    assert b.attr("id") == "y"
    assert problems(doc) == [
        ("unterminated value of attribute 'id'", text.index('id="x')),
    ]


# -- where reading starts and stops ---------------------------------------------------


def test_nothing_after_the_root_is_scanned() -> None:
    """The markdown footer is never read, whatever it holds."""
    body = "<workflow>\n</workflow>"
    footer = "\n# Log\n<!DOCTYPE x>\n<broken a=\n&foo; </nope> <?pi"
    text = HEADER + body + footer
    doc = read_workflow(text, len(HEADER))
    assert doc.problems == ()
    assert doc.end == len(HEADER + body)


def test_markup_before_the_root_is_skipped() -> None:
    """Text, comments and other elements before the root are read but not returned."""
    text = (
        "# Title\n<!-- c -->\n<intro><workflow id='nested'/></intro>\n"
        "Some text & more.\n<workflow id='real'/>"
    )
    doc = read_workflow(text)
    assert root(doc).attr("id") == "real"
    assert doc.problems == ()


def test_declarations_before_the_root_are_problems() -> None:
    """DOCTYPE and processing instructions before the root are located problems."""
    text = "<?xml version='1.0'?>\n<!DOCTYPE workflow>\n<workflow/>"
    doc = read_workflow(text)
    assert problems(doc) == [
        ("processing instructions are not allowed", 0),
        ("DOCTYPE declarations are not allowed", text.index("<!DOCTYPE")),
    ]
    assert doc.problems[1].end == text.index("\n<workflow")
    assert root(doc).start == text.index("<workflow")


def test_no_root_gives_none() -> None:
    """Without a top-level root element the root is None and the end is the length."""
    text = "<other><workflow/></other>"
    doc = read_workflow(text)
    assert doc.root is None
    assert doc.end == len(text)
    assert read_workflow("").root is None


def test_custom_root_tag() -> None:
    """The root element's name is configurable."""
    doc = read_workflow("<workflow/><flow id='f'/>", root_tag="flow")
    assert root(doc).attr("id") == "f"


def test_reading_starts_at_the_given_offset() -> None:
    """Nothing before ``start`` is read; offsets stay absolute."""
    text = "<workflow id='frontmatter'/>\n---\n<workflow id='body'/>"
    start = text.index("---")
    doc = read_workflow(text, start)
    assert root(doc).attr("id") == "body"
    assert root(doc).start == text.rindex("<workflow")
    assert read_workflow(text, len(text) + 5).root is None
    assert root(read_workflow(text, -5)).attr("id") == "frontmatter"


# -- attacks and speed ----------------------------------------------------------------

LAUGHS = (
    '<!DOCTYPE lolz [\n  <!ENTITY lol "lol">\n'
    + "".join(
        f'  <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n<workflow><template>&lol9;</template></workflow>"
)
EXTERNAL_ENTITY = (
    '<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    "<workflow><template>&xxe;</template></workflow>"
)
EXTERNAL_DTD = (
    '<!DOCTYPE workflow SYSTEM "http://127.0.0.1:9/evil.dtd">\n<workflow></workflow>'
)
ENTITY_OUTSIDE = '<workflow><!ENTITY x SYSTEM "file:///etc/passwd">&x;</workflow>'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            LAUGHS,
            [
                ("DOCTYPE declarations are not allowed", 0),
                ("unknown entity '&lol9;'", LAUGHS.index("&lol9;<")),
            ],
            id="billion-laughs",
        ),
        pytest.param(
            EXTERNAL_ENTITY,
            [
                ("DOCTYPE declarations are not allowed", 0),
                ("unknown entity '&xxe;'", EXTERNAL_ENTITY.index("&xxe;")),
            ],
            id="external-entity",
        ),
        pytest.param(
            EXTERNAL_DTD,
            [("DOCTYPE declarations are not allowed", 0)],
            id="external-dtd",
        ),
        pytest.param(
            ENTITY_OUTSIDE,
            [
                ("entity declarations are not allowed", ENTITY_OUTSIDE.index("<!")),
                ("unknown entity '&x;'", ENTITY_OUTSIDE.index("&x;")),
            ],
            id="entity-declaration",
        ),
    ],
)
def test_entity_attacks_expand_and_fetch_nothing(
    text: str, expected: list[tuple[str, int]]
) -> None:
    """Declarations are located problems; references stay raw; no I/O."""
    with no_io():
        doc = read_workflow(text)
    assert problems(doc) == expected
    assert "lol" * 20 not in repr(doc)


def test_deep_nesting_is_cut_off_quickly() -> None:
    """100,000 nested elements give one problem, without recursion."""
    text = "<workflow>" + "<a>" * 100_000 + "</a>" * 100_000 + "</workflow>"
    with no_io():
        doc = read_workflow(text)
    assert problems(doc) == [("elements nest deeper than 200 levels", 10 + 199 * 3)]
    unclosed = "<workflow>" + "<a " * 100_000
    assert len(read_workflow(unclosed).problems) == 200


def test_fifty_megabytes_of_text_read_as_text() -> None:
    """A 50 MB body of expression-like text is read as text, with one problem."""
    line = "$item.a < 2 && b > 1 & c <= 3 | <$x\n"

    def document(size: int) -> str:
        return "<workflow><template>" + line * (size // len(line)) + "</template>"

    large = document(50_000_000)
    with no_io():
        doc = read_workflow(large)
    assert problems(doc) == [("unclosed <workflow>", 0)]
    assert len(root(doc).children[0].text) > 49_000_000


def _flow(elements: int) -> str:
    """Return a realistic flow of about ``elements`` elements of 130 bytes each."""
    parts = [HEADER, "<workflow>\n"]
    count = index = 0
    while count < elements:
        if index % 3 == 0:
            parts.append(
                f'  <source id="src{index}" type="http"'
                f' description="Fetch page {index} of the items from the upstream API">\n'
                f'    <config url="https://example.com/api/v2/items?page={index}&amp;n=100"'
                ' method="GET" timeout="30" retries="3"/>\n  </source>\n'
            )
            count += 2
        elif index % 3 == 1:
            parts.append(
                f'  <transform id="t{index}" type="filter" input="src{index - 1}"'
                ' condition="$item.score &gt; 2 && $item.ok"'
                ' description="Keep the good items only">\n'
                f"    $item.value * 2 + {index} < 100 && $item.name != 'x'"
                " || $item.tags.length >= 3\n  </transform>\n"
            )
            count += 1
        else:
            parts.append(
                f'  <if condition="$t{index - 1}.count > 0 && $flag">\n'
                "    <!-- write the result where the next step finds it -->\n"
                f'    <sink id="s{index}" type="file" input="t{index - 1}"'
                f' path="output/results/{index}.json" mode="overwrite"/>\n  </if>\n'
            )
            count += 2
        index += 1
    parts.append("</workflow>\n\n# Execution log\n")
    return "".join(parts)


def test_ten_thousand_elements_read_without_problems() -> None:
    """A realistic 10,000-element body (1.3 MB) reads completely and cleanly."""
    text = _flow(10_000)
    doc = read_workflow(text, len(HEADER))
    assert doc.problems == ()
    assert sum(1 for _ in walk(root(doc))) >= 10_000


# -- properties -----------------------------------------------------------------------

FRAGMENTS = [
    "<workflow>",
    "</workflow>",
    "<workflow/>",
    "<a>",
    "</a>",
    "<b x='1'>",
    "</b>",
    "<c/>",
    '<d id="x" id="y">',
    "<e a=1 b>",
    '<f g="',
    "'",
    '"',
    "<",
    ">",
    "/>",
    "</",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE x [",
    "]>",
    "<!ENTITY y 'z'>",
    "<?pi ",
    "?>",
    "&",
    "&amp;",
    "&lt;",
    "&#0;",
    "&#x41;",
    "&bad;",
    "&&",
    " ",
    "\n",
    "text",
    "a<b",
    "=",
    "\u00e9",
]
_documents = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=40
).map("".join)


@settings(max_examples=300)
@given(st.text(max_size=200), st.integers(min_value=-5, max_value=205))
def test_random_text_never_raises(text: str, start: int) -> None:
    """Any text and start offset give a consistent result."""
    assert_consistent(text, read_workflow(text, start))


@settings(max_examples=400)
@given(_documents, st.integers(min_value=1, max_value=6))
def test_random_markup_never_raises(text: str, depth: int) -> None:
    """Random mixes of markup fragments give consistent, located results."""
    assert_consistent(text, read_workflow(text, max_depth=depth))
    wrapped = "<workflow>" + text
    assert_consistent(wrapped, read_workflow(wrapped))


@given(_documents)
def test_problems_are_xml_problems(text: str) -> None:
    """Problems are plain values with hints as tuples of strings."""
    for problem in read_workflow("<workflow>" + text).problems:
        assert isinstance(problem, XmlProblem)
        assert all(isinstance(hint, str) for hint in problem.hints)


@pytest.mark.parametrize(
    ("char", "message"),
    [
        pytest.param("\x00", "character U+0000 is not allowed in a flow", id="nul"),
        pytest.param("\x1b", "character U+001B is not allowed in a flow", id="escape"),
        pytest.param("\ufffe", "character U+FFFE is not allowed in a flow", id="fffe"),
        pytest.param(
            "\u202e",
            "bidirectional control U+202E is not allowed in a flow",
            id="right-to-left-override",
        ),
        pytest.param(
            "\u2067",
            "bidirectional control U+2067 is not allowed in a flow",
            id="right-to-left-isolate",
        ),
    ],
)
def test_forbidden_characters_are_located(char: str, message: str) -> None:
    """Controls XML does not allow, and bidi controls that make a flow read other than
    it runs (Trojan Source), are problems at their place, in tags and in text."""
    text = f'<workflow><a id="x{char}y">t{char}</a></workflow>'
    doc = read_workflow(text)
    assert problems(doc) == [(message, text.index(char)), (message, text.rindex(char))]


def test_forbidden_characters_are_reported_ten_at_most() -> None:
    """A file full of NULs gives ten problems, not millions."""
    doc = read_workflow("<workflow>" + "\x00" * 100_000 + "</workflow>")
    assert len(doc.problems) == 10


def test_tabs_newlines_and_other_scripts_are_fine() -> None:
    """Whitespace controls and right-to-left text without control characters pass."""
    doc = read_workflow("<workflow>\t\r\n<a>שלום مرحبا</a></workflow>")
    assert doc.problems == ()


def test_forbidden_characters_after_the_root_are_not_read() -> None:
    """The markdown footer (the execution log) may hold anything."""
    text = "<workflow></workflow>\n\x00\u202e"
    assert read_workflow(text).problems == ()
