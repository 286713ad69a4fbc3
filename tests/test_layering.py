"""The engine never imports the notebook stack (IPython, ipywidgets, traitlets)."""

from __future__ import annotations

import subprocess
import sys

ENGINE = [
    "maidit_jupyter",
    "maidit_jupyter.cli.main",
    "maidit_jupyter.expressions",
    "maidit_jupyter.parsing.parser",
    "maidit_jupyter.planning.plan",
    "maidit_jupyter.validation.validator",
    "maidit_jupyter.expressions.evaluator",
    "maidit_jupyter.expressions.compiled",
    "maidit_jupyter.execution.state",
    "maidit_jupyter.reporting.markdown",
]


def test_engine_imports_no_notebook_modules() -> None:
    """Importing every engine package leaves IPython, ipywidgets and traitlets unloaded."""
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in ENGINE)
        + "bad = [m for m in ('IPython', 'ipywidgets', 'traitlets', 'asyncio') if m in sys.modules]\n"
        + "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
