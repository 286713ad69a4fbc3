"""Tests of the node builders: every element gives the right dataclass with the right fields."""

from __future__ import annotations

import pytest

from maidit_jupyter.errors import ErrorCode, Severity
from maidit_jupyter.syntax import nodes as n
from tests.flows import BODY_LINE, codes, node, only, parse, workflow


def ids(nodes: tuple[n.Node, ...]) -> list[str]:
    """The ids of some nodes."""
    return [item.id for item in nodes]


# --- source, transform, sink --------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "cls", "tag", "type_name", "runtime"),
    [
        pytest.param(
            '<source id="x" url="http://h"/>',
            n.SourceNode,
            "source",
            "http",
            "http:source",
            id="source-defaults-to-http",
        ),
        pytest.param(
            '<source id="x" type="file" path="p"/>',
            n.SourceNode,
            "source",
            "file",
            "file:source",
            id="file-source",
        ),
        pytest.param(
            '<source id="x" type="database" connection="c" query="q"/>',
            n.SourceNode,
            "source",
            "database",
            "database:source",
            id="database-source",
        ),
        pytest.param(
            '<source id="x" type="python" var="df"/>',
            n.SourceNode,
            "source",
            "python",
            "python:source",
            id="python-source",
        ),
        pytest.param(
            '<transform id="x" template="hi"/>',
            n.TransformNode,
            "transform",
            "template",
            "transform:template",
            id="transform-defaults-to-template",
        ),
        pytest.param(
            '<transform id="x" type="map" expression="1"/>',
            n.TransformNode,
            "transform",
            "map",
            "transform:map",
            id="map",
        ),
        pytest.param(
            '<transform id="x" type="filter" condition="true"/>',
            n.TransformNode,
            "transform",
            "filter",
            "transform:filter",
            id="filter",
        ),
        pytest.param(
            '<transform id="x" type="reduce" expression="$acc" initial="0"/>',
            n.TransformNode,
            "transform",
            "reduce",
            "transform:reduce",
            id="reduce",
        ),
        pytest.param(
            '<transform id="x" type="ai" model="m"/>',
            n.TransformNode,
            "transform",
            "ai",
            "transform:ai",
            id="ai-transform",
        ),
        pytest.param(
            '<ai id="x" model="m"/>',
            n.TransformNode,
            "transform",
            "ai",
            "transform:ai",
            id="ai-shorthand",
        ),
        pytest.param(
            '<sink id="x" url="http://h"/>',
            n.SinkNode,
            "sink",
            "http",
            "http:sink",
            id="sink-defaults-to-http",
        ),
        pytest.param(
            '<sink id="x" type="email" to="a@b" host="h"/>',
            n.SinkNode,
            "sink",
            "email",
            "email:sink",
            id="email-sink",
        ),
    ],
)
def test_configured_node_kinds(
    element: str, cls: type[n.ConfiguredNode], tag: str, type_name: str, runtime: str
) -> None:
    """Each source/transform/sink builds its class with tag, type and runtime key."""
    built = node(element)
    assert type(built) is cls
    assert isinstance(built, n.ConfiguredNode)
    assert (built.id, built.tag, built.type, built.runtime) == (
        "x",
        tag,
        type_name,
        runtime,
    )
    assert built.label == f"{tag}:{type_name}"


def test_map_and_filter_mark_their_bare_keys() -> None:
    """The map expression and filter condition are bare expressions, templates are not."""
    flow = workflow(
        '<transform id="m" type="map" expression="$item"/>'
        '<transform id="f" type="filter" condition="true"/>'
        '<transform id="t" template="{{ 1 }}"/>'
    )
    bare = {}
    for item in flow.nodes:
        assert isinstance(item, n.ConfiguredNode)
        bare[item.id] = item.bare_keys
    assert bare == {
        "m": frozenset({"expression"}),
        "f": frozenset({"condition"}),
        "t": frozenset(),
    }


