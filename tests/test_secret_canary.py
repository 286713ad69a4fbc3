"""Secret canary: a declared secret's value never leaves the run, raw or encoded.

Each test run draws a fresh random canary (with the URL, base64 and shell specials
``!@#%/?&=+:`` and one non-ASCII letter), sets it as the declared secret ``API_TOKEN``
(in the environment of ``maidit`` subprocesses, through ``secrets=`` in the API) and runs
flows that push it everywhere a user could: a template output, python outputs in every
encoding, an output with the secret as a key, an object whose ``repr`` holds it, errors
(a python exception, a missing file whose path holds it, an expression error), retries
and a fallback, a run that times out, one that is cancelled, one that is killed
mid-run, and their resumes.

Then every artifact is scanned for the canary in eight encodings (raw, base64 standard
and URL-safe with and without padding, ``quote``, ``quote_plus``, JSON-escaped ASCII and
Unicode, HTML-escaped; each also as it appears inside a JSON string) and for 16-character fragments of
the raw value (a cut that kept part of it): stdout and stderr, the flow file with its
execution log, every file the engine wrote (checkpoint snapshots, journals and locks,
also mid-run), the JSON reports, every ``FlowRun`` view and message, and the messages of
errors raised before a run. The assertion is zero hits; run with ``-s`` to see the
count. Out of scope: files a sink node was told to write (the user's
own data) and node outputs handed back to Python (``FlowRun.outputs``, the raw
``FlowRun.record``, observer events), which are the user's values.
"""

from __future__ import annotations

import base64
import html
import importlib.util
import json
import os
import pty
import re
import secrets
import signal
import string
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import maidit_jupyter
from maidit_jupyter import FlowRun, RunInputError, RunStatus
from maidit_jupyter.execution.events import NodeFinished, RunEvent, RunFinished
from maidit_jupyter.reporting.report import dumps
from tests import figures

SPECIALS = "!@#%/?&=+:"
#: the shortest run of the raw value that counts as a (partial) leak.
FRAGMENT = 16
#: what the sink nodes write: the user's own data, deliberately not scanned.
SINK_DIR = "out"
MAIDIT = Path(sys.executable).with_name("maidit")

HELPERS = textwrap.dedent(
    '''
    """Python nodes of the canary flows: each one hands the secret back somehow."""

    import base64
    import json
    import urllib.parse

    import anyio

    from maidit_jupyter.errors import NodeRuntimeError


    def encode(token, how):
        raw = token.encode("utf-8")
        return {
            "b64": base64.b64encode(raw).decode("ascii"),
            "b64-nopad": base64.b64encode(raw).decode("ascii").rstrip("="),
            "b64url": base64.urlsafe_b64encode(raw).decode("ascii"),
            "b64url-nopad": base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="),
            "quote": urllib.parse.quote(token, safe=""),
            "quote-plus": urllib.parse.quote_plus(token),
            "json": json.dumps(token),
        }[how]


    def keyed(token):
        return {token: "the secret is the key"}


    class Holder:
        """Not JSON; its repr holds the secret across the report's 200-character cut."""

        def __init__(self, token):
            self.token = token

        def __repr__(self):
            return "Holder(" + "x" * 170 + self.token + ")"


    def opaque(token):
        return Holder(token)


    def boom(token):
        raise ValueError(token)


    def limited(token):
        raise NodeRuntimeError(
            f"rate limited for {token}", code="RATE_LIMIT", retryable=True
        )


    async def stall(token, seconds):
        await anyio.sleep(float(seconds))
        return f"stalled with {token}"
    '''
)


def _python(node_id: str, function: str, *args: tuple[str, str]) -> str:
    extra = "".join(f'<arg name="{name}" value="{value}"/>' for name, value in args)
    return (
        f'  <source id="{node_id}" type="python" function="helpers:{function}">'
        f'<arg name="token" value="{{{{ $secrets.API_TOKEN }}}}"/>{extra}</source>\n'
    )


ENCODED = ("b64", "b64-nopad", "b64url", "b64url-nopad", "quote", "quote-plus", "json")

