"""Secret canary in the notebook channels (design/reliability.md D1; figure 10).

``tests/test_secret_canary.py`` covers the CLI, the API and every file the engine
writes. This adds what only a notebook has: a ``%%flow`` cell whose flow pushes the
declared secret into a template output, a base64 output, a file path in an error and a
checkpoint prompt, run

* headless by nbclient with ``store_widget_state=True`` (its default): the saved
  ``.ipynb`` (cell outputs, metadata, widget state) is scanned;
* in an interactive kernel with the live panel, the prompt answered by clicking the
  widget's Approve button: every message the kernel sent for the cell (display data,
  widget comm opens and state updates) is scanned.

The secret reaches the kernel through its environment, so no cell's source holds it.
Scanned also: every file under the notebook's directory (checkpoints, journals, locks).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests import figures
from tests.notebook.test_kernel_widgets import Kernel
from tests.test_secret_canary import Artifacts, make_canary

CELL = """%%flow --out job --keep-going {options}
---
name: canary
version: 1.0.0
secrets: [API_TOKEN]
---
<workflow>
  <transform id="echo" type="template"><template>token={{{{ $secrets.API_TOKEN }}}}</template></transform>
  <transform id="encoded" type="template" input="echo"><template>{{{{ base64_encode($secrets.API_TOKEN) }}}}</template></transform>
  <source id="missing" type="file" input="echo"><path>{{{{ $secrets.API_TOKEN }}}}.json</path></source>
  <checkpoint id="review" input="echo"><prompt>Publish **{{{{ input }}}}**?</prompt></checkpoint>
  <transform id="after" type="template" input="review"><template>{{{{ input.action }}}}</template></transform>
</workflow>
"""

LOOK = "print(job.status, job.outputs.get('after'), job.results['missing'].error)"


def record(art: Artifacts) -> None:
    hits = art.hits()
    figures.count("secret canary", artifacts=len(art.items), hits=len(hits))
    figures.worst("secret canary", encodings=len(art.forms))
    assert not hits, "\n".join(hits)


@pytest.mark.reliability
def test_a_headless_notebook_keeps_the_secret_out_of_the_ipynb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = make_canary()
    monkeypatch.setenv("API_TOKEN", canary)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(source)
        for source in (
            "%load_ext maidit_jupyter",
            CELL.format(options="--answer review=approve"),
            LOOK,
            "job",
        )
    ]
    client = NotebookClient(
        notebook,
        timeout=60,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    printed = notebook.cells[2].outputs[0].text
    assert printed.startswith("failed approve"), printed  # it ran, secret and all
    assert "ENOENT" in printed or "not found" in printed, printed
    saved = tmp_path / "canary.ipynb"
    nbformat.write(notebook, saved)
    art = Artifacts(canary, tmp_path)
    art.add("executed notebook", saved.read_text(encoding="utf-8"))
    assert art.add_files(tmp_path, "after the run") >= 2  # the notebook, a checkpoint
    record(art)


@pytest.mark.reliability
def test_the_live_panel_sends_no_secret_to_the_front_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = make_canary()
    monkeypatch.setenv("API_TOKEN", canary)
    kernel = Kernel(tmp_path)
    try:
        kernel.run("%load_ext maidit_jupyter", lambda buttons, k: None)
        clicked: list[str] = []

        def approve(buttons: dict[str, str], k: Kernel) -> None:
            if "Approve" in buttons and not clicked:
                clicked.append("Approve")
                k.click(buttons["Approve"])

        messages = kernel.run(CELL.format(options=""), approve)
        look = kernel.run(LOOK, lambda buttons, k: None)
    finally:
        kernel.close()
    assert clicked, "the checkpoint never showed its buttons"
    printed = "".join(
        m["content"].get("text", "") for m in look if m["msg_type"] == "stream"
    )
    assert printed.startswith("failed approve"), printed
    art = Artifacts(canary, tmp_path)
    for number, message in enumerate(messages + look):
        kind = message["msg_type"]
        art.add(f"message {number} {kind}", json.dumps(message["content"]))
    assert any(m["msg_type"] == "comm_msg" for m in messages)  # widget state went out
    art.add_files(tmp_path, "after the run")
    record(art)
