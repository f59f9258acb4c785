"""Where bench_fleet.py runs the orchestrator: one process on SQLite (the default), or
PostgreSQL with one replica or several (``--db``, ``--replicas``), side by side.

``--db postgresql`` starts a throwaway PostgreSQL 15 (durable: fsync on, as SQLite's
are) for the run; ``--db postgresql+psycopg://user@host/db`` uses a server of yours
through that database, creating and dropping a database of its own per run (needs
the CREATEDB privilege). Every run gets a fresh database."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from sdwan.events.feed import libpq_conninfo
from sdwan.lab.postgres import PostgresServer
from sdwan.lab.replicas import ReplicaFleet
from sdwan.lab.server_process import OrchestratorProcess
from sdwan.store.db import normalize_url

AUTO = "postgresql"


@dataclass(frozen=True)
class Backend:
    label: str
    replicas: int = 1  # 0: SQLite, one process


SQLITE = Backend("SQLite", 0)


class Databases:
    """Fresh PostgreSQL databases, from a server we started or one given."""

    def __init__(self, db: str) -> None:
        self._server: PostgresServer | None = None
        if db == AUTO:
            self._server = PostgresServer(durable=True).start()
            self._base = self._server.url()
        else:
            self._base = normalize_url(db)
        self._made: list[str] = []

    def fresh(self) -> str:
        name = "sdwan_bench_" + secrets.token_hex(4)
        self._admin(f"CREATE DATABASE {name}")
        self._made.append(name)
        return make_url(self._base).set(database=name).render_as_string(hide_password=False)

    def _admin(self, sql: str) -> None:
        with psycopg.connect(libpq_conninfo(self._base), autocommit=True) as conn:
            conn.execute(sql.encode())  # names we made, never input

    def close(self) -> None:
        for name in self._made:
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if self._server is not None:
            self._server.close()


def processes(
    backend: Backend, workdir: Path, databases: Databases | None, args: list[str]
) -> tuple[list[OrchestratorProcess], ReplicaFleet | None]:
    """The server processes of one run (not started yet); the first takes the POSTs."""
    if backend.replicas == 0:
        return [OrchestratorProcess(workdir, extra_args=args)], None
    assert databases is not None
    fleet = ReplicaFleet(workdir, databases.fresh(), count=backend.replicas, extra_args=args)
    return fleet.replicas, fleet


def backends(db: str | None, replicas: int) -> list[Backend]:
    if db is None:
        return [SQLITE]
    chosen = [SQLITE, Backend("PostgreSQL x1", 1)]
    if replicas > 1:
        chosen.append(Backend(f"PostgreSQL x{replicas}", replicas))
    return chosen


def compare(title: str, floor: float, runs: list[tuple[str, dict[str, float | None]]]) -> None:
    """One table: a column per backend, a row per figure (``runs``: label, figures)."""
    rows = [
        ("both bulk POSTs answered (s)", "answered", "{:.2f}"),
        ("every peer present on its gobgpd (s)", "present", "{:.2f}"),
        ("every neighbor ACTIVE in the API (s)", "active", "{:.2f}"),
        ("present, x floor", "present_x", "{:.2f}x"),
        ("peak threads (largest process)", "threads", "{:.0f}"),
        ("peak RSS, all processes (MiB)", "rss", "{:.0f}"),
        ("CPU until all ACTIVE, all processes (s)", "cpu", "{:.1f}"),
        ("converged: % of one core, all processes", "steady", "{:.1f}"),
    ]
    print(f"\n== {title}: side by side (floor {floor:.2f} s)\n")
    print(f"{'':<44}" + "".join(f"{label:>16}" for label, _ in runs))
    for name, key, fmt in rows:
        cells = []
        for _label, figures in runs:
            value = figures.get(key)
            cells.append(f"{fmt.format(value) if value is not None else '-':>16}")
        print(f"{name:<44}" + "".join(cells))
