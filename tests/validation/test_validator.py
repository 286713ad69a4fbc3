"""Tests of validation rules not covered by the tests/data/invalid corpus."""

from __future__ import annotations

import pytest

from maidit_jupyter.errors import Diagnostic, ErrorCode, Severity
from maidit_jupyter.source import LineIndex
from maidit_jupyter.validation.references import did_you_mean, levenshtein
from maidit_jupyter.validation.validator import (
    CheckedDocument,
    check_document,
    validate,
)
from tests.flows import BODY_LINE, codes, document, only, workflow


def check(body: str, *, frontmatter: str = "") -> CheckedDocument:
    """Parse, validate and plan a document built from ``body``."""
    return check_document(document(body, frontmatter=frontmatter), path="t.flow.md")


def diagnostics(body: str, *, frontmatter: str = "") -> tuple[Diagnostic, ...]:
    """Every diagnostic of a document built from ``body``."""
    return check(body, frontmatter=frontmatter).report.diagnostics


SOURCE = '<source id="src" type="file" path="in.json"/>\n'


# --- everything at once ---------------------------------------------------------------


def test_every_mistake_is_reported_in_one_pass() -> None:
    """A document with five different mistakes gives five diagnostics, in document order."""
    found = diagnostics(
        SOURCE + '<soruce id="b"/>\n'
        '<transform type="map" input="src" expression="1"/>\n'
        '<transform id="c" input="missing" type="map" expression="1"/>\n'
        '<transform id="d" input="src" type="filter" condition="a ==="/>\n'
        '<sink id="src" input="c" type="file" path="out.json"/>',
        frontmatter="config:\n  n: {type: number, default: x}\n",
    )
    first = BODY_LINE + 2  # after the two config lines
    assert [(d.code, d.line) for d in found] == [
        (ErrorCode.VALID_INVALID_FIELD_TYPE, 5),
        (ErrorCode.VALID_UNKNOWN_NODE_TYPE, first + 1),
        (ErrorCode.VALID_MISSING_REQUIRED_FIELD, first + 2),
        (ErrorCode.VALID_UNDEFINED_NODE_REF, first + 3),
        (ErrorCode.EXPR_PARSE_ERROR, first + 4),
        (ErrorCode.VALID_DUPLICATE_NODE_ID, first + 5),
    ]


def test_document_with_errors_has_no_plan() -> None:
    """A document with errors is not planned; a valid one is."""
    assert check(SOURCE + '<set var="x" input="nope"/>').plan is None
    assert check(SOURCE + '<set var="x" input="src"/>').plan is not None


# --- phase and timeout children --------------------------------------------------------


@pytest.mark.parametrize("container", ["phase", "timeout"])
def test_children_of_phase_and_timeout_are_validated(container: str) -> None:
    """Duplicate ids, bad inputs and expression errors inside phase/timeout are found."""
    opening = (
        '<phase name="box">'
        if container == "phase"
        else '<timeout id="box" duration="5s">'
    )
    found = diagnostics(
        SOURCE + f"{opening}\n"
        '  <source id="src" type="file" path="again.json"/>\n'
        '  <transform id="m" input="nope" type="map" expression="1 +"/>\n'
        '  <transform id="t" input="src" template="{{ uper(1) }}"/>\n'
        f"</{container}>"
    )
    assert [(d.code, d.line) for d in found] == [
        (ErrorCode.VALID_DUPLICATE_NODE_ID, BODY_LINE + 2),
        (ErrorCode.VALID_UNDEFINED_NODE_REF, BODY_LINE + 3),
        (ErrorCode.EXPR_PARSE_ERROR, BODY_LINE + 3),
        (ErrorCode.EXPR_UNDEFINED_FUNCTION, BODY_LINE + 4),
    ]
    duplicate = found[0]
    assert (
        duplicate.hints[0] == f'Another node with ID "src" exists at line {BODY_LINE}'
    )


def test_input_pointing_into_a_phase_is_valid() -> None:
    """A top-level node may take its input from a node nested in a phase."""
    report = check(
        '<phase name="load"><source id="rows" type="file" path="in.json"/></phase>\n'
        '<sink id="out" input="rows" type="file" path="out.json"/>'
    ).report
    assert report.valid
    assert report.diagnostics == ()


