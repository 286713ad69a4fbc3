"""Print the mutation score of each mutated module after ``mutmut run`` (make mutation).

mutmut 3 leaves, next to each mutated file in ``mutants/``, a ``.meta`` JSON file with
the exit code of the tests for every mutant: 0 means the tests still passed (the mutant
survived), 1 that they failed (killed), null that it was not run yet (an interrupted
run: the score covers the mutants tested). Any other code (no test reached it, a
timeout) counts as survived here, so the score never flatters. Writes
``mutation-results.json`` and exits 1 when a module scores below the target of
design/reliability.md §3 (figure 17: 85%).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TARGET = 85.0
KILLED = 1


def scores(root: Path) -> dict[str, dict[str, float]]:
    """Per mutated module: mutants, tested, killed, and the score in percent (-1
    when none was tested)."""
    found: dict[str, dict[str, float]] = {}
    for meta in sorted(root.glob("**/*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"].values()
        tested = [code for code in codes if code is not None]
        killed = sum(1 for code in tested if code == KILLED)
        module = str(meta.relative_to(root)).removesuffix(".meta")
        found[module] = {
            "mutants": len(codes),
            "tested": len(tested),
            "killed": killed,
            "score": 100.0 * killed / len(tested) if tested else -1.0,
        }
    return found


def main() -> int:
    found = scores(Path("mutants"))
    if not found:
        print("no mutmut results in mutants/: run `mutmut run` first")
        return 1
    for module, row in found.items():
        if not row["tested"]:
            print(f"{module}: not run ({row['mutants']:.0f} mutants)")
            continue
        untested = row["mutants"] - row["tested"]
        print(
            f"{module}: {row['killed']:.0f} of {row['tested']:.0f} mutants killed "
            f"({row['score']:.1f}%)"
            + (f", {untested:.0f} not run yet" if untested else "")
        )
    Path("mutation-results.json").write_text(json.dumps(found, indent=2) + "\n")
    low = [m for m, row in found.items() if row["tested"] and row["score"] < TARGET]
    if low:
        print(f"below the target of {TARGET:.0f}%: {', '.join(low)}")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
