"""Keep secret values out of what a node writes or sends as content.

A secret belongs where a node authenticates (an ``api-key``, an ``auth`` block, a
connection string). Templated into a file's content, a mail's subject or body, or an AI
prompt, it leaves the run as ordinary data, readable by whoever gets that data
(design/reliability.md D4). :func:`refuse_secrets` fails such a node before anything is
written or sent, naming the secret, unless the node opts in with
``allow-secrets="true"``; the opt-in is logged and kept in the node's result (by name,
never the value).
"""

from __future__ import annotations

import json
import logging

from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.expressions.values import truthy
from maidit_jupyter.redaction import SecretMask
from maidit_jupyter.runtimes.base import NodeContext

__all__ = ["SECRET_EXPOSED", "refuse_secrets"]

SECRET_EXPOSED = "RUNTIME_SECRET_EXPOSED"  # noqa: S105 - an error code
_log = logging.getLogger("maidit_jupyter")


def refuse_secrets(ctx: NodeContext, what: str, *contents: object) -> None:
    """Fail the node if ``contents`` (texts or data) hold a secret's value, in any of
    the forms the run masks, unless its ``allow-secrets`` setting is true.

    Raises:
        NodeRuntimeError: ``RUNTIME_SECRET_EXPOSED``, naming the secrets.
    """
    mask = ctx.mask
    if not mask:
        return
    texts = [_text(content) for content in contents]
    if not any(mask.contains(text) for text in texts):
        return
    names = sorted(
        name
        for name, value in ctx.secrets.items()
        if any(SecretMask([value]).contains(text) for text in texts)
    )
    shown = ", ".join(names) or "a secret of a called flow"
    if truthy(ctx.setting("allow-secrets", False)):
        _log.warning(
            '%s "%s" sends the value of %s (allow-secrets="true")',
            what,
            ctx.node.id,
            shown,
        )
        ctx.meta["secrets_sent"] = names
        return
    raise NodeRuntimeError(
        f'{what} "{ctx.node.id}" would send the value of the secret {shown} as '
        'content; set allow-secrets="true" on the node if that is intended',
        code=SECRET_EXPOSED,
    )


def _text(content: object) -> str:
    """A text or data as the text a mask searches (data as JSON)."""
    if isinstance(content, str):
        return content
    try:
        return json.dumps(content, ensure_ascii=False, default=str)
    except (TypeError, ValueError):  # circular data: search what it prints as
        return str(content)
