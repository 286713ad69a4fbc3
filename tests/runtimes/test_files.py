"""File runtimes' data side: path confinement, reading, atomic writing, appending."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from maidit_jupyter.errors import NodeRuntimeError
from maidit_jupyter.expressions.values import UNDEFINED
from maidit_jupyter.runtimes.files import read_data, resolve_path, write_data


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """The flow's directory, with a sibling directory outside it."""
    root = tmp_path / "flow"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("secret")
    return root


def fails(call: object, *args: object, **kwargs: object) -> NodeRuntimeError:
    assert callable(call)
    with pytest.raises(NodeRuntimeError) as info:
        call(*args, **kwargs)
    assert info.value.retryable is False
    return info.value


# -- paths -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "relative"),
    [
        ("data.json", "data.json"),
        ("./sub/data.json", "sub/data.json"),
        ("sub/../data.json", "data.json"),
        ("new/dir/out.csv", "new/dir/out.csv"),
        ("a%20b.txt", "a%20b.txt"),
        ("weird name,ü.txt", "weird name,ü.txt"),
        ("~/x", "~/x"),
        (".", "."),
    ],
)
def test_resolve_inside(base: Path, text: str, relative: str) -> None:
    """Relative paths resolve against the base; the undecoded name is the file."""
    assert resolve_path(text, base) == (base.resolve() / relative).resolve()


def test_resolve_absolute_inside(base: Path) -> None:
    """An absolute path inside the base is allowed."""
    target = base / "x" / "y.json"
    assert resolve_path(str(target), base) == target.resolve()


@pytest.mark.parametrize(
    "text",
    [
        "../outside/secret.txt",
        "..",
        "sub/../../outside/secret.txt",
        "..%2Foutside%2Fsecret.txt",
        "..%2foutside/secret.txt",
        "%2e%2e/outside/secret.txt",
        "%61%2Fb/../../../x",
        "..\\outside\\secret.txt",
        "sub\\..\\..\\x",
        "/etc/passwd",
        "//server/share",
        "\\\\server\\share",
        "C:\\Windows\\win.ini",
        "c:/windows",
        "file\0.txt",
        "file%00.txt",
    ],
)
def test_resolve_rejects_traversal(base: Path, text: str) -> None:
    """Escapes, encoded escapes, NUL and drive paths are all RUNTIME_PATH_TRAVERSAL."""
    error = fails(resolve_path, text, base)
    assert error.code == "RUNTIME_PATH_TRAVERSAL"
    assert error.message == f"Path traversal not allowed: {text}"


def test_resolve_rejects_absolute_outside(base: Path, tmp_path: Path) -> None:
    """An absolute path outside the base (a sibling with the base as name prefix too)."""
    (tmp_path / "flow2").mkdir()
    for target in (tmp_path / "outside" / "secret.txt", tmp_path / "flow2" / "x"):
        assert fails(resolve_path, str(target), base).code == "RUNTIME_PATH_TRAVERSAL"