LEAKY = (
    "---\n"
    "name: leaky\n"
    "version: 1.0.0\n"
    "description: pushes the secret everywhere a user could\n"
    "secrets: [API_TOKEN]\n"
    "config:\n"
    "  label:\n"
    "    type: string\n"
    "    default: plain\n"
    "---\n"
    "<workflow>\n"
    '  <transform id="greet" type="template">'
    "<template>Authorization: Bearer {{ $secrets.API_TOKEN }}</template></transform>\n"
    '  <transform id="from-env" type="template">'
    "<template>env: {{ $env.API_TOKEN }}</template></transform>\n"
    + "".join(_python(f"enc-{how}", "encode", ("how", how)) for how in ENCODED)
    + _python("keyed", "keyed")
    + _python("opaque", "opaque")
    + _python("boom", "boom")
    + '  <source id="missing-file" type="file">'
    "<path>./data/{{ $secrets.API_TOKEN }}.json</path></source>\n"
    '  <transform id="bad-expression" type="template">'
    "<template>{{ from_entries($secrets.API_TOKEN) }}</template></transform>\n"
    '  <source id="flaky" type="python" function="helpers:limited">'
    '<arg name="token" value="{{ $secrets.API_TOKEN }}"/>'
    '<on-error><retry max="2" backoff="fixed" base="1ms"/>'
    '<fallback node="rescue"/></on-error></source>\n'
    '  <transform id="rescue" type="template">'
    "<template>rescued after: {{ $primaryError }}</template></transform>\n"
    '  <source id="always-limited" type="python" function="helpers:limited">'
    '<arg name="token" value="{{ $secrets.API_TOKEN }}"/>'
    '<on-error><retry max="2" backoff="fixed" base="1ms"/></on-error></source>\n'
    # the flow means to write the secret into its file (D4: it has to say so)
    f'  <sink id="save" type="file" input="greet" allow-secrets="true">'
    f"<path>./{SINK_DIR}/greeting.json</path></sink>\n"
    "</workflow>\n"
)

#: greet and stall run in wave 0, ``after`` needs both (and greet's unstored output).
SLOW = (
    "---\n"
    "name: slow\n"
    "version: 1.0.0\n"
    "secrets: [API_TOKEN]\n"
    "config:\n"
    "  pause:\n"
    "    type: number\n"
    "    default: 30\n"
    "---\n"
    "<workflow>\n"
    '  <transform id="greet" type="template">'
    "<template>Bearer {{ $secrets.API_TOKEN }}</template></transform>\n"
    '  <source id="stall" type="python" function="helpers:stall">'
    '<arg name="token" value="{{ $secrets.API_TOKEN }}"/>'
    '<arg name="seconds" value="{{ $config.pause }}"/></source>\n'
    '  <transform id="after" type="template" input="stall">'
    "<template>{{ greet.output }} then {{ input }}</template></transform>\n"
    "</workflow>\n"
)

#: nodes whose output holds the secret (in some encoding): never stored.
SECRET_OUTPUTS = (
    "greet",
    *(f"enc-{how}" for how in ENCODED),
    "keyed",
    "flaky",
    "rescue",
)
#: nodes whose error message holds the secret.
SECRET_ERRORS = ("boom", "missing-file", "bad-expression", "always-limited")


def make_canary() -> str:
    """32 random characters: letters and digits at the ends (a path segment, a CLI
    value), the specials and one non-ASCII letter shuffled into the middle."""
    rng = secrets.SystemRandom()
    alnum = string.ascii_letters + string.digits
    middle = list(secrets.token_urlsafe(32)[:17] + SPECIALS + rng.choice("éøßñ"))
    rng.shuffle(middle)
    head = "".join(rng.choice(alnum) for _ in range(2))
    tail = "".join(rng.choice(alnum) for _ in range(2))
    canary = head + "".join(middle) + tail
    assert len(canary) == 32
    return canary


def encodings(canary: str) -> dict[str, tuple[str, ...]]:
    """The eight encodings searched for, each with its textual forms."""
    raw = canary.encode("utf-8")
    std = base64.b64encode(raw).decode("ascii")
    url = base64.urlsafe_b64encode(raw).decode("ascii")
    return {
        "raw": (canary,),
        "base64": (std, std.rstrip("=")),
        "base64-urlsafe": (url, url.rstrip("=")),
        "url-quote": (urllib.parse.quote(canary, safe=""),),
        "url-quote-plus": (urllib.parse.quote_plus(canary),),
        "json": (json.dumps(canary)[1:-1],),
        "json-unicode": (json.dumps(canary, ensure_ascii=False)[1:-1],),
        "html": (html.escape(canary), html.escape(canary, quote=False)),
    }


