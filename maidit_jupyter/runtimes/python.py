"""``type="python"`` sources, transforms and sinks: call a Python function.

``function="package.module:name"`` names the function. A module next to the flow file
(``helpers.py`` for ``function="helpers:clean"``) is found first, then the installed
ones. The function gets the node's input (transforms and sinks) and the ``<arg name
value>`` values as keyword arguments. A plain function runs in a worker thread, so a slow
one never blocks the run; an ``async def`` one is awaited. Its result is the node's output
and need not be JSON (a DataFrame is fine). A timeout or a cancel ends the node at once:
an async function is cancelled; a plain one cannot be stopped, so its thread is left to
finish in the background and its result is dropped.

In a notebook (``NodeContext.namespace`` is the kernel's variables), ``function="name"``
without a module calls a function defined in the notebook, a source with ``var="df"``
outputs that variable (the object itself, not a copy), and a sink with ``var="result"``
binds its input to it. Outside a notebook ``var=`` is an error that says so.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio

from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.expressions.values import Value, to_string
from maidit_jupyter.runtimes.base import NodeContext

__all__ = ["PythonRuntime", "load_function"]


#: modules read from files next to flows: path → ((mtime, size), module).
_local_modules: dict[Path, tuple[tuple[int, int], ModuleType]] = {}


def _module(name: str, base_dir: Path) -> ModuleType:
    """Import ``name``, preferring a module file next to the flow.

    A file next to the flow is read again when it changed since it was last read, so
    fixing a function and resuming a run (in the same kernel) runs the fixed code.
    """
    local = base_dir.joinpath(*name.split(".")).with_suffix(".py")
    if not local.is_file():
        return importlib.import_module(name)
    stat = local.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    known = _local_modules.get(local)
    if known is not None and known[0] == version:
        return known[1]
    key = f"maidit_flow_module_{abs(hash(str(local)))}"
    spec = importlib.util.spec_from_file_location(key, local)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file has one
        raise ImportError(name)
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(key)
    sys.modules[key] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if previous is None:
            del sys.modules[key]
        else:
            sys.modules[key] = previous
        raise
    _local_modules[local] = (version, module)
    return module


def load_function(reference: str, base_dir: Path) -> Callable[..., Any]:
    """The function ``module:name`` refers to.

    Raises:
        NodeRuntimeError: ``RUNTIME_PYTHON_IMPORT`` when it cannot be found.
    """
    module_name, _, function_name = reference.rpartition(":")
    if not module_name or not function_name:
        raise NodeRuntimeError(
            f'function "{reference}" must be written "module:function"',
            code="RUNTIME_PYTHON_IMPORT",
        )
    try:
        module = _module(module_name, base_dir)
    except Exception as exc:
        raise NodeRuntimeError(
            f"cannot import {module_name!r}: {type(exc).__name__}: {exc}",
            code="RUNTIME_PYTHON_IMPORT",
        ) from exc
    function = getattr(module, function_name, None)
    if not callable(function):
        raise NodeRuntimeError(
            f"{module_name!r} has no function {function_name!r}",
            code="RUNTIME_PYTHON_IMPORT",
        )
    return function  # type: ignore[no-any-return]


class PythonRuntime:
    """Runs ``function=`` for a python source, transform or sink."""

    def __init__(self, *, passes_input: bool) -> None:
        self.passes_input = passes_input

    async def run(self, ctx: NodeContext) -> Value:
        """Call the function with the input and the ``<arg>`` values, or read or bind
        a notebook variable (``var=``)."""
        if "function" not in ctx.config:
            return self._variable(ctx)
        reference = to_string(ctx.config["function"])
        if ":" not in reference and ctx.namespace is not None:
            function = ctx.namespace.get(reference)
            if not callable(function):
                raise NodeRuntimeError(
                    f"the notebook has no function {reference!r} (define it in a cell "
                    "run before this one, or write module:function)",
                    code="RUNTIME_PYTHON_IMPORT",
                )
        else:
            function = load_function(reference, ctx.base_dir)
        args = ctx.setting("args", {})
        kwargs = dict(args) if isinstance(args, Mapping) else {}
        positional = (ctx.input,) if self.passes_input else ()
        try:
            if inspect.iscoroutinefunction(function):
                return await function(*positional, **kwargs)
            # A thread cannot be stopped: on a timeout or cancel the node ends at
            # once and the function's thread is left to finish on its own.
            return await anyio.to_thread.run_sync(
                partial(function, *positional, **kwargs), abandon_on_cancel=True
            )
        except NodeRuntimeError:
            raise
        except Exception as exc:
            raise NodeRuntimeError(
                f"{reference} raised {type(exc).__name__}: {exc}",
                code="RUNTIME_PYTHON_ERROR",
                retryable=isinstance(exc, ConnectionError | TimeoutError),
            ) from exc

    def _variable(self, ctx: NodeContext) -> Value:
        """``var=``: a source reads the notebook variable, a sink binds its input to it."""
        name = to_string(ctx.config.get("var", ""))
        if ctx.namespace is None:
            raise NodeRuntimeError(
                f'python node "{ctx.node.id}" reads a notebook variable (var=); '
                'outside a notebook give it function="module:function"',
                code="RUNTIME_UNSUPPORTED",
            )
        if not name.isidentifier():
            raise NodeRuntimeError(
                f"var={name!r} is not a Python variable name",
                code="RUNTIME_INVALID_CONFIG",
            )
        if self.passes_input:
            ctx.namespace[name] = ctx.input
            return ctx.input
        if name not in ctx.namespace:
            raise NodeRuntimeError(
                f"the notebook has no variable {name!r}", code="RUNTIME_PYTHON_NAME"
            )
        return ctx.namespace[name]