@pytest.mark.parametrize(
    ("element", "message"),
    [
        pytest.param(
            '<source id="x" type="ftp"/>',
            'Source type must be one of "http", "file", "database", "python", got "ftp"',
            id="source",
        ),
        pytest.param(
            '<transform id="x" type="sql"/>',
            'Transform type must be one of "ai", "template", "map", "filter", '
            '"reduce", "python", got "sql"',
            id="transform",
        ),
        pytest.param(
            '<sink id="x" type="slack"/>',
            'Sink type must be one of "http", "file", "database", "email", "python", '
            'got "slack"',
            id="sink",
        ),
    ],
)
def test_unknown_runtime_type(element: str, message: str) -> None:
    """An unknown type is VALID_INVALID_FIELD_TYPE at the type attribute; no node is built."""
    result = parse(element)
    found = only(result.diagnostics, ErrorCode.VALID_INVALID_FIELD_TYPE)
    assert found.message == message
    assert found.column == len(element.split(" type=")[0]) + 2
    assert result.workflow is not None
    assert result.workflow.nodes == ()


# --- if, branch ---------------------------------------------------------------------


def test_if_with_several_then_and_an_else() -> None:
    """Several <then> bodies are concatenated; <else> is the else body."""
    built = node(
        '<if id="i" condition="x &gt; 1">'
        '<then><set var="a" value="1"/></then>'
        '<then><set var="b" value="2"/><set var="c" value="3"/></then>'
        '<else><set var="d" value="4"/></else>'
        "</if>"
    )
    assert isinstance(built, n.IfNode)
    assert built.condition == "x > 1"
    assert ids(built.then) == ["a", "b", "c"]
    assert ids(built.else_) == ["d"]
    assert ids(built.children()) == ["a", "b", "c", "d"]


def test_if_condition_from_a_child_element() -> None:
    """A <condition> child holds the condition when there is no attribute."""
    built = node(
        '<if id="i"><condition> a &lt; 2 &amp;&amp; b </condition><then/></if>'
    )
    assert isinstance(built, n.IfNode)
    assert built.condition == "a < 2 && b"
    assert (built.then, built.else_) == ((), ())


def test_node_directly_under_if_is_an_error() -> None:
    """A node element placed directly under <if> is reported, not silently dropped."""
    result = parse('<if id="i" condition="true">\n  <set var="x" value="1"/>\n</if>')
    found = only(result.diagnostics, ErrorCode.VALID_UNKNOWN_FIELD)
    assert found.severity is Severity.ERROR
    assert found.message == "unexpected <set> inside <if>"
    assert (found.line, found.column) == (BODY_LINE + 1, 3)
    assert found.hints == ("Put nodes inside <then> or <else>",)


def test_branch_cases_and_default() -> None:
    """Each <case when> becomes a Case with its body; <default> is the default body."""
    built = node(
        '<branch id="b" input="src">'
        '<case when="x == 1"><set var="one" value="1"/></case>'
        '<case when=" x == 2 "><set var="two" value="2"/></case>'
        '<default><set var="other" value="0"/></default>'
        '</branch><source id="src" type="file" path="p"/>'
    )
    assert isinstance(built, n.BranchNode)
    assert [(case.when, ids(case.body)) for case in built.cases] == [
        ("x == 1", ["one"]),
        ("x == 2", ["two"]),
    ]
    assert built.default is not None
    assert ids(built.default) == ["other"]
    assert ids(built.children()) == ["one", "two", "other"]


def test_branch_without_default() -> None:
    """A branch without <default> has default None."""
    built = node('<branch id="b"><case when="true"/></branch>')
    assert isinstance(built, n.BranchNode)
    assert built.default is None


# --- loops --------------------------------------------------------------------------


def test_loop_max_break_and_body() -> None:
    """<loop> keeps max as an int, break as a bare expression, and its body."""
    built = node(
        '<loop id="l" max="5" break="$iteration &gt;= 2"><set var="a" value="1"/></loop>'
    )
    assert isinstance(built, n.LoopNode)
    assert (built.max, built.break_) == (5, "$iteration >= 2")
    assert ids(built.body) == ["a"]


def test_loop_without_exit_is_a_warning() -> None:
    """A loop with neither max nor break warns and is still built."""
    result = parse('<loop id="l"/>')
    found = only(result.diagnostics, ErrorCode.VALID_MISSING_REQUIRED_FIELD)
    assert found.severity is Severity.WARNING
    assert found.message == 'Loop node "l" has no exit condition (max or break)'
    assert result.workflow is not None
    built = result.workflow.nodes[0]
    assert isinstance(built, n.LoopNode)
    assert (built.max, built.break_) == (None, None)