def test_symlink_file_pointing_outside_is_rejected(base: Path, tmp_path: Path) -> None:
    """A symlink inside the base that points outside cannot be read or written."""
    (base / "link.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    assert fails(resolve_path, "link.txt", base).code == "RUNTIME_PATH_TRAVERSAL"
    (base / "dangling").symlink_to(tmp_path / "outside" / "new.txt")
    assert fails(resolve_path, "dangling", base).code == "RUNTIME_PATH_TRAVERSAL"


def test_symlinked_directory_pointing_outside_is_rejected(
    base: Path, tmp_path: Path
) -> None:
    """A symlinked directory leading outside is rejected, for existing and new files."""
    (base / "out").symlink_to(tmp_path / "outside", target_is_directory=True)
    for text in ("out/secret.txt", "out/new/file.json", "out/.."):
        assert fails(resolve_path, text, base).code == "RUNTIME_PATH_TRAVERSAL"
    # ".." after a symlink applies to its target, as the OS does: back inside here.
    assert resolve_path("out/../flow/x", base) == base.resolve() / "x"


def test_symlinks_inside_the_base_are_followed(base: Path) -> None:
    """Links that stay inside are fine and resolve to their target."""
    (base / "real").mkdir()
    (base / "real" / "d.json").write_text("1")
    (base / "alias").symlink_to(base / "real", target_is_directory=True)
    assert resolve_path("alias/d.json", base) == (base / "real" / "d.json").resolve()
    assert read_data(resolve_path("alias/d.json", base), None) == 1


def test_base_reached_through_a_symlink(tmp_path: Path, base: Path) -> None:
    """A base directory given through a symlink still confines correctly."""
    (tmp_path / "via").symlink_to(base, target_is_directory=True)
    assert resolve_path("x.json", tmp_path / "via") == base.resolve() / "x.json"
    error = fails(resolve_path, "../outside/secret.txt", tmp_path / "via")
    assert error.code == "RUNTIME_PATH_TRAVERSAL"


def test_symlink_loop_is_an_os_error(base: Path) -> None:
    """A symlink loop stays inside; reading it fails with ELOOP."""
    (base / "a").symlink_to(base / "b")
    (base / "b").symlink_to(base / "a")
    path = resolve_path("a", base)
    assert fails(read_data, path, "text").code == "ELOOP"


def test_empty_path_is_a_config_error(base: Path) -> None:
    """An empty path is reported, not read as the directory."""
    assert fails(resolve_path, "", base).code == "RUNTIME_INVALID_CONFIG"


# -- reading -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "fmt", "expected"),
    [
        ("d.json", b'{"n": 12345678901234567890}', None, {"n": 12345678901234567890}),
        ("d.json", b'\xef\xbb\xbf{"bom": true}', None, {"bom": True}),
        ("d.csv", b"\xef\xbb\xbfid,name\n1,x\n", None, [{"id": "1", "name": "x"}]),
        ("d.csv", b"id,name\n", None, []),
        ("d.csv", b"", None, []),
        ("d.yml", b"when: 2024-01-02\n", "auto", {"when": "2024-01-02"}),
        ("d.txt", b"line1\nline2\n", None, "line1\nline2\n"),
        ("d.txt", b"\xef\xbb\xbfbom", None, "bom"),
        ("d.txt", b"line1\nline2\n", "lines", ["line1", "line2"]),
        ("d.lines", b"a\r\nb", None, ["a", "b"]),
        ("d.jsonl", b'{"a":1}\n{"a":2}\n', None, [{"a": 1}, {"a": 2}]),
        ("d.ndjson", b"1\n", None, [1]),
        ("d.dat", b"raw", None, "raw"),
        ("d.json", b"", "text", ""),
    ],
)
def test_read(
    tmp_path: Path, name: str, content: bytes, fmt: str | None, expected: object
) -> None:
    """Each format is read, with the BOM stripped."""
    path = tmp_path / name
    path.write_bytes(content)
    assert read_data(path, fmt) == expected


def test_read_other_encoding(tmp_path: Path) -> None:
    """The encoding applies; bytes invalid in it are a PARSE_ERROR naming the offset."""
    path = tmp_path / "l.txt"
    path.write_bytes(b"caf\xe9")
    assert read_data(path, "text", encoding="latin-1") == "café"
    error = fails(read_data, path, "text")
    assert error.code == "PARSE_ERROR"
    assert "byte 0xe9 at offset 3" in error.message
    path.write_bytes("ü".encode("utf-16"))
    assert read_data(path, "text", encoding="utf-16") == "ü"
    for bad in ("no-such-codec", "base64"):
        assert fails(read_data, path, "text", encoding=bad).code == (
            "RUNTIME_INVALID_CONFIG"
        )


def test_read_missing(tmp_path: Path) -> None:
    """A missing file (or a file used as a directory) is ENOENT, as the original."""
    missing = tmp_path / "nope.json"
    error = fails(read_data, missing, None)
    assert (error.code, error.message) == ("ENOENT", f"File not found: {missing}")
    (tmp_path / "f").write_text("x")
    assert fails(read_data, tmp_path / "f" / "x.json", None).code == "ENOENT"


def test_read_directory_and_fifo(tmp_path: Path) -> None:
    """A directory is EISDIR; a FIFO is refused without blocking."""
    assert fails(read_data, tmp_path, "text").code == "EISDIR"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert fails(read_data, fifo, "text").code == "RUNTIME_NOT_A_FILE"


def test_read_too_large(tmp_path: Path) -> None:
    """Files over max_bytes are FILE_TOO_LARGE; at the limit they are read."""
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 11)
    error = fails(read_data, path, None, max_bytes=10)
    assert error.code == "FILE_TOO_LARGE"
    assert str(path) in error.message
    assert read_data(path, None, max_bytes=11) == "x" * 11


