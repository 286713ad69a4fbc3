"""``%%flow`` and ``%maidit``: the magics, their options and their configuration.

Defaults are traitlets configuration (``%config MaiditMagics.concurrency = 4``). A
``%%flow`` cell is normally rewritten into an awaited call before IPython sees the
magic (:mod:`.transform`); the cell magic below is what ``%%flow?`` documents and what
runs when a cell magic is called directly (``run_cell_magic``) outside an event loop.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Any

import anyio
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import HTML, Markdown
from traitlets import Bool, Enum, Float, Int, Unicode

from maidit_jupyter.execution.flow_run import FlowRun

__all__ = ["MaiditMagics", "flow_options", "parse_flow_line"]


@magic_arguments()
@argument("name", nargs="?", help="the flow's name (default: its frontmatter name)")
@argument("--validate", action="store_true", help="check the flow, run nothing")
@argument("--plan", action="store_true", help="show the waves, run nothing")
@argument(
    "--config",
    "-c",
    action="append",
    default=[],
    metavar="KEY=VALUE",
    help="override a config value (JSON when it parses); repeatable",
)
@argument("--input", metavar="EXPR", help="a Python expression: the flow's $input")
@argument("--out", metavar="VAR", help="bind the run object to this variable")
@argument("--secrets", metavar="VAR", help="a mapping of secret values in a variable")
@argument("--keep-going", action="store_true", help="run independent nodes on failure")
@argument("--concurrency", type=int, metavar="N", help="nodes per wave at once")
@argument("--timeout", metavar="DURATION", help="deadline for the whole run")
@argument(
    "--answer",
    action="append",
    default=[],
    metavar="NODE=ACTION[:TEXT]",
    help="answer a checkpoint ahead; repeatable",
)
@argument(
    "--checkpoints",
    choices=("pause", "approve", "reject", "default"),
    help="how checkpoints nobody answers are handled (default: the configured policy)",
)
@argument("--no-checkpoint", action="store_true", help="write no checkpoint file")
@argument("--no-widget", action="store_true", help="no live panel, only the final log")
@argument(
    "--step", action="store_true", help="stop after each wave (Step / Continue buttons)"
)
@argument("--save", metavar="PATH", help="also write the cell as a .flow.md file")
@argument(
    "--resume",
    nargs="?",
    const="",
    metavar="RUN_ID",
    help="continue this flow's last run (or RUN_ID) from its checkpoint, with the "
    "cell as it is now",
)
@argument(
    "--log-file", metavar="PATH", help="append the execution log to this file as well"
)
@argument(
    "--background",
    action="store_true",
    help="return the run at once; it goes on (await it, or %%maidit cancel)",
)
def flow_options(line: str) -> None:
    """The options of ``%%flow`` (this function only carries them)."""


def parse_flow_line(line: str) -> Any:
    """Parse the options after ``%%flow``.

    Raises:
        UsageError: an unknown option or a bad value.
    """
    return parse_argstring(flow_options, line)


@magics_class
class MaiditMagics(Magics):
    """``%%flow`` runs a flow written in the cell; ``%maidit`` does the rest."""

    state_dir = Unicode(
        ".maidit-state",
        help="Where checkpoints are written, relative to the kernel's directory.",
    ).tag(config=True)
    concurrency = Int(10, help="Nodes of one wave running at once.").tag(config=True)
    checkpoint_policy = Enum(
        ("pause", "approve", "reject", "default"),
        default_value="pause",
        help="What a checkpoint does when nobody answers it: pause the run (resume "
        "with --answer), or approve/reject/take its default.",
    ).tag(config=True)
    show_widget = Bool(True, help="Show the live run panel.").tag(config=True)
    update_hz = Float(10.0, help="Run panel updates per second, at most.").tag(
        config=True
    )

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        #: the runs of this kernel, oldest first.
        self.runs: list[FlowRun] = []
        #: the text of every ``%%flow NAME`` cell that ran or was checked, by name.
        self.cells: dict[str, str] = {}
        self._tasks: set[Any] = set()

    @classmethod
    def of(cls, shell: InteractiveShell) -> MaiditMagics:
        """The instance registered in ``shell`` (loading the extension if needed)."""
        for configurable in shell.configurables:
            if isinstance(configurable, cls):
                return configurable
        from maidit_jupyter.notebook.extension import load

        load(shell)
        return cls.of(shell)

    @cell_magic
    def flow(self, line: str, cell: str) -> FlowRun | None:
        """Run the flow written in this cell (a whole ``.flow.md`` document).

        Usage: ``%%flow [NAME] [options]``, then the frontmatter and ``<workflow>``.
        Options: ``--validate``, ``--plan``, ``--config K=V`` (repeatable), ``--input
        EXPR``, ``--out VAR``, ``--secrets VAR``, ``--keep-going``, ``--concurrency N``,
        ``--timeout DUR``, ``--answer NODE=ACTION[:TEXT]`` (repeatable), ``--checkpoints
        pause|approve|reject|default``, ``--no-checkpoint``. The cell's value is the run
        (a :class:`~maidit_jupyter.FlowRun`); errors in the flow point at the cell's own
        lines.
        """
        from maidit_jupyter.notebook.cell import run_flow_cell

        try:
            anyio.get_current_task()
        except RuntimeError:
            return anyio.run(run_flow_cell, line, cell)
        raise UsageError(
            "%%flow cannot be called from running async code; write it as a cell"
        )

    @line_magic
    def maidit(self, line: str) -> Any:
        """``%maidit runs`` (this kernel's runs and checkpoints), ``log [N]``,
        ``cancel`` (the running ones), ``resume [N]`` (a failed, cancelled or paused run,
        in the background), ``validate NAME|PATH``, ``plan NAME|PATH``, ``show NAME|PATH``
        (the DAG), ``save NAME PATH`` (a ``%%flow NAME`` cell as a ``.flow.md``), ``run
        PATH`` (a flow file, headless), ``nb run|export|import …`` (as ``maidit nb``)."""
        words = line.split()
        if not words:
            raise UsageError(f"usage: %maidit {' | '.join(_COMMANDS)}")
        command, rest = words[0], words[1:]
        if command == "runs":
            return _runs_table(self.runs)
        if command == "cancel":
            running = [run for run in self.runs if run.record is None]
            for run in running:
                run.cancel()
            return f"cancelling {len(running)} run(s)"
        if command == "log":
            return Markdown(self._run_at(rest).log_markdown)
        if command == "resume":
            return self._resume(self._run_at(rest))
        if command == "save" and len(rest) == 2:
            text = self._cell_text(rest[0])
            Path(rest[1]).write_text(text, encoding="utf-8")
            return f"saved cell {rest[0]!r} to {rest[1]}"
        if command in {"validate", "plan", "show"} and len(rest) == 1:
            if rest[0] in self.cells:
                return _check_text(command, rest[0], self.cells[rest[0]])
            if command == "show":
                path = Path(rest[0])
                return _check_text(command, path.name, path.read_text(encoding="utf-8"))
            return _cli(command, Path(rest[0]))
        if command == "run" and len(rest) == 1:
            return _cli(command, Path(rest[0]))
        if command == "nb" and rest and rest[0] in {"run", "export", "import"}:
            return _main(["nb", *rest])
        raise UsageError(
            f"unknown %maidit command: {line!r}; use {' | '.join(_COMMANDS)}"
        )

    def _run_at(self, rest: list[str]) -> FlowRun:
        """The run named by a run id (or its start), a row of ``%maidit runs``, or
        ``--last`` (the default)."""
        if not self.runs:
            raise UsageError("no flow has run in this kernel yet")
        if not rest or rest[0] == "--last":
            return self.runs[-1]
        wanted = rest[0]
        by_id = [run for run in self.runs if run.run_id.startswith(wanted)]
        if len({run.run_id for run in by_id}) == 1 and len(wanted) >= 4:
            return by_id[-1]  # the latest of a resumed run's parts
        try:
            return self.runs[int(wanted)]
        except (ValueError, IndexError):
            raise UsageError(f"no run {wanted!r}; see %maidit runs") from None

    def _cell_text(self, name: str) -> str:
        if name not in self.cells:
            known = ", ".join(sorted(self.cells)) or "none yet"
            raise UsageError(f"no %%flow cell named {name!r} (known: {known})")
        return self.cells[name]

    def _resume(self, run: FlowRun) -> str:
        """Continue ``run`` in the background on the kernel's loop."""
        if not run.can_resume:
            raise UsageError(f"run {run.run_id[:8]} is {run.status}: nothing to resume")
        import asyncio

        async def go() -> None:
            # with the notebook's cells as they are now, as %%flow --resume
            resumed = await run.resume(text=run.workflow.source, cells=self.cells)
            self.runs.append(resumed)

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a terminal IPython between cells: run it here
            anyio.run(go)
            return f"resumed run {run.run_id[:8]}: {self.runs[-1].status}"
        task = loop.create_task(go())
        self._tasks.add(task)  # kept until done: the loop holds tasks weakly
        task.add_done_callback(self._tasks.discard)
        return f"resuming run {run.run_id[:8]} in the background; see %maidit runs"


_COMMANDS = (
    "runs",
    "log [RUN_ID|N|--last]",
    "cancel",
    "resume [RUN_ID|N|--last]",
    "validate NAME|PATH",
    "plan NAME|PATH",
    "show NAME|PATH",
    "save NAME PATH",
    "run PATH",
    "nb run|export|import ...",
)


def _check_text(command: str, name: str, text: str) -> Any:
    """``validate``, ``plan`` or ``show`` for a flow's text."""
    from maidit_jupyter.notebook.dag import render_dag
    from maidit_jupyter.validation.validator import check_document

    checked = check_document(text, path=name)
    if checked.plan is None:
        return Markdown(
            f"**{name}**: {len(checked.report.errors)} error(s)\n\n"
            + "\n".join(f"- `{d}`" for d in checked.report.diagnostics)
        )
    if command == "validate":
        return Markdown(f"**{name}**: valid ({len(checked.plan.nodes)} nodes)")
    if command == "plan":
        return Markdown(
            "\n".join(
                f"{index + 1}. " + ", ".join(f"`{node}`" for node in wave)
                for index, wave in enumerate(checked.plan.waves)
            )
        )
    return HTML(render_dag(checked.plan, {}))


def _runs_table(runs: list[FlowRun]) -> Any:
    rows = "".join(
        f"<tr><td>{index}</td><td>{run.workflow.name}</td><td>{run.run_id[:8]}</td>"
        f"<td>{run.status}</td><td>{run.checkpoint_path or ''}</td></tr>"
        for index, run in enumerate(runs)
    )
    return HTML(
        "<table><tr><th>#</th><th>flow</th><th>run</th><th>status</th>"
        f"<th>checkpoint</th></tr>{rows}</table>"
    )


def _cli(command: str, path: Path) -> int:
    """Run a ``maidit`` command on a file."""
    return _main([command, str(path)] + (["--no-log"] if command == "run" else []))


def _main(args: list[str]) -> int:
    """``maidit ARGS``, in a thread of its own (it runs its own event loop)."""
    from maidit_jupyter.cli.main import main

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(main, args).result()
