"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

HEADER = "---\nname: generated\nversion: 1.0.0\n---\n"


@dataclass(frozen=True)
class RandomDag:
    """A random acyclic flow: ids in document order and each node's dependencies."""

    ids: tuple[str, ...]
    deps: dict[str, tuple[str, ...]]
    forms: dict[str, int]

    def document(self) -> str:
        """Render the DAG as a flow, each dependency written in a different way."""
        lines = [HEADER, "<workflow>"]
        for node_id in self.ids:
            deps = self.deps[node_id]
            form = self.forms[node_id]
            if not deps:
                lines.append(f'  <delay id="{node_id}" duration="1ms"/>')
            elif form == 0:
                lines.append(
                    f'  <delay id="{node_id}" duration="1ms" input="{", ".join(deps)}"/>'
                )
            elif form == 1:
                refs = " ".join(f"{{{{ {d}.output }}}}" for d in deps)
                lines.append(
                    f'  <transform id="{node_id}" type="template"><template>{refs}</template></transform>'
                )
            elif form == 2:
                cond = " && ".join(f'$context["{d}"].output' for d in deps)
                lines.append(
                    f'  <if id="{node_id}" condition="{cond.replace(chr(34), "&quot;")}">'
                    f'<then><delay id="{node_id}-inner" duration="1ms"/></then></if>'
                )
            else:
                # the dependency sits on a node nested in a control block
                inner = ", ".join(deps)
                lines.append(
                    f'  <loop id="{node_id}" max="1"><delay id="{node_id}-body" '
                    f'duration="1ms" input="{inner}"/></loop>'
                )
        lines.append("</workflow>")
        return "\n".join(lines) + "\n"


@st.composite
def random_dags(draw: st.DrawFn, max_nodes: int = 30) -> RandomDag:
    """A random DAG whose edges go from earlier to later positions of a random order."""
    count = draw(st.integers(min_value=1, max_value=max_nodes))
    names = [f"n-{i}" if i % 3 == 0 else f"n{i}" for i in range(count)]
    order = draw(st.permutations(names))
    deps: dict[str, tuple[str, ...]] = {}
    for position, node_id in enumerate(order):
        earlier = order[:position]
        chosen = (
            draw(st.lists(st.sampled_from(earlier), max_size=3, unique=True))
            if earlier
            else []
        )
        deps[node_id] = tuple(chosen)
    document_order = draw(st.permutations(names))
    forms = {node_id: draw(st.integers(min_value=0, max_value=3)) for node_id in names}
    return RandomDag(ids=tuple(document_order), deps=deps, forms=forms)
