"""Running plans: the state of runs and nodes."""

from __future__ import annotations
