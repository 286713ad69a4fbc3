"""Read the configuration of a source/transform/sink element by its runtime's schema.

Attributes and child elements both set configuration (children win). A child is read
as YAML only where the runtime says the setting is structured (``headers``, ``request``,
``auth`` ...), so a prompt full of colons stays a prompt and headers nested inside
``<request>`` keep their nesting. Settings a runtime does not know keep the original's
rule (multi-line text whose every line holds a colon is a mapping) and get a warning.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from maidit_jupyter.durations import parse_duration_ms
from maidit_jupyter.errors import ErrorCode, Severity
from maidit_jupyter.expressions.template import ExprSegment, segment_template
from maidit_jupyter.parsing.elements import ElementReader
from maidit_jupyter.parsing.settings import RUNTIMES, Kind, Setting
from maidit_jupyter.parsing.xml import XmlElement
from maidit_jupyter.parsing.yaml_loader import load_yaml
from maidit_jupyter.source import LocatedStr, SourceSpan
from maidit_jupyter.syntax.nodes import ConfigValue

__all__ = ["ConfigReader"]

_NOT_CONFIG = frozenset({"id", "type", "input"})
_TRUE_WORDS = {"true": True, "false": False}
#: a masked template (see :func:`_mask_templates`): a start mark, digits, padding.
_MASK_START, _MASK_PAD, _MASK_DIGIT0 = "\ue000", "\ue001", 0xE100
_MASKED = re.compile("\ue000[\ue100-\ue1ff]+\ue001*")


class ConfigReader:
    """Builds ``config`` mappings; reports problems through its element reader."""

    def __init__(self, reader: ElementReader) -> None:
        self.reader = reader
        self.lines = reader.lines
        self.report = reader.report

    def read(
        self, el: XmlElement, runtime: str, tag: str
    ) -> tuple[dict[str, ConfigValue], frozenset[str]]:
        """Return the converted configuration of ``el`` and its bare-expression keys."""
        settings = RUNTIMES[runtime]
        config: dict[str, ConfigValue] = {}
        for attribute in el.attributes:
            if attribute.name in _NOT_CONFIG:
                continue
            if attribute.name == "timeout" and "timeout" not in settings:
                continue
            config[attribute.name] = attribute.value
        children: dict[str, ConfigValue] = {}
        args: dict[str, ConfigValue] = {}
        for child in el.children:
            if child.tag == "on-error":
                continue
            if child.tag == "arg":
                name = self.reader.key_attribute(
                    child, "name", 'Add name="argument" to the <arg> element'
                )
                if name is None:
                    continue
                value = child.attr("value")
                args[name] = value if value is not None else child.text.stripped()
                continue
            children[child.tag] = self.child_value(child, settings.get(child.tag))
        request = children.pop("request", None) if tag == "source" else None
        if isinstance(request, Mapping):
            config.update(request)
        elif request is not None:
            children["request"] = request
        config.update(children)
        if args:
            config["args"] = args
        for key, item in list(config.items()):
            setting = settings.get(key)
            if setting is None:
                self.unknown_setting(el, key, runtime, settings)
            elif isinstance(item, LocatedStr):
                config[key] = self.convert(el, key, item, setting)
        bare = frozenset(key for key, s in settings.items() if s.kind is Kind.BARE)
        return config, bare

    def child_value(self, child: XmlElement, setting: Setting | None) -> ConfigValue:
        """The value one child element sets."""
        text = child.text.stripped()
        if child.children and not text:
            return {
                grand.tag: self.child_value(grand, None) for grand in child.children
            }
        kind = setting.kind if setting is not None else None
        if kind in (Kind.STRUCTURED, Kind.LIST) or (
            kind is None and _looks_like_mapping(text)
        ):
            return self.structured(child.tag, child.text.dedented())
        return text

    def structured(self, tag: str, text: LocatedStr) -> ConfigValue:
        """Read YAML text; a plain scalar stays the text itself."""
        if not text:
            return text
        masked, templates = _mask_templates(text)
        result = load_yaml(masked)
        for problem in result.problems:
            self.report(
                ErrorCode.PARSE_YAML_INVALID,
                f"Invalid YAML in <{tag}>: {problem.message}",
                self.lines.span(problem.start, problem.end),
                problem.hints or ("Check YAML syntax", "Ensure proper indentation"),
            )
        if result.problems:
            # Keep going as the original would read it, so one typo is one error.
            return _flat_mapping(text) if _looks_like_mapping(text) else text
        if isinstance(result.value, dict | list):
            return _freeze(result.value, templates)
        return text

    def convert(
        self, el: XmlElement, key: str, value: LocatedStr, setting: Setting
    ) -> ConfigValue:
        """Convert one text value by its setting's kind (templates are left as they are)."""
        if "{{" in value:
            return value
        raw = str(value).strip()
        span = self.span_of(value)
        converted: Any = value
        if setting.kind is Kind.BOOL:
            converted = _TRUE_WORDS.get(raw.lower())
            if converted is None:
                return self.bad(el, key, value, "true or false", span)
        elif setting.kind is Kind.INT:
            try:
                converted = int(raw)
            except ValueError:
                return self.bad(el, key, value, "a whole number", span)
        elif setting.kind is Kind.NUMBER:
            try:
                converted = float(raw)
            except ValueError:
                return self.bad(el, key, value, "a number", span)
        elif setting.kind is Kind.DURATION:
            converted = parse_duration_ms(raw)
            if converted is None:
                return self.bad(
                    el, key, value, 'a duration such as "30s" or "500ms"', span
                )
        elif setting.kind is Kind.NAME:
            return raw
        elif setting.kind is Kind.LIST:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if setting.choices:
            by_lower = {choice.lower(): choice for choice in setting.choices}
            if raw.lower() not in by_lower:
                return self.bad(
                    el, key, value, "one of " + ", ".join(setting.choices), span
                )
            return by_lower[raw.lower()]
        if (
            setting.minimum is not None
            and isinstance(converted, int | float)
            and converted < setting.minimum
        ):
            return self.bad(el, key, value, f"at least {setting.minimum:g}", span)
        return converted  # type: ignore[no-any-return]

    def bad(
        self,
        el: XmlElement,
        key: str,
        value: LocatedStr,
        expected: str,
        span: SourceSpan,
    ) -> LocatedStr:
        """Report a value of the wrong type; keep the text so validation can go on."""
        self.report(
            ErrorCode.VALID_INVALID_FIELD_TYPE,
            f"<{el.tag}> {key} must be {expected}, got {str(value).strip()!r}",
            span,
        )
        return value

    def unknown_setting(
        self, el: XmlElement, key: str, runtime: str, settings: Mapping[str, Setting]
    ) -> None:
        """Warn about a setting the runtime does not read."""
        close = difflib.get_close_matches(key, list(settings), n=1)
        hints = [f"Did you mean {close[0]!r}?"] if close else []
        hints.append(f"{runtime} reads: " + ", ".join(settings))
        self.report(
            ErrorCode.VALID_UNKNOWN_FIELD,
            f"{runtime} does not read a setting named {key!r}",
            self.setting_span(el, key),
            hints,
            Severity.WARNING,
        )

    def setting_span(self, el: XmlElement, key: str) -> SourceSpan:
        """Where a setting is written: its attribute or its child element."""
        attribute = el.attribute(key)
        if attribute is not None:
            return self.lines.span(attribute.start, attribute.end)
        child = next((c for c in el.children if c.tag == key), None)
        if child is not None:
            return self.lines.span(child.start, child.start_tag_end)
        return self.lines.span(el.start, el.start_tag_end)

    def span_of(self, value: LocatedStr) -> SourceSpan:
        """The span of a located value."""
        return self.lines.span(value.offset_of(0), value.offset_of(len(value)))


