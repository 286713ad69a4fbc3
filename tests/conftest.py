"""Shared test settings."""

from __future__ import annotations

import os
import time

# Time-dependent code (dates) is tested in UTC, as the dialect says.
os.environ.setdefault("TZ", "UTC")
if hasattr(time, "tzset"):
    time.tzset()
