"""``%%flow`` through a real IPython InteractiveShell: run, options, errors in the cell."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from maidit_jupyter import FlowRun, RunStatus
from maidit_jupyter.notebook.cell import CellFlowError, CellInputError
from maidit_jupyter.notebook.panel import RunPanel

FLOW = """%%flow {line}
---
name: greet
version: 1.0.0
config:
  greeting:
    type: string
    default: Hello
---
<workflow>
  <transform id="who" type="template"><template>{{{{ $input.name }}}}</template></transform>
  <transform id="say" type="template" input="who"><template>{{{{ $config.greeting }}}}, {{{{ input }}}}!</template></transform>
</workflow>
"""


@pytest.fixture
def shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    monkeypatch.chdir(tmp_path)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "maidit_jupyter")
    yield ip
    ip.run_line_magic("unload_ext", "maidit_jupyter")
    InteractiveShell.clear_instance()


def cell(ip: InteractiveShell, line: str = "", text: str = FLOW) -> object:
    result = ip.run_cell(text.format(line=line))
    if result.error_in_exec is not None:
        raise result.error_in_exec
    if result.error_before_exec is not None:
        raise result.error_before_exec
    return result.result


def test_a_flow_cell_runs_and_its_value_is_the_run(shell: InteractiveShell) -> None:
    shell.user_ns["person"] = {"name": "Ada"}
    run = cell(shell, "--input person --out greeting_run -c greeting=Hi")
    assert isinstance(run, FlowRun)
    assert run.status is RunStatus.COMPLETED
    assert run.outputs.say == "Hi, Ada!"
    assert shell.user_ns["greeting_run"] is run
    assert "## Execution Log" in run._repr_markdown_()
    assert run.checkpoint_path is not None
    assert run.checkpoint_path.parent.parent.name == ".maidit-state"


def test_validate_and_plan_run_nothing(shell: InteractiveShell) -> None:
    assert cell(shell, "--validate") is None
    assert cell(shell, "--plan") is None
    assert not Path(".maidit-state").exists()


def test_errors_point_at_the_cell_line(shell: InteractiveShell) -> None:
    broken = FLOW.replace('input="who"', 'input="whom"')
    with pytest.raises(CellFlowError) as info:
        cell(shell, "", broken)
    rendered = "\n".join(info.value._render_traceback_())
    # line 1 of the cell is %%flow, so the <transform input="whom"> is on line 12
    assert "--> cell greet:12:" in rendered
    assert 'input="whom"' in rendered
    assert "Did you mean" in rendered


def test_bad_options_are_usage_errors(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError):
        cell(shell, "--no-such-option")
    with pytest.raises(UsageError, match="--input 'missing_name' failed"):
        cell(shell, "--input missing_name")
    with pytest.raises(CellInputError) as info:
        cell(shell, "-c greeting=5 -c nope=1")
    assert any("does not declare" in problem for problem in info.value.problems)


def test_configuration_and_the_runs_table(shell: InteractiveShell) -> None:
    shell.run_line_magic("config", "MaiditMagics.concurrency = 3")
    shell.run_line_magic("config", "MaiditMagics.state_dir = 'states'")
    run = cell(shell)
    assert isinstance(run, FlowRun)
    assert run.checkpoint_path is not None
    assert run.checkpoint_path.parent.parent.name == "states"
    table = shell.run_line_magic("maidit", "runs")
    assert "greet" in table.data
    log = shell.run_line_magic("maidit", "log")
    assert "## Execution Log" in log.data


SLOW = """%%flow {line}
---
name: slow
version: 1.0.0
---
<workflow>
  <delay id="wait" duration="{duration}"/>
  <transform id="done" type="template" input="wait"><template>done</template></transform>
</workflow>
"""


def test_background_returns_at_once_and_can_be_cancelled(
    shell: InteractiveShell,
) -> None:
    run = cell(shell, "--background --out job", SLOW.replace("{duration}", "20s"))
    assert isinstance(run, FlowRun)
    assert run.status is RunStatus.RUNNING
    assert shell.user_ns["job"] is run
    assert shell.run_line_magic("maidit", "cancel") == "cancelling 1 run(s)"
    shell.run_cell("await job.wait()")
    assert run.record is not None
    assert run.record.status is RunStatus.CANCELLED


HELPER = """%%flow shout
---
name: shouter
version: 1.0.0
---
<workflow>
  <transform id="loud" type="template"><template>{{ upper(word) }}!</template></transform>
</workflow>
"""

USER = """%%flow
---
name: user
version: 1.0.0
---
<workflow>
  <include id="inc" workflow="cell:shout"><bind key="word" value="hey"/></include>
