"""The edges of path confinement and of the egress policy.

File nodes: a file or directory swapped after the path was checked, names the OS
refuses, sizes that lie, and platforms without ``/proc/self/fd``. HTTP nodes: host
entries in URL spelling, host names IDNA cannot encode, checks by name alone and
IPv4 ranges against IPv6 addresses. Everything runs on real files in ``tmp_path`` and,
where a connection could happen, against a counting listener on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.runtimes import beneath
from maidit_jupyter.runtimes.egress import (
    EgressPolicy,
    IPAddress,
    PolicyError,
    read_http_settings,
)
from maidit_jupyter.runtimes.files import read_data, resolve_path, write_data
from tests.runtimes.http_support import Listener, error_of, listening, run_flow

SECRET = "decoy-secret-content"

#: a directory name longer than any file system allows (NAME_MAX is 255 bytes).
TOO_LONG = "x" * 300


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """The flow's directory, next to ``outside/`` (the decoy, with a secret file)."""
    root = tmp_path / "flow"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text(SECRET)
    return root


@pytest.fixture
def listener() -> Iterator[Listener]:
    yield from listening()


def fails(call: object, *args: object, **kwargs: object) -> NodeRuntimeError:
    assert callable(call)
    with pytest.raises(NodeRuntimeError) as info:
        call(*args, **kwargs)
    assert info.value.retryable is False
    return info.value


def ip(text: str) -> IPAddress:
    return ipaddress.ip_address(text)


def tree(root: Path) -> dict[str, bytes | str]:
    """Every entry below ``root``: a file's content, a symlink's target, ``"dir"``."""
    entries: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.is_symlink():
            entries[name] = "-> " + os.readlink(path)
        elif path.is_dir():
            entries[name] = "dir"
        else:
            entries[name] = path.read_bytes()
    return entries


# -- files swapped after the check -------------------------------------------------------