def test_while_condition_max_and_body() -> None:
    """<while> keeps its condition, max and body."""
    built = node(
        '<while id="w" condition="x &lt; 3" max="7"><set var="a" value="1"/></while>'
    )
    assert isinstance(built, n.WhileNode)
    assert (built.condition, built.max, ids(built.body)) == ("x < 3", 7, ["a"])


def test_while_without_max_is_a_warning() -> None:
    """A while without max warns that it fails after 1000 iterations."""
    result = parse('<while id="w" condition="true"/>')
    found = only(result.diagnostics, ErrorCode.VALID_MISSING_REQUIRED_FIELD)
    assert found.severity is Severity.WARNING
    assert (
        found.message == 'While node "w" has no "max"; it fails after 1000 iterations'
    )
    assert result.workflow is not None
    built = result.workflow.nodes[0]
    assert isinstance(built, n.WhileNode)
    assert built.max is None


def test_foreach_fields() -> None:
    """<foreach> keeps collection, item and index names, concurrency and body."""
    built = node(
        '<foreach id="f" collection="$input.rows" item="row" index="i" concurrency="4">'
        '<set var="a" value="{{ row }}"/></foreach>'
    )
    assert isinstance(built, n.ForeachNode)
    assert (built.collection, built.item, built.index, built.concurrency) == (
        "$input.rows",
        "row",
        "i",
        4,
    )
    assert ids(built.body) == ["a"]


def test_foreach_defaults() -> None:
    """A foreach's item is ``item``, its index ``index`` and it runs one at a time."""
    built = node('<foreach id="f" collection="[1, 2]"/>')
    assert isinstance(built, n.ForeachNode)
    assert (built.item, built.index, built.concurrency) == ("item", "index", 1)


# --- parallel -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "wait", "count", "merge"),
    [
        pytest.param("", "all", None, None, id="defaults"),
        pytest.param('wait="all" merge="array"', "all", None, "array", id="all"),
        pytest.param('wait="any" merge="concat"', "any", None, "concat", id="any"),
        pytest.param('wait="n(2)" merge="object"', "n", 2, "object", id="n-of"),
        pytest.param(
            'merge="{...$branches[0]}"',
            "all",
            None,
            "{...$branches[0]}",
            id="merge-expr",
        ),
    ],
)
def test_parallel_wait_and_merge(
    attributes: str, wait: str, count: int | None, merge: str | None
) -> None:
    """wait is all, any or n with its count; merge is a strategy or an expression."""
    built = node(
        f'<parallel id="p" {attributes}><branch><set var="a" value="1"/></branch>'
        '<branch><set var="b" value="1"/><set var="c" value="1"/></branch></parallel>'
    )
    assert isinstance(built, n.ParallelNode)
    assert (built.wait, built.wait_count, built.merge) == (wait, count, merge)
    assert [ids(branch) for branch in built.branches] == [["a"], ["b", "c"]]


@pytest.mark.parametrize(
    ("wait", "message"),
    [
        pytest.param(
            "some",
            '<parallel> wait must be "all", "any" or "n(N)", got \'some\'',
            id="word",
        ),
        pytest.param(
            "n(²)",
            '<parallel> wait must be "all", "any" or "n(N)", got \'n(²)\'',
            id="superscript-digit",
        ),
        pytest.param(
            "n(3)", "<parallel> waits for 3 branches but has 2", id="too-many"
        ),
    ],
)
def test_parallel_bad_wait(wait: str, message: str) -> None:
    """A bad wait is VALID_INVALID_FIELD_TYPE (never an exception)."""
    result = parse(f'<parallel id="p" wait="{wait}"><branch/><branch/></parallel>')
    assert (
        only(result.diagnostics, ErrorCode.VALID_INVALID_FIELD_TYPE).message == message
    )


# --- checkpoint ---------------------------------------------------------------------


