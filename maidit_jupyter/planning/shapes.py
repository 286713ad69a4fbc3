"""Read what an expression references from its tokens alone, when its shape is known.

Generated and hand-written flows repeat expression *shapes* with different names:
``len(L4_40.output) + len(L4_93.output)``, ``$item.value * 7 + 1``. Two texts whose
token sequences differ only in ordinary names and literal values parse into trees of the
same structure, so which tokens are identifiers, callee names or ``$context["id"]`` keys
is the same for both. :class:`ShapeRoles` records those token positions the first time a
shape is parsed; later texts of the shape are only tokenized. Names that change the
parse (``true``, ``false``, ``null``) or what is read (``$context``, ``$nodes``,
``$secrets``, ``$config``) are part of the shape. Shapes with arrows (whose parameters
shadow names) or with errors are never cached.
"""

from __future__ import annotations

from maidit_jupyter._records import record
from maidit_jupyter.expressions import nodes as e
from maidit_jupyter.expressions.lexer import Token
from maidit_jupyter.expressions.references import NODE_CONTAINERS

__all__ = ["ShapeRoles", "roles_of", "shape_of"]

#: containers whose member reads the analysis records.
CONTAINERS = NODE_CONTAINERS | {"$secrets", "$config"}
_SPELLED = frozenset({"true", "false", "null"}) | CONTAINERS

Reads = tuple[tuple[str, int, int], ...]


def shape_of(tokens: list[Token]) -> tuple[str, ...] | None:
    """The shape of a token list, or None when it must not be cached."""
    shape: list[str] = []
    for kind, value, _, _ in tokens:
        if kind == "name":
            shape.append(value if value in _SPELLED else "name")
        elif kind in ("=>", "bad"):
            return None
        else:
            shape.append(kind)
    return tuple(shape)


@record
class ShapeRoles:
    """Token positions of one shape: identifiers, callee names, container reads.

    ``members`` holds ``(container, container token, key token, last token)``.
    """

    identifiers: tuple[int, ...]
    calls: tuple[int, ...]
    members: tuple[tuple[str, int, int, int], ...]

    def reads(
        self, tokens: list[Token], node_ids: frozenset[str]
    ) -> tuple[Reads, Reads, Reads, Reads]:
        """Node reads, calls, secret reads and config reads of a text of this shape."""
        nodes = [
            (tokens[i][1], tokens[i][2], tokens[i][3])
            for i in self.identifiers
            if tokens[i][1] in node_ids
        ]
        secrets: list[tuple[str, int, int]] = []
        config: list[tuple[str, int, int]] = []
        for container, at, key_at, last in self.members:
            key, start, end = tokens[key_at][1], tokens[at][2], tokens[last][3]
            if container in NODE_CONTAINERS:
                if key in node_ids:
                    nodes.append((key, start, end))
            elif container == "$secrets":
                secrets.append((key, start, end))
            else:
                config.append((key, start, end))
        calls = tuple((tokens[i][1], tokens[i][2], tokens[i][3]) for i in self.calls)
        return tuple(sorted(nodes, key=_start)), calls, tuple(secrets), tuple(config)


def _start(read: tuple[str, int, int]) -> int:
    return read[1]


def roles_of(expr: e.Expr, tokens: list[Token]) -> ShapeRoles:
    """Find the roles of the tokens of a parsed expression (of a cacheable shape)."""
    # The final "eof" token is empty: it shares its offsets with the last real token.
    by_start = {token[2]: i for i, token in enumerate(tokens[:-1])}
    by_end = {token[3]: i for i, token in enumerate(tokens[:-1])}
    identifiers: list[int] = []
    calls: list[int] = []
    members: list[tuple[str, int, int, int]] = []
    for node in e.walk(expr):
        if isinstance(node, e.Identifier):
            identifiers.append(by_start[node.start])
        elif isinstance(node, e.Call):
            calls.append(by_start[node.callee_start])
        elif isinstance(node, e.Member) and isinstance(node.object, e.Identifier):
            container = node.object.name
            if container not in CONTAINERS:
                continue
            if node.property is not None:
                key_at = by_end[node.end]
            elif isinstance(node.computed, e.Literal) and isinstance(
                node.computed.value, str
            ):
                key_at = by_start[node.computed.start]
            else:
                continue
            members.append(
                (container, by_start[node.object.start], key_at, by_end[node.end])
            )
    return ShapeRoles(
        identifiers=tuple(sorted(identifiers)),
        calls=tuple(sorted(calls)),
        members=tuple(sorted(members, key=lambda member: member[1])),
    )
