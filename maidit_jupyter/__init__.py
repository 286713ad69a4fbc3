"""maidit_jupyter: FlowScript workflows in Jupyter and on the command line."""

from __future__ import annotations

__version__ = "0.1.0"