def test_input_pointing_into_a_timeout_is_valid() -> None:
    """A top-level node may take its input from a node nested in a timeout."""
    report = check(
        '<timeout id="t" duration="1m"><source id="rows" type="file" path="x"/>'
        '</timeout>\n<sink id="out" input="rows.output.items" type="file" path="o"/>'
    ).report
    assert report.valid, [str(d) for d in report.diagnostics]


# --- did you mean ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        pytest.param("", "", 0, id="empty"),
        pytest.param("abc", "", 3, id="one-empty"),
        pytest.param("kitten", "sitting", 3, id="classic"),
        pytest.param("fetch-data", "fetch-dta", 1, id="deletion"),
        pytest.param("flaw", "lawn", 2, id="insert-and-delete"),
        pytest.param("same", "same", 0, id="equal"),
    ],
)
def test_levenshtein(a: str, b: str, distance: int) -> None:
    """Insertions, deletions and substitutions each cost one, both ways round."""
    assert levenshtein(a, b) == distance
    assert levenshtein(b, a) == distance


@pytest.mark.parametrize(
    ("target", "candidates", "hint"),
    [
        pytest.param(
            "fetch-dta",
            ["fetch-data", "save"],
            "Did you mean: fetch-data?",
            id="one-close",
        ),
        pytest.param(
            "FETCH", ["fetch", "x"], "Did you mean: fetch?", id="ignores-case"
        ),
        pytest.param(
            "ab",
            ["abc", "xyz", "a", "abcd", "b"],
            "Did you mean: abc, a, b?",
            id="at-most-three-stable-by-distance",
        ),
        pytest.param(
            "node",
            ["nodes4", "n", "node1", "nod"],
            "Did you mean: node1, nod, nodes4?",
            id="sorted-by-distance",
        ),
        pytest.param(
            "fetch",
            ["fetch-data", "save"],
            "Defined nodes: fetch-data, save",
            id="limit-is-two-for-short-names",
        ),
        pytest.param(
            "abcdefghijkl",
            ["abcdefghwxyz", "other"],
            "Did you mean: abcdefghwxyz?",
            id="limit-grows-with-length",
        ),
        pytest.param("zzz", [], "Defined nodes: none", id="no-nodes"),
    ],
)
def test_did_you_mean(target: str, candidates: list[str], hint: str) -> None:
    """Up to three ids within max(2, len/3) edits, closest first, else every id."""
    assert did_you_mean(target, candidates) == hint


def test_undefined_input_hint_in_a_document() -> None:
    """An undefined input gets the did-you-mean hint and is located at the reference."""
    line = '<sink id="out" input="scr" type="file" path="o"/>'
    found = only(diagnostics(SOURCE + line), ErrorCode.VALID_UNDEFINED_NODE_REF)
    assert found.message == 'Node "out" references undefined node "scr"'
    assert found.hints == ("Did you mean: src?",)
    assert (found.line, found.column) == (BODY_LINE + 1, line.index("scr") + 1)


@pytest.mark.parametrize(
    ("element", "target"),
    [
        pytest.param(
            '<set var="x"><on-error><fallback node="nope"/></on-error></set>',
            "nope",
            id="fallback",
        ),
        pytest.param(
            '<timeout id="x" duration="1s" on-timeout="nope"/>', "nope", id="on-timeout"
        ),
        pytest.param(
            '<checkpoint id="x" prompt="p"><action id="a" goto="nope"/></checkpoint>',
            "nope",
            id="goto",
        ),
    ],
)
def test_routing_targets_must_exist(element: str, target: str) -> None:
    """Fallback, on-timeout and goto targets are checked like inputs."""
    found = only(diagnostics(element), ErrorCode.VALID_UNDEFINED_NODE_REF)
    assert found.message == f'Node "x" references undefined node "{target}"'


# --- expressions -----------------------------------------------------------------------


def test_unknown_function_suggests_the_close_one() -> None:
    """An unknown function is EXPR_UNDEFINED_FUNCTION at its name, with a hint."""
    line = '<transform id="u" input="src" type="map" expression="uper($item.name)"/>'
    found = only(diagnostics(SOURCE + line), ErrorCode.EXPR_UNDEFINED_FUNCTION)
    assert found.message == (
        "Function 'uper' is not defined or not allowed (in u.config.expression)"
    )
    assert found.hints == ("Did you mean upper()?",)
    assert found.span is not None
    assert (found.line, found.column) == (BODY_LINE + 1, line.index("uper") + 1)
    assert found.span.end.column == found.span.column + len("uper")


