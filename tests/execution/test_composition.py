"""<include> and <call> run other flows: paths, bindings, config, cycles, child runs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import maidit_jupyter
from maidit_jupyter import FlowRun, NodeStatus, RunStatus
from maidit_jupyter.cli.main import main
from maidit_jupyter.execution.state import RunRecord
from maidit_jupyter.expressions.values import UNDEFINED
from tests.runs import run_cancelled_after


def write(path: Path, body: str, *, name: str = "flow", front: str = "") -> Path:
    """A flow file at ``path`` (parents created) with ``body`` in its workflow."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"---\nname: {name}\nversion: 1.0.0\n{front}---\n<workflow>\n"
        f"{body}\n</workflow>\n"
    )
    return path


def template(node_id: str, text: str, extra: str = "") -> str:
    return (
        f'<transform id="{node_id}" type="template"{extra}><template>{text}'
        "</template></transform>"
    )


def expression(node_id: str, text: str) -> str:
    """A node whose output is the (typed) value of ``text``."""
    return f'<set var="{node_id}" value="{{{{ {text} }}}}"/>'


def run(flow: Path, **options: object) -> FlowRun:
    return maidit_jupyter.run_sync(flow, checkpoint=False, **options)


def child_of(flow_run: FlowRun, node_id: str) -> RunRecord:
    child = flow_run.results[node_id].child
    assert child is not None
    return child


def error_of(flow_run: FlowRun, node_id: str) -> tuple[str, str]:
    error = flow_run.results[node_id].error
    assert error is not None, flow_run.results[node_id]
    return error.code, error.message


# -- include -------------------------------------------------------------------------


def test_include_passes_typed_bindings_and_the_input(tmp_path: Path) -> None:
    """Bindings arrive typed ($vars and bare names); input is the node's input."""
    write(
        tmp_path / "child.flow.md",
        expression("kinds", "[typeof(nums), length(nums), $vars.label, $input.n]")
        + "\n"
        + template("joined", "{{ label }}: {{ nums }} from {{ input.n }}"),
        name="child",
    )
    parent = write(
        tmp_path / "parent.flow.md",
        '<include id="inc" workflow="./child.flow.md">'
        '<bind key="nums" value="{{ [1, 2] }}"/><bind key="label" value="L"/>'
        "</include>",
    )
    flow_run = run(parent, workflow_input={"n": 7})
    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    child = child_of(flow_run, "inc")
    assert child.status is RunStatus.COMPLETED
    assert child.workflow == "child"
    assert child.results["kinds"].output == ["array", 2, "L", 7]
    # the node's output: the child's last success output (the original's rule)
    assert flow_run.outputs["inc"] == "L: [1,2] from 7"


def test_include_sees_the_parent_config_over_the_child_defaults(
    tmp_path: Path,
) -> None:
    write(
        tmp_path / "child.flow.md",
        template("t", "{{ $config.mode }}/{{ $config.extra }}"),
        name="child",
        front="config:\n  mode:\n    type: string\n    default: child\n"
        "  extra:\n    type: number\n    default: 3\n",
    )
    parent = write(
        tmp_path / "parent.flow.md",
        '<include id="inc" workflow="child.flow.md"/>',
        front="config:\n  mode:\n    type: string\n    default: parent\n",
    )
    assert run(parent).outputs["inc"] == "parent/3"


def test_include_input_comes_from_the_nodes_input(tmp_path: Path) -> None:
    write(tmp_path / "child.flow.md", template("t", "got {{ $input }}"), name="c")
    parent = write(
        tmp_path / "parent.flow.md",
        template("first", "A")
        + '\n<include id="inc" workflow="child.flow.md" input="first"/>\n'
        + template("after", "{{ input }}!", ' input="inc"'),
    )
    flow_run = run(parent)
    assert flow_run.outputs["inc"] == "got A"
    assert flow_run.outputs["after"] == "got A!"