</workflow>
"""


def test_a_cell_includes_another_cell_by_name(shell: InteractiveShell) -> None:
    assert cell(shell, "", HELPER.replace("{", "{{").replace("}", "}}")) is not None
    run = cell(shell, "", USER)
    assert isinstance(run, FlowRun)
    assert run.status is RunStatus.COMPLETED, run.error
    assert run.outputs["inc"] == "HEY!"


INTEROP = """%%flow
---
name: interop
version: 1.0.0
---
<workflow>
  <source id="raw" type="python" var="rows"/>
  <transform id="clean" type="python" input="raw" function="keep_adults">
    <arg name="limit" value="{{{{ 18 }}}}"/>
  </transform>
  <transform id="names" type="python" input="clean" function="names_async"/>
  <sink id="out" type="python" input="names" var="adult_names"/>
</workflow>
"""


def test_python_nodes_use_the_notebooks_variables_and_functions(
    shell: InteractiveShell,
) -> None:
    shell.run_cell(
        "rows = [{'name': 'Ada', 'age': 36}, {'name': 'Bo', 'age': 9}]\n"
        "def keep_adults(data, limit):\n"
        "    return [r for r in data if r['age'] >= limit]\n"
        "async def names_async(data):\n"
        "    return [r['name'] for r in data]\n"
    )
    run = cell(shell, "", INTEROP)
    assert isinstance(run, FlowRun)
    assert run.status is RunStatus.COMPLETED, run.error
    assert shell.user_ns["adult_names"] == ["Ada"]
    assert run.outputs["raw"] is shell.user_ns["rows"]  # by reference, not a copy
    missing = cell(shell, "", INTEROP.replace('var="rows"', 'var="nothing_here"'))
    assert isinstance(missing, FlowRun)
    error = missing.results["raw"].error
    assert error is not None
    assert error.message == "the notebook has no variable 'nothing_here'"


def test_a_run_resumes_with_the_notebooks_functions(shell: InteractiveShell) -> None:
    """A run whose python node failed resumes (``FlowRun.resume``, as the panel's
    Resume button does, and ``%maidit resume``) with the notebook's functions."""
    shell.run_cell(
        "rows = [{'name': 'Ada', 'age': 36}, {'name': 'Bo', 'age': 9}]\n"
        "calls = []\n"
        "def keep_adults(data, limit):\n"
        "    calls.append(limit)\n"
        "    if len(calls) == 1:\n"
        "        raise ValueError('not yet')\n"
        "    return [r for r in data if r['age'] >= limit]\n"
        "async def names_async(data):\n"
        "    return [r['name'] for r in data]\n"
    )
    first = cell(shell, "", INTEROP)
    assert isinstance(first, FlowRun)
    assert first.status is RunStatus.FAILED
    shell.user_ns["job"] = first
    outcome = shell.run_cell("resumed = await job.resume()")
    assert outcome.error_in_exec is None, outcome.error_in_exec
    resumed = shell.user_ns["resumed"]
    assert resumed.status is RunStatus.COMPLETED, resumed.error
    assert shell.user_ns["adult_names"] == ["Ada"]
    assert resumed.results["raw"].reused


def test_maidit_subcommands(shell: InteractiveShell, tmp_path: Path) -> None:
    """validate/plan/show for a cell by name, save it, a failing run resumed."""
    checked = HELPER.replace("%%flow shout", "%%flow shout --validate")
    assert cell(shell, "", checked.replace("{", "{{").replace("}", "}}")) is None
    assert "valid (1 nodes)" in shell.run_line_magic("maidit", "validate shout").data
    assert "`loud`" in shell.run_line_magic("maidit", "plan shout").data
    assert 'data-node="loud"' in shell.run_line_magic("maidit", "show shout").data
    target = tmp_path / "shout.flow.md"
    shell.run_line_magic("maidit", f"save shout {target}")
    assert target.read_text().startswith("---\nname: shouter")
    with pytest.raises(UsageError, match="no %%flow cell named 'nope'"):
        shell.run_line_magic("maidit", "save nope x.flow.md")
    with pytest.raises(UsageError, match="unknown %maidit command"):
        shell.run_line_magic("maidit", "fly")
    paused = cell(shell, "--checkpoints pause", PAUSING)
    assert isinstance(paused, FlowRun)
    assert paused.status is RunStatus.PAUSED
    message = shell.run_line_magic("maidit", "resume")
    assert message.endswith(": paused")  # nobody answers here either
    by_id = shell.run_line_magic("maidit", f"resume {paused.run_id[:8]}")
    assert by_id.startswith(f"resumed run {paused.run_id[:8]}")
    assert shell.run_line_magic("maidit", "resume --last").endswith(": paused")
    assert (
        "Execution Log" in shell.run_line_magic("maidit", f"log {paused.run_id}").data
    )
    with pytest.raises(UsageError, match="no run 'ffffzzzz'"):
        shell.run_line_magic("maidit", "log ffffzzzz")
    assert "pausing" in shell.run_line_magic("maidit", "runs").data