@pytest.mark.parametrize(
    "condition",
    [
        pytest.param("a &lt; b &&", id="entity-then-raw-ampersands"),
        pytest.param("a &lt; b &amp;&amp; c ==", id="entities-then-error"),
        pytest.param("&quot;x&quot; == a &lt; b +", id="quotes-and-less-than"),
        pytest.param("a &lt; b &amp;&amp;", id="ends-with-entities"),
        pytest.param("a &gt;", id="ends-with-one-entity"),
    ],
)
def test_expression_error_column_after_an_entity(condition: str) -> None:
    """An error at the end of an attribute is located at the raw end of its value."""
    line = f'<transform id="f" input="src" type="filter" condition="{condition}"/>'
    found = only(diagnostics(SOURCE + line), ErrorCode.EXPR_PARSE_ERROR)
    assert found.message.startswith("Invalid expression syntax in f.config.condition: ")
    end_of_value = line.index(condition) + len(condition) + 1
    assert (found.line, found.column) == (BODY_LINE + 1, end_of_value)


def test_template_error_column_inside_structured_yaml() -> None:
    """A template error in a nested YAML value is located at its column in the file."""
    found = only(
        diagnostics(
            '<source id="a" url="http://x"><headers>\n  X-A: {{ 1 + }}\n</headers></source>'
        ),
        ErrorCode.EXPR_PARSE_ERROR,
    )
    assert (found.line, found.column) == (BODY_LINE + 1, len("  X-A: {{ 1 +") + 1)


# --- secrets ---------------------------------------------------------------------------


def test_secret_reads_in_both_forms_are_detected() -> None:
    """``$secrets.X`` and ``$secrets["X"]`` are found; declared ones are fine."""
    line = (
        '<transform id="t" input="src" template="{{ $secrets.X }} '
        '{{ $secrets[&quot;Y&quot;] }} {{$secrets.OK}} {{ $secrets.X }}"/>'
    )
    found = [
        d
        for d in diagnostics(SOURCE + line, frontmatter="secrets: [OK]\n")
        if d.code is ErrorCode.VALID_UNDEFINED_SECRET_REF
    ]
    assert [d.message for d in found] == [
        'Undeclared secret "X" referenced in workflow',
        'Undeclared secret "Y" referenced in workflow',
    ]
    assert [d.column for d in found] == [
        line.index("$secrets.X") + 1,
        line.index("$secrets[") + 1,
    ]
    assert found[0].hints == (
        "Declare the secret in frontmatter: secrets: [X]",
        "Currently declared secrets: OK",
    )


def test_secret_read_in_a_bare_expression_is_detected() -> None:
    """A secret read in a filter condition is found too."""
    line = (
        '<transform id="f" input="src" type="filter" condition="$secrets.K != null"/>'
    )
    found = only(diagnostics(SOURCE + line), ErrorCode.VALID_UNDEFINED_SECRET_REF)
    assert found.hints[1] == "Currently declared secrets: none"


@pytest.mark.parametrize(
    ("element", "name", "key"),
    [
        pytest.param(
            '<ai id="n" input="src" api-key="AI_KEY"/>', "AI_KEY", "api-key", id="ai"
        ),
        pytest.param(
            '<sink id="n" input="src" type="email" to="a@b" host="h" password="PW"/>',
            "PW",
            "password",
            id="smtp-password",
        ),
        pytest.param(
            '<sink id="n" input="src" type="email" to="a@b" provider="sendgrid" '
            'api-key="SG"/>',
            "SG",
            "api-key",
            id="sendgrid",
        ),
    ],
)
def test_secrets_named_by_settings_must_be_declared(
    element: str, name: str, key: str
) -> None:
    """A secret named by api-key or password must be declared; declared, it is fine."""
    found = only(diagnostics(SOURCE + element), ErrorCode.VALID_UNDEFINED_SECRET_REF)
    assert found.message == f"n.{key} names no declared secret"
    assert name not in found.message  # it may be a password written in by mistake
    assert all(name not in hint for hint in found.hints)
    declared = diagnostics(SOURCE + element, frontmatter=f"secrets: [{name}]\n")
    assert "VALID_UNDEFINED_SECRET_REF" not in codes(declared)