def test_checkpoint_with_prompt_attribute_and_actions() -> None:
    """A checkpoint keeps prompt, timeout (plain number = seconds), default and actions."""
    built = node(
        '<checkpoint id="c" prompt="Ship it?" timeout="30" default="later" '
        'allow-input="true">'
        '<action id="later" label="Ask me later" goto="wait"/><action id="skip"/>'
        '</checkpoint><delay id="wait" duration="1s"/>'
    )
    assert isinstance(built, n.CheckpointNode)
    assert (built.prompt, built.wait_ms, built.default, built.allow_input) == (
        "Ship it?",
        30_000.0,
        "later",
        True,
    )
    assert [(a.id, a.label, a.goto) for a in built.actions] == [
        ("later", "Ask me later", "wait"),
        ("skip", "skip", None),
    ]
    assert built.condition is None
    assert built.timeout_ms is None


def test_checkpoint_prompt_and_condition_children() -> None:
    """<prompt> and <condition> children are read as text (entities decoded)."""
    built = node(
        '<checkpoint id="c" timeout="2m"><prompt> Ship {{ $input.n }}? </prompt>'
        "<condition>$input.n &gt; 2</condition></checkpoint>"
    )
    assert isinstance(built, n.CheckpointNode)
    assert (built.prompt, built.condition, built.wait_ms) == (
        "Ship {{ $input.n }}?",
        "$input.n > 2",
        120_000.0,
    )
    assert built.allow_input is False


@pytest.mark.parametrize(
    ("timeout", "wait_ms"),
    [
        pytest.param("30", 30_000.0, id="seconds"),
        pytest.param("1.5", 1_500.0, id="decimal-seconds"),
        pytest.param("500ms", 500.0, id="milliseconds"),
        pytest.param("PT1M", 60_000.0, id="iso"),
    ],
)
def test_checkpoint_timeout(timeout: str, wait_ms: float) -> None:
    """A checkpoint timeout without unit is seconds; with a unit it is a duration."""
    built = node(f'<checkpoint id="c" prompt="p" timeout="{timeout}"/>')
    assert isinstance(built, n.CheckpointNode)
    assert built.wait_ms == wait_ms


def test_checkpoint_default_must_name_an_action() -> None:
    """A default that is neither approve, reject nor an action id is an error."""
    result = parse('<checkpoint id="c" prompt="p" default="later"/>')
    found = only(result.diagnostics, ErrorCode.VALID_INVALID_FIELD_TYPE)
    assert found.message == "<checkpoint> default 'later' is not one of its actions"
    assert found.hints == ("Actions: approve, reject",)


@pytest.mark.parametrize("default", ["approve", "reject"])
def test_checkpoint_default_approve_or_reject(default: str) -> None:
    """approve and reject are always valid defaults."""
    built = node(f'<checkpoint id="c" prompt="p" default="{default}"/>')
    assert isinstance(built, n.CheckpointNode)
    assert built.default == default


# --- phase, context, set, delay, timeout, include, call ----------------------------


def test_phase_id_comes_from_name() -> None:
    """A phase's id is its name; its children are its body."""
    built = node('<phase name="load"><set var="a" value="1"/></phase>')
    assert isinstance(built, n.PhaseNode)
    assert (built.id, ids(built.body)) == ("load", ["a"])


def test_context_entries() -> None:
    """<set key value> (or var) entries of a context are kept in order."""
    built = node(
        '<context id="ctx"><set key="a" value="1"/><set var="b" value="{{ 2 }}"/>'
        '<set key="c"/></context>'
    )
    assert isinstance(built, n.ContextNode)
    assert [(e.key, e.value) for e in built.entries] == [
        ("a", "1"),
        ("b", "{{ 2 }}"),
        ("c", ""),
    ]


def test_set_id_comes_from_var() -> None:
    """A <set>'s id is its var; value defaults to the empty text."""
    flow = workflow('<set var="total" value="{{ 1 + 2 }}"/><set var="empty"/>')
    built, empty = flow.nodes
    assert isinstance(built, n.SetNode)
    assert isinstance(empty, n.SetNode)
    assert (built.id, built.value) == ("total", "{{ 1 + 2 }}")
    assert (empty.id, empty.value) == ("empty", "")


