"""The progress display of ``maidit run``: a live panel on terminals, lines elsewhere."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from maidit_jupyter.cli.main import main
from maidit_jupyter.cli.progress import LineProgress, LiveProgress, progress_for
from maidit_jupyter.redaction import SecretMask


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


FLOW = """---
name: panel
version: 1.0.0
secrets:
  - TOKEN
---
<workflow>
  <transform id="a" type="template"><template>one</template></transform>
  <transform id="b" type="template" input="a"><template>{{ input }} two</template></transform>
  <source id="c" type="file" input="a"><path>missing-{{ $secrets.TOKEN }}.json</path></source>
</workflow>
"""


def test_a_terminal_gets_the_live_panel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a TTY the run draws a rich panel with counts and failures, secrets redacted."""
    flow = tmp_path / "panel.flow.md"
    flow.write_text(FLOW)
    monkeypatch.setenv("TOKEN", "tok-SECRET-123")
    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    code = main(["run", str(flow), "--no-log"])
    assert code == 1
    drawn = screen.getvalue()
    assert "panel" in drawn
    assert "wave 2/2" in drawn
    assert "3/3 nodes" in drawn
    assert "2 success" in drawn
    assert "1 failed" in drawn
    assert "✗ c:" in drawn
    assert "tok-SECRET-123" not in drawn
    assert "tok-SECRET-123" not in capsys.readouterr().out


def test_pipes_get_plain_lines() -> None:
    """A stream that is not a terminal gets the line display."""
    mask = SecretMask(())
    assert isinstance(progress_for(2, 3, mask, io.StringIO()), LineProgress)
    assert isinstance(progress_for(2, 3, mask, Terminal()), LiveProgress)