# --- python and email ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "message"),
    [
        pytest.param(
            '<transform id="p" input="src" type="python"/>',
            'Python transform "p" requires a "function" attribute',
            id="transform-without-function",
        ),
        pytest.param(
            '<transform id="p" input="src" type="python" var="x"/>',
            'Python transform "p" requires a "function" attribute',
            id="transform-var-is-not-enough",
        ),
        pytest.param(
            '<source id="p" type="python"/>',
            'Python source "p" requires a "var" or "function" attribute',
            id="source-without-either",
        ),
        pytest.param(
            '<sink id="p" input="src" type="python"/>',
            'Python sink "p" requires a "var" or "function" attribute',
            id="sink-without-either",
        ),
    ],
)
def test_python_nodes_need_a_function_or_var(element: str, message: str) -> None:
    """A python transform needs function=; a python source or sink needs var= or function=."""
    found = only(diagnostics(SOURCE + element), ErrorCode.VALID_MISSING_REQUIRED_FIELD)
    assert found.message == message


@pytest.mark.parametrize(
    "element",
    [
        pytest.param(
            '<transform id="p" input="src" type="python" function="f"/>', id="name"
        ),
        pytest.param(
            '<transform id="p" input="src" type="python" function="pkg.mod:fn"/>',
            id="module-path",
        ),
        pytest.param('<source id="p" type="python" var="df"/>', id="source-var"),
        pytest.param(
            '<sink id="p" input="src" type="python" var="out"/>', id="sink-var"
        ),
    ],
)
def test_valid_python_nodes(element: str) -> None:
    """Python nodes with what they need are valid."""
    report = check(SOURCE + element).report
    assert report.valid, [str(d) for d in report.diagnostics]


def test_python_function_must_be_a_dotted_path() -> None:
    """A function that is not ``module.path:name`` or a name is an error."""
    found = only(
        diagnostics(SOURCE + '<sink id="p" input="src" type="python" function="a b"/>'),
        ErrorCode.VALID_INVALID_FIELD_TYPE,
    )
    assert found.message == (
        'Python node "p": function \'a b\' is not "module.path:name" or a name'
    )


@pytest.mark.parametrize(
    ("attributes", "missing"),
    [
        pytest.param('to="a@b"', "host", id="smtp-is-the-default"),
        pytest.param('to="a@b" provider="smtp"', "host", id="smtp"),
        pytest.param('to="a@b" provider="sendgrid"', "api-key", id="sendgrid"),
    ],
)
def test_email_sink_needs_host_or_api_key(attributes: str, missing: str) -> None:
    """An smtp email sink needs host, a sendgrid one needs api-key."""
    found = only(
        diagnostics(SOURCE + f'<sink id="m" input="src" type="email" {attributes}/>'),
        ErrorCode.VALID_MISSING_REQUIRED_FIELD,
    )
    provider = "sendgrid" if "sendgrid" in attributes else "smtp"
    assert (
        found.message == f'Email sink "m" ({provider}) requires a "{missing}" setting'
    )


def test_email_sink_requires_to() -> None:
    """An email sink without ``to`` is reported."""
    found = only(
        diagnostics(SOURCE + '<sink id="m" input="src" type="email" host="h"/>'),
        ErrorCode.VALID_MISSING_REQUIRED_FIELD,
    )
    assert found.message == 'sink:email node "m" requires a "to" setting'


# --- report and rendering --------------------------------------------------------------


def test_warnings_do_not_make_a_report_invalid() -> None:
    """A report with only warnings is valid, and lists them as warnings."""
    report = check(
        SOURCE + '<sink id="s" type="file" path="o"/><loop id="l"/>',
        frontmatter="nmae: x\n",
    ).report
    assert report.valid
    assert report.errors == ()
    assert [d.severity for d in report.warnings] == [Severity.WARNING] * 3
    assert report.diagnostics == report.warnings


def test_validate_a_parsed_workflow() -> None:
    """validate() checks a parsed workflow and sorts its findings by position."""
    flow = workflow(SOURCE + '<set var="b" input="zz"/>\n<set var="a" input="yy"/>')
    report = validate(flow)
    assert [(d.code, d.line) for d in report.diagnostics] == [
        (ErrorCode.VALID_UNDEFINED_NODE_REF, BODY_LINE + 1),
        (ErrorCode.VALID_UNDEFINED_NODE_REF, BODY_LINE + 2),
    ]
    assert not report.valid