@pytest.mark.parametrize(
    ("duration", "ms"),
    [
        pytest.param("500", 500.0, id="plain-number-ms"),
        pytest.param("1.5s", 1500.0, id="seconds"),
        pytest.param("1h30m", 5_400_000.0, id="compound"),
        pytest.param("PT1M30S", 90_000.0, id="iso"),
    ],
)
def test_delay_duration(duration: str, ms: float) -> None:
    """A delay's duration is read in milliseconds."""
    built = node(f'<delay id="d" duration="{duration}"/>')
    assert isinstance(built, n.DelayNode)
    assert built.duration_ms == ms


def test_timeout_node() -> None:
    """<timeout> keeps duration, on-timeout target and its body."""
    built = node(
        '<timeout id="t" duration="30s" on-timeout="late"><set var="a" value="1"/>'
        '</timeout><set var="late" value="1"/>'
    )
    assert isinstance(built, n.TimeoutNode)
    assert (built.duration_ms, built.on_timeout, ids(built.body)) == (
        30_000.0,
        "late",
        ["a"],
    )
    assert built.on_timeout_span is not None


def test_include_bindings() -> None:
    """<include> keeps its workflow path and <bind key value> bindings."""
    built = node(
        '<include id="inc" workflow="./sub.flow.md"><bind key="a" value="{{ 1 }}"/>'
        '<bind key="b" value="text"/></include>'
    )
    assert isinstance(built, n.IncludeNode)
    assert built.workflow == "./sub.flow.md"
    assert dict(built.bindings) == {"a": "{{ 1 }}", "b": "text"}
    assert built.label == "include:./sub.flow.md"


def test_call_args_are_every_other_attribute() -> None:
    """Every attribute of <call> except id, workflow and input is an argument."""
    built = node(
        '<set var="d"/><call id="c" workflow="./sub.flow.md" input="d" '
        'limit="{{ 5 }}" mode="fast" timeout="3s"/>',
        "c",
    )
    assert isinstance(built, n.CallNode)
    assert built.workflow == "./sub.flow.md"
    assert dict(built.args) == {"limit": "{{ 5 }}", "mode": "fast", "timeout": "3s"}
    assert built.timeout_ms is None


# --- on-error -----------------------------------------------------------------------


def test_on_error_retry_and_fallback() -> None:
    """<on-error> gives a RetrySpec with every setting and the fallback node."""
    built = node(
        '<source id="a" type="file" path="p"><on-error>'
        '<retry max="5" backoff="linear" base="200ms" cap="10s" jitter="none" '
        'when="$error.status == 429"/><fallback node="b"/></on-error></source>'
        '<source id="b" type="file" path="q"/>'
    )
    assert built.on_error is not None
    retry = built.on_error.retry
    assert retry is not None
    assert (
        retry.max,
        retry.backoff,
        retry.base_ms,
        retry.cap_ms,
        retry.jitter,
        retry.when,
    ) == (5, "linear", 200.0, 10_000.0, False, "$error.status == 429")
    assert built.on_error.fallback == "b"
    assert built.on_error.fallback_span is not None


def test_retry_defaults() -> None:
    """An empty <retry/> retries 3 times, exponentially, from 1 s up to 32 s, with jitter."""
    built = node('<loop id="l" max="1"><on-error><retry/></on-error></loop>')
    assert built.on_error is not None
    assert built.on_error.retry is not None
    retry = built.on_error.retry
    assert (
        retry.max,
        retry.backoff,
        retry.base_ms,
        retry.cap_ms,
        retry.jitter,
        retry.when,
    ) == (3, "exponential", 1000.0, 32_000.0, True, None)
    assert isinstance(built, n.LoopNode)
    assert built.body == ()


@pytest.mark.parametrize("attribute", ["node", "ref"])
def test_fallback_by_node_or_ref(attribute: str) -> None:
    """<fallback> names its node with ``node`` or ``ref``."""
    built = node(
        f'<set var="a"><on-error><fallback {attribute}="b"/></on-error></set>'
        '<set var="b"/>'
    )
    assert built.on_error is not None
    assert (built.on_error.retry, built.on_error.fallback) == (None, "b")


def test_retry_bad_backoff_is_an_error() -> None:
    """An unknown backoff is reported at the attribute and replaced by exponential."""
    result = parse('<set var="a"><on-error><retry backoff="random"/></on-error></set>')
    found = only(result.diagnostics, ErrorCode.VALID_INVALID_FIELD_TYPE)
    assert found.message == (
        "<retry> backoff must be exponential, linear or fixed, got 'random'"
    )


