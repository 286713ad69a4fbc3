"""A secret written as file content needs the node's consent (design/reliability.md D4).

Email and AI nodes have the same rule (tests in their own files); here the file sink,
with the secret templated straight in, passed along by an upstream node, or encoded.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import maidit_jupyter
from maidit_jupyter import RunStatus

SECRET = "s3cr3t-value/with+chars"


def flow(tmp_path: Path, template: str, sink_attributes: str = "") -> Path:
    path = tmp_path / "expose.flow.md"
    path.write_text(
        "---\nname: expose\nversion: 1.0.0\nsecrets: [TOKEN]\n---\n<workflow>\n"
        f'  <transform id="data" type="template"><template>{template}</template>'
        "</transform>\n"
        f'  <sink id="save" type="file" input="data" {sink_attributes}>'
        "<path>out/data.txt</path></sink>\n</workflow>\n"
    )
    return path


@pytest.mark.parametrize(
    "template",
    [
        "token={{ $secrets.TOKEN }}",
        "{{ {auth: $secrets.TOKEN} }}",
        "{{ base64_encode($secrets.TOKEN) }}",
        "{{ url_encode($secrets.TOKEN) }}",
    ],
    ids=["raw", "in-data", "base64", "url-encoded"],
)
def test_a_file_sink_refuses_to_write_a_secret(tmp_path: Path, template: str) -> None:
    flow_run = maidit_jupyter.run_sync(
        flow(tmp_path, template), secrets={"TOKEN": SECRET}
    )
    assert flow_run.status is RunStatus.FAILED
    error = flow_run.results["save"].error
    assert error is not None
    assert error.code == "RUNTIME_SECRET_EXPOSED"
    assert error.message == (
        'file sink "save" would send the value of the secret TOKEN as content; set '
        'allow-secrets="true" on the node if that is intended'
    )
    assert not (tmp_path / "out" / "data.txt").exists()


def test_allow_secrets_writes_it_and_says_so_by_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="maidit_jupyter"):
        flow_run = maidit_jupyter.run_sync(
            flow(tmp_path, "token={{ $secrets.TOKEN }}", 'allow-secrets="true"'),
            secrets={"TOKEN": SECRET},
        )
    assert flow_run.status is RunStatus.COMPLETED
    assert (tmp_path / "out" / "data.txt").read_text() == f"token={SECRET}"
    assert 'file sink "save" sends the value of TOKEN' in caplog.text
    assert SECRET not in caplog.text
    meta = flow_run.results["save"].meta
    assert meta is not None
    assert meta["secrets_sent"] == ["TOKEN"]


def test_data_without_secrets_is_written_as_before(tmp_path: Path) -> None:
    flow_run = maidit_jupyter.run_sync(
        flow(tmp_path, "no secret here"), secrets={"TOKEN": SECRET}
    )
    assert flow_run.status is RunStatus.COMPLETED
    assert (tmp_path / "out" / "data.txt").read_text() == "no secret here"
