"""Pause Python's cyclic garbage collector around allocation-heavy, cycle-free work.

Reading a large flow allocates hundreds of thousands of small objects (AST nodes,
located strings, tokens) and creates no reference cycles. With the collector on, every
few thousand allocations it scans the young generation, and from time to time every
tracked object: about a quarter of the time of parsing a 10,000-node flow. Reference
counting still frees everything as usual; the collector is restored afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused", "gc_relaxed"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block (if it was enabled)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Relaxed:
    """Counts the runs under :func:`gc_relaxed`; the first saves the thresholds, the last
    restores them (runs may overlap on one event loop)."""

    depth = 0
    saved: tuple[int, int, int] = (700, 10, 10)


#: the young-generation threshold while a run is going (Python's default is 700).
RUN_GEN0_THRESHOLD = 50_000


@contextmanager
def gc_relaxed() -> Iterator[None]:
    """Collect less often inside the block, without turning the collector off.

    A run allocates many short-lived objects (compiled expressions, scopes, results)
    next to a large, long-lived AST; at the default threshold the collector scans every
    700 allocations and, every so often, the whole heap: close to half of the time of a
    5,000-node run. The collector keeps running (user code may build cycles), just
    ~70 times less often; the thresholds are restored when the last run ends.
    """
    if _Relaxed.depth == 0:
        _Relaxed.saved = gc.get_threshold()
        gen0, gen1, gen2 = _Relaxed.saved
        gc.set_threshold(max(gen0, RUN_GEN0_THRESHOLD), gen1, gen2)
    _Relaxed.depth += 1
    try:
        yield
    finally:
        _Relaxed.depth -= 1
        if _Relaxed.depth == 0:
            gc.set_threshold(*_Relaxed.saved)