def test_paths_resolve_against_the_including_flows_directory(tmp_path: Path) -> None:
    """A child in a subdirectory includes its sibling by plain name; ../ is allowed."""
    write(tmp_path / "lib" / "leaf.flow.md", template("t", "leaf"), name="leaf")
    write(
        tmp_path / "lib" / "mid.flow.md",
        '<include id="leaf" workflow="leaf.flow.md"/>\n'
        + template("up", "{{ leaf.output }}+", ' input="leaf"'),
        name="mid",
    )
    write(tmp_path / "shared" / "s.flow.md", template("t", "shared"), name="s")
    write(
        tmp_path / "lib" / "sibling.flow.md",
        '<include id="s" workflow="../shared/s.flow.md"/>',
        name="sibling",
    )
    parent = write(
        tmp_path / "app" / "parent.flow.md",
        '<include id="mid" workflow="../lib/mid.flow.md"/>\n'
        '<call id="sib" workflow="../lib/sibling.flow.md"/>',
    )
    flow_run = run(parent)
    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    assert flow_run.outputs["mid"] == "leaf+"
    assert flow_run.outputs["sib"] == "shared"
    nested = child_of(flow_run, "mid").results["leaf"].child
    assert nested is not None
    assert nested.results["t"].output == "leaf"


def test_a_computed_path_may_not_leave_the_flows_directory(tmp_path: Path) -> None:
    write(tmp_path / "outside.flow.md", template("t", "x"), name="outside")
    parent = write(
        tmp_path / "app" / "parent.flow.md",
        '<include id="inc" workflow="{{ $input.where }}"/>',
    )
    flow_run = run(parent, workflow_input={"where": "../outside.flow.md"})
    assert flow_run.status is RunStatus.FAILED
    assert error_of(flow_run, "inc")[0] == "RUNTIME_PATH_TRAVERSAL"
    write(tmp_path / "app" / "inside.flow.md", template("t", "in"), name="inside")
    ok = run(parent, workflow_input={"where": "inside.flow.md"})
    assert ok.outputs["inc"] == "in"


def test_a_missing_child_fails_with_enoent(tmp_path: Path) -> None:
    parent = write(
        tmp_path / "parent.flow.md",
        '<include id="inc" workflow="./nope.flow.md"/>\n'
        + template("after", "x", ' input="inc"'),
    )
    flow_run = run(parent)
    assert flow_run.status is RunStatus.FAILED
    code, message = error_of(flow_run, "inc")
    assert code == "ENOENT"
    assert "nope.flow.md" in message
    assert flow_run.results["inc"].child is None
    assert flow_run.results["after"].status is NodeStatus.SKIPPED


def test_an_invalid_child_names_its_diagnostics_with_line_and_column(
    tmp_path: Path,
) -> None:
    write(
        tmp_path / "bad.flow.md",
        template("t", "{{ nosuchnode.output }}", ' input="ghost"'),
        name="bad",
    )
    parent = write(tmp_path / "parent.flow.md", '<call id="c" workflow="bad.flow.md"/>')
    flow_run = run(parent)
    code, message = error_of(flow_run, "c")
    assert code == "RUNTIME_INCLUDE_INVALID"
    assert "bad.flow.md:6:" in message  # path:line:col of the first diagnostic
    assert "VALID_UNDEFINED_NODE_REF" in message
    write(tmp_path / "broken.flow.md", "<transform id=", name="broken")
    parent.write_text(parent.read_text().replace("bad.flow.md", "broken.flow.md"))
    code, message = error_of(run(parent), "c")
    assert code == "RUNTIME_INCLUDE_INVALID"
    assert "broken.flow.md:" in message


def test_an_unknown_notebook_cell_is_a_clear_failure(tmp_path: Path) -> None:
    """Outside a notebook no cell ran: cell:NAME names what is missing."""
    parent = write(tmp_path / "p.flow.md", '<include id="inc" workflow="cell:prep"/>')
    code, message = error_of(run(parent), "inc")
    assert code == "ENOENT"
    assert "no %%flow cell named 'prep' has run in this kernel" in message


# -- call ----------------------------------------------------------------------------

CHILD_CONFIG = (
    "config:\n"
    "  limit:\n    type: number\n    default: 2\n"
    "  mode:\n    type: string\n    default: fast\n    enum: [fast, slow]\n"
)


