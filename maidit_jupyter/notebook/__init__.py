"""The notebook layer: ``%load_ext maidit_jupyter``, the ``%%flow`` cell, ``%maidit``.

Only this package imports IPython; the engine never does. :func:`load` registers the
magics and the input transformer that turns a ``%%flow`` cell into an awaited call, so
the flow runs on the kernel's own event loop (spec/notebook.md §3).
"""

from __future__ import annotations

from maidit_jupyter.notebook.extension import load, unload

__all__ = ["load", "unload"]
