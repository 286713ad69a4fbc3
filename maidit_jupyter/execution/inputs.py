"""What a run starts from: its configuration and secrets, checked before anything runs.

``$config`` is the frontmatter defaults overlaid with overrides (``--config K=V``, the
notebook, the API). Unlike the original engine, ``required``, ``type`` and ``enum`` are
enforced here, and every problem is reported at once, naming the key and where its value
came from. Secrets come from the environment (or a mapping the caller passes); a declared
secret that is unset is an error only if some node uses it.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from maidit_jupyter.errors import MaiditError
from maidit_jupyter.parsing.frontmatter import value_matches_type
from maidit_jupyter.planning.analysis import Analysis
from maidit_jupyter.syntax.nodes import ConfiguredNode
from maidit_jupyter.syntax.workflow import ConfigField, Workflow

__all__ = [
    "RunInputError",
    "parse_override",
    "resolve_config",
    "resolve_secrets",
    "used_secrets",
]


class RunInputError(MaiditError):
    """The run's configuration or secrets are not usable; ``problems`` lists them all."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))

    def _render_traceback_(self) -> list[str]:
        return [f"error: {problem}" for problem in self.problems]


def parse_override(text: str) -> tuple[str, Any]:
    """Read ``KEY=VALUE``: the value as JSON when it parses, else as the text itself.

    Raises:
        ValueError: there is no ``=`` or the key is empty (a usage error).
    """
    key, equals, value = text.partition("=")
    if not equals:
        raise ValueError(f"Missing '=' in config override: {text}")
    key = key.strip()
    if not key:
        raise ValueError(f"Empty key in config override: {text}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def resolve_config(
    fields: Mapping[str, ConfigField],
    overrides: Mapping[str, Any] | None = None,
    *,
    source: str = "--config",
) -> dict[str, Any]:
    """Build ``$config``: defaults, then overrides; check required, type and enum.

    Args:
        fields: the declared config fields.
        overrides: values given for this run.
        source: how the overrides were given, for messages (``--config``, ``notebook``).

    Raises:
        RunInputError: every problem found (unknown keys, missing required values,
            wrong types, values outside the enum).
    """
    overrides = dict(overrides or {})
    problems: list[str] = []
    config: dict[str, Any] = {}
    for key in overrides:
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            declared = ", ".join(fields) or "none"
            problems.append(
                f"{source} sets {key!r}, which the flow does not declare{hint}; "
                f"declared: {declared}"
            )
    for name, spec in fields.items():
        if name in overrides:
            value, origin = overrides[name], f"{source} {name}"
        elif spec.has_default:
            value, origin = spec.default, "its default"
        else:
            if spec.required:
                problems.append(
                    f"config {name!r} is required and has no default; "
                    f"set it with {source} {name}=VALUE"
                )
            continue
        if value is not None and not value_matches_type(value, spec.type):
            problems.append(
                f"config {name!r} must be a {spec.type}, but {origin} gives {value!r}"
            )
        elif spec.enum is not None and value not in spec.enum:
            allowed = ", ".join(repr(item) for item in spec.enum)
            problems.append(
                f"config {name!r} must be one of {allowed}, but {origin} gives {value!r}"
            )
        config[name] = value
    if problems:
        raise RunInputError(problems)
    return config


def resolve_secrets(
    declared: Iterable[str],
    environ: Mapping[str, str],
    *,
    used: Iterable[str] = (),
    given: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Collect the values of declared secrets.

    Args:
        declared: the secret names of the frontmatter.
        environ: where values come from (``os.environ``).
        used: the names some node reads; only these must be set.
        given: values passed by the caller (a notebook mapping); they win.

    Raises:
        RunInputError: a used secret has no value.
    """
    given = given or {}
    values: dict[str, str] = {}
    for name in declared:
        value = given.get(name, environ.get(name))
        if value is not None:
            values[name] = value
    missing = [
        name for name in dict.fromkeys(used) if name in declared and name not in values
    ]
    if missing:
        raise RunInputError(
            f"secret {name!r} is used by the flow but not set; export {name}=... "
            "in the environment"
            for name in missing
        )
    return values


def used_secrets(workflow: Workflow, analysis: Analysis) -> set[str]:
    """Secret names some node reads (``$secrets.X``, ``api-key``/``password`` names)."""
    names = {name for facts in analysis.sites for name, _, _ in facts.secrets}
    for node in workflow.walk():
        if isinstance(node, ConfiguredNode):
            for key in ("api-key", "password"):
                value = node.config.get(key)
                if isinstance(value, str) and value:
                    names.add(value)
    return names