def test_call_uses_the_childs_config_defaults(tmp_path: Path) -> None:
    write(
        tmp_path / "child.flow.md",
        template("t", "{{ $config.limit }} {{ $config.mode }} {{ typeof(extra) }}"),
        name="child",
        front=CHILD_CONFIG,
    )
    parent = write(
        tmp_path / "parent.flow.md",
        '<call id="c" workflow="child.flow.md"/>',
        front="config:\n  limit:\n    type: number\n    default: 99\n",
    )
    assert run(parent).outputs["c"] == "2 fast undefined"


def test_call_args_override_the_defaults_typed(tmp_path: Path) -> None:
    write(
        tmp_path / "child.flow.md",
        expression("t", "[$config.limit, $config.mode, extra, limit]"),
        name="child",
        front=CHILD_CONFIG,
    )
    parent = write(
        tmp_path / "parent.flow.md",
        '<call id="typed" workflow="child.flow.md" limit="{{ 1 + 4 }}" mode="slow" '
        'extra="{{ {a: 1} }}"/>\n'
        '<call id="literal" workflow="child.flow.md" limit="7"/>',
    )
    flow_run = run(parent)
    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    assert flow_run.outputs["typed"] == [5, "slow", {"a": 1}, 5]
    # a literal argument for a number key is read as JSON, like --config
    assert flow_run.outputs["literal"] == [7, "fast", UNDEFINED, "7"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ('limit="many"', "config 'limit' must be a number"),
        ('limit="{{ &apos;3&apos; }}"', "config 'limit' must be a number"),
        ('mode="medium"', "config 'mode' must be one of 'fast', 'slow'"),
    ],
)
def test_call_args_of_the_wrong_type_fail_clearly(
    tmp_path: Path, args: str, expected: str
) -> None:
    write(tmp_path / "child.flow.md", template("t", "x"), name="c", front=CHILD_CONFIG)
    parent = write(
        tmp_path / "parent.flow.md", f'<call id="c" workflow="child.flow.md" {args}/>'
    )
    flow_run = run(parent)
    assert flow_run.status is RunStatus.FAILED
    code, message = error_of(flow_run, "c")
    assert code == "RUNTIME_CALL_CONFIG"
    assert expected in message
    assert "child.flow.md" in message


def test_a_required_config_key_without_argument_fails(tmp_path: Path) -> None:
    write(
        tmp_path / "child.flow.md",
        template("t", "{{ $config.who }}"),
        name="c",
        front="config:\n  who:\n    type: string\n    required: true\n",
    )
    parent = write(tmp_path / "p.flow.md", '<call id="c" workflow="child.flow.md"/>')
    code, message = error_of(run(parent), "c")
    assert code == "RUNTIME_CALL_CONFIG"
    assert "'who' is required" in message
    parent.write_text(parent.read_text().replace("/>", ' who="Ada"/>'))
    assert run(parent).outputs["c"] == "Ada"


# -- cycles and concurrency ----------------------------------------------------------


def test_a_cycle_along_the_call_stack_fails_with_the_chain(tmp_path: Path) -> None:
    a = write(tmp_path / "a.flow.md", '<include id="to-b" workflow="b.flow.md"/>')
    write(tmp_path / "b.flow.md", '<call id="to-a" workflow="./a.flow.md"/>', name="b")
    flow_run = run(a)
    assert flow_run.status is RunStatus.FAILED
    code, message = error_of(flow_run, "to-b")
    assert code == "RUNTIME_INCLUDE_CYCLE"
    assert "a.flow.md → b.flow.md → a.flow.md" in message
    assert "in b.flow.md, node 'to-a'" in message
    inner = child_of(flow_run, "to-b")
    assert inner.results["to-a"].error is not None
    assert inner.results["to-a"].error.code == "RUNTIME_INCLUDE_CYCLE"


def test_a_flow_including_itself_is_a_cycle(tmp_path: Path) -> None:
    a = write(tmp_path / "a.flow.md", '<include id="me" workflow="a.flow.md"/>')
    code, message = error_of(run(a), "me")
    assert code == "RUNTIME_INCLUDE_CYCLE"
    assert "a.flow.md → a.flow.md" in message


