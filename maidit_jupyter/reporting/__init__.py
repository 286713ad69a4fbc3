"""Rendering runs for people: the markdown execution log."""

from __future__ import annotations
