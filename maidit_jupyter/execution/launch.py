"""Everything between "run this flow" and the executor, shared by the CLI and the API.

:func:`prepare_run` reads and checks the flow, resolves ``$config``, secrets and input,
and opens the run's checkpoint; :func:`prepare_resume` does the same from a checkpoint,
deciding which nodes run again (:mod:`maidit_jupyter.checkpoints.resume`). Both return a
:class:`PreparedRun`; :func:`launch` executes it and closes the checkpoint. Problems are
raised before anything runs: :class:`~maidit_jupyter.errors.WorkflowError` (the flow),
:class:`~maidit_jupyter.execution.inputs.RunInputError` (config, secrets, input),
:class:`~maidit_jupyter.errors.CheckpointError` and
:class:`~maidit_jupyter.errors.LockedError` (the checkpoint).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from maidit_jupyter.checkpoints import (
    STATE_DIR,
    CheckpointWriter,
    NodeHashes,
    ResumePlan,
    checkpoint_path,
    flow_hash,
    load_checkpoint,
    node_hashes,
    plan_resume,
)
from maidit_jupyter.checkpoints.document import encode_output, encode_result
from maidit_jupyter.errors import (
    CheckpointError,
    Diagnostic,
    PersistenceError,
    WorkflowSyntaxError,
    WorkflowValidationError,
)
from maidit_jupyter.execution.approval import Approver, PolicyApprover
from maidit_jupyter.execution.events import Observer
from maidit_jupyter.execution.executor import RunOptions, execute
from maidit_jupyter.execution.inputs import (
    RunInputError,
    resolve_config,
    resolve_secrets,
    used_secrets,
)
from maidit_jupyter.execution.state import RunRecord
from maidit_jupyter.expressions.values import UNDEFINED, Value
from maidit_jupyter.parsing.parser import read_document
from maidit_jupyter.persistence.lock import RunLock
from maidit_jupyter.planning.analysis import Analysis, analyze
from maidit_jupyter.planning.plan import ExecutionPlan
from maidit_jupyter.redaction import SecretMask
from maidit_jupyter.syntax.workflow import ConfigField, Workflow
from maidit_jupyter.validation.validator import CheckedDocument, check_document

__all__ = ["PreparedRun", "launch", "prepare_resume", "prepare_run"]

DEFAULT_CONCURRENCY = 10


@dataclass(kw_only=True)
class PreparedRun:
    """A checked flow with everything it needs to run, and its open checkpoint.

    :ivar flow_path: the flow file (resolved).
    :ivar mask: the run's secret values, for redacting anything shown.
    :ivar writer: the open checkpoint (None when checkpoints are off).
    :ivar resume: what a resume reuses and runs again (None for a fresh run).
    :ivar checkpoint_error: set when the final checkpoint write failed.
    """

    workflow: Workflow
    plan: ExecutionPlan
    options: RunOptions
    flow_path: Path
    mask: SecretMask
    warnings: tuple[Diagnostic, ...] = ()
    writer: CheckpointWriter | None = None
    resume: ResumePlan | None = None
    checkpoint_error: PersistenceError | None = field(default=None)

    @property
    def checkpoint_path(self) -> Path | None:
        """The checkpoint file, when the run writes one."""
        return self.writer.path if self.writer is not None else None

    def close(self) -> None:
        """Release the checkpoint without running (idempotent)."""
        if self.writer is not None:
            self.writer.close()


def _check(
    source: str, path: Path, checked: CheckedDocument | None = None
) -> tuple[Workflow, ExecutionPlan, Analysis, tuple[Diagnostic, ...]]:
    checked = checked or check_document(source, path=str(path))
    workflow, plan = checked.workflow, checked.plan
    if workflow is None or checked.parsed.errors:
        raise WorkflowSyntaxError(checked.report.diagnostics, source=source)
    if plan is None:
        raise WorkflowValidationError(checked.report.diagnostics, source=source)
    analysis = checked.analysis or analyze(workflow)
    return workflow, plan, analysis, tuple(checked.report.warnings)


def _stored_input(value: Value, mask: SecretMask) -> dict[str, Any]:
    text, why = encode_output(value, mask)
    if why is not None:
        return {"stored": False, "not_stored": why}
    if text is None:
        return {"stored": True}
    return {"stored": True, "value": json.loads(text)}


def _stored_config(config: Mapping[str, Any], mask: SecretMask) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    for key, value in config.items():
        text, why = encode_output(value, mask)
        if why is None:
            stored[key] = None if text is None else json.loads(text)
    return stored


def _header(
    *,
    run_id: str,
    workflow: Workflow,
    flow_path: Path,
    plan: ExecutionPlan,
    hashes: Mapping[str, NodeHashes],
    options: RunOptions,
    mask: SecretMask,
    created_at: float,
    resumes: int,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "workflow": workflow.name,
        "flow": {"path": str(flow_path), "hash": flow_hash(workflow)},
        "created_at": created_at,
        "resumes": resumes,
        "plan": [list(wave) for wave in plan.waves],
        "nodes": {
            node_id: {
                "definition": h.definition,
                "config": h.config,
                "effective": h.effective,
            }
            for node_id, h in hashes.items()
        },
        "config": _stored_config(options.config, mask),
        "secrets": sorted(workflow.frontmatter.secrets),
        "input": _stored_input(options.workflow_input, mask),
        "options": {
            "concurrency": options.concurrency,
            "keep_going": options.keep_going,
            "timeout_ms": options.timeout_ms,
        },
    }


def _read_flow(flow: str | Path, text: str | None) -> tuple[Path, str]:
    path = Path(flow).resolve()
    return path, text if text is not None else read_document(path)


def prepare_run(
    flow: str | Path,
    *,
    text: str | None = None,
    config: Mapping[str, Any] | None = None,
    config_source: str = "config",
    secrets: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    workflow_input: Value = UNDEFINED,
    concurrency: int | None = None,
    keep_going: bool = False,
    timeout_ms: float | None = None,
    checkpoint: bool = True,
    state_dir: str | Path | None = None,
    run_id: str | None = None,
    sync_interval: float = 1.0,
    checked: CheckedDocument | None = None,
    approver: Approver | None = None,
    cells: Mapping[str, str] | None = None,
    namespace: MutableMapping[str, Any] | None = None,
) -> PreparedRun:
    """Check the flow and its inputs, and open its checkpoint (see the module doc).

    ``state_dir`` defaults to ``.maidit-state`` next to the flow file; the checkpoint is
    ``<state_dir>/<workflow>/<run_id>.json``. ``checked`` is the flow already checked
    (with ``text``), so it is not checked twice. ``cells`` are the notebook's
    ``%%flow NAME`` cells, for ``cell:NAME`` includes; ``namespace`` its variables, for
    python nodes.
    """
    path, source = _read_flow(flow, text)
    workflow, plan, analysis, warnings = _check(source, path, checked)
    environ = os.environ if environ is None else environ
    front = workflow.frontmatter
    values = resolve_secrets(
        front.secrets, environ, used=used_secrets(workflow, analysis), given=secrets
    )
    mask = SecretMask(values.values())
    options = RunOptions(
        base_dir=path.parent,
        config=_config(mask, front.config, config, config_source),
        secrets=values,
        env=dict(environ),
        workflow_input=workflow_input,
        concurrency=concurrency
        or front.runtime.get("concurrency", DEFAULT_CONCURRENCY),
        keep_going=keep_going,
        timeout_ms=timeout_ms,
        run_id=run_id or uuid.uuid4().hex,
        approver=approver or PolicyApprover("pause"),
        cells=dict(cells or {}),
        namespace=namespace,
        call_stack=(str(path),),
        mask=mask,
    )
    prepared = PreparedRun(
        workflow=workflow,
        plan=plan,
        options=options,
        flow_path=path,
        mask=mask,
        warnings=warnings,
    )
    if checkpoint:
        assert options.run_id is not None
        hashes = node_hashes(
            workflow, plan, options.config, analysis, salt=options.run_id
        )
        directory = (
            Path(state_dir) if state_dir is not None else path.parent / STATE_DIR
        )
        target = checkpoint_path(directory, workflow.name, options.run_id)
        prepared.writer = CheckpointWriter(
            target,
            header=_header(
                run_id=options.run_id,
                workflow=workflow,
                flow_path=path,
                plan=plan,
                hashes=hashes,
                options=options,
                mask=mask,
                created_at=time.time(),
                resumes=0,
            ),
            hashes=hashes,
            mask=mask,
            sync_interval=sync_interval,
        )
        prepared.writer.open()
    return prepared


def prepare_resume(
    checkpoint: str | Path,
    *,
    flow: str | Path | None = None,
    text: str | None = None,
    config: Mapping[str, Any] | None = None,
    config_source: str = "config",
    secrets: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    workflow_input: Value = UNDEFINED,
    concurrency: int | None = None,
    keep_going: bool | None = None,
    timeout_ms: float | None = None,
    sync_interval: float = 1.0,
    approver: Approver | None = None,
    cells: Mapping[str, str] | None = None,
    namespace: MutableMapping[str, Any] | None = None,
) -> PreparedRun:
    """Lock the checkpoint, read it, check the flow, and decide what runs again.

    The flow is the file the checkpoint names unless ``flow`` (or ``text``) is given.
    Config values are the stored ones overlaid with ``config``; secrets are read again
    (the checkpoint holds names only); the input is the stored one unless
    ``workflow_input`` is given.
    """
    target = Path(checkpoint).resolve()
    if not target.is_file():
        raise CheckpointError(f"checkpoint not found: {str(target)!r}")
    lock = RunLock(target)
    lock.acquire()
    try:
        stored = load_checkpoint(target)
        path, source = _read_flow(flow if flow is not None else stored.flow_path, text)
        workflow, plan, analysis, warnings = _check(source, path)
        if workflow.name != stored.workflow:
            raise CheckpointError(
                f"{str(target)!r} is a checkpoint of workflow {stored.workflow!r}, "
                f"but {str(path)!r} is workflow {workflow.name!r}"
            )
        environ = os.environ if environ is None else environ
        front = workflow.frontmatter
        values = resolve_secrets(
            front.secrets,
            environ,
            used=used_secrets(workflow, analysis),
            given=secrets,
        )
        mask = SecretMask(values.values())
        kept = {
            key: value for key, value in stored.config.items() if key in front.config
        }
        resolved = _config(
            mask, front.config, {**kept, **(config or {})}, config_source
        )
        if workflow_input is UNDEFINED:
            if not stored.input_stored:
                raise RunInputError(
                    [
                        (
                            "the run's input was not stored in the checkpoint (it held "
                            "a secret or was not JSON); pass it again"
                        )
                    ]
                )
            workflow_input = stored.input
        saved = stored.options
        options = RunOptions(
            base_dir=path.parent,
            config=resolved,
            secrets=values,
            env=dict(environ),
            workflow_input=workflow_input,
            concurrency=concurrency
            or _int(saved.get("concurrency"))
            or front.runtime.get("concurrency", DEFAULT_CONCURRENCY),
            keep_going=bool(saved.get("keep_going"))
            if keep_going is None
            else keep_going,
            timeout_ms=timeout_ms,
            run_id=stored.run_id,
            approver=approver or PolicyApprover("pause"),
            cells=dict(cells or {}),
            namespace=namespace,
            call_stack=(str(path),),
            mask=mask,
        )
        hashes = node_hashes(workflow, plan, resolved, analysis, salt=stored.run_id)
        decided = plan_resume(stored, plan, hashes, flow_hash(workflow))
        entries = {
            node_id: encode_result(
                item.result,
                item.hashes,
                mask,
                not_stored=None if item.stored else item.not_stored or "not stored",
            )
            for node_id, item in decided.carried.items()
        }
        writer = CheckpointWriter(
            target,
            header=_header(
                run_id=stored.run_id,
                workflow=workflow,
                flow_path=path,
                plan=plan,
                hashes=hashes,
                options=options,
                mask=mask,
                created_at=stored.created_at,
                resumes=stored.resumes + 1,
            ),
            hashes=hashes,
            mask=mask,
            entries=entries,
            iterations={
                node_id: {
                    index: json.dumps(
                        {
                            "index": index,
                            "item": stored_iteration.item,
                            "output": stored_iteration.output,
                        }
                        | (
                            {"state": stored_iteration.state}
                            if stored_iteration.state is not None
                            else {}
                        ),
                        ensure_ascii=False,
                    )
                    for index, stored_iteration in done.items()
                }
                for node_id, done in decided.iterations.items()
            },
            in_flight=decided.in_flight,
            lock=lock,
            journal_seq=stored.journal_seq,
            sync_interval=sync_interval,
        )
        writer.open()
    except BaseException:
        lock.release()
        raise
    return PreparedRun(
        workflow=workflow,
        plan=plan,
        options=options,
        flow_path=path,
        mask=mask,
        warnings=warnings,
        writer=writer,
        resume=decided,
    )


def _config(
    mask: SecretMask,
    fields: Mapping[str, ConfigField],
    config: Mapping[str, Any] | None,
    source: str,
) -> dict[str, Any]:
    """``$config`` for the run; the problems quote values, so secrets are masked."""
    try:
        resolved = resolve_config(fields, config, source=source)
    except RunInputError as exc:
        raise RunInputError(mask.redact(problem) for problem in exc.problems) from None
    return resolved


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def launch(
    prepared: PreparedRun,
    *,
    observers: Sequence[Observer] = (),
    cancel: anyio.Event | None = None,
    pacer: Callable[[int], Awaitable[None]] | None = None,
) -> RunRecord:
    """Run a prepared run and close its checkpoint (the final snapshot is written)."""
    writer = prepared.writer
    try:
        record = await execute(
            prepared.workflow,
            prepared.plan,
            prepared.options,
            observers=observers,
            cancel=cancel,
            journal=writer,
            prior=prepared.resume.reused if prepared.resume is not None else None,
            prior_iterations=(
                prepared.resume.iterations if prepared.resume is not None else None
            ),
            pacer=pacer,
        )
    except BaseException:
        prepared.close()  # the checkpoint stays "running" with its journal: resumable
        raise
    if writer is not None:
        with anyio.CancelScope(shield=True):
            await writer.finish(record)
        prepared.checkpoint_error = writer.failure
    return record
