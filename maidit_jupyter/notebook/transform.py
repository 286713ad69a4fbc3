"""Turn a ``%%flow`` cell into an awaited call, so it runs on the kernel's event loop.

IPython runs a cell whose code awaits at top level on the kernel's own loop (autoawait);
with ipykernel 7 the kernel keeps handling widget messages meanwhile, so the Cancel and
Approve buttons work while the cell is busy (spec/notebook.md §3). A cell magic cannot
await, so the cell is rewritten before IPython sees the magic::

    %%flow demo --concurrency 4          await ....run_flow_cell('demo --concurrency 4',
    ---                            →           '---\\nname: demo\\n...')
    name: demo ...

The rewrite is one expression statement, so the cell's value is the run object.
"""

from __future__ import annotations

__all__ = ["rewrite_flow_cell"]

_MAGIC = "%%flow"


def rewrite_flow_cell(lines: list[str]) -> list[str]:
    """An IPython cleanup transformer: a ``%%flow`` cell becomes an awaited call."""
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start == len(lines):
        return lines
    first = lines[start]
    head = first.rstrip("\r\n")
    if head != _MAGIC and not head.startswith(_MAGIC + " "):
        return lines
    line = head[len(_MAGIC) :].strip()
    body = "".join(lines[start + 1 :])
    call = (
        "await __import__('maidit_jupyter.notebook.cell', fromlist=['run_flow_cell'])"
        f".run_flow_cell({line!r}, {body!r})\n"
    )
    return [call]
