"""The ``validate``, ``plan`` and ``parse`` commands."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from maidit_jupyter.errors import Diagnostic, ErrorCode
from maidit_jupyter.parsing.parser import read_document
from maidit_jupyter.planning.plan import ExecutionPlan, build_graph
from maidit_jupyter.source import LineIndex
from maidit_jupyter.syntax.nodes import Node
from maidit_jupyter.syntax.to_json import workflow_to_json
from maidit_jupyter.validation.validator import CheckedDocument, check_document

__all__ = ["inspect", "parse", "plan", "validate"]

_RULE = "─" * 40


def load_checked(path: str) -> CheckedDocument | Diagnostic:
    """Read and check one file (``-`` is standard input), or say why it cannot be read."""
    try:
        text = sys.stdin.read() if path == "-" else read_document(path)
    except FileNotFoundError:
        return Diagnostic(
            code=ErrorCode.FILE_NOT_FOUND,
            message=f"File not found: {path}",
            hints=("Check that the file path is correct", "Ensure the file exists"),
            path=path,
        )
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return Diagnostic(
            code=ErrorCode.FILE_NOT_FOUND,
            message=f"Error reading file: {reason}",
            hints=("Flow files must be readable UTF-8 text",),
            path=path,
        )
    return check_document(text, path=path)


def _render(checked: CheckedDocument, diagnostics: tuple[Diagnostic, ...]) -> str:
    index = LineIndex(checked.parsed.source)
    return "\n\n".join(d.render(index) for d in diagnostics)


def _node_count(checked: CheckedDocument) -> int:
    return sum(1 for _ in checked.workflow.walk()) if checked.workflow else 0


def _file_json(path: str, checked: CheckedDocument | Diagnostic) -> dict[str, Any]:
    if isinstance(checked, Diagnostic):
        return {
            "valid": False,
            "file": path,
            "stage": "read",
            "errorCount": 1,
            "warningCount": 0,
            "errors": [checked.to_json()],
            "warnings": [],
        }
    report = checked.report
    data: dict[str, Any] = {
        "valid": report.valid,
        "file": path,
        "stage": "parse" if checked.workflow is None else "validate",
        "nodeCount": _node_count(checked),
        "errorCount": len(report.errors),
        "warningCount": len(report.warnings),
        "errors": [d.to_json() for d in report.errors],
        "warnings": [d.to_json() for d in report.warnings],
    }
    return data


def validate(args: argparse.Namespace, out: TextIO) -> int:
    """``maidit validate FILE... [--format text|json] [--strict]``."""
    results = [(path, load_checked(path)) for path in args.files]
    ok = all(
        not isinstance(checked, Diagnostic)
        and checked.report.valid
        and not (args.strict and checked.report.warnings)
        for _, checked in results
    )
    if args.format == "json":
        files = [_file_json(path, checked) for path, checked in results]
        document = {
            "valid": ok,
            "strict": args.strict,
            "errorCount": sum(f["errorCount"] for f in files),
            "warningCount": sum(f["warningCount"] for f in files),
            "files": files,
        }
        out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return 0 if ok else 1
    blocks = []
    for path, checked in results:
        if isinstance(checked, Diagnostic):
            blocks.append(checked.render())
            continue
        report = checked.report
        lines = []
        if report.diagnostics:
            lines.append(_render(checked, report.diagnostics))
            lines.append("")
        if not report.valid:
            summary = f"{path}: validation failed: {len(report.errors)} error(s)"
            if report.warnings:
                summary += f", {len(report.warnings)} warning(s)"
        elif report.warnings:
            verdict = "failed (--strict)" if args.strict else "passed"
            summary = (
                f"{path}: validation {verdict} with {len(report.warnings)} warning(s)"
            )
        else:
            summary = f"Valid {path} ({_node_count(checked)} node(s))"
        lines.append(summary)
        blocks.append("\n".join(lines))
    out.write("\n\n".join(blocks) + "\n")
    return 0 if ok else 1


def print_invalid(path: str, checked: CheckedDocument | Diagnostic) -> int:
    """Print why a document cannot be planned or printed (on stderr: stdout is data)."""
    err = sys.stderr
    if isinstance(checked, Diagnostic):
        err.write(checked.render() + "\n")
        return 1
    err.write(_render(checked, checked.report.diagnostics) + "\n\n")
    err.write(f"{path}: {len(checked.report.errors)} error(s)\n")
    return 1


def plan(args: argparse.Namespace, out: TextIO) -> int:
    """``maidit plan FILE [--format text|json]``: the dry-run view."""
    checked = load_checked(args.file)
    if isinstance(checked, Diagnostic) or checked.plan is None:
        if args.format == "json":
            out.write(json.dumps(_file_json(args.file, checked), indent=2) + "\n")
            return 1
        return print_invalid(args.file, checked)
    execution_plan = checked.plan
    if args.format == "json":
        data = execution_plan.to_json()
        data["warnings"] = [d.to_json() for d in checked.report.warnings]
        out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return 0
    if checked.report.warnings:
        sys.stderr.write(_render(checked, checked.report.warnings) + "\n\n")
    out.write(format_plan(execution_plan) + "\n")
    return 0


def format_plan(execution_plan: ExecutionPlan) -> str:
    """The text dry-run view of a plan."""
    lines = [
        "Execution Plan",
        _RULE,
        "",
        f"Workflow: {execution_plan.workflow}",
        f"Total nodes: {execution_plan.total_nodes}",
        f"Waves: {len(execution_plan.waves)}",
        "",
        "Wave breakdown:",
    ]
    for index, wave in enumerate(execution_plan.waves):
        count = f"{len(wave)} node" + ("s" if len(wave) != 1 else "")
        lines.append("")
        lines.append(f"  Wave {index} ({count}):")
        for node_id in wave:
            node = execution_plan.nodes[node_id]
            deps = sorted({d.on for d in execution_plan.graph.edges.get(node_id, ())})
            after = f" ← {', '.join(deps)}" if deps else ""
            lines.append(f"    • {node_id} ({node.label}){after}")
    if execution_plan.graph.routed:
        lines.append("")
        lines.append("Run only when routed to:")
        for target, routers in execution_plan.graph.routed.items():
            lines.append(f"    • {target} (from {', '.join(routers)})")
    return "\n".join(lines)


def parse(args: argparse.Namespace, out: TextIO) -> int:
    """``maidit parse FILE``: the syntax tree as JSON."""
    checked = load_checked(args.file)
    if isinstance(checked, Diagnostic) or checked.workflow is None:
        return print_invalid(args.file, checked)
    if not checked.report.valid and not args.no_validate:
        return print_invalid(args.file, checked)
    out.write(
        json.dumps(workflow_to_json(checked.workflow), indent=2, ensure_ascii=False)
        + "\n"
    )
    return 0


def inspect(args: argparse.Namespace, out: TextIO) -> int:
    """``maidit inspect FILE [--deps] [--schema] [--format text|json]``.

    Exits 1 when the flow has errors (the original exited 0), and lists warnings too.
    """
    checked = load_checked(args.file)
    if isinstance(checked, Diagnostic) or checked.workflow is None:
        return print_invalid(args.file, checked)
    workflow = checked.workflow
    front = workflow.frontmatter
    graph = build_graph(workflow)
    report = checked.report
    if args.format == "json":
        data: dict[str, Any] = {
            "metadata": {
                "name": front.name,
                "version": front.version,
                "description": front.description,
                "trigger": dict(front.trigger) if front.trigger else None,
            },
            "nodes": [
                {"id": node.id, "type": node.label, "input": _input_text(node)}
                for node in workflow.nodes
            ],
            "valid": report.valid,
            "errors": [d.to_json() for d in report.errors],
            "warnings": [d.to_json() for d in report.warnings],
        }
        if args.deps:
            data["dependencies"] = {
                node_id: sorted({d.on for d in deps})
                for node_id, deps in graph.edges.items()
            }
        if args.schema:
            data["configSchema"] = {
                name: {
                    "type": spec.type,
                    "default": spec.default,
                    "required": spec.required,
                    "description": spec.description,
                    "enum": list(spec.enum) if spec.enum is not None else None,
                }
                for name, spec in front.config.items()
            }
            data["secrets"] = list(front.secrets)
        out.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
        return 0 if report.valid else 1
    lines = [
        "Workflow Inspection",
        "─" * 50,
        "",
        f"Name: {front.name}",
        f"Version: {front.version}",
    ]
    if front.description:
        lines.append(f"Description: {front.description}")
    if front.trigger:
        lines.append(f"Trigger: {front.trigger.get('type')}")
    lines += ["", f"Nodes: {len(workflow.nodes)}"]
    for node in workflow.nodes:
        source = _input_text(node)
        lines.append(
            f"  • {node.id} ({node.label})" + (f" ← {source}" if source else "")
        )
    if args.deps:
        lines += ["", "Dependencies:"]
        for node_id in graph.order:
            deps = sorted({d.on for d in graph.edges.get(node_id, ())})
            lines.append(
                f"  {node_id} ← {', '.join(deps)}" if deps else f"  {node_id} (no deps)"
            )
        for target, routers in graph.routed.items():
            lines.append(f"  {target} runs when routed from {', '.join(routers)}")
    if args.schema:
        lines += ["", "Config Schema:"]
        for name, spec in front.config.items():
            mark = "*" if spec.required else ""
            default = (
                f" (default: {json.dumps(spec.default, default=str)})"
                if spec.has_default
                else ""
            )
            lines.append(f"  {mark}{name}: {spec.type}{default}")
            if spec.description:
                lines.append(f"      {spec.description}")
        lines.append("")
        lines.append("Secrets: " + (", ".join(front.secrets) or "none"))
    lines.append("")
    if report.valid:
        note = f" with {len(report.warnings)} warning(s)" if report.warnings else ""
        lines.append(f"✓ Validation passed{note}")
    else:
        lines.append(f"Validation Issues: {len(report.errors)} error(s)")
    for diagnostic in report.diagnostics:
        mark = "✗" if diagnostic.is_error else "!"
        lines.append(f"  {mark} line {diagnostic.line}: {diagnostic.message}")
    out.write("\n".join(lines) + "\n")
    return 0 if report.valid else 1


def _input_text(node: Node) -> str | None:
    return str(node.input.text).strip() if node.input is not None else None
