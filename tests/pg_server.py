"""A throwaway PostgreSQL server for the database tests.

:func:`start_server` finds the server binaries (Debian's ``postgresql`` package puts them
in ``/usr/lib/postgresql/<version>/bin``), runs ``initdb`` into a temporary directory and
starts the server with ``pg_ctl`` on a free port of 127.0.0.1, with its socket in that
directory too. PostgreSQL refuses to run as root, so as root every server command runs as
the ``postgres`` system user (the package creates it) and the directory is handed to it.
A database and a role with a password are created; :class:`PgServer` holds their DSN.

Nothing is installed here: when the binaries are missing, :class:`ServerUnavailable`
says how to get them (``.ci/run`` installs the package on CI).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

__all__ = ["PgServer", "ServerUnavailable", "find_binaries", "start_server"]

#: the role the tests connect as; its password holds the characters a DSN must encode.
ROLE = "maidit"
PASSWORD = "pw@#/?%:Canary-7d1e"
DATABASE = "maidit_test"
_PREFIX = "maidit-pg-"
#: where servers live: /tmp, so the postgres user can reach it and socket paths stay
#: short (a root-only TMPDIR would lock the server out).
_BASE = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())

_MISSING = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found in "
    "/usr/lib/postgresql/*/bin or on PATH. The database tests need a real server: run "
    "`bash .ci/run` (it installs Debian's postgresql package when missing) or "
    "`apt-get install postgresql`, or set MAIDIT_PG_BIN to the directory holding them."
)


class ServerUnavailable(RuntimeError):
    """The server could not be found or started."""


@dataclass(frozen=True)
class PgServer:
    """A running test server."""

    root: Path
    bin_dir: Path
    port: int
    run_as: tuple[int, int] | None

    @property
    def dsn(self) -> str:
        """The test role's DSN (the password percent-encoded)."""
        return (
            f"postgresql://{ROLE}:{quote(PASSWORD, safe='')}@127.0.0.1:{self.port}/"
            f"{DATABASE}"
        )

    def dsn_with_password(self, password: str) -> str:
        """The same DSN with another password (a failing login)."""
        return (
            f"postgresql://{ROLE}:{quote(password, safe='')}@127.0.0.1:{self.port}/"
            f"{DATABASE}"
        )

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        try:
            _run(
                self,
                [
                    str(self.bin_dir / "pg_ctl"),
                    *("stop", "-D", str(self.root / "data")),
                    *("-m", "immediate", "-w", "-t", "30"),
                ],
            )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def find_binaries() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl`` (the newest version), if any."""
    configured = os.environ.get("MAIDIT_PG_BIN")
    candidates = [configured] if configured else []
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(versions, key=_version, reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for candidate in candidates:
        directory = Path(candidate)
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    return None


def _version(path: str) -> tuple[int, ...]:
    number = Path(path).parent.name
    return tuple(int(p) for p in number.split(".") if p.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run(server: PgServer, command: list[str]) -> None:
    user = group = None
    if server.run_as is not None:
        user, group = server.run_as
    log = server.root / "commands.log"
    with log.open("ab") as out:
        done = subprocess.run(  # noqa: PLW1510 - the return code is checked below
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            user=user,
            group=group,
            extra_groups=[] if user is not None else None,
            cwd=server.root,
            timeout=120,
            env={**os.environ, "LC_ALL": "C", "TZ": "UTC"},
        )
    if done.returncode != 0:
        text = log.read_text(errors="replace")[-4000:]
        server_log = server.root / "server.log"
        if server_log.exists():
            text += (
                "\n--- server.log ---\n"
                + server_log.read_text(errors="replace")[-4000:]
            )
        raise ServerUnavailable(
            f"{Path(command[0]).name} failed ({done.returncode}):\n{text}"
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_stale(bin_dir: Path) -> None:
    """Stop the servers of test sessions that died without stopping theirs (a killed
    pytest never runs its fixture's teardown)."""
    for root in _BASE.glob(_PREFIX + "*"):
        owner = root / "owner.pid"
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            continue
        run_as = None
        if os.geteuid() == 0 and root.stat().st_uid != 0:
            run_as = (root.stat().st_uid, root.stat().st_gid)
        stale = PgServer(root=root, bin_dir=bin_dir, port=0, run_as=run_as)
        with contextlib.suppress(
            ServerUnavailable, OSError, subprocess.SubprocessError
        ):
            stale.stop()
        shutil.rmtree(root, ignore_errors=True)


def start_server() -> PgServer:
    """Start a fresh server with a role and a database; the caller stops it.

    Raises:
        ServerUnavailable: no binaries, or the server did not start.
    """
    bin_dir = find_binaries()
    if bin_dir is None:
        raise ServerUnavailable(_MISSING)
    reap_stale(bin_dir)
    root = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=_BASE))
    (root / "owner.pid").write_text(str(os.getpid()))
    run_as: tuple[int, int] | None = None
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise ServerUnavailable(
                "running as root, but there is no `postgres` system user to run the "
                "server as (Debian's postgresql package creates it)"
            ) from None
        run_as = (account.pw_uid, account.pw_gid)
        os.chown(root, *run_as)
    root.chmod(0o700)
    server = PgServer(root=root, bin_dir=bin_dir, port=_free_port(), run_as=run_as)
    pwfile = root / "superuser.pw"
    pwfile.write_text("superuser-pw\n")
    if run_as is not None:
        os.chown(pwfile, *run_as)
    try:
        _run(
            server,
            [
                str(bin_dir / "initdb"),
                *("-D", str(root / "data"), "-U", "postgres"),
                *("--pwfile", str(pwfile), "--auth=scram-sha-256", "-E", "UTF8"),
                *("--no-locale", "--no-sync"),
            ],
        )
        options = " ".join(
            [
                f"-p {server.port}",
                f"-k {root}",
                "-c listen_addresses=127.0.0.1",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=50",
            ]
        )
        _run(
            server,
            [
                str(bin_dir / "pg_ctl"),
                *("start", "-D", str(root / "data"), "-w", "-t", "60"),
                *("-l", str(root / "server.log"), "-o", options),
            ],
        )
        _create_role_and_database(server)
    except BaseException:
        server.stop()
        raise
    return server


def _create_role_and_database(server: PgServer) -> None:
    import psycopg
    from psycopg import sql

    admin = (
        f"postgresql://postgres:superuser-pw@127.0.0.1:{server.port}/postgres"
        "?connect_timeout=10"
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(ROLE), sql.Literal(PASSWORD)
            )
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(DATABASE), sql.Identifier(ROLE)
            )
        )
