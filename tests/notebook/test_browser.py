"""A real browser: JupyterLab on 127.0.0.1, Debian's Chromium driven by Playwright.

The notebook runs a ``%%flow`` cell with a checkpoint; the test sees the DAG's nodes
coloured as they finish, clicks Approve in the panel, and sees the execution log appear.
Screenshots go to the test's directory, and to ``$MAIDIT_SCREENSHOTS`` when it is set
(the README's picture of the run panel comes from there).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "maidit-browser-test"

FLOW = """%%flow
---
name: browser-demo
version: 1.0.0
---
<workflow>
  <transform id="load" type="template"><template>{{ [3, 1, 2] }}</template></transform>
  <foreach id="each" collection="[1, 2, 3]" concurrency="3">
    <delay id="work" duration="300ms"/>
  </foreach>
  <checkpoint id="approve-it" input="load">
    <prompt>Publish the **report**?</prompt>
  </checkpoint>
  <transform id="publish" type="template" input="approve-it"><template>done: {{ input.action }}</template></transform>
</workflow>
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving ``tmp_path`` with one notebook; yields its base URL."""
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
            for source in ("%load_ext maidit_jupyter", FLOW)
        ],
        "metadata": {
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3",
                "language": "python",
            }
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "demo.ipynb").write_text(json.dumps(notebook))
    port = free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    env.pop("CI", None)  # the panel is for people; CI turns it off on purpose
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--allow-root",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={tmp_path}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError((tmp_path / "lab.log").read_text()) from None
                time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_the_panel_in_jupyterlab(lab: str, tmp_path: Path) -> None:
    shots = [tmp_path]
    if os.environ.get("MAIDIT_SCREENSHOTS"):
        shots.append(Path(os.environ["MAIDIT_SCREENSHOTS"]))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(
            f"{lab}/lab/workspaces/test-{int(time.time())}/tree/demo.ipynb"
            f"?reset&token={TOKEN}"
        )
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        # the kernel is connected and idle before anything runs
        expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(
            timeout=90_000
        )
        approve = page.get_by_role("button", name="Approve")
        try:
            for _ in range(3):  # a click that lands before the kernel is ready is lost
                page.get_by_role("menuitem", name="Run").click()
                page.get_by_text("Run All Cells", exact=True).click()
                try:
                    expect(approve).to_be_visible(timeout=30_000)
                    break
                except AssertionError:
                    page.keyboard.press("Escape")
            expect(approve).to_be_visible(timeout=1_000)
        except AssertionError:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            raise
        # the foreach ran and is green, the checkpoint waits (violet) in the DAG
        expect(page.locator("g.node.success[data-node='each']")).to_have_count(
            1, timeout=30_000
        )
        expect(page.locator("g.node.waiting[data-node='approve-it']")).to_have_count(1)
        for folder in shots:
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / "run-panel-waiting.png"), full_page=True)
        approve.click()
        expect(
            page.get_by_text("## Execution Log").or_(
                page.get_by_role("heading", name="Execution Log")
            )
        ).to_be_visible(timeout=60_000)
        expect(page.locator("g.node.success[data-node='publish']")).to_have_count(
            1, timeout=30_000
        )
        for folder in shots:
            page.screenshot(path=str(folder / "run-panel-done.png"), full_page=True)
        browser.close()
    assert (tmp_path / "run-panel-done.png").stat().st_size > 10_000
