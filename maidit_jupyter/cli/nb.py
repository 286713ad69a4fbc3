"""``maidit nb``: notebooks as files: run their flow cells headless, export, import.

* ``maidit nb run NOTEBOOK`` runs the ``%%flow`` cells in order, without a kernel (the
  notebook's directory is where paths resolve; checkpoints follow the cell's
  ``--checkpoints`` policy, ``pause`` by default), and writes each execution log as a
  markdown cell right after its flow cell, replacing the log cell it wrote before
  (marked in the cell's metadata), so running twice leaves one log per flow.
* ``maidit nb export NOTEBOOK DIR`` writes each ``%%flow`` cell as ``DIR/NAME.flow.md``.
* ``maidit nb import FLOW NOTEBOOK`` appends the flow as a ``%%flow`` cell (the notebook is
  created when missing).

Cells are read with nbformat. The ``%%flow`` line's options that make sense without a
kernel are honoured (``NAME``, ``--config``, ``--answer``, ``--checkpoints``,
``--keep-going``, ``--concurrency``, ``--timeout``, ``--no-checkpoint``); Python
expressions (``--input``, ``--secrets``) and notebook variables need the kernel.
"""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
import sys
from pathlib import Path
from typing import Any, TextIO

import anyio

from maidit_jupyter.durations import parse_duration_ms
from maidit_jupyter.errors import MaiditError, WorkflowError
from maidit_jupyter.execution.api import make_approver
from maidit_jupyter.execution.approval import parse_answer
from maidit_jupyter.execution.flow_run import FlowRun
from maidit_jupyter.execution.inputs import RunInputError, parse_override
from maidit_jupyter.execution.launch import prepare_run
from maidit_jupyter.persistence.durable import write_atomic

__all__ = ["add_parser"]

_MAGIC = "%%flow"
_MARK = "maidit_log_for"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def add_parser(sub: Any) -> None:
    """Register ``maidit nb run|export|import``."""
    parser = sub.add_parser(
        "nb",
        help="run, export or import the %%flow cells of a notebook",
        description="Work with notebooks as files: run their %%flow cells headless "
        "(writing each execution log as a markdown cell after it), export them as "
        ".flow.md files, or import a flow as a cell.",
    )
    actions = parser.add_subparsers(dest="nb_command", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="run the %%flow cells in order, headless")
    run.add_argument("notebook", metavar="NOTEBOOK")
    run.set_defaults(handler=_run)
    export = actions.add_parser("export", help="write each %%flow cell as a .flow.md")
    export.add_argument("notebook", metavar="NOTEBOOK")
    export.add_argument("directory", metavar="DIR")
    export.set_defaults(handler=_export)
    imported = actions.add_parser("import", help="append a flow as a %%flow cell")
    imported.add_argument("flow", metavar="FLOW")
    imported.add_argument("notebook", metavar="NOTEBOOK")
    imported.set_defaults(handler=_import)


def _cell_options() -> argparse.ArgumentParser:
    """The ``%%flow`` options that make sense without a kernel (others are ignored)."""
    parser = argparse.ArgumentParser(prog="%%flow", add_help=False, exit_on_error=False)
    parser.add_argument("name", nargs="?")
    parser.add_argument("-c", "--config", action="append", default=[])
    parser.add_argument("--answer", action="append", default=[])
    parser.add_argument("--checkpoints", default="pause")
    parser.add_argument("--keep-going", action="store_true")
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--timeout")
    parser.add_argument("--no-checkpoint", action="store_true")
    return parser


