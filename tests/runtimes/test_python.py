"""Python nodes: functions next to the flow or installed, sync in a thread, async awaited."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path

import anyio

from maidit_jupyter.execution.executor import RunOptions, execute
from maidit_jupyter.execution.state import NodeStatus, RunRecord, RunStatus
from maidit_jupyter.validation.validator import check_document

HELPERS = textwrap.dedent(
    """
    import threading

    def numbers():
        return [3, 1, 2]

    def scale(items, factor="1"):
        return {"values": [x * int(factor) for x in items],
                "thread": threading.current_thread().name}

    async def total(data):
        return sum(data["values"])

    def broken(data):
        raise ValueError("bad data")

    class Opaque:
        pass

    def opaque(data):
        return Opaque()
    """
)


def run_flow(tmp_path: Path, body: str) -> RunRecord:
    (tmp_path / "helpers.py").write_text(HELPERS)
    text = f"---\nname: py\nversion: 1.0.0\n---\n<workflow>\n{body}\n</workflow>\n"
    checked = check_document(text, path="py.flow.md")
    workflow, plan = checked.workflow, checked.plan
    assert workflow is not None
    assert plan is not None, [str(d) for d in checked.report.errors]
    return anyio.run(lambda: execute(workflow, plan, RunOptions(base_dir=tmp_path)))


def test_source_transform_and_sink_call_functions(tmp_path: Path) -> None:
    """A local module's functions run: sync ones in a worker thread, async ones awaited."""
    record = run_flow(
        tmp_path,
        '<source id="nums" type="python" function="helpers:numbers"/>\n'
        '<transform id="scaled" type="python" input="nums" function="helpers:scale">'
        '<arg name="factor" value="{{ 2 + 1 }}"/></transform>\n'
        '<sink id="sum" type="python" input="scaled" function="helpers:total"/>\n'
        '<transform id="json" type="python" input="nums" function="json:dumps"/>',
    )
    assert record.status is RunStatus.COMPLETED, record.error
    scaled = record.results["scaled"].output
    assert scaled["values"] == [9, 3, 6]
    assert scaled["thread"] != threading.current_thread().name
    assert record.results["sum"].output == 18
    assert record.results["json"].output == "[3, 1, 2]"


def test_failures_are_node_errors(tmp_path: Path) -> None:
    """A raising function, a missing module or function, and var= outside a notebook."""
    record = run_flow(
        tmp_path,
        '<transform id="boom" type="python" function="helpers:broken"/>\n'
        '<transform id="nomod" type="python" function="not_a_module_xyz:f"/>\n'
        '<transform id="nofn" type="python" function="helpers:missing"/>\n'
        '<source id="var" type="python" var="df"/>\n'
        '<transform id="odd" type="python" function="helpers:opaque"/>',
    )
    errors = {k: r.error for k, r in record.results.items() if r.error is not None}
    assert errors["boom"].code == "RUNTIME_PYTHON_ERROR"
    assert errors["boom"].message == "helpers:broken raised ValueError: bad data"
    assert errors["nomod"].code == errors["nofn"].code == "RUNTIME_PYTHON_IMPORT"
    assert errors["var"].code == "RUNTIME_UNSUPPORTED"
    assert record.results["odd"].status is NodeStatus.SUCCESS
    assert type(record.results["odd"].output).__name__ == "Opaque"


def test_a_changed_module_next_to_the_flow_is_read_again(tmp_path: Path) -> None:
    """Fix a function and run again in the same process: the fixed code runs (a
    notebook user editing ``helpers.py`` and resuming must not get the old one)."""
    body = '<source id="n" type="python" function="helpers:numbers"/>'
    assert run_flow(tmp_path, body).results["n"].output == [3, 1, 2]
    helpers = tmp_path / "helpers.py"
    text = HELPERS.replace("return [3, 1, 2]", "return [4, 5, 6, 7]")
    body_flow = f"---\nname: py\nversion: 1.0.0\n---\n<workflow>\n{body}\n</workflow>\n"
    checked = check_document(body_flow, path="py.flow.md")
    workflow, plan = checked.workflow, checked.plan
    assert workflow is not None
    assert plan is not None

    def again() -> RunRecord:
        return anyio.run(lambda: execute(workflow, plan, RunOptions(base_dir=tmp_path)))

    helpers.write_text(text)
    assert again().results["n"].output == [4, 5, 6, 7]
    helpers.write_text(text + "\ndef oops(:\n")  # a broken edit fails the node...
    broken = again().results["n"]
    assert broken.status is NodeStatus.FAILED
    assert broken.error is not None
    assert "SyntaxError" in broken.error.message
    helpers.write_text(text.replace("[4, 5, 6, 7]", "[8]"))  # ...and its fix runs
    assert again().results["n"].output == [8]
