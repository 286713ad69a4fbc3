"""Read the control-flow and composition nodes: if, branch, loops, parallel, ...

One function per element kind; each reports what is wrong and returns a node when a
usable one can be built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maidit_jupyter.errors import ErrorCode, Severity
from maidit_jupyter.parsing.xml import XmlElement
from maidit_jupyter.source import LocatedStr
from maidit_jupyter.syntax import nodes as n

if TYPE_CHECKING:
    from maidit_jupyter.parsing.body import NodeReader

__all__ = [
    "read_branch",
    "read_call",
    "read_checkpoint",
    "read_context",
    "read_delay",
    "read_foreach",
    "read_if",
    "read_include",
    "read_loop",
    "read_parallel",
    "read_phase",
    "read_set",
    "read_timeout",
    "read_while",
]


def read_if(r: NodeReader, el: XmlElement) -> n.Node | None:
    """``<if condition>`` with ``<then>``/``<else>``."""
    fields = r.common(el, ("condition",))
    r.unexpected_children(
        el, ("then", "else", "condition"), "Put nodes inside <then> or <else>"
    )
    condition = r.text_or_child(el, "condition")
    if condition is None or not condition:
        r.report(
            ErrorCode.VALID_MISSING_REQUIRED_FIELD,
            f'If node "{fields["id"] if fields else ""}" is missing required "condition" attribute',
            r.tag_span(el),
            ['Add condition="expression" to the <if> element'],
        )
    then: list[n.Node] = []
    else_: tuple[n.Node, ...] = ()
    for child in el.children:
        if child.tag == "then":
            then.extend(r.body(child, child.children))
        elif child.tag == "else":
            else_ = r.body(child, child.children)
    if fields is None or condition is None or not condition:
        return None
    return n.IfNode(condition=condition, then=tuple(then), else_=else_, **fields)


def read_branch(r: NodeReader, el: XmlElement) -> n.Node | None:
    """``<branch>`` with ``<case when>`` and ``<default>``."""
    fields = r.common(el)
    r.unexpected_children(
        el, ("case", "default"), "A <branch> holds <case when=...> and <default>"
    )
    cases: list[n.Case] = []
    default: tuple[n.Node, ...] | None = None
    for child in el.children:
        if child.tag == "case":
            r.unknown_attributes(child, ("when",))
            when = child.attr("when")
            if when is None or not when.strip():
                r.report(
                    ErrorCode.VALID_MISSING_REQUIRED_FIELD,
                    f'Branch "{fields["id"] if fields else ""}" case {len(cases) + 1} '
                    'is missing a "when" condition',
                    r.tag_span(child),
                    ['Add when="expression" to the <case> element'],
                )
                when = LocatedStr("", child.start)
            cases.append(
                n.Case(
                    when=when.stripped(),
                    body=r.body(child, child.children),
                    span=r.tag_span(child),
                )
            )
        elif child.tag == "default":
            default = r.body(child, child.children)
    if fields is None:
        return None
    if not cases:
        r.report(
            ErrorCode.VALID_MISSING_REQUIRED_FIELD,
            f'Branch node "{fields["id"]}" must have at least one case',
            fields["span"],
            ['Add <case when="expression">...</case>'],
        )
    return n.BranchNode(cases=tuple(cases), default=default, **fields)


def read_loop(r: NodeReader, el: XmlElement) -> n.Node | None:
    """``<loop max break>``."""
    fields = r.common(el, ("max", "break"))
    max_iterations = r.integer_or_none(el, "max", minimum=1)
    break_ = el.attr("break")
    body = r.body(el, el.children)
    if fields is None:
        return None
    if el.attr("max") is None and break_ is None:
        r.report(
            ErrorCode.VALID_MISSING_REQUIRED_FIELD,
            f'Loop node "{fields["id"]}" has no exit condition (max or break)',
            fields["span"],
            ['Add max="10" or break="condition" to prevent infinite loops'],
            Severity.WARNING,
        )
    return n.LoopNode(
        max=max_iterations,
        break_=break_.stripped() if break_ is not None and break_.strip() else None,
        body=body,
        **fields,
    )


def read_while(r: NodeReader, el: XmlElement) -> n.Node | None:
    """``<while condition max>``."""
    fields = r.common(el, ("condition", "max"))
    condition = el.attr("condition")
    max_iterations = r.integer_or_none(el, "max", minimum=1)
    body = r.body(el, el.children)
    if fields is None:
        return None
    if condition is None or not condition.strip():
        r.report(
            ErrorCode.VALID_MISSING_REQUIRED_FIELD,
            f'While node "{fields["id"]}" is missing required "condition" attribute',
            fields["span"],
            ['Add condition="expression" to the <while> element'],
        )
        return None
    if max_iterations is None and el.attr("max") is None:
        r.report(
            ErrorCode.VALID_MISSING_REQUIRED_FIELD,
            f'While node "{fields["id"]}" has no "max"; it fails after 1000 iterations',
            fields["span"],
            ['Add max="N" to state the safety bound'],
            Severity.WARNING,
        )
    return n.WhileNode(
        condition=condition.stripped(), max=max_iterations, body=body, **fields
    )


def read_foreach(r: NodeReader, el: XmlElement) -> n.Node | None:
    """``<foreach collection item index concurrency>``."""
    fields = r.common(el, ("collection", "item", "index", "concurrency"))
    collection = el.attr("collection")
    concurrency = r.integer(el, "concurrency", minimum=1, default=1)
    body = r.body(el, el.children)
    if fields is None:
        return None
    if collection is None or not collection.strip():
        r.report(
            ErrorCode.VALID_MISSING_REQUIRED_FIELD,
            f'Foreach node "{fields["id"]}" is missing required "collection" attribute',
            fields["span"],
            ['Add collection="expression" to the <foreach> element'],
        )
        return None
    return n.ForeachNode(
        collection=collection.stripped(),
        item=str(el.attr("item") or "item").strip() or "item",
        index=str(el.attr("index") or "index").strip() or "index",
        concurrency=concurrency,
        body=body,
        **fields,
    )


def read_parallel(r: NodeReader, el: XmlElement) -> n.Node | None:
    """``<parallel wait merge>`` with ``<branch>`` children."""
    fields = r.common(el, ("wait", "merge"))
    r.unexpected_children(el, ("branch",), "A <parallel> holds <branch> elements")
    branches = tuple(
        r.body(child, child.children) for child in el.children if child.tag == "branch"
    )
    wait = str(el.attr("wait") or "all").strip()
    wait_count: int | None = None
    count = wait[2:-1].strip() if wait.startswith("n(") and wait.endswith(")") else ""
    if count.isascii() and count.isdigit():
        wait_count = int(count)
        wait = "n"
    elif wait not in ("all", "any"):
        r.report(
            ErrorCode.VALID_INVALID_FIELD_TYPE,
            f'<parallel> wait must be "all", "any" or "n(N)", got {wait!r}',
            r.attr_span(el, "wait"),
        )
        wait = "all"
    merge = el.attr("merge")
    if fields is None:
        return None
    if not branches:
        r.report(
            ErrorCode.VALID_MISSING_REQUIRED_FIELD,
            f'Parallel node "{fields["id"]}" must have at least one branch',
            fields["span"],
            ["Add <branch>...</branch> children"],
        )
    if wait_count is not None and not 1 <= wait_count <= max(len(branches), 1):
        r.report(
            ErrorCode.VALID_INVALID_FIELD_TYPE,
            f"<parallel> waits for {wait_count} branches but has {len(branches)}",
            r.attr_span(el, "wait"),
        )
    return n.ParallelNode(
        branches=branches,
        wait=wait,
        wait_count=wait_count,
        merge=merge.stripped() if merge is not None and merge.strip() else None,
        **fields,
    )


def read_checkpoint(r: NodeReader, el: XmlElement) -> n.Node | None:
    """``<checkpoint prompt timeout default condition>`` with ``<action>``s."""
    fields = r.common(
        el, ("prompt", "default", "condition", "allow-input"), read_timeout=False
    )
    r.unexpected_children(
        el,
        ("action", "prompt", "condition"),
        "A <checkpoint> holds <prompt>, <condition> and <action> elements",
    )
    prompt = r.text_or_child(el, "prompt")
    condition = r.text_or_child(el, "condition")
    wait_ms = r.duration(el, "timeout", seconds=True)
    actions: list[n.Action] = []
    for child in el.children:
        if child.tag != "action":
            continue
        r.unknown_attributes(child, ("id", "label", "goto"))
        action_id = r.key_attribute(
            child, "id", 'Add id="approve" to the <action> element'
        )
        if action_id is None:
            continue
        goto = child.attr("goto")
        actions.append(
            n.Action(
                id=action_id,
                label=str(child.attr("label") or action_id).strip(),
                goto=str(goto).strip() if goto is not None and goto.strip() else None,
                span=r.tag_span(child),
            )
        )
    allow_input = r.boolean(el, "allow-input")
    if fields is None:
        return None
    if prompt is None or not prompt:
        r.report(
            ErrorCode.VALID_MISSING_REQUIRED_FIELD,
            f'Checkpoint node "{fields["id"]}" is missing required "prompt" attribute',
            fields["span"],
            ['Add prompt="Approve?" or a <prompt> child'],
        )
        return None
    default = el.attr("default")
    known_actions = {"approve", "reject", *(a.id for a in actions)}
    if default is not None and str(default).strip() not in known_actions:
        r.report(
            ErrorCode.VALID_INVALID_FIELD_TYPE,
            f"<checkpoint> default {str(default)!r} is not one of its actions",
            r.attr_span(el, "default"),
            ["Actions: " + ", ".join(sorted(known_actions))],
        )
    return n.CheckpointNode(
        prompt=prompt,
        wait_ms=wait_ms,
        default=str(default).strip() if default is not None else None,
        condition=condition if condition else None,
        actions=tuple(actions),
        allow_input=bool(allow_input),
        **fields,
    )


def read_phase(r: NodeReader, el: XmlElement) -> n.Node | None:
    """``<phase name>``: its children run in order."""
    fields = r.common(el, ("name",), id_attr="name")
    body = r.body(el, el.children)
    return n.PhaseNode(body=body, **fields) if fields is not None else None


def read_context(r: NodeReader, el: XmlElement) -> n.Node | None:
    """``<context>`` with ``<set key value>`` entries."""
    fields = r.common(el)
    r.unexpected_children(
        el, ("set",), "A <context> holds <set key=... value=...> entries"
    )
    entries: list[n.ContextEntry] = []
    for child in el.children:
        if child.tag != "set":
            continue
        r.unknown_attributes(child, ("key", "var", "value"))
        key = child.attr("key") or child.attr("var")
        if key is None or not key.strip():
            r.report(
                ErrorCode.VALID_MISSING_REQUIRED_FIELD,
                '<set> inside <context> requires a "key" attribute',
                r.tag_span(child),
                ['Add key="name" to the <set> element'],
            )
            continue
        value = child.attr("value")
        entries.append(
            n.ContextEntry(
                key=str(key).strip(),
                value=value if value is not None else LocatedStr("", child.start),
                span=r.tag_span(child),
            )
        )
    return (
        n.ContextNode(entries=tuple(entries), **fields) if fields is not None else None
    )


def read_set(r: NodeReader, el: XmlElement) -> n.Node | None:
    """``<set var value>``."""
    fields = r.common(el, ("var", "value"), id_attr="var")
    if fields is None:
        return None
    value = el.attr("value")
    return n.SetNode(
        value=value if value is not None else LocatedStr("", el.start), **fields
    )


def read_delay(r: NodeReader, el: XmlElement) -> n.Node | None:
    """``<delay duration>``."""
    fields = r.common(el, ("duration",))
    if (
        r.key_attribute(el, "duration", 'Add duration="5s" to the <delay> element')
        is None
    ):
        return None
    duration = r.duration(el, "duration")
    if fields is None or duration is None:
        return None
    return n.DelayNode(duration_ms=duration, **fields)


def read_timeout(r: NodeReader, el: XmlElement) -> n.Node | None:
    """``<timeout duration on-timeout>`` around a body."""
    fields = r.common(el, ("duration", "on-timeout"))
    body = r.body(el, el.children)
    if (
        r.key_attribute(el, "duration", 'Add duration="30s" to the <timeout> element')
        is None
    ):
        return None
    duration = r.duration(el, "duration")
    if fields is None or duration is None:
        return None
    target = el.attr("on-timeout")
    return n.TimeoutNode(
        duration_ms=duration,
        on_timeout=str(target).strip()
        if target is not None and target.strip()
        else None,
        on_timeout_span=r.attr_span(el, "on-timeout") if target is not None else None,
        body=body,
        **fields,
    )


def read_include(r: NodeReader, el: XmlElement) -> n.Node | None:
    """``<include workflow>`` with ``<bind key value>``."""
    fields = r.common(el, ("workflow",))
    r.unexpected_children(
        el, ("bind",), "An <include> holds <bind key=... value=...> entries"
    )
    workflow = r.required_text(
        el,
        "workflow",
        'Add workflow="./sub-workflow.flow.md" to the <include> element',
    )
    bindings: dict[str, LocatedStr] = {}
    for child in el.children:
        if child.tag != "bind":
            continue
        r.unknown_attributes(child, ("key", "value"))
        key = r.key_attribute(child, "key", 'Add key="name" to the <bind> element')
        if key is None:
            continue
        value = child.attr("value")
        bindings[key] = value if value is not None else LocatedStr("", child.start)
    if fields is None or workflow is None:
        return None
    return n.IncludeNode(workflow=workflow, bindings=bindings, **fields)


def read_call(r: NodeReader, el: XmlElement) -> n.Node | None:
    """``<call workflow>``: other attributes are arguments."""
    fields = r.common(el, check_attributes=False, read_timeout=False)
    workflow = r.required_text(
        el,
        "workflow",
        'Add workflow="./sub-workflow.flow.md" to the <call> element',
    )
    args = {
        attribute.name: attribute.value
        for attribute in el.attributes
        if attribute.name not in ("id", "workflow", "input")
    }
    if fields is None or workflow is None:
        return None
    return n.CallNode(workflow=workflow, args=args, **fields)