PAUSING = """%%flow {line}
---
name: pausing
version: 1.0.0
---
<workflow>
  <checkpoint id="ok"><prompt>Go?</prompt></checkpoint>
</workflow>
"""


def test_save_and_log_file(shell: InteractiveShell, tmp_path: Path) -> None:
    saved, log = tmp_path / "greet.flow.md", tmp_path / "runs.md"
    run = cell(shell, f"--save {saved} --log-file {log}")
    assert isinstance(run, FlowRun)
    assert saved.read_text().startswith("---\nname: greet")
    cell(shell, f"--log-file {log}")
    assert log.read_text().count("## Execution Log") == 2


def test_resume_a_cell_after_fixing_it(shell: InteractiveShell) -> None:
    """--resume continues this flow's last run with the cell as it is now."""
    broken = SLOW.replace("{duration}", "1ms").replace(
        '<transform id="done" type="template" input="wait"><template>done</template>',
        '<transform id="done" type="template" input="wait"><template>{{{{ range(0, 1e9) }}}}</template>',
    )
    first = cell(shell, "", broken)
    assert isinstance(first, FlowRun)
    assert first.status is RunStatus.FAILED
    fixed = cell(shell, "--resume", SLOW.replace("{duration}", "1ms"))
    assert isinstance(fixed, FlowRun)
    assert fixed.status is RunStatus.COMPLETED
    assert fixed.run_id == first.run_id
    assert fixed.results["wait"].reused
    with pytest.raises(UsageError, match="no run 'zzz'"):
        cell(shell, "--resume zzz", SLOW.replace("{duration}", "1ms"))


def test_maidit_nb_is_the_cli_nb(shell: InteractiveShell, tmp_path: Path) -> None:
    flow = tmp_path / "one.flow.md"
    flow.write_text(
        "---\nname: one\nversion: 1.0.0\n---\n<workflow>\n"
        '<transform id="a" type="template"><template>x</template></transform>\n'
        "</workflow>\n"
    )
    notebook = tmp_path / "book.ipynb"
    assert shell.run_line_magic("maidit", f"nb import {flow} {notebook}") == 0
    assert shell.run_line_magic("maidit", f"nb run {notebook}") == 0
    assert "## Execution Log" in notebook.read_text()


NOTIFY = """%%flow {line}
---
name: notify
version: 1.0.0
---
<workflow>
  <sink id="notify" type="python" function="send_note"/>
</workflow>
"""


def test_a_resume_that_may_repeat_an_effect_says_so(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """A node that acts outside the run was in flight when the run stopped: the resumed
    cell warns (stderr without the panel, a notice in the panel) that it may act twice."""
    shell.run_cell(
        "notes = []\n"
        "def send_note(data=None):\n"
        "    notes.append('sent')\n"
        "    if len(notes) == 1:\n"
        "        raise ValueError('no answer from the server')\n"
        "    return 'ok'\n"
    )
    first = cell(shell, "", NOTIFY)
    assert isinstance(first, FlowRun)
    assert first.status is RunStatus.FAILED
    assert first.checkpoint_path is not None
    # as if the process had died while send_note ran (the crash tests make real ones)
    data = json.loads(first.checkpoint_path.read_text())
    data["status"] = "running"
    data["in_flight"] = [
        {
            "node": "notify",
            "what": "calls send_note, whose effects the run cannot see",
            "owner": "notify",
            "block": None,
            "index": None,
        }
    ]
    del data["results"]["notify"]
    first.checkpoint_path.write_text(json.dumps(data))
    capsys.readouterr()
    resumed = cell(shell, "--resume", NOTIFY)
    assert isinstance(resumed, FlowRun)
    assert resumed.status is RunStatus.COMPLETED
    assert shell.user_ns["notes"] == ["sent", "sent"]
    assert (
        "warning: notify: it was running when the run stopped and calls send_note"
        in capsys.readouterr().err
    )
    panel = RunPanel(resumed)
    assert "This resume may repeat effects" in panel.notice.value
    assert "calls send_note" in panel.bundle()["text/html"]
    assert RunPanel(first).notice.value == ""
