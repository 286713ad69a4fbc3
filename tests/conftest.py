"""Shared test settings."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests import figures
from tests.pg_server import PgServer, ServerUnavailable, start_server

# Time-dependent code (dates) is tested in UTC, as the dialect says.
os.environ.setdefault("TZ", "UTC")
if hasattr(time, "tzset"):
    time.tzset()

# `make test` (and so CI) runs the property tests on a fixed sequence of examples, so a
# green build stays green; a bare `pytest` keeps exploring new random examples.
settings.register_profile("deterministic", derandomize=True, database=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PgServer]:
    """A real PostgreSQL server on 127.0.0.1 for the session (``tests/pg_server.py``).

    Never skipped: without the server binaries the tests fail and say how to get them.
    """
    try:
        server = start_server()
    except ServerUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Under ``make reliability``: the figures of design/reliability.md §3, one table."""
    if not figures.LEVEL:
        return
    lines, all_met = figures.summary()
    terminalreporter.section(f"reliability figures ({figures.LEVEL})")
    for line in lines:
        terminalreporter.write_line(line)
    if path := os.environ.get("MAIDIT_FIGURES_JSON"):
        figures.write_json(Path(path))
    if not all_met:
        terminalreporter.write_line(
            "some figures were not measured or missed their target"
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A reliability run whose figures miss a target fails, even when every test passed."""
    if figures.LEVEL and exitstatus == 0 and not figures.summary()[1]:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
