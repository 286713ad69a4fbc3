"""Shared test settings."""

from __future__ import annotations

import os
import time

from hypothesis import settings

# Time-dependent code (dates) is tested in UTC, as the dialect says.
os.environ.setdefault("TZ", "UTC")
if hasattr(time, "tzset"):
    time.tzset()

# `make test` (and so CI) runs the property tests on a fixed sequence of examples, so a
# green build stays green; a bare `pytest` keeps exploring new random examples.
settings.register_profile("deterministic", derandomize=True, database=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