def within_json(forms: Sequence[str]) -> list[str]:
    """``forms`` and how each appears inside a JSON string (a checkpoint or a report
    holding a node output that was itself JSON text): backslashes escaped again."""
    return [
        variant
        for form in forms
        for variant in (
            form,
            json.dumps(form)[1:-1],
            json.dumps(form, ensure_ascii=False)[1:-1],
        )
    ]


class Artifacts:
    """Everything a user could see or a process could leave behind, by label.

    Files are labelled by their path under ``base``; each distinct version of a file
    counts once, whichever step saw it first (kept as the note shown with a hit).
    """

    def __init__(self, canary: str, base: Path) -> None:
        self.canary = canary
        self.base = base
        self.forms = {
            name: tuple(dict.fromkeys(within_json(forms)))
            for name, forms in encodings(canary).items()
        }
        self.fragments = {
            canary[i : i + FRAGMENT] for i in range(len(canary) - FRAGMENT + 1)
        }
        #: (label, text) -> the step that first saw it.
        self.items: dict[tuple[str, str], str] = {}

    def add(self, label: str, text: str | None, *, step: str = "") -> None:
        self.items.setdefault((label, text or ""), step)

    def add_files(self, root: Path, step: str) -> int:
        """Every file under ``root`` except what a sink wrote; returns how many."""
        count = 0
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(self.base)
            if not path.is_file() or relative.parts[1:2] == (SINK_DIR,):
                continue
            text = path.read_bytes().decode("utf-8", "replace")
            self.add(f"file {relative}", text, step=step)
            count += 1
        return count

    def hits(self) -> list[str]:
        """``label (step): encoding`` for every encoding found in an artifact."""
        found: list[str] = []
        for (label, text), step in self.items.items():
            where = f"{label} ({step})" if step else label
            for name, forms in self.forms.items():
                if any(form in text for form in forms):
                    found.append(f"{where}: {name}")
            if not any(form in text for form in self.forms["raw"]) and any(
                fragment in text for fragment in self.fragments
            ):
                found.append(f"{where}: raw fragment of {FRAGMENT}+ characters")
        return found

    def labels(self) -> list[str]:
        return [label for label, _ in self.items]


# -- helpers -------------------------------------------------------------------------


def workspace(root: Path) -> Path:
    """A directory with both flows and their python module."""
    root.mkdir()
    (root / "leaky.flow.md").write_text(LEAKY, encoding="utf-8")
    (root / "slow.flow.md").write_text(SLOW, encoding="utf-8")
    (root / "helpers.py").write_text(HELPERS, encoding="utf-8")
    return root


def cli_env(canary: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "API_TOKEN"}
    env["PYTHONIOENCODING"] = "utf-8"
    if canary is not None:
        env["API_TOKEN"] = canary
    return env


def maidit(
    art: Artifacts,
    label: str,
    args: Sequence[str],
    *,
    canary: str | None,
    root: Path,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``maidit ARGS``; record its stdout, stderr and every file of ``root``."""
    done = subprocess.run(
        [str(MAIDIT), *args],
        env=cli_env(canary),
        capture_output=True,
        timeout=60,
        check=False,
    )
    art.add(f"{label}: stdout", done.stdout.decode("utf-8", "replace"))
    art.add(f"{label}: stderr", done.stderr.decode("utf-8", "replace"))
    art.add_files(root, label)
    return done


#: terminal control sequences (colours, cursor moves) of the live panel.
ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")


def maidit_on_terminal(
    art: Artifacts,
    label: str,
    args: Sequence[str],
    *,
    canary: str,
    root: Path,
) -> tuple[subprocess.CompletedProcess[bytes], str]:
    """Run ``maidit ARGS`` with stderr on a pseudo-terminal (the live panel); record
    stdout, the terminal's text without control sequences, and every file of ``root``."""
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def pump() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        done = subprocess.run(
            [str(MAIDIT), *args],
            env={**cli_env(canary), "COLUMNS": "400", "TERM": "xterm-256color"},
            stdout=subprocess.PIPE,
            stderr=slave,
            timeout=60,
            check=False,
        )
    finally:
        os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    screen = ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))
    art.add(f"{label}: stdout", done.stdout.decode("utf-8", "replace"))
    art.add(f"{label}: terminal", screen)
    art.add_files(root, label)
    return done, screen