def test_str_of_a_diagnostic_is_compiler_style() -> None:
    """``str(d)`` is ``path:line:col: severity[CODE]: message``."""
    found = only(
        diagnostics(SOURCE + '<set var="b" input="zz"/>'),
        ErrorCode.VALID_UNDEFINED_NODE_REF,
    )
    assert str(found) == (
        f"t.flow.md:{BODY_LINE + 1}:21: error[VALID_UNDEFINED_NODE_REF]: "
        'Node "b" references undefined node "zz"'
    )


def test_str_of_an_unlocated_warning() -> None:
    """An unlocated diagnostic shows only its path."""
    plain = Diagnostic(
        code=ErrorCode.VALID_UNKNOWN_FIELD,
        message="m",
        severity=Severity.WARNING,
        path="x.flow.md",
    )
    assert str(plain) == "x.flow.md: warning[VALID_UNKNOWN_FIELD]: m"


def test_render_shows_the_line_and_a_caret_under_the_column() -> None:
    """render() prints the header, the location, the excerpt, carets and hints."""
    line = '<sink id="out" input="scr" type="file" path="o"/>'
    text = document(SOURCE + line)
    checked = check_document(text, path="t.flow.md")
    found = only(checked.report.diagnostics, ErrorCode.VALID_UNDEFINED_NODE_REF)
    rendered = found.render(LineIndex(text)).splitlines()
    column = line.index("scr") + 1
    assert rendered[0] == (
        'error[VALID_UNDEFINED_NODE_REF]: Node "out" references undefined node "scr"'
    )
    assert rendered[1] == f"  --> t.flow.md:{BODY_LINE + 1}:{column}"
    assert rendered[2] == f"   {BODY_LINE} | {SOURCE.strip()}"
    assert rendered[3] == f"   {BODY_LINE + 1} | {line}"
    caret_line = rendered[4]
    gutter = f"   {' ' * len(str(BODY_LINE + 1))} | "
    assert caret_line == gutter + " " * (column - 1) + "^^^"
    assert rendered[5] == "  = hint: Did you mean: src?"


def test_render_without_source_has_no_excerpt() -> None:
    """render() without a line index prints the location and hints only."""
    found = only(
        diagnostics(SOURCE + '<set var="b" input="zz"/>'),
        ErrorCode.VALID_UNDEFINED_NODE_REF,
    )
    assert found.render().splitlines() == [
        'error[VALID_UNDEFINED_NODE_REF]: Node "b" references undefined node "zz"',
        f"  --> t.flow.md:{BODY_LINE + 1}:21",
        "  = hint: Defined nodes: src",
    ]


def test_undeclared_config_key_is_a_warning_with_a_suggestion() -> None:
    """Reading $config.KEY that the frontmatter does not declare warns at the read."""
    body = '<if id="c" condition="$config.limt > 2"><then><delay id="d" duration="1s"/></then></if>'
    frontmatter = "config:\n  limit:\n    type: number\n    default: 3\n"
    found = only(
        diagnostics(body, frontmatter=frontmatter), ErrorCode.VALID_UNKNOWN_FIELD
    )
    assert found.severity is Severity.WARNING
    assert found.message == "$config.limt is not declared in the frontmatter"
    assert found.hints == ("Did you mean $config.limit?",)
    assert found.column == body.index("$config") + 1


def test_routing_in_a_circle_is_an_error() -> None:
    """Two nodes that only route to each other would never run: a located error."""
    body = (
        '<source id="a" type="file" path="./a.json">'
        '<on-error><fallback node="b"/></on-error></source>\n'
        '<source id="b" type="file" path="./b.json">'
        '<on-error><fallback node="a"/></on-error></source>'
    )
    found = [
        d for d in diagnostics(body) if d.code is ErrorCode.VALID_CIRCULAR_DEPENDENCY
    ]
    assert [d.message for d in found] == [
        'Node "a" is only reached by routing, and the routing goes in a circle',
        'Node "b" is only reached by routing, and the routing goes in a circle',
    ]
    assert found[0].line == BODY_LINE
