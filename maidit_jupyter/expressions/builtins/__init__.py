"""The built-in functions expressions may call, by name.

One module per family, each with its own :class:`~.base.FunctionTable`; ``BUILTINS`` is
their union and holds exactly the names of
:data:`maidit_jupyter.expressions.functions.ALL_FUNCTION_NAMES`.
"""

from __future__ import annotations

from collections.abc import Mapping

from maidit_jupyter.expressions.builtins import (
    arrays,
    dates,
    higher_order,
    kinds,
    numeric,
    objects,
    text,
    utility,
)
from maidit_jupyter.expressions.builtins.base import Builtin, CallContext, FunctionTable

__all__ = ["BUILTINS", "Builtin", "CallContext", "FunctionTable"]


def _merge(*tables: FunctionTable) -> Mapping[str, Builtin]:
    merged: dict[str, Builtin] = {}
    for table in tables:
        for name, function in table.items():
            if name in merged:
                raise ValueError(f"built-in {name!r} is defined twice")
            merged[name] = function
    return merged


BUILTINS: Mapping[str, Builtin] = _merge(
    text.TABLE,
    arrays.TABLE,
    numeric.TABLE,
    dates.TABLE,
    objects.TABLE,
    kinds.TABLE,
    utility.TABLE,
    higher_order.TABLE,
)