def test_a_file_swapped_for_a_symlink_is_never_read_through(
    base: Path, tmp_path: Path
) -> None:
    """A file replaced by a symlink after its path was checked is a traversal."""
    (base / "data.txt").write_text("inside")
    path = resolve_path("data.txt", base)
    assert read_data(path, "text", base=base, shown="data.txt") == "inside"
    (base / "data.txt").unlink()
    (base / "data.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    error = fails(read_data, path, "text", base=base, shown="data.txt")
    assert error.code == "RUNTIME_PATH_TRAVERSAL"
    assert error.message.startswith("Path traversal not allowed: ")
    assert error.message.endswith("data.txt")
    assert SECRET not in error.message


def test_a_symlink_removed_while_the_path_is_resolved_is_the_nodes_error(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A symlink vanishing while the path is resolved is an ENOENT node error."""
    # The race of a tree changing under the check, placed deterministically: the link
    # is removed between realpath's lstat and its readlink.
    (base / "real").mkdir()
    (base / "link").symlink_to(base / "real", target_is_directory=True)
    real_readlink = os.readlink
    moved = tmp_path / "moved"

    def racing_readlink(target: Any, *args: Any, **kwargs: Any) -> Any:
        if str(target).endswith("/link"):
            os.rename(base / "link", moved)  # the racer removes the link
        return real_readlink(target, *args, **kwargs)

    monkeypatch.setattr(os, "readlink", racing_readlink)
    error = fails(resolve_path, "link/data.json", base)
    monkeypatch.undo()
    where = base.resolve() / "link" / "data.json"
    assert (error.code, error.message) == (
        "ENOENT",
        f"Cannot resolve {where}: No such file or directory",
    )
    assert moved.is_symlink()
    assert tree(base) == {"real": "dir"}


def test_a_directory_vanishing_mid_check_writes_nothing(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory swapped, then moved away mid-check, is ENOENT; nothing is written."""
    # The racer of test_path_escapes, placed deterministically: 'swap' is a symlink when
    # opened (refused), then gone when examined.
    (base / "swap").mkdir()
    path = resolve_path("swap/out.txt", base)
    (base / "swap").rmdir()
    (base / "swap").symlink_to(tmp_path / "outside", target_is_directory=True)
    moved = tmp_path / "moved"
    outside_before = tree(tmp_path / "outside")
    real_stat = os.stat
    examined: list[str] = []

    def racing_stat(target: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if kwargs.get("dir_fd") is not None and target == "swap":
            examined.append(target)
            os.rename(base / "swap", moved)  # the racer moves the link away
        return real_stat(target, *args, **kwargs)

    monkeypatch.setattr(os, "stat", racing_stat)
    error = fails(
        write_data,
        path,
        "x",
        "text",
        create_dirs=False,
        base=base,
        shown="swap/out.txt",
    )
    monkeypatch.undo()
    assert examined == ["swap"]  # the swapped-in link was refused, then looked at
    assert (error.code, error.message) == (
        "ENOENT",
        f"Directory not found: {path.parent}",
    )
    assert tree(base) == {}
    assert tree(tmp_path / "outside") == outside_before
    assert moved.is_symlink()


def test_appending_to_a_directory_is_eisdir_and_writes_nothing(base: Path) -> None:
    """Appending to a path that is a directory is EISDIR and changes nothing."""
    (base / "log.txt").mkdir()
    path = resolve_path("log.txt", base)
    error = fails(
        write_data, path, "more", "text", append=True, base=base, shown="log.txt"
    )
    assert (error.code, error.message) == (
        "EISDIR",
        f"Not a file: {path} is a directory",
    )
    assert tree(base) == {"log.txt": "dir"}


def test_appending_to_a_fifo_is_refused_at_once(base: Path) -> None:
    """An append reads the file first: a FIFO there (no writer) is refused, never
    waited on, which would freeze the run."""
    os.mkfifo(base / "pipe.txt")
    path = resolve_path("pipe.txt", base)
    error = fails(
        write_data, path, "more", "text", append=True, base=base, shown="pipe.txt"
    )
    assert error.code == "RUNTIME_NOT_A_FILE"
    assert error.message == f"Not a regular file: {path}"


def test_reading_or_appending_to_a_directory_leaks_no_descriptor(base: Path) -> None:
    """A flow that points a file node at a directory, again and again, keeps the
    kernel's descriptor count flat (each refusal closes what it opened)."""
    (base / "folder").mkdir()
    path = resolve_path("folder", base)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        error = fails(read_data, path, "text", base=base, shown="folder")
        assert (error.code, error.message) == (
            "EISDIR",
            f"Not a file: {path} is a directory",
        )
        fails(write_data, path, "x", "text", append=True, base=base, shown="folder")
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_read_that_fails_midway_keeps_its_errno() -> None:
    """A regular file whose read fails (here /proc/self/mem, EIO at offset 0) is the
    node's error with the OS's code, not a crash."""
    mem = Path("/proc/self/mem")
    error = fails(read_data, mem, "text")
    assert (error.code, error.message) == (
        "EIO",
        f"Cannot read {mem}: Input/output error",
    )


def test_appending_through_a_swapped_in_symlink_is_a_traversal(
    base: Path, tmp_path: Path
) -> None:
    """The file an append reads first was replaced by a symlink after the check: it is
    refused, and the file outside is neither read nor changed."""
    (base / "log.txt").write_text("first\n")
    path = resolve_path("log.txt", base)
    (base / "log.txt").unlink()
    outside = tmp_path / "outside" / "secret.txt"
    before = outside.read_text()
    (base / "log.txt").symlink_to(outside)
    error = fails(
        write_data, path, "more", "text", append=True, base=base, shown="log.txt"
    )
    assert error.code == "RUNTIME_PATH_TRAVERSAL"
    assert SECRET not in error.message
    assert outside.read_text() == before


# -- names the OS refuses ----------------------------------------------------------------


def test_reading_below_an_overlong_directory_name_keeps_its_errno(base: Path) -> None:
    """A too-long directory name is read as ENAMETOOLONG, not as a missing file."""
    path = resolve_path(f"{TOO_LONG}/data.json", base)
    assert path.is_relative_to(base.resolve())
    error = fails(read_data, path, None, base=base, shown=f"{TOO_LONG}/data.json")
    assert (error.code, error.message) == (
        "ENAMETOOLONG",
        f"Cannot read {path}: File name too long",
    )


def test_writing_below_an_overlong_directory_name_creates_nothing(base: Path) -> None:
    """A sink below a too-long directory name is ENAMETOOLONG and creates nothing."""
    path = resolve_path(f"{TOO_LONG}/out.json", base)
    error = fails(write_data, path, {"a": 1}, None, base=base, shown="out.json")
    assert (error.code, error.message) == (
        "ENAMETOOLONG",
        f"Cannot create the directory {path.parent}: File name too long",
    )
    assert tree(base) == {}


# -- sizes that lie ----------------------------------------------------------------------


def test_the_size_limit_counts_the_bytes_read_not_the_reported_size() -> None:
    """A file larger than its reported size is still cut at max_bytes."""
    status = Path("/proc/self/status")
    assert status.stat().st_size == 0  # the premise: the size check alone passes
    error = fails(read_data, status, "text", max_bytes=64)
    assert (error.code, error.message) == (
        "FILE_TOO_LARGE",
        f"File too large: {status} is over the limit of 64 bytes",
    )
    assert "Name:" in str(read_data(status, "text", max_bytes=1_000_000))


# -- without /proc/self/fd ---------------------------------------------------------------


def test_without_proc_fd_the_checked_path_is_used_and_symlinks_still_refused(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without /proc/self/fd, files use the checked path; symlinks stay refused."""
    monkeypatch.setattr(beneath, "_FD_DIR", tmp_path / "no-proc-fd")
    (base / "sub").mkdir()
    path = resolve_path("sub/data.txt", base)
    with beneath.pinned_directory(path, base, create=False, shown="x") as target:
        assert target == path
    result = write_data(path, "inside", "text", base=base, shown="sub/data.txt")
    assert result == {"path": str(path), "bytes": 6, "format": "text"}
    assert (base / "sub" / "data.txt").read_text() == "inside"
    assert read_data(path, "text", base=base, shown="sub/data.txt") == "inside"
    deeper = resolve_path("new/deeper/out.txt", base)  # folders made as with /proc
    write_data(deeper, "made", "text", base=base, shown="new/deeper/out.txt")
    assert (base / "new" / "deeper" / "out.txt").read_text() == "made"
    (base / "sub" / "data.txt").unlink()
    (base / "sub" / "data.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    error = fails(read_data, path, "text", base=base, shown="sub/data.txt")
    assert error.code == "RUNTIME_PATH_TRAVERSAL"
    assert SECRET not in error.message


# -- the egress policy -------------------------------------------------------------------


def test_an_ipv6_entry_may_be_written_with_brackets() -> None:
    """An IPv6 address in URL spelling ([::1]) is that address, in entries and hosts."""
    deny = read_http_settings({"deny_hosts": ["[::1]"]}).policy
    assert deny.check("[::1]", ip("::1")) == "::1 (http.deny_hosts: [::1])"
    assert deny.check("[::2]", ip("::2")) is None
    allow = read_http_settings({"allow_hosts": ["[2001:DB8::5]"]}).policy
    assert allow.check("[2001:db8::5]", ip("2001:db8::5")) is None
    assert allow.check("[2001:db8::6]", ip("2001:db8::6")) == (
        "2001:db8::6 is not in http.allow_hosts"
    )


@pytest.mark.parametrize(
    "entry", ["ü" * 64 + ".example", "*.xn--ü.example"], ids=["long", "ace"]
)
def test_a_name_idna_cannot_encode_is_refused(entry: str) -> None:
    """A host name with no IDNA (ASCII) form is refused as an entry."""
    with pytest.raises(PolicyError, match="invalid host name"):
        read_http_settings({"allow_hosts": [entry]})


def test_a_name_alone_is_judged_by_name_rules_only() -> None:
    """A name checked without an address matches no range or private rule."""
    deny = EgressPolicy.of((), ("private", "10.0.0.0/8"))
    assert deny.check("intranet.example", None) is None
    ranges = EgressPolicy.of(("10.0.0.0/8", "private"), ())
    assert ranges.check("intranet.example", None) == (
        "intranet.example is not in http.allow_hosts"
    )
    named = EgressPolicy.of(("10.0.0.0/8", "*.example"), ())
    assert named.check("intranet.example", None) is None


def test_an_ipv4_range_never_matches_an_ipv6_address() -> None:
    """An IPv4 range matches no IPv6 address (not even ::a00:5), and vice versa."""
    allow = EgressPolicy.of(("10.0.0.0/8",), ())
    assert allow.check("x", ip("10.0.0.5")) is None
    assert allow.check("x", ip("::a00:5")) == "x (::a00:5) is not in http.allow_hosts"
    deny = EgressPolicy.of((), ("fc00::/7",))
    assert deny.check("x", ip("fd00::5")) == "fd00::5 (http.deny_hosts: fc00::/7)"
    assert deny.check("x", ip("10.0.0.5")) is None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "intranet.example/24",
            "http.deny_hosts: 'intranet.example/24' is not a host name",
        ),
        ("10.0.0.0/33", "http.deny_hosts: invalid CIDR range '10.0.0.0/33'"),
        ("ü" * 64 + ".example", "invalid host name"),
    ],
    ids=["path", "cidr", "idna"],
)
def test_an_unreadable_deny_entry_fails_the_node_before_connecting(
    tmp_path: Path, listener: Listener, entry: str, message: str
) -> None:
    """A typo in http.deny_hosts fails the node once, before anything connects."""
    flow = run_flow(
        tmp_path,
        f'<source id="s" type="http" url="http://127.0.0.1:{listener.port}/">'
        '<on-error><retry max="2" base="1ms"/></on-error></source>',
        frontmatter=f'http:\n  deny_hosts: [private, "{entry}"]\n',
    )
    code, text = error_of(flow, "s")
    assert code == "RUNTIME_INVALID_CONFIG"
    assert message in text
    assert flow.results["s"].attempts == 1
    assert (listener.accepted, listener.received) == (0, 0)
