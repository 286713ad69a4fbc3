"""The ``maidit`` command line: argument parsing and dispatch.

Exit codes: 0 success, 1 a document is invalid (or, later, a run failed), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from maidit_jupyter import __version__
from maidit_jupyter.cli import commands, nb, run

__all__ = ["build_parser", "main"]

_DESCRIPTION = """\
Validate, plan and inspect FlowScript workflows (.flow.md files).

A flow is a markdown file: YAML frontmatter between '---' lines, then an XML
<workflow> body of nodes. In a notebook the same text runs in a %%flow cell.
"""
_EPILOG = """\
examples:
  maidit validate flows/*.flow.md
  maidit validate --format json --strict report.flow.md
  cat report.flow.md | maidit validate -
  maidit plan report.flow.md
  maidit run report.flow.md --config limit=10 --format json
  maidit inspect --deps --schema report.flow.md
  maidit parse report.flow.md > ast.json

exit codes: 0 success, 1 invalid document, 2 usage error
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``maidit``."""
    parser = argparse.ArgumentParser(
        prog="maidit",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-V", "--version", action="version", version=f"maidit {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    validate = sub.add_parser(
        "validate",
        help="check flows and report every problem with its location",
        description="Check one or more flows. Every error and warning of each file is "
        "reported at once, compiler style, with the offending line and hints.",
    )
    validate.add_argument(
        "files", nargs="+", metavar="FILE", help="flow files to check ('-' reads stdin)"
    )
    validate.add_argument(
        "-f",
        "--format",
        choices=("text", "json"),
        default="text",
        help="output format (json prints one document for all files)",
    )
    validate.add_argument(
        "-s", "--strict", action="store_true", help="treat warnings as errors (exit 1)"
    )
    validate.set_defaults(handler=commands.validate)

    plan = sub.add_parser(
        "plan",
        help="show the waves a flow runs in, without running it",
        description="Validate a flow and print its execution plan: which nodes run in "
        "which wave, and what each one waits for.",
    )
    plan.add_argument("file", metavar="FILE")
    plan.add_argument("-f", "--format", choices=("text", "json"), default="text")
    plan.set_defaults(handler=commands.plan)

    run.add_parsers(sub)
    nb.add_parser(sub)

    inspect = sub.add_parser(
        "inspect",
        help="describe a flow: metadata, nodes, dependencies, config schema",
        description="Describe a flow: its metadata and top-level nodes, and optionally "
        "what each node waits for (--deps) and its config fields and secrets (--schema). "
        "Exits 1 when the flow has errors.",
    )
    inspect.add_argument("file", metavar="FILE")
    inspect.add_argument("--deps", action="store_true", help="show dependencies")
    inspect.add_argument(
        "--schema", action="store_true", help="show config fields and secrets"
    )
    inspect.add_argument("-f", "--format", choices=("text", "json"), default="text")
    inspect.set_defaults(handler=commands.inspect)

    parse = sub.add_parser(
        "parse",
        help="print a flow's syntax tree as JSON",
        description="Parse a flow and print its syntax tree, with the location of "
        "every node, as JSON.",
    )
    parse.add_argument("file", metavar="FILE")
    parse.add_argument(
        "--no-validate",
        action="store_true",
        help="print the tree even if validation fails",
    )
    parse.set_defaults(handler=commands.parse)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``maidit`` and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args, sys.stdout))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
