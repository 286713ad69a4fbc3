"""Registering and removing the extension in an IPython shell."""

from __future__ import annotations

from typing import Any, cast

from IPython.core.interactiveshell import InteractiveShell

from maidit_jupyter.notebook.magics import MaiditMagics
from maidit_jupyter.notebook.transform import rewrite_flow_cell

__all__ = ["load", "unload"]


def load(shell: InteractiveShell) -> None:
    """Register the magics, their configuration, and the ``%%flow`` transformer."""
    magics = MaiditMagics(shell=shell)
    shell.register_magics(magics)
    configurables = cast(list[Any], shell.configurables)
    if magics not in configurables:
        configurables.append(magics)
    if rewrite_flow_cell not in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.append(rewrite_flow_cell)


def unload(shell: InteractiveShell) -> None:
    """Remove the ``%%flow`` transformer (the magics stay, as IPython keeps them)."""
    if rewrite_flow_cell in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.remove(rewrite_flow_cell)