def _flow_cells(notebook: Any) -> list[tuple[int, str, str]]:
    """``(index, magic line, body)`` of every ``%%flow`` cell."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        source = cell.source.lstrip("\n")
        head, _, body = source.partition("\n")
        if head.strip() == _MAGIC or head.startswith(_MAGIC + " "):
            found.append((index, head[len(_MAGIC) :].strip(), body))
    return found


def _nbformat() -> Any:
    """nbformat (the ``notebook`` extra), imported only by the nb commands."""
    try:
        return importlib.import_module("nbformat")
    except ImportError:
        raise SystemExit(
            "error: maidit nb needs nbformat: pip install 'maidit_jupyter[notebook]'"
        ) from None


def _read(path: Path) -> Any:
    return _nbformat().read(path, as_version=4)


def _write(notebook: Any, path: Path) -> None:
    text = _nbformat().writes(notebook)
    write_atomic(path, text.encode("utf-8"), new_file_mode=0o666)


def _run(args: argparse.Namespace, out: TextIO) -> int:
    """``maidit nb run NOTEBOOK``."""
    nbformat = _nbformat()
    path = Path(args.notebook)
    notebook = _read(path)
    status = 0
    cells: dict[str, str] = {}  # for cell:NAME includes, as in the kernel
    runs = []
    for index, line, body in _flow_cells(
        notebook
    ):  # in order: they may build on each other
        flow_run, problem = _run_cell(path.parent, line, body, cells)
        runs.append((index, flow_run, problem))
        outcome = flow_run.status if flow_run is not None else "invalid"
        print(f"cell {index + 1}: {outcome}", file=out)
        if flow_run is None or flow_run.status != "completed":
            status = 1
    for index, flow_run, problem in reversed(runs):  # inserting keeps earlier indexes
        cell_id = notebook.cells[index].get("id") or f"cell-{index}"
        text = (
            flow_run.log_markdown if flow_run is not None else f"**error:** {problem}"
        )
        log = nbformat.v4.new_markdown_cell(text, metadata={_MARK: cell_id})
        following = index + 1
        if (
            following < len(notebook.cells)
            and notebook.cells[following].get("metadata", {}).get(_MARK) == cell_id
        ):
            notebook.cells[following] = log
        else:
            notebook.cells.insert(following, log)
    _write(notebook, path)
    return status


def _run_cell(
    directory: Path, line: str, body: str, cells: dict[str, str]
) -> tuple[FlowRun | None, str]:
    """Run one flow cell; the run, or why it could not run."""
    try:
        options = _cell_options().parse_known_args(shlex.split(line))[0]
        overrides = dict(parse_override(text) for text in options.config)
        answers = dict(parse_answer(text) for text in options.answer)
        name = options.name or "cell"
        prepared = prepare_run(
            directory / f"{_UNSAFE.sub('-', name)}.flow.md",
            text=body,
            config=overrides,
            config_source="--config",
            workflow_input=None,
            keep_going=options.keep_going,
            concurrency=options.concurrency,
            timeout_ms=parse_duration_ms(options.timeout) if options.timeout else None,
            checkpoint=not options.no_checkpoint,
            approver=make_approver(answers, options.checkpoints),
            cells=cells,
        )
    except WorkflowError as exc:
        return None, str(exc)
    except (RunInputError, MaiditError, ValueError, argparse.ArgumentError) as exc:
        return None, str(exc)
    cells[options.name or prepared.workflow.name] = body
    flow_run = FlowRun(prepared)
    anyio.run(flow_run._execute)
    return flow_run, ""


def _export(args: argparse.Namespace, out: TextIO) -> int:
    """``maidit nb export NOTEBOOK DIR``."""
    directory = Path(args.directory)
    directory.mkdir(parents=True, exist_ok=True)
    for number, (_, line, body) in enumerate(_flow_cells(_read(Path(args.notebook)))):
        name = line.split()[0] if line and not line.startswith("-") else ""
        if not name:
            match = re.search(r"^name:\s*(\S+)", body, re.MULTILINE)
            name = match.group(1).strip("'\"") if match else f"flow-{number + 1}"
        target = directory / f"{_UNSAFE.sub('-', name)}.flow.md"
        write_atomic(target, body.encode("utf-8"), new_file_mode=0o666)
        print(target, file=out)
    return 0


def _import(args: argparse.Namespace, out: TextIO) -> int:
    """``maidit nb import FLOW NOTEBOOK``."""
    nbformat = _nbformat()
    flow = Path(args.flow)
    try:
        text = flow.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot read {flow}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    path = Path(args.notebook)
    notebook = _read(path) if path.exists() else nbformat.v4.new_notebook()
    name = flow.name.removesuffix(".flow.md")
    notebook.cells.append(nbformat.v4.new_code_cell(f"{_MAGIC} {name}\n{text}"))
    _write(notebook, path)
    print(f"appended {flow} to {path} as %%flow {name}", file=out)
    return 0
