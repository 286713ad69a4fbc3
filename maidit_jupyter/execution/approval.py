"""Who answers a checkpoint: the approver interface and its implementations.

A ``<checkpoint>`` node asks an :class:`Approver` to choose one of its actions
(Approve/Reject unless the node lists its own ``<action>``s), optionally with a text.
Approvers:

* :class:`ScriptedApprover`: answers given up front (``--answer NODE=ACTION[:TEXT]``),
  then another approver for the rest;
* :class:`PolicyApprover`: ``approve``, ``reject``, ``default`` (the node's ``default``
  action), or ``pause``: nobody can answer now, so the run ends ``paused`` with a
  checkpoint, and ``maidit resume CKPT --answer ...`` continues it;
* :class:`TerminalApprover`: asks on a terminal (the prompt rendered as text, one line
  per action), in a worker thread so the deadline and Cancel still work.

The notebook's widget (issue #7) is one more implementation of the same interface.
An approver returns an :class:`Answer`, or ``None`` to pause the run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Protocol, TextIO

import anyio

from maidit_jupyter._records import record
from maidit_jupyter.expressions.values import Value

__all__ = [
    "DEFAULT_ACTIONS",
    "POLICIES",
    "Answer",
    "ApprovalRequest",
    "Approver",
    "Choice",
    "PolicyApprover",
    "ScriptedApprover",
    "TerminalApprover",
    "parse_action",
    "parse_answer",
]

POLICIES = ("approve", "reject", "default", "pause")


@record
class Choice:
    """One action a person can choose: its id, its label, where it routes."""

    id: str
    label: str
    goto: str | None = None


DEFAULT_ACTIONS = (
    Choice(id="approve", label="Approve"),
    Choice(id="reject", label="Reject"),
)


@record
class ApprovalRequest:
    """What a checkpoint asks.

    :ivar prompt: the rendered prompt (markdown).
    :ivar data: the node's input, for a preview of what is being approved.
    :ivar timeout_ms: how long to wait for an answer (None: no deadline).
    """

    node_id: str
    prompt: str
    choices: tuple[Choice, ...]
    default: str | None = None
    timeout_ms: float | None = None
    allow_input: bool = False
    data: Value = None


@record
class Answer:
    """The chosen action and the optional text a person typed."""

    action: str
    text: str | None = None


class Approver(Protocol):
    """Answers checkpoints (``None``: nobody can answer now, pause the run)."""

    async def ask(self, request: ApprovalRequest) -> Answer | None:
        """Choose an action for ``request``."""


def parse_answer(text: str) -> tuple[str, Answer]:
    """Read ``NODE=ACTION[:TEXT]`` (``--answer``).

    Raises:
        ValueError: no ``=``, or an empty node or action.
    """
    node, sep, rest = text.partition("=")
    if not sep or not node.strip():
        raise ValueError(f"expected NODE=ACTION[:TEXT], got {text!r}")
    return node.strip(), parse_action(rest, text)


def parse_action(text: str, shown: str | None = None) -> Answer:
    """Read ``ACTION[:TEXT]`` (an answer given for a known node).

    Raises:
        ValueError: an empty action.
    """
    action, _, typed = text.partition(":")
    if not action.strip():
        raise ValueError(f"expected NODE=ACTION[:TEXT], got {shown or text!r}")
    return Answer(action=action.strip(), text=typed or None)


class PolicyApprover:
    """Answers every checkpoint the same way (``approve|reject|default|pause``)."""

    def __init__(self, policy: str) -> None:
        if policy not in POLICIES:
            raise ValueError(
                f"unknown checkpoint policy {policy!r}; use one of {', '.join(POLICIES)}"
            )
        self.policy = policy

    async def ask(self, request: ApprovalRequest) -> Answer | None:
        if self.policy == "pause":
            return None
        if self.policy == "default":
            return Answer(action=request.default or "reject")
        return Answer(action=self.policy)


class ScriptedApprover:
    """Answers from a mapping of node id → answer; asks ``then`` for the others."""

    def __init__(self, answers: Mapping[str, Answer], then: Approver) -> None:
        self.answers = dict(answers)
        self.then = then

    async def ask(self, request: ApprovalRequest) -> Answer | None:
        answer = self.answers.get(request.node_id)
        if answer is not None:
            return answer
        return await self.then.ask(request)


class TerminalApprover:
    """Asks on a terminal: the prompt, a numbered line per action, then a choice."""

    def __init__(
        self,
        read_line: Callable[[], str] | None = None,
        out: TextIO | None = None,
    ) -> None:
        self.read_line = read_line or sys.stdin.readline
        self.out = out or sys.stderr

    async def ask(self, request: ApprovalRequest) -> Answer | None:
        out = self.out
        print(f"\n── checkpoint {request.node_id} ──\n{request.prompt}", file=out)
        for number, choice in enumerate(request.choices, start=1):
            print(f"  [{number}] {choice.label} ({choice.id})", file=out)
        if request.default:
            print(f"  (default: {request.default})", file=out)
        for _ in range(3):
            print("choose: ", end="", file=out, flush=True)
            line = await anyio.to_thread.run_sync(
                self.read_line, abandon_on_cancel=True
            )
            if not line:  # end of input: nobody is there
                return None
            picked = _match(line.strip(), request.choices)
            if picked is None:
                print("  not one of the actions; type its number or id", file=out)
                continue
            text = None
            if request.allow_input:
                print("text (optional): ", end="", file=out, flush=True)
                typed = await anyio.to_thread.run_sync(
                    self.read_line, abandon_on_cancel=True
                )
                text = typed.rstrip("\n") or None
            return Answer(action=picked.id, text=text)
        return Answer(action=request.default) if request.default else None


def _match(text: str, choices: tuple[Choice, ...]) -> Choice | None:
    lowered = text.lower()
    for number, choice in enumerate(choices, start=1):
        if lowered in {str(number), choice.id.lower(), choice.label.lower()}:
            return choice
    return None