# --- input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "refs"),
    [
        pytest.param("a", [("a", ())], id="one"),
        pytest.param("a, b", [("a", ()), ("b", ())], id="two"),
        pytest.param("a,b", [("a", ()), ("b", ())], id="two-without-space"),
        pytest.param("a.output", [("a", ())], id="output"),
        pytest.param("a.output.items", [("a", ("items",))], id="path"),
        pytest.param(
            "a.output.items.first, b",
            [("a", ("items", "first")), ("b", ())],
            id="mixed",
        ),
    ],
)
def test_input_forms(written: str, refs: list[tuple[str, tuple[str, ...]]]) -> None:
    """input= gives one InputRef per reference, with the path after ``output``."""
    built = node(f'<set var="a"/><set var="b"/><set var="c" input="{written}"/>', "c")
    assert built.input is not None
    assert [(ref.node, ref.path) for ref in built.input.refs] == refs
    assert built.input.text == written
    assert built.input.is_multi is (len(refs) > 1)


def test_input_ref_spans_point_at_each_id() -> None:
    """Each reference of input= is located at its own characters."""
    text_line = '<set var="c" input="a, bb.output.x"/>'
    built = node(f'<set var="a"/><set var="bb"/>\n{text_line}', "c")
    assert built.input is not None
    spans = [(ref.span.line, ref.span.column) for ref in built.input.refs]
    assert spans == [
        (BODY_LINE + 1, text_line.index("a,") + 1),
        (BODY_LINE + 1, text_line.index("bb") + 1),
    ]


def test_empty_input_reference_is_an_error() -> None:
    """A trailing comma in input= is VALID_UNDEFINED_NODE_REF; the rest is kept."""
    result = parse('<set var="a"/><set var="c" input="a,"/>')
    found = only(result.diagnostics, ErrorCode.VALID_UNDEFINED_NODE_REF)
    assert found.message == "Node input 'a,' has an empty reference"
    assert result.workflow is not None
    built = result.workflow.nodes[1]
    assert built.input is not None
    assert [ref.node for ref in built.input.refs] == ["a"]


# --- per-node timeout ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "timeout_ms"),
    [
        pytest.param(
            '<source id="x" type="file" path="p" timeout="5s"/>', 5000.0, id="file"
        ),
        pytest.param('<set var="x" timeout="250"/>', 250.0, id="set-plain-ms"),
        pytest.param(
            '<source id="x" url="http://h" timeout="2m"/>', 120_000.0, id="http"
        ),
        pytest.param(
            '<source id="x" url="http://h"><timeout>3s</timeout></source>',
            3000.0,
            id="http-child",
        ),
        pytest.param('<ai id="x" model="m" timeout="PT10S"/>', 10_000.0, id="ai"),
        pytest.param('<set var="x"/>', None, id="absent"),
    ],
)
def test_node_timeout(element: str, timeout_ms: float | None) -> None:
    """A node's timeout attribute is read as a duration in milliseconds."""
    assert node(element).timeout_ms == timeout_ms


@pytest.mark.parametrize(
    "element",
    [
        pytest.param('<source id="x" type="file" path="p" timeout="soon"/>', id="file"),
        pytest.param('<source id="x" url="http://h" timeout="soon"/>', id="http"),
        pytest.param('<ai id="x" model="m" timeout="soon"/>', id="ai"),
    ],
)
def test_bad_node_timeout_is_reported_once(element: str) -> None:
    """A bad timeout is one VALID_INVALID_FIELD_TYPE, whoever reads it."""
    result = parse(element)
    assert codes(result.diagnostics) == ["VALID_INVALID_FIELD_TYPE"]
    assert result.workflow is not None
    assert result.workflow.nodes[0].timeout_ms is None


# --- spans, nesting, walk -----------------------------------------------------------


def test_spans_are_start_tags() -> None:
    """A node's span covers its start tag, with 1-based line and column."""
    flow = workflow(
        '<source id="a" type="file" path="p"/>\n'
        '  <phase name="ph">\n'
        '    <set var="deep"\n         value="1"/>\n'
        "  </phase>"
    )
    spans = {
        item.id: (item.span.line, item.span.column, item.span.end.line)
        for item in flow.walk()
    }
    assert spans == {
        "a": (BODY_LINE, 1, BODY_LINE),
        "ph": (BODY_LINE + 1, 3, BODY_LINE + 1),
        "deep": (BODY_LINE + 2, 5, BODY_LINE + 3),
    }


