"""``<source type="file">`` and ``<sink type="file">``.

Paths are templates resolved against the flow's directory and confined to it (symlinks
included); blocking file I/O runs in a worker thread. See :mod:`.files` and
:mod:`.formats` for the formats.
"""

from __future__ import annotations

from functools import partial

import anyio

from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.expressions.values import UNDEFINED, Value, to_string, truthy
from maidit_jupyter.runtimes.base import NodeContext
from maidit_jupyter.runtimes.exposure import refuse_secrets
from maidit_jupyter.runtimes.files import (
    detect_write_format,
    read_data,
    resolve_path,
    write_data,
)

__all__ = ["FileSink", "FileSource"]


def _path_text(ctx: NodeContext) -> str:
    path = ctx.setting("path")
    if path is UNDEFINED or path is None or not to_string(path).strip():
        raise NodeRuntimeError(
            f'file {ctx.node.tag} "{ctx.node.id}" has no path',
            code="RUNTIME_INVALID_CONFIG",
        )
    return to_string(path)


def _format(ctx: NodeContext) -> str | None:
    fmt = ctx.setting("format", None)
    return None if fmt is None else to_string(fmt)


class FileSource:
    """Read a data file."""

    async def run(self, ctx: NodeContext) -> Value:
        """Read ``path`` in ``format`` (from the extension by default)."""
        shown = _path_text(ctx)
        path = resolve_path(shown, ctx.base_dir)
        encoding = to_string(ctx.setting("encoding", "utf-8"))
        # A read that hangs (a FIFO, a dead network mount) must not hold a timeout or a
        # cancel hostage: the thread is abandoned, and its result dropped.
        return await anyio.to_thread.run_sync(
            partial(
                read_data,
                path,
                _format(ctx),
                encoding=encoding,
                base=ctx.base_dir,
                shown=shown,
            ),
            abandon_on_cancel=True,
        )


class FileSink:
    """Write the input to a data file, atomically."""

    async def run(self, ctx: NodeContext) -> Value:
        """Write the input; the output is ``{path, bytes, format}``."""
        shown = _path_text(ctx)
        path = resolve_path(shown, ctx.base_dir)
        refuse_secrets(ctx, "file sink", ctx.input)
        fmt = detect_write_format(path, _format(ctx), ctx.input)
        write = partial(
            write_data,
            path,
            ctx.input,
            fmt,
            pretty=truthy(ctx.setting("pretty", True)),
            create_dirs=truthy(ctx.setting("createDir", True)),
            append=truthy(ctx.setting("append", False)),
            encoding=to_string(ctx.setting("encoding", "utf-8")),
            base=ctx.base_dir,
            shown=shown,
        )
        result: Value = await anyio.to_thread.run_sync(write)
        return result