def test_the_same_child_twice_at_once_is_no_cycle(tmp_path: Path) -> None:
    """One wave, parallel branches and foreach items run one child concurrently."""
    write(
        tmp_path / "child.flow.md",
        '<delay id="d" duration="50ms"/>\n' + template("t", "{{ tag }}", ' input="d"'),
        name="child",
    )
    parent = write(
        tmp_path / "parent.flow.md",
        '<include id="one" workflow="child.flow.md"><bind key="tag" value="1"/>'
        "</include>\n"
        '<include id="two" workflow="child.flow.md"><bind key="tag" value="2"/>'
        "</include>\n"
        '<parallel id="p"><branch>'
        '<call id="b1" workflow="child.flow.md" tag="b1"/></branch><branch>'
        '<call id="b2" workflow="child.flow.md" tag="b2"/></branch></parallel>\n'
        '<foreach id="each" collection="[1, 2, 3]" concurrency="3">'
        '<call id="item" workflow="child.flow.md" tag="{{ $item * 10 }}"/>'
        "</foreach>",
    )
    started = time.perf_counter()
    flow_run = run(parent)
    elapsed = time.perf_counter() - started
    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    assert flow_run.plan.waves[0] == ("one", "two", "p", "each")
    assert (flow_run.outputs["one"], flow_run.outputs["two"]) == ("1", "2")
    assert flow_run.outputs["p"] == ["b1", "b2"]
    assert flow_run.outputs["each"] == ["10", "20", "30"]
    assert elapsed < 1.5  # concurrent, not 7 × 50 ms in a row plus overhead


def test_cancelling_the_parent_cancels_the_child(tmp_path: Path) -> None:
    write(tmp_path / "child.flow.md", '<delay id="wait" duration="10s"/>', name="c")
    parent = write(tmp_path / "p.flow.md", '<call id="c" workflow="child.flow.md"/>')
    flow_run, elapsed = run_cancelled_after(parent, 0.2, checkpoint=False)
    assert elapsed < 2
    assert flow_run.status is RunStatus.CANCELLED
    assert flow_run.results["c"].status is NodeStatus.SKIPPED
    assert flow_run.results["c"].reason == "cancelled"


def test_a_node_timeout_cancels_the_child(tmp_path: Path) -> None:
    write(tmp_path / "child.flow.md", '<delay id="wait" duration="10s"/>', name="c")
    parent = write(
        tmp_path / "p.flow.md",
        '<include id="inc" workflow="child.flow.md" timeout="100ms"/>',
    )
    started = time.perf_counter()
    flow_run = run(parent)
    assert time.perf_counter() - started < 2
    assert error_of(flow_run, "inc")[0] == "RUNTIME_TIMEOUT"


# -- failures and results ------------------------------------------------------------


def test_a_failing_child_node_fails_the_include_with_its_error(
    tmp_path: Path,
) -> None:
    write(
        tmp_path / "sub" / "child.flow.md",
        template("ok", "fine")
        + '\n<source id="load" type="file" input="ok"><path>missing.json</path>'
        "</source>\n" + template("later", "x", ' input="load"'),
        name="child",
    )
    parent = write(
        tmp_path / "parent.flow.md",
        '<include id="inc" workflow="sub/child.flow.md"/>\n'
        + template("after", "x", ' input="inc"'),
    )
    flow_run = run(parent)
    assert flow_run.status is RunStatus.FAILED
    code, message = error_of(flow_run, "inc")
    assert code == "ENOENT"  # the child's code is kept
    assert message.startswith("in sub/child.flow.md, node 'load': ")
    assert flow_run.results["after"].status is NodeStatus.SKIPPED
    child = child_of(flow_run, "inc")
    assert child.status is RunStatus.FAILED
    assert child.results["ok"].status is NodeStatus.SUCCESS
    assert child.results["load"].status is NodeStatus.FAILED
    assert child.results["later"].status is NodeStatus.SKIPPED
    # the child's relative file paths resolve against the child's own directory
    (tmp_path / "sub" / "missing.json").write_text('{"v": 1}')
    fixed = run(parent)
    assert fixed.status is RunStatus.COMPLETED, fixed.error
    assert fixed.outputs["inc"] == "x"