def test_nodes_nest_inside_phase_and_timeout() -> None:
    """Phase and timeout bodies hold nested nodes, control blocks included."""
    flow = workflow(
        '<phase name="outer"><timeout id="t" duration="1s">'
        '<if id="i" condition="true"><then><set var="x"/></then></if>'
        "</timeout></phase>"
    )
    outer = flow.nodes[0]
    assert isinstance(outer, n.PhaseNode)
    (inner,) = outer.body
    assert isinstance(inner, n.TimeoutNode)
    (branch,) = inner.body
    assert isinstance(branch, n.IfNode)
    assert ids(branch.then) == ["x"]
    assert flow.node_ids() == {"outer", "t", "i", "x"}


def test_walk_order_is_document_order_parents_first() -> None:
    """walk() yields parents before children, in document order, through every kind."""
    flow = workflow(
        '<set var="a"/>'
        '<if id="b" condition="true"><then><set var="c"/></then>'
        '<else><set var="d"/></else></if>'
        '<branch id="e"><case when="1"><set var="f"/></case>'
        '<default><set var="g"/></default></branch>'
        '<parallel id="h"><branch><set var="i"/></branch><branch><set var="j"/>'
        "</branch></parallel>"
        '<loop id="k" max="1"><phase name="l"><set var="m"/></phase></loop>'
        '<set var="n"/>'
    )
    assert [item.id for item in flow.walk()] == list("abcdefghijklmn")
    assert ids(flow.nodes) == ["a", "b", "e", "h", "k", "n"]


# --- identifiers, unknown attributes and tags ---------------------------------------


@pytest.mark.parametrize(
    ("element", "hint"),
    [
        pytest.param(
            '<set vlaue="1" var="s"/>', "Did you mean 'value'?", id="set-value"
        ),
        pytest.param(
            '<loop id="l" max="1" brake="x"/>', "Did you mean 'break'?", id="loop-break"
        ),
        pytest.param(
            '<foreach id="f" collection="[]" items="x"/>',
            "Did you mean 'item'?",
            id="foreach-item",
        ),
    ],
)
def test_unknown_attribute_warns_with_did_you_mean(element: str, hint: str) -> None:
    """An unknown attribute is a located warning whose first hint is the closest name."""
    result = parse(element)
    found = only(result.diagnostics, ErrorCode.VALID_UNKNOWN_FIELD)
    assert found.severity is Severity.WARNING
    assert found.hints[0] == hint
    assert found.hints[1].startswith("Known attributes: ")
    name = found.message.split("'")[1]
    assert found.column == element.index(f" {name}=") + 2


@pytest.mark.parametrize(
    ("element", "hint"),
    [
        pytest.param(
            '<source type="file" path="p"/>',
            'Add id="unique-id" to the <source> element',
            id="source",
        ),
        pytest.param(
            '<phase><set var="a"/></phase>',
            'Add name="phase-name" to the <phase> element',
            id="phase",
        ),
        pytest.param(
            '<set value="1"/>', 'Add var="variable-name" to the <set> element', id="set"
        ),
    ],
)
def test_missing_identifier(element: str, hint: str) -> None:
    """A node without identifier is VALID_MISSING_REQUIRED_FIELD with the original's hint."""
    result = parse(element)
    found = only(result.diagnostics, ErrorCode.VALID_MISSING_REQUIRED_FIELD)
    tag = element[1:].split()[0].split(">")[0]
    assert found.message == f"<{tag}> requires an identifier attribute"
    assert found.hints == (hint,)


def test_unknown_node_type_suggests_a_tag() -> None:
    """An unknown element is VALID_UNKNOWN_NODE_TYPE with a did-you-mean hint."""
    result = parse('<soruce id="a"/>')
    found = only(result.diagnostics, ErrorCode.VALID_UNKNOWN_NODE_TYPE)
    assert found.message == "Unknown node type: soruce"
    assert found.hints[0] == "Did you mean <source>?"
