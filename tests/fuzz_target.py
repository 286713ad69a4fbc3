"""The atheris target: ``check_document`` over bytes mutated by libFuzzer.

Run by ``tests/test_document_fuzz.py`` (a short run under ``make reliability``, a long
one with ``RELIABILITY_LONG=1``), or by hand::

    python -m tests.fuzz_target CORPUS_DIR -atheris_runs=1000000

Any exception other than diagnostics, or an error diagnostic without a line and column,
is a crash: libFuzzer saves the input as ``crash-*`` (keep it as a regression seed).
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-untyped]  # ships no type hints

with atheris.instrument_imports():
    from maidit_jupyter.validation.validator import check_document


def one_input(data: bytes) -> None:
    """Check one document; raise on anything but located diagnostics."""
    text = data.decode("utf-8", "replace")
    checked = check_document(text, path="fuzz.flow.md")
    unlocated = [error for error in checked.report.errors if error.span is None]
    if unlocated:
        raise AssertionError(f"error diagnostics without a place: {unlocated}")


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
