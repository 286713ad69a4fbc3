"""``<include>`` and ``<call>``: run another flow as one node (dialect "Include/call").

**Where the child is.** The ``workflow`` attribute is a template, rendered as text and
resolved against the including flow's directory (``RunOptions.base_dir``), so a child
in a subdirectory includes its own siblings by their plain names. A path written
literally in the flow (no ``{{ }}``) may leave that directory (``../shared/x.flow.md``)
or be absolute: it is the author's own choice, like an import, and sharing flows between
folders is common. A path computed by an expression comes from data (an input, a
config value), and running a flow is running code, so it is confined to the including
flow's directory exactly like the file nodes' paths (``RUNTIME_PATH_TRAVERSAL``,
symlinks included). ``cell:NAME`` names a ``%%flow NAME`` cell run earlier in the
notebook (``RunOptions.cells``); its directory is the including flow's.

**Checks.** The child is read and checked like a top-level flow: a missing file fails
the node with the errno name (``ENOENT``), a flow that does not parse or validate with
``RUNTIME_INCLUDE_INVALID`` and its first diagnostics (``path:line:col``). Each flow is
parsed once per run while its text does not change. Cycles are found along the **call
stack** (``RunOptions.call_stack``: the resolved paths of the flows executing in this
chain, the top-level flow's included): entering a flow that is already on it fails with
``RUNTIME_INCLUDE_CYCLE`` and the chain (``a → b → a``). Two nodes running the same
child at once (one wave, parallel branches, foreach items) are no cycle.

**What the child sees.** ``$input`` and ``input`` (for nodes without ``input=``) are the
include/call node's input. Bindings (``<bind key value>``) and call arguments are
evaluated in the node's scope (a lone ``{{ expr }}`` keeps its type: ``{{ [1, 2] }}``
arrives as a list) and become the child's starting variables: ``$vars.key``, or ``key``
by bare name (a child node id of the same name wins, as for ``<set>`` variables).
Nothing else of the parent is visible (its outputs, its variables).

* ``include``: ``$config`` is the parent's, over the child's declared defaults (a key
  the parent lacks gets the child's default instead of ``undefined``); ``$secrets`` are
  the parent's, plus the child's declared secrets the parent does not hold, from the
  environment.
* ``call``: ``$config`` is the child's own: its frontmatter defaults overlaid with the
  arguments named like a declared key, through :func:`~.inputs.resolve_config`
  (required, type and enum enforced; problems fail the node, ``RUNTIME_CALL_CONFIG``).
  A literal argument for a key whose type is not ``string`` is read as JSON when it
  parses (``limit="5"`` is the number 5, as with ``--config``). Every argument is also a
  variable. ``$secrets`` are the child's declared secrets only, from the parent's
  secrets of the same name, else the environment.

A declared secret that the child uses and that has no value fails the node
(``RUNTIME_INCLUDE_SECRETS``). The values a child receives are added to the run's
:class:`~maidit_jupyter.redaction.SecretMask` (``RunOptions.mask``), so the calling
run's report, log and checkpoint hide them too.

**How it runs.** :func:`~.executor.execute` runs the child: a run of its own (own
outputs, own compiler, own retry defaults and ``runtime.timeout_ms``), with the parent's
concurrency, ``keep_going``, environment, approver, clock and random source, no journal
(the child writes no checkpoint; a resumed parent runs the node again) and no
observers. It is awaited inside the parent's node, so the parent's cancellation, run
timeout or node timeout cancels it.

**Result.** The node's output is the original engine's: the last ``success`` output of
the child that is not ``undefined``, in the order the child recorded its results. The
whole child run (its node table) is attached to the node's result
(``NodeResult.child``) and to the JSON report (``"run"``). A failed child fails the node
with the child's error code and its message prefixed with the file and node
(``in sub.flow.md, node 'x': ...``); a child that pauses at a checkpoint nobody could
answer fails the node (``RUNTIME_CHILD_PAUSED``): it cannot be resumed from the middle.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from maidit_jupyter.errors import ExpressionError, NodeRuntimeError
from maidit_jupyter.execution.inputs import (
    RunInputError,
    resolve_config,
    resolve_secrets,
    used_secrets,
)
from maidit_jupyter.execution.state import NodeStatus, RunRecord, RunStatus
from maidit_jupyter.expressions.scope import Scope
from maidit_jupyter.expressions.values import UNDEFINED, Value
from maidit_jupyter.parsing.parser import read_document
from maidit_jupyter.planning.analysis import analyze
from maidit_jupyter.planning.plan import ExecutionPlan
from maidit_jupyter.runtimes.base import SettingError
from maidit_jupyter.runtimes.files import resolve_path
from maidit_jupyter.syntax.nodes import CallNode, IncludeNode
from maidit_jupyter.syntax.workflow import ConfigField, Workflow
from maidit_jupyter.validation.validator import check_document

if TYPE_CHECKING:
    from maidit_jupyter.execution.blocks import Frame
    from maidit_jupyter.execution.executor import _Run

__all__ = ["ChildRun", "ChildRunFailed", "Composer"]

INVALID = "RUNTIME_INCLUDE_INVALID"
CYCLE = "RUNTIME_INCLUDE_CYCLE"
CALL_CONFIG = "RUNTIME_CALL_CONFIG"
SECRETS = "RUNTIME_INCLUDE_SECRETS"
PAUSED = "RUNTIME_CHILD_PAUSED"
#: diagnostics quoted in the message of an invalid child.
SHOWN_DIAGNOSTICS = 3


@dataclass(frozen=True, slots=True)
class ChildRun:
    """What :meth:`Composer.run` returns: the node's output and the child's record.

    The executor unwraps it: the output becomes the node's, the record its ``child``.
    """

    output: Value
    record: RunRecord


class ChildRunFailed(NodeRuntimeError):
    """The child run failed: the node fails with its error; ``record`` is the run."""

    def __init__(self, message: str, *, code: str, record: RunRecord) -> None:
        super().__init__(message, code=code)
        self.record = record


@dataclass(frozen=True, slots=True)
class _Child:
    """A child flow read and checked."""

    text: str
    workflow: Workflow
    plan: ExecutionPlan
    used_secrets: frozenset[str]


class Composer:
    """Runs include and call nodes for one run (``run`` is the executor's run)."""

    def __init__(self, run: _Run) -> None:
        self.run_ = run
        #: flows read so far, by resolved path (reused while their text is the same).
        self._loaded: dict[str, _Child] = {}

    async def run(
        self,
        node: IncludeNode | CallNode,
        node_input: Value,
        scope: Scope,
        wave: int,
        frame: Frame | None,
    ) -> ChildRun:
        """Run the child flow of ``node``; raises on any failure (see the module doc)."""
        from maidit_jupyter.execution.executor import execute  # imports this module

        run = self.run_
        kind = "included" if isinstance(node, IncludeNode) else "called"
        shown = self._render(node.workflow, scope)
        if shown.startswith("cell:"):
            key, directory = shown, run.options.base_dir
        else:
            path = self._locate(node.workflow, shown)
            key, directory = str(path), path.parent
        stack = run.options.call_stack
        if key in stack:
            chain = " → ".join(_short(entry, stack) for entry in (*stack, key))
            raise NodeRuntimeError(
                f"{kind} flow {shown} is already running in this chain: {chain}",
                code=CYCLE,
            )
        child = (
            await self._load_cell(shown, kind)
            if shown.startswith("cell:")
            else await self._load(Path(key), shown, kind)
        )
        front = child.workflow.frontmatter
        if isinstance(node, IncludeNode):
            variables = self._values(node.bindings, "bind", scope)
            defaults = {
                name: spec.default
                for name, spec in front.config.items()
                if spec.has_default
            }
            config: Mapping[str, Any] = {**defaults, **run.options.config}
        else:
            variables = self._values(node.args, "args", scope)
            config = _call_config(front.config, node.args, variables, shown)
        secrets = self._secrets(child, shown, kind)
        if isinstance(node, IncludeNode):
            secrets = {**secrets, **run.options.secrets}
        if run.options.mask is not None:
            run.options.mask.add(secrets.values())
        options = replace(
            run.options,
            base_dir=directory,
            config=config,
            secrets=secrets,
            workflow_input=node_input,
            variables=variables,
            timeout_ms=None,
            run_id=uuid.uuid4().hex,
            call_stack=(*stack, key),
        )
        record = await execute(
            child.workflow, child.plan, options, registry=run.registry
        )
        if record.status is RunStatus.COMPLETED:
            return ChildRun(_last_output(record), record)
        if record.status is RunStatus.PAUSED:
            raise ChildRunFailed(
                f"{kind} flow {shown} paused at a checkpoint nobody could answer; "
                "a child run cannot pause (give the run an approver or answers)",
                code=PAUSED,
                record=record,
            )
        error = record.error
        failed = next(
            (r.node_id for r in record.results.values() if r.error is error), None
        )
        where = f"in {shown}" + (f", node {failed!r}" if failed is not None else "")
        message = error.message if error is not None else f"the run {record.status}"
        raise ChildRunFailed(
            f"{where}: {message}",
            code=error.code if error is not None else str(record.status).upper(),
            record=record,
        )

    # -- the steps -------------------------------------------------------------------

    def _render(self, text: str, scope: Scope) -> str:
        run = self.run_
        try:
            return run.compiler.template(text).render(scope, run.evaluator).strip()
        except ExpressionError as exc:
            raise SettingError(exc, "workflow") from None

    def _locate(self, written: str, shown: str) -> Path:
        """The child's resolved path (see the module doc for the confinement rule)."""
        if not shown:
            raise NodeRuntimeError(
                "the workflow path is empty", code="RUNTIME_INVALID_CONFIG"
            )
        base = self.run_.options.base_dir
        if "{{" in written:
            return resolve_path(shown, base)
        return Path(os.path.realpath(base / shown))

    async def _load_cell(self, shown: str, kind: str) -> _Child:
        """A ``%%flow NAME`` cell run earlier in this kernel."""
        name = shown.removeprefix("cell:").strip()
        text = self.run_.options.cells.get(name)
        if text is None:
            known = ", ".join(sorted(self.run_.options.cells)) or "none yet"
            raise NodeRuntimeError(
                f"{kind} flow {shown}: no %%flow cell named {name!r} has run in this "
                f"kernel (known: {known})",
                code="ENOENT",
            )
        known_child = self._loaded.get(shown)
        if known_child is not None and known_child.text == text:
            return known_child
        child = await anyio.to_thread.run_sync(_check, text, shown, kind)
        self._loaded[shown] = child
        return child

    async def _load(self, path: Path, shown: str, kind: str) -> _Child:
        try:
            text = read_document(path)
        except FileNotFoundError:
            raise NodeRuntimeError(
                f"{kind} flow not found: {shown} (looked for {path})",
                code="ENOENT",
            ) from None
        except OSError as exc:
            code = errno.errorcode.get(exc.errno or 0, "EIO")
            reason = exc.strerror or type(exc).__name__
            raise NodeRuntimeError(
                f"cannot read {kind} flow {shown}: {reason}", code=code
            ) from None
        except UnicodeDecodeError as exc:
            raise NodeRuntimeError(
                f"{kind} flow {shown} is not UTF-8 text: {exc.reason}", code=INVALID
            ) from None
        known = self._loaded.get(str(path))
        if known is not None and known.text == text:
            return known
        child = await anyio.to_thread.run_sync(_check, text, shown, kind)
        self._loaded[str(path)] = child
        return child

    def _values(
        self, templates: Mapping[str, str], field: str, scope: Scope
    ) -> dict[str, Value]:
        """Bindings or arguments as typed values (a lone ``{{ }}`` keeps its type)."""
        run = self.run_
        values: dict[str, Value] = {}
        for key, text in templates.items():
            if "{{" not in text:
                values[key] = str(text)
                continue
            try:
                values[key] = run.compiler.template(text).value(scope, run.evaluator)
            except ExpressionError as exc:
                raise SettingError(exc, f"{field}.{key}") from None
        return values

    def _secrets(self, child: _Child, shown: str, kind: str) -> dict[str, str]:
        """The child's declared secrets: the parent's of the same name, else the env."""
        options = self.run_.options
        try:
            return resolve_secrets(
                child.workflow.frontmatter.secrets,
                options.env,
                used=child.used_secrets,
                given=options.secrets,
            )
        except RunInputError as exc:
            raise NodeRuntimeError(
                f"{kind} flow {shown}: " + "; ".join(exc.problems), code=SECRETS
            ) from None


def _check(text: str, shown: str, kind: str) -> _Child:
    """Parse, validate and plan a child flow (runs in a worker thread)."""
    checked = check_document(text, path=shown)
    workflow, plan = checked.workflow, checked.plan
    errors = checked.report.errors
    if workflow is None or plan is None or errors:
        quoted = "; ".join(str(d) for d in errors[:SHOWN_DIAGNOSTICS])
        more = len(errors) - SHOWN_DIAGNOSTICS
        if more > 0:
            quoted += f" (and {more} more)"
        raise NodeRuntimeError(
            f"{kind} flow {shown} is not valid: {quoted or 'it could not be read'}",
            code=INVALID,
        )
    analysis = checked.analysis or analyze(workflow)
    return _Child(text, workflow, plan, frozenset(used_secrets(workflow, analysis)))


def _call_config(
    fields: Mapping[str, ConfigField],
    written: Mapping[str, str],
    values: Mapping[str, Value],
    shown: str,
) -> dict[str, Any]:
    """``$config`` of a called flow: its defaults overlaid with the matching arguments."""
    overrides: dict[str, Any] = {}
    for key, value in values.items():
        spec = fields.get(key)
        if spec is None:
            continue
        if (
            spec.type != "string"
            and isinstance(value, str)
            and "{{" not in written[key]
        ):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        overrides[key] = value
    try:
        return resolve_config(fields, overrides, source="<call> argument")
    except RunInputError as exc:
        raise NodeRuntimeError(
            f"called flow {shown}: " + "; ".join(exc.problems), code=CALL_CONFIG
        ) from None


def _last_output(record: RunRecord) -> Value:
    """The last success output that is not undefined, in recording order."""
    output: Value = UNDEFINED
    for result in record.results.values():
        if result.status is NodeStatus.SUCCESS and result.output is not UNDEFINED:
            output = result.output
    return output


def _short(path: str, stack: tuple[str, ...]) -> str:
    """A path of the chain, relative to the top-level flow's directory."""
    if not stack:
        return path
    return os.path.relpath(path, os.path.dirname(stack[0]))
