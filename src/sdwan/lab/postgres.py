"""A throwaway PostgreSQL server for tests and benchmarks: Debian's ``postgresql-15``
binaries, ``initdb`` into a temporary directory, a private Unix socket directory and
no TCP listener (so it never clashes with a server already on 5432), trust
authentication, removed by ``close()``.

As root, ``initdb`` and ``pg_ctl`` run as the ``postgres`` user (``runuser -u
postgres --``: PostgreSQL refuses to run as root), so the directory is created under
the system's temporary directory and handed to that user; otherwise as the caller.

``durable=False`` turns off fsync and full-page writes: a test cluster that is thrown
away after the run does not need to survive a power loss, and it is 10x faster to
create databases in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from sdwan.polling import wait_for

PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin",)
SERVER_USER = "postgres"


class PostgresError(RuntimeError):
    """The server could not be set up, started or stopped."""


def find_pg_bin() -> Path | None:
    """The directory of initdb/pg_ctl (Debian's postgresql-15), or None."""
    for directory in PG_BIN_DIRS:
        if (Path(directory) / "initdb").exists():
            return Path(directory)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PostgresServer:
    def __init__(
        self, *, port: int = 54329, durable: bool = False, max_connections: int = 300
    ) -> None:
        self.port = port
        self.durable = durable
        self.max_connections = max_connections
        self.root: Path | None = None
        self._admin: psycopg.Connection[object] | None = None
        bin_dir = find_pg_bin()
        if bin_dir is None:
            raise PostgresError("PostgreSQL is not installed (apt-get install postgresql-15)")
        self.bin_dir = bin_dir

    # --- paths ---------------------------------------------------------------------

    def _require_root(self) -> Path:
        if self.root is None:
            raise PostgresError("the server is not set up (call start())")
        return self.root

    @property
    def data_dir(self) -> Path:
        return self._require_root() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._require_root() / "run"

    @property
    def log_path(self) -> Path:
        return self._require_root() / "server.log"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server (psycopg 3, Unix socket)."""
        return (
            f"postgresql+psycopg://{SERVER_USER}@/{database}"
            f"?host={self.socket_dir}&port={self.port}"
        )

    def libpq_url(self, database: str = "postgres") -> str:
        """The same as a libpq connection string (psql, pg_dump)."""
        return f"postgresql://{SERVER_USER}@/{database}?host={self.socket_dir}&port={self.port}"

    # --- lifecycle -----------------------------------------------------------------

    def _as_server_user(self, argv: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", SERVER_USER, "--", *argv]
        return argv

    def _run(self, argv: list[str], timeout: float = 60.0) -> str:
        proc = subprocess.run(
            self._as_server_user(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if proc.returncode != 0:
            raise PostgresError(
                f"{Path(argv[0]).name} failed ({proc.returncode}): "
                f"{proc.stderr.strip() or proc.stdout.strip()}\n{self.log_tail()}"
            )
        return proc.stdout

    def start(self) -> PostgresServer:
        """initdb (first time only), then start the server and wait until it answers."""
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="sdwan-pg-"))
            self.socket_dir.mkdir()
            if os.geteuid() == 0:
                shutil.chown(self.root, SERVER_USER, SERVER_USER)
                shutil.chown(self.socket_dir, SERVER_USER, SERVER_USER)
            self._run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D", str(self.data_dir),
                    "-A", "trust",
                    "-U", SERVER_USER,
                    "-E", "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ],
                timeout=120,
            )  # fmt: skip
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log_path), "-o", self._options())
        wait_for(self._ready, timeout=30, what="PostgreSQL to accept connections")
        return self

    def _options(self) -> str:
        options = [
            f"-k {self.socket_dir}",
            "-c listen_addresses=''",
            f"-p {self.port}",
            f"-c max_connections={self.max_connections}",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c full_page_writes=off", "-c synchronous_commit=off"]
        return " ".join(options)

    def _pg_ctl(self, *args: str) -> None:
        self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args], timeout=90)

    def _ready(self) -> bool:
        proc = subprocess.run(
            [str(self.bin_dir / "pg_isready"), "-h", str(self.socket_dir), "-p", str(self.port)],
            capture_output=True,
            timeout=10,
            check=False,
        )
        return proc.returncode == 0

    def stop(self, mode: str = "fast") -> None:
        """``fast``: disconnect every client and shut down cleanly; ``immediate``: like
        a crash (recovery at the next start)."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self.root is not None and (self.data_dir / "postmaster.pid").exists():
            self._pg_ctl("stop", "-w", "-t", "60", "-m", mode)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server and remove its directory."""
        if self.root is None:
            return
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    # --- databases -----------------------------------------------------------------

    def admin(self, sql: str) -> None:
        """Run ``sql`` (statements we wrote; never user input) on the maintenance
        database over one kept connection (a psql process each costs more)."""
        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(self.libpq_url(), autocommit=True)
        self._admin.execute(sql.encode())

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """A new database (cloned from ``template`` if given); returns its URL."""
        _check_name(name)
        clause = ""
        if template is not None:
            _check_name(template)
            clause = f" TEMPLATE {template}"
        self.admin(f"CREATE DATABASE {name}{clause}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        _check_name(name)
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except (FileNotFoundError, PostgresError):
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_name(name: str) -> None:
    """Database names are ours (tests), but never let one become SQL by accident."""
    if not name.replace("_", "").isalnum() or not name[0].isalpha() or len(name) > 63:
        raise ValueError(f"not a plain database name: {name!r}")
