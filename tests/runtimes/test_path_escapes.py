"""File nodes stay inside the flow's directory (design/reliability.md E1, E2; figure 11).

Every payload path goes through real runs, as the templated ``path`` of a file sink and
of a file source; a decoy tree next to the flow's directory is compared byte for byte
before and after, and no source may read the decoy's content. Then a racing thread swaps
a directory on the sink's path for a symlink to the decoy tree, thousands of times, while
the sink writes through it: the write lands inside or fails as a traversal, never
outside (the file is written through its directory opened beneath the base).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

import maidit_jupyter
from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.runtimes.files import read_data, resolve_path, write_data
from tests import figures

SECRET = "decoy-secret-content"

#: templated paths a hostile input could give: plain, encoded and backslash climbs,
#: absolute paths, home and drive paths, NUL, lookalike dots, long and reserved names.
PAYLOADS = [
    *(
        prefix + climb + "outside/secret.txt"
        for prefix in ("", "./", "sub/", "sub/deeper/", "./sub/../")
        for climb in ("../", "../../", "..%2f", "..%2F", "%2e%2e/", "..\\", "%2e%2e%5c")
    ),
    "..",
    "../",
    "../outside",
    "sub/../../outside/new.txt",
    "%2e%2e%2foutside%2fsecret.txt",
    "..%252foutside/secret.txt",
    "....//outside/secret.txt",
    "..;/outside/secret.txt",
    "/etc/passwd",
    "/etc/hostname",
    "/proc/self/environ",
    "/dev/zero",
    "//server/share/x",
    "\\\\server\\share\\x",
    "C:\\Windows\\win.ini",
    "c:/windows/win.ini",
    "file\0.txt",
    "file%00.txt",
    "out.txt\0../../outside/secret.txt",
    "~/../outside/secret.txt",
    "\u2025/outside/secret.txt",
    "\uff0e\uff0e/outside/secret.txt",
    "..\u2215outside\u2215secret.txt",
    "x" * 5000,
    ("a/" * 2000) + ("../" * 2001) + "outside/secret.txt",
    "CON",
    "NUL.txt",
    "aux",
    " ../outside/secret.txt",
    "../outside/secret.txt ",
]


def decoy_tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` with its content."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """``flow/`` (the base) next to ``outside/`` (the decoy, with a secret file)."""
    base, outside = tmp_path / "flow", tmp_path / "outside"
    (base / "sub" / "deeper").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    return base, outside


def flow_file(base: Path) -> Path:
    path = base / "paths.flow.md"
    path.write_text(
        "---\nname: paths\nversion: 1.0.0\nconfig:\n  target: {type: string}\n---\n"
        "<workflow>\n"
        '  <transform id="data" type="template"><template>written</template></transform>\n'
        '  <sink id="write" type="file" input="data" path="{{ $config.target }}"/>\n'
        '  <source id="read" type="file" input="write" path="{{ $config.target }}"/>\n'
        "</workflow>\n"
    )
    return path


@pytest.mark.reliability
@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_payload_never_leaves_the_base(layout: tuple[Path, Path], payload: str) -> None:
    """The sink writes inside the base or fails; the source reads nothing outside."""
    base, outside = layout
    before = decoy_tree(outside)
    flow_run = maidit_jupyter.run_sync(
        flow_file(base),
        config={"target": payload},
        keep_going=True,
        checkpoint=False,
    )
    leaked = SECRET in repr(flow_run.outputs.get("read"))
    escaped = decoy_tree(outside) != before or leaked
    figures.count("path escapes", payloads=1, escapes=escaped)
    assert decoy_tree(outside) == before
    assert not leaked
    for node_id in ("write", "read"):
        result = flow_run.results[node_id]
        if result.error is not None:
            assert SECRET not in result.error.message
    written = flow_run.outputs.get("write")
    if isinstance(written, dict):
        assert Path(str(written["path"])).resolve().is_relative_to(base.resolve())


@pytest.mark.parametrize("target", ["ok.txt", "sub/deeper/ok.txt", "new/dir/ok.txt"])
def test_the_flow_writes_and_reads_inside(
    layout: tuple[Path, Path], target: str
) -> None:
    """The control: the same flow with a harmless path writes and reads it back."""
    base, _ = layout
    flow_run = maidit_jupyter.run_sync(
        flow_file(base), config={"target": target}, checkpoint=False
    )
    assert flow_run.status.value == "completed", flow_run.results
    assert flow_run.outputs["read"] == "written"
    assert (base / target).read_text() == "written"


def test_the_payload_corpus_has_sixty_paths() -> None:
    assert len(set(PAYLOADS)) >= 60


RACES = figures.scale(unit=2_000, ci=10_000, long=100_000)


@pytest.mark.reliability
def test_a_directory_swapped_for_a_symlink_is_never_written_through(
    layout: tuple[Path, Path],
) -> None:
    """While a thread flips ``base/swap`` between a real directory and a symlink to
    the decoy tree, a writer keeps writing ``swap/out.txt`` and a reader keeps reading
    it (checked first, then written, as a sink does): nothing appears outside, and
    nothing outside is read."""
    base, outside = layout
    real, link, swap = base / "real", base / "link", base / "swap"
    real.mkdir()
    link.symlink_to(outside, target_is_directory=True)
    os.rename(real, swap)
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            # swap is the real directory: put the symlink there, then back again
            os.rename(swap, real)
            os.rename(link, swap)
            os.rename(swap, link)
            os.rename(real, swap)

    flipper = threading.Thread(target=flip)
    flipper.start()
    outcomes = {"written": 0, "refused": 0, "read_outside": 0}
    try:
        for _ in range(RACES):
            try:
                path = resolve_path("swap/out.txt", base)
                write_data(
                    path,
                    "inside",
                    "text",
                    create_dirs=False,  # never make 'swap' while it is moved away
                    base=base,
                    shown="swap/out.txt",
                )
                outcomes["written"] += 1
                path = resolve_path("swap/secret.txt", base)
                if SECRET in str(read_data(path, "text", base=base)):
                    outcomes["read_outside"] += 1
            except NodeRuntimeError:
                outcomes["refused"] += 1
    finally:
        stop.set()
        flipper.join()
    escaped = (outside / "out.txt").exists() or outcomes["read_outside"] > 0
    figures.count("path escapes", races=RACES, escapes=escaped)
    assert not (outside / "out.txt").exists(), outcomes
    assert outcomes["read_outside"] == 0, outcomes
    assert outcomes["written"] > 0, outcomes


def test_an_append_never_reads_through_a_symlink_swapped_in(
    layout: tuple[Path, Path],
) -> None:
    """The file itself swapped for a link after the check: an append refuses it, so the
    outside file is neither read into the base nor changed."""
    base, outside = layout
    (base / "log.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(NodeRuntimeError) as refused:
        write_data(
            base / "log.txt", "more", "text", append=True, base=base, shown="log.txt"
        )
    assert refused.value.code == "RUNTIME_PATH_TRAVERSAL"
    assert (outside / "secret.txt").read_text() == SECRET
    assert (base / "log.txt").is_symlink()