def add_flow_run(art: Artifacts, label: str, flow_run: FlowRun) -> None:
    """Every view of a finished run that shows text."""
    art.add(f"{label}: repr", repr(flow_run))
    page = flow_run._repr_html_()
    art.add(f"{label}: _repr_html_", page)
    art.add(f"{label}: _repr_html_ unescaped", html.unescape(page))
    art.add(f"{label}: _repr_markdown_", flow_run._repr_markdown_())
    art.add(f"{label}: log_markdown", flow_run.log_markdown)
    error = flow_run.error
    art.add(f"{label}: error", None if error is None else f"{error.message} {error!r}")
    art.add(f"{label}: report", dumps(flow_run.report()))
    art.add(f"{label}: repr(outputs)", repr(flow_run.outputs))
    art.add(f"{label}: checkpoint_error", str(flow_run.checkpoint_error))
    art.add(f"{label}: warnings", repr(flow_run.warnings))
    for node_id, result in flow_run.results.items():
        message = None if result.error is None else result.error.message
        art.add(f"{label}: results[{node_id}].error", message)
        art.add(f"{label}: results[{node_id}].reason", result.reason)
    for decision in flow_run.resume_plan:
        art.add(f"{label}: resume_plan[{decision.node_id}]", decision.reason)
    if importlib.util.find_spec("pandas") is not None:  # pragma: no cover
        art.add(f"{label}: to_frame", flow_run.to_frame().to_string())


def add_exception(art: Artifacts, label: str, exc: BaseException) -> None:
    """An exception as ``str``, ``repr``, a traceback and IPython's rendering."""
    art.add(f"{label}: str", str(exc))
    art.add(f"{label}: repr", repr(exc))
    art.add(f"{label}: traceback", "".join(traceback.format_exception(exc)))
    render = getattr(exc, "_render_traceback_", None)
    if render is not None:
        art.add(f"{label}: _render_traceback_", "\n".join(render()))


def snapshot_on(
    art: Artifacts, root: Path, label: str, when: Callable[[RunEvent], bool]
) -> Callable[[RunEvent], None]:
    """An observer recording every file of ``root`` when ``when(event)`` holds (the
    journal and lock exist only while a run is going)."""

    def observe(event: RunEvent) -> None:
        if when(event):
            art.add_files(root, f"{label}, mid-run")

    return observe


def checkpoint_of(report: Mapping[str, Any]) -> Path:
    path = report["checkpoint"]
    assert isinstance(path, str)
    return Path(path)


def stored(checkpoint: Path) -> dict[str, bool]:
    data = json.loads(checkpoint.read_text(encoding="utf-8"))
    return {node: entry["stored"] for node, entry in data["results"].items()}