def test_the_child_run_is_in_the_json_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(
        tmp_path / "child.flow.md",
        template("greet", "hi {{ who }}") + "\n" + expression("n", "$config.limit"),
        name="child",
        front=CHILD_CONFIG,
    )
    parent = write(
        tmp_path / "parent.flow.md",
        '<call id="c" workflow="child.flow.md" who="Ada" limit="{{ 4 }}"/>\n'
        + template("plain", "p"),
    )
    code = main(["run", str(parent), "--format", "json", "--no-log"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    node = report["nodes"]["c"]
    assert node["status"] == "success"
    assert node["output"] == 4
    assert "run" not in report["nodes"]["plain"]
    child = node["run"]
    assert child["workflow"] == "child"
    assert child["status"] == "completed"
    assert child["error"] is None
    assert set(child["nodes"]) == {"greet", "n"}
    assert child["nodes"]["greet"]["output"] == "hi Ada"
    assert set(child["nodes"]["greet"]) == set(report["nodes"]["plain"])


# -- secrets -------------------------------------------------------------------------


SECRET = "s3cr3t-VALUE-9f8e7d"


def test_call_resolves_the_childs_declared_secrets_from_the_environment(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHILD_TOKEN", SECRET)
    write(
        tmp_path / "child.flow.md",
        template("t", "token={{ $secrets.CHILD_TOKEN }}")
        + '\n<source id="load" type="file" input="t">'
        "<path>missing-{{ $secrets.CHILD_TOKEN }}.json</path></source>",
        name="child",
        front="secrets:\n  - CHILD_TOKEN\n",
    )
    parent = write(tmp_path / "p.flow.md", '<call id="c" workflow="child.flow.md"/>')
    flow_run = run(parent)
    child = child_of(flow_run, "c")
    assert child.results["t"].output == f"token={SECRET}"  # the child got the value
    assert flow_run.status is RunStatus.FAILED
    assert SECRET not in error_of(flow_run, "c")[1]  # FlowRun views are redacted
    assert SECRET not in json.dumps(flow_run.report())
    assert SECRET not in flow_run.log_markdown
    nested = child_of(flow_run, "c").results["load"].error
    assert nested is not None
    assert SECRET not in nested.message
    code = main(["run", str(parent), "--format", "json", "--no-log"])
    out = capsys.readouterr()
    assert code == 1
    assert SECRET not in out.out
    assert SECRET not in out.err
    assert "token=***" in out.out
    # a checkpoint never holds it either
    assert main(["run", str(parent), "--format", "json", "--no-log"]) == 1
    capsys.readouterr()
    stored = [p for p in (tmp_path / ".maidit-state").rglob("*") if p.is_file()]
    assert stored
    for state in stored:
        assert SECRET not in state.read_text(errors="replace")


def test_a_missing_child_secret_fails_the_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHILD_TOKEN", raising=False)
    write(
        tmp_path / "child.flow.md",
        template("t", "{{ $secrets.CHILD_TOKEN }}"),
        name="child",
        front="secrets:\n  - CHILD_TOKEN\n",
    )
    parent = write(tmp_path / "p.flow.md", '<call id="c" workflow="child.flow.md"/>')
    code, message = error_of(run(parent), "c")
    assert code == "RUNTIME_INCLUDE_SECRETS"
    assert "CHILD_TOKEN" in message


def test_include_shares_the_parents_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOKEN", raising=False)
    write(
        tmp_path / "child.flow.md",
        template("t", "{{ length($secrets.TOKEN) }}"),
        name="child",
        front="secrets:\n  - TOKEN\n",
    )
    parent = write(
        tmp_path / "p.flow.md",
        '<include id="inc" workflow="child.flow.md"/>',
        front="secrets:\n  - TOKEN\n",
    )
    flow_run = run(parent, secrets={"TOKEN": SECRET})
    assert flow_run.outputs["inc"] == str(len(SECRET))