def test_read_parse_error_names_the_file(tmp_path: Path) -> None:
    """Parse errors name the file, the line and the column."""
    path = tmp_path / "bad.json"
    path.write_text('{\n  "a": }\n')
    error = fails(read_data, path, None)
    assert error.code == "PARSE_ERROR"
    assert f"in {path}:" in error.message
    assert "line 2, column 8" in error.message
    path = tmp_path / "bad.jsonl"
    path.write_text("1\n2\nnope\n")
    assert f"on line 3 of {path}" in fails(read_data, path, None).message


# -- writing -----------------------------------------------------------------------------

ROWS = [{"id": 1, "text": 'a "quoted", value'}, {"id": 2, "text": "two\nlines"}]


@pytest.mark.parametrize(
    ("name", "fmt", "value"),
    [
        ("o.json", None, {"a": [1, 2**65, "ü"]}),
        ("o.json", "json", "just a string"),
        ("o.csv", None, [{"id": "1", "text": 'a "quoted", value'}]),
        ("o.yaml", None, {"when": "2024-01-02", "list": [1, None]}),
        ("o.txt", None, "hello\n"),
        ("o.lines", None, ["a", "b"]),
        ("o.jsonl", None, [{"a": 1}, [2]]),
        ("deep/er/o.json", None, [1]),
    ],
)
def test_write_then_read(
    tmp_path: Path, name: str, fmt: str | None, value: object
) -> None:
    """What is written reads back the same, and the result reports it."""
    path = tmp_path / name
    result = write_data(path, value, fmt)
    fmt_used = result["format"]
    assert result == {
        "path": str(path),
        "bytes": path.stat().st_size,
        "format": fmt_used,
    }
    assert read_data(path, fmt) == value


def test_write_format_inference(tmp_path: Path) -> None:
    """Without a format: extension, else json for objects/arrays, else text."""
    assert write_data(tmp_path / "a.out", {"a": 1}, None)["format"] == "json"
    assert (tmp_path / "a.out").read_text() == '{\n  "a": 1\n}'
    assert write_data(tmp_path / "b.out", 42, "auto")["format"] == "text"
    assert (tmp_path / "b.out").read_text() == "42"
    assert write_data(tmp_path / "c.csv", ROWS, None)["format"] == "csv"
    text = (tmp_path / "c.csv").read_text()
    assert text == 'id,text\n1,"a ""quoted"", value"\n2,"two\nlines"\n'
    assert write_data(tmp_path / "d.txt", UNDEFINED, None)["format"] == "text"
    assert (tmp_path / "d.txt").read_text() == "undefined"


def test_write_compact_json(tmp_path: Path) -> None:
    """pretty=False writes compact JSON; non-ASCII is kept as UTF-8."""
    path = tmp_path / "c.json"
    result = write_data(
        path, {"a": [1, float("nan")], "é": UNDEFINED, "ü": 1}, None, pretty=False
    )
    assert path.read_bytes() == '{"a":[1,null],"ü":1}'.encode()
    assert result["bytes"] == len('{"a":[1,null],"ü":1}'.encode())


def test_write_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    """Writes replace the file whole; no temp file is left, even after a failure."""
    path = tmp_path / "o.json"
    path.write_text("old content that is longer")
    write_data(path, [1], None)
    assert path.read_text() == "[\n  1\n]"
    with pytest.raises(NodeRuntimeError):
        write_data(path, [object()], None)
    assert path.read_text() == "[\n  1\n]"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.json"]


def test_write_keeps_the_mode_of_an_existing_file(tmp_path: Path) -> None:
    """Replacing a file keeps its permission bits."""
    path = tmp_path / "o.txt"
    path.write_text("x")
    path.chmod(0o640)
    write_data(path, "y", "text")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_write_without_create_dirs(tmp_path: Path) -> None:
    """create_dirs=False and a missing parent is ENOENT; nothing is created."""
    path = tmp_path / "missing" / "o.json"
    error = fails(write_data, path, [1], None, create_dirs=False)
    assert error.code == "ENOENT"
    assert str(path.parent) in error.message
    assert not path.parent.exists()
    write_data(tmp_path / "here.json", [1], None, create_dirs=False)
    assert (tmp_path / "here.json").exists()


def test_write_os_errors_keep_their_errno(tmp_path: Path) -> None:
    """A parent that is a file, or a target that is a directory, is an OS-coded error."""
    (tmp_path / "file").write_text("x")
    assert fails(write_data, tmp_path / "file" / "o.json", [1], None).code in (
        "EEXIST",
        "ENOTDIR",
    )
    (tmp_path / "dir.json").mkdir()
    error = fails(write_data, tmp_path / "dir.json", [1], None)
    assert error.code == "EISDIR"
    assert list((tmp_path / "dir.json").iterdir()) == []


