"""Explain an expression error to a person: where, what, and which names exist.

The executor calls :func:`explain` with the node and field an expression came from and
the names visible in its scope. Only names are listed, never values, so a secret can
not leak into an error message.
"""

from __future__ import annotations

from collections.abc import Iterable

from maidit_jupyter.errors import ExpressionError

__all__ = ["explain"]


def explain(
    error: ExpressionError, *, node: str, field: str, names: Iterable[str] = ()
) -> str:
    """Format ``error`` with its node and field, the expression with a caret, and names.

    Example::

        EXPR_UNDEFINED_FUNCTION in node 'grade', field 'expression': Function 'uper' ...
          upper($item.name) + uper($item.track)
                              ^^^^
        available variables: $item, $index, $config

    Args:
        error: the located expression error.
        node: the id of the node the expression belongs to.
        field: the field it was written in (``condition``, ``config.template`` ...).
        names: the variable names visible where it was evaluated.
    """
    lines = [f"{error.code} in node {node!r}, field {field!r}: {error.message}"]
    if error.expression:
        text = error.expression
        line_start = text.rfind("\n", 0, error.start) + 1
        line_end = text.find("\n", error.start)
        line = text[line_start : line_end if line_end != -1 else len(text)]
        column = error.start - line_start
        width = max(1, min(error.end, line_start + len(line)) - error.start)
        lines.append(f"  {line}")
        lines.append("  " + " " * column + "^" * width)
    shown = sorted(dict.fromkeys(names))
    if shown:
        lines.append("available variables: " + ", ".join(shown))
    return "\n".join(lines)
