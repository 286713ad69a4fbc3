"""``python -m maidit_jupyter`` is the ``maidit`` command."""

from __future__ import annotations

from maidit_jupyter.cli.main import main

raise SystemExit(main())