def test_write_rejects_bad_config(tmp_path: Path) -> None:
    """Unknown formats and encodings, and appends to json/yaml, are config errors."""
    path = tmp_path / "o.json"
    assert fails(write_data, path, 1, "xml").code == "RUNTIME_INVALID_CONFIG"
    assert fails(write_data, path, 1, "text", encoding="nope").code == (
        "RUNTIME_INVALID_CONFIG"
    )
    for fmt in ("json", "yaml"):
        error = fails(write_data, path, 1, fmt, append=True)
        assert error.code == "RUNTIME_INVALID_CONFIG"
    assert not path.exists()


def test_write_encoding(tmp_path: Path) -> None:
    """The sink's encoding applies to the bytes."""
    path = tmp_path / "l.txt"
    assert write_data(path, "café", "text", encoding="latin-1")["bytes"] == 4
    assert path.read_bytes() == b"caf\xe9"


# -- appending ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "first", "second", "expected"),
    [
        ("lines", ["a", "b"], ["c"], "a\nb\nc\n"),
        ("lines", "a", "b", "a\nb\n"),
        ("jsonl", [{"a": 1}], [{"a": 2}, 3], '{"a":1}\n{"a":2}\n3\n'),
        ("text", "abc", "def", "abcdef"),
        ("csv", [{"a": 1, "b": 2}], [{"b": 4, "a": 3}], "a,b\n1,2\n3,4\n"),
        ("csv", [{"a": 1, "b": 2}], [{"a": 5}], "a,b\n1,2\n5,\n"),
        ("csv", [["h"], [1]], [[2]], "h\n1\n2\n"),
    ],
)
def test_append(
    tmp_path: Path, fmt: str, first: object, second: object, expected: str
) -> None:
    """Appending adds to the end; CSV keeps the existing header's columns."""
    path = tmp_path / "log.out"
    assert write_data(path, first, fmt, append=True)["bytes"] == path.stat().st_size
    size = path.stat().st_size
    result = write_data(path, second, fmt, append=True)
    assert path.read_text() == expected
    assert result["bytes"] == path.stat().st_size - size


@pytest.mark.parametrize(
    ("fmt", "existing", "value", "expected"),
    [
        ("lines", "no newline", ["x"], "no newline\nx\n"),
        ("jsonl", "1", [2], "1\n2\n"),
        ("csv", "a,b\n1,2", [{"a": 3, "b": 4}], "a,b\n1,2\n3,4\n"),
        ("csv", "\n\n", [{"a": 1}], "\n\na\n1\n"),
        ("lines", "x\n", [], "x\n"),
    ],
)
def test_append_to_handwritten_files(
    tmp_path: Path, fmt: str, existing: str, value: object, expected: str
) -> None:
    """A missing final newline is added; a header-less CSV file gets a header."""
    path = tmp_path / "f"
    path.write_text(existing)
    write_data(path, value, fmt, append=True)
    assert path.read_text() == expected


def test_append_csv_with_unknown_column_is_refused(tmp_path: Path) -> None:
    """Rows with a key outside the file's header are refused; the file is unchanged."""
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n")
    error = fails(write_data, path, [{"a": 1, "c": 3}], None, append=True)
    assert error.code == "RUNTIME_INVALID_INPUT"
    assert "'c'" in error.message
    assert path.read_text() == "a,b\n1,2\n"


def test_append_keeps_a_bom(tmp_path: Path) -> None:
    """A UTF-8 BOM at the start of an appended file stays there, once."""
    path = tmp_path / "b.csv"
    path.write_bytes(b"\xef\xbb\xbfa\n1\n")
    write_data(path, [{"a": 2}], None, append=True)
    assert path.read_bytes() == b"\xef\xbb\xbfa\n1\n2\n"
    assert read_data(path, None) == [{"a": "1"}, {"a": "2"}]


def test_bad_input_creates_no_directories(tmp_path: Path) -> None:
    """A value the format cannot hold fails before any directory is created."""
    error = fails(write_data, tmp_path / "new" / "o.csv", [1, 2], None)
    assert error.code == "RUNTIME_INVALID_INPUT"
    assert not (tmp_path / "new").exists()


def test_new_output_files_follow_the_umask(tmp_path: Path) -> None:
    """Sink files are created like open() creates them (0o666 minus the umask)."""
    old = os.umask(0o022)
    try:
        write_data(tmp_path / "out.json", {"a": 1}, "json")
    finally:
        os.umask(old)
    assert (tmp_path / "out.json").stat().st_mode & 0o777 == 0o644