def wait_for(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


# -- the canary ----------------------------------------------------------------------


def test_scanner_finds_every_encoding() -> None:
    """The scanner itself: each encoding, and a cut-off part of the value, is found."""
    canary = make_canary()
    assert all(char in canary for char in SPECIALS)
    art = Artifacts(canary, Path())
    for name, forms in encodings(canary).items():
        art.add(f"planted {name}", f"<{forms[-1]}>")
    art.add("planted json in json", json.dumps(json.dumps(canary)))
    art.add("planted fragment", "..." + canary[3 : 3 + FRAGMENT] + "...")
    art.add("clean", "Authorization: Bearer ***")
    found = art.hits()
    for name in encodings(canary):
        assert f"planted {name}: {name}" in found
    assert "planted json in json: json" in found
    assert f"planted fragment: raw fragment of {FRAGMENT}+ characters" in found
    assert not [hit for hit in found if hit.startswith("clean")]


@pytest.mark.reliability
def test_secret_canary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No artifact of any run holds the secret, raw or encoded."""
    monkeypatch.delenv("API_TOKEN", raising=False)
    canary = make_canary()
    art = Artifacts(canary, tmp_path)
    given = {"API_TOKEN": canary}

    # -- the command line ------------------------------------------------------------
    cli = workspace(tmp_path / "cli")
    leaky = str(cli / "leaky.flow.md")
    slow = str(cli / "slow.flow.md")
    state = cli / "state"

    # text output, log into the flow file, the default state directory
    done = maidit(
        art, "cli run text", ["run", leaky, "--keep-going"], canary=canary, root=cli
    )
    assert done.returncode == 1, done.stderr
    err = done.stderr.decode()
    assert "↻ flaky" in err  # the retries were printed
    assert "↻ always-limited" in err
    assert "## Execution Log" in (cli / "leaky.flow.md").read_text(encoding="utf-8")
    default_state = cli / ".maidit-state" / "leaky"
    checkpoint = next(default_state.glob("*.json"))
    flags = stored(checkpoint)
    assert not any(flags[node] for node in SECRET_OUTPUTS), flags
    # the sink wrote the user's own data, which is not scanned
    assert canary in (cli / SINK_DIR / "greeting.json").read_text(encoding="utf-8")

    # the live panel on a terminal
    done, screen = maidit_on_terminal(
        art, "cli run terminal", ["run", leaky, "--keep-going"], canary=canary, root=cli
    )
    assert done.returncode == 1
    assert "✗ boom: helpers:boom raised ValueError: ***" in screen, screen

    # JSON report, an input holding the secret, the log replaced in the flow file
    done = maidit(
        art,
        "cli run json",
        [
            "run",
            leaky,
            "--keep-going",
            "--format",
            "json",
            "--state-dir",
            str(state),
            "--input",
            json.dumps({"token": canary}),
            "--config",
            f"label={canary}",
        ],
        canary=canary,
        root=cli,
    )
    report = json.loads(done.stdout)
    assert report["status"] == "failed"
    assert report["nodes"]["flaky"]["attempts"] == 3
    assert report["nodes"]["always-limited"]["attempts"] == 3
    data = json.loads(checkpoint_of(report).read_text(encoding="utf-8"))
    assert data["input"] == {"stored": False, "not_stored": "holds a secret value"}
    assert data["results"]["greet"]["stored"] is False
    assert "label" not in data["config"]

    # a run that times out (--timeout), then resumed
    done = maidit(
        art,
        "cli timeout json",
        [
            "run",
            slow,
            "--format",
            "json",
            "--timeout",
            "400ms",
            "--state-dir",
            str(state),
        ],
        canary=canary,
        root=cli,
    )
    report = json.loads(done.stdout)
    assert report["status"] == "failed"
    assert report["error"]["code"] == "RUNTIME_TIMEOUT"
    timed_out = checkpoint_of(report)
    assert stored(timed_out)["greet"] is False
    done = maidit(
        art,
        "cli resume json",
        ["resume", str(timed_out), "--format", "json", "-c", "pause=0"],
        canary=canary,
        root=cli,
    )
    report = json.loads(done.stdout)
    assert report["status"] == "completed", report
    assert {d["node"] for d in report["resume"] if d["rerun"]} >= {"greet", "after"}

    # a run killed mid-way (its journal and lock stay behind), resumed in text mode
    process = subprocess.Popen(
        [str(MAIDIT), "run", slow, "--state-dir", str(state / "killed")],
        env=cli_env(canary),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    journals = state / "killed" / "slow"

    def journaled() -> bool:
        assert process.poll() is None, "the run ended before it could be killed"
        return any(path.stat().st_size for path in journals.glob("*.journal"))

    try:
        wait_for(journaled)
    finally:
        process.send_signal(signal.SIGKILL)
        out, errors = process.communicate(timeout=20)
    art.add("cli killed: stdout", out.decode("utf-8", "replace"))
    art.add("cli killed: stderr", errors.decode("utf-8", "replace"))
    assert art.add_files(journals, "cli killed") == 3  # snapshot, journal, lock
    killed = next(journals.glob("*.json"))
    done = maidit(
        art,
        "cli resume text",
        ["resume", str(killed), "-c", "pause=0"],
        canary=canary,
        root=cli,
    )
    assert done.returncode == 0, done.stderr
    assert b"run   greet" in done.stderr
    assert b"greet: Bearer ***" in done.stdout  # the final outputs, redacted

    # refused before running: the secret is not set
    done = maidit(art, "cli missing secret", ["run", slow], canary=None, root=cli)
    assert done.returncode == 1
    assert b"secret 'API_TOKEN'" in done.stderr

    # -- the Python API --------------------------------------------------------------
    api = workspace(tmp_path / "api")
    api_state = api / "state"

    flow_run = maidit_jupyter.run_sync(
        api / "leaky.flow.md",
        secrets=given,
        state_dir=api_state,
        keep_going=True,
        config={"label": canary},
        workflow_input={"token": canary},
        observers=[
            snapshot_on(
                art, api_state, "api leaky", lambda e: isinstance(e, RunFinished)
            )
        ],
    )
    assert flow_run.status is RunStatus.FAILED
    add_flow_run(art, "api leaky", flow_run)
    # the secret really went everywhere (the raw record and outputs hold it) ...
    raw = flow_run.record
    assert raw is not None
    for node in SECRET_ERRORS:
        error = raw.results[node].error
        assert error is not None, node
        assert canary in error.message, node
    assert canary in (raw.results["flaky"].reason or "")
    assert canary in str(flow_run.outputs["greet"])
    forms = encodings(canary)
    assert flow_run.outputs["enc-b64"] == forms["base64"][0]
    assert flow_run.outputs["enc-quote"] == forms["url-quote"][0]
    # ... the checkpoint kept none of it, and the journal was seen mid-run
    assert flow_run.checkpoint_path is not None
    flags = stored(flow_run.checkpoint_path)
    assert not any(flags[node] for node in SECRET_OUTPUTS), flags
    data = json.loads(flow_run.checkpoint_path.read_text(encoding="utf-8"))
    assert "label" not in data["config"]
    assert data["input"]["stored"] is False
    assert any(label.endswith(".journal") for label in art.labels())

    # a run that times out (timeout_ms), then resumed
    flow_run = maidit_jupyter.run_sync(
        api / "slow.flow.md", secrets=given, state_dir=api_state, timeout_ms=300
    )
    assert flow_run.status is RunStatus.FAILED
    add_flow_run(art, "api timeout", flow_run)
    assert flow_run.checkpoint_path is not None
    resumed = maidit_jupyter.resume_sync(
        flow_run.checkpoint_path, secrets=given, config={"pause": 0}
    )
    assert resumed.status is RunStatus.COMPLETED
    add_flow_run(art, "api timeout resumed", resumed)

    # a run cancelled (FlowRun.cancel) once greet is done, then resumed
    started: list[FlowRun] = []

    def cancel_after_greet(event: RunEvent) -> None:
        if isinstance(event, NodeFinished) and event.result.node_id == "greet":
            started[0].cancel()

    flow_run = maidit_jupyter.run_sync(
        api / "slow.flow.md",
        secrets=given,
        state_dir=api_state,
        on_start=started.append,
        observers=[cancel_after_greet],
    )
    assert flow_run.status is RunStatus.CANCELLED
    add_flow_run(art, "api cancelled", flow_run)
    assert flow_run.checkpoint_path is not None
    resumed = maidit_jupyter.resume_sync(
        flow_run.checkpoint_path, secrets=given, config={"pause": 0}
    )
    assert resumed.status is RunStatus.COMPLETED
    add_flow_run(art, "api cancelled resumed", resumed)
    art.add_files(api, "api")

    # refused before running: the secret is not set (a run, a resume)
    with pytest.raises(RunInputError) as refused:
        maidit_jupyter.run_sync(api / "slow.flow.md", state_dir=api_state)
    add_exception(art, "api missing secret", refused.value)
    with pytest.raises(RunInputError) as refused:
        maidit_jupyter.resume_sync(flow_run.checkpoint_path)
    add_exception(art, "api resume missing secret", refused.value)
    assert "API_TOKEN" in str(refused.value)

    # -- the verdict -----------------------------------------------------------------
    hits = art.hits()
    figures.count("secret canary", artifacts=len(art.items), hits=len(hits))
    figures.worst("secret canary", encodings=len(art.forms))
    print(
        f"\n{len(hits)} canary hits in {len(art.items)} artifacts x "
        f"{len(art.forms)} encodings (+ {FRAGMENT}-character fragments of the raw value)"
    )
    assert not hits, "\n".join(hits)


def test_config_value_holding_the_secret_is_not_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A config value that is the secret and is refused (wrong type) is not quoted."""
    monkeypatch.delenv("API_TOKEN", raising=False)
    canary = make_canary()
    art = Artifacts(canary, tmp_path)
    root = workspace(tmp_path / "w")
    flow = root / "slow.flow.md"
    with pytest.raises(RunInputError) as refused:
        maidit_jupyter.run_sync(
            flow, secrets={"API_TOKEN": canary}, config={"pause": canary}
        )
    add_exception(art, "api", refused.value)
    done = maidit(
        art,
        "cli",
        ["run", str(flow), "--no-log", "-c", f"pause={canary}"],
        canary=canary,
        root=root,
    )
    assert done.returncode == 1
    hits = art.hits()
    assert not hits, "\n".join(hits)