def _looks_like_mapping(text: str) -> bool:
    """The original's rule: several non-empty lines, each holding a colon."""
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) > 1 and all(":" in line for line in lines)


def _flat_mapping(text: LocatedStr) -> dict[str, ConfigValue]:
    """The original's reading: each line split at its first colon."""
    mapping: dict[str, ConfigValue] = {}
    start = 0
    for line in str(text).split("\n"):
        key = line.partition(":")[0]
        if key.strip():
            value_start = start + len(key) + 1
            mapping[key.strip()] = text.sub(value_start, start + len(line)).stripped()
        start += len(line) + 1
    return mapping


def _mask_templates(text: LocatedStr) -> tuple[LocatedStr, dict[str, str]]:
    """Hide each one-line ``{{ }}`` from YAML behind a placeholder of the same length.

    ``X-Id: {{ input.id }}`` would otherwise be a YAML flow mapping. The placeholders
    are unique runs of private-use characters, so :func:`_freeze` can put the
    templates back, and every character keeps its location. A template holding a
    backslash is left alone (inside a quoted YAML string it may be an escape).
    """
    raw = str(text)
    if "{{" not in raw:
        return text, {}
    templates: dict[str, str] = {}
    pieces: list[str] = []
    done = 0
    for segment in segment_template(raw):
        written = raw[segment.start : segment.end]
        if not isinstance(segment, ExprSegment) or "\n" in written or "\\" in written:
            continue
        digits = ""
        number = len(templates)
        while True:
            number, digit = divmod(number, 256)
            digits = chr(_MASK_DIGIT0 + digit) + digits
            if not number:
                break
        mask = _MASK_START + digits
        if len(mask) > len(written):
            continue
        mask += _MASK_PAD * (len(written) - len(mask))
        templates[mask] = written
        pieces.extend((raw[done : segment.start], mask))
        done = segment.end
    if not templates:
        return text, {}
    pieces.append(raw[done:])
    return LocatedStr("".join(pieces), text.offset, text.marks), templates


def _unmask(text: str, templates: Mapping[str, str]) -> str:
    """Put the templates hidden by :func:`_mask_templates` back (same length)."""
    if not templates or _MASK_START not in text:
        return text
    restored = _MASKED.sub(lambda m: templates.get(m.group(), m.group()), str(text))
    if isinstance(text, LocatedStr):
        return LocatedStr(restored, text.offset, text.marks)
    return restored


def _freeze(value: Any, templates: Mapping[str, str]) -> ConfigValue:
    """Turn loaded YAML into immutable configuration (lists become tuples)."""
    if isinstance(value, dict):
        return {
            _unmask(key, templates): _freeze(item, templates)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return tuple(_freeze(item, templates) for item in value)
    if isinstance(value, str):
        return _unmask(value, templates)
    return value  # type: ignore[no-any-return]
