"""insert_rows stores exactly what SQLAlchemy's own insert stores (dates, JSON with
nulls, booleans, bytes), only cheaper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from sdwan.store import repo
from sdwan.store.bulk import insert_rows
from sdwan.store.db import make_engine, migrate, sqlite_url
from sdwan.store.live_tables import events
from sdwan.store.status_rows import delete_rows, set_statuses_and_conditions
from sdwan.store.tables import routers


def _rows(first: int, count: int) -> list[dict[str, object]]:
    stamp = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    return [
        {
            "id": first + i,
            "time": stamp + timedelta(seconds=i),
            "kind": "session.changed",
            "resource_type": "neighbor",
            "resource_id": f"n{i}",
            "router_name": "R1",
            "message": f"message {i} ünïcode",
            "data": {"i": i, "none": None, "list": [1, "two", None]} if i % 2 else None,
            "project_id": None if i % 3 else "default",
        }
        for i in range(count)
    ]


def test_bulk_insert_stores_what_sqlalchemy_stores(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "b.db"))
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(events), _rows(1, 50))  # SQLAlchemy's way
        insert_rows(conn, events, _rows(101, 50))  # ours
    with engine.connect() as conn:
        stored = {row["id"]: dict(row) for row in conn.execute(select(events)).mappings()}
        raw = {row[0]: row[1:] for row in conn.exec_driver_sql("SELECT * FROM events")}
    assert len(stored) == 100
    for i in range(50):  # as the database has them, not only as read back
        assert raw[101 + i] == raw[1 + i]
    for i in range(50):
        theirs, ours = dict(stored[1 + i]), dict(stored[101 + i])
        theirs.pop("id"), ours.pop("id")
        assert ours == theirs
    engine.dispose()


def test_bulk_status_updates_and_deletes_keep_the_version_guard(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "s.db"))
    migrate(engine)
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        repo.insert_routers(
            conn,
            rows=[
                {
                    "id": f"r{i}", "project_id": "default", "name": f"R{i}",
                    "router_id": "198.19.0.1", "asn": 65001, "api_address": f"unix:///r{i}",
                    "listen_port": 179, "listen_addresses": [], "description": "",
                    "status": "PENDING_CREATE", "status_detail": "", "version": 1,
                    "created_at": stamp, "updated_at": stamp,
                }
                for i in range(40)
            ],
        )  # fmt: skip
        # versions read: 1 for all but r0 (the user moved it on: 2)
        applied = [["Applied", "True", "Applied", "", stamp.isoformat(), 1]]
        set_statuses_and_conditions(
            conn,
            routers,
            updates=[(f"r{i}", 2 if i == 0 else 1, "ACTIVE", "ok", applied) for i in range(40)],
        )
        delete_rows(conn, routers, ids_versions=[(f"r{i}", 1) for i in range(30, 40)])
    with engine.connect() as conn:
        found = {
            r.id: (r.status, r.status_detail, r.conditions) for r in conn.execute(select(routers))
        }
    assert found["r0"] == ("PENDING_CREATE", "", [])  # its version moved on: left alone
    assert all(found[f"r{i}"] == ("ACTIVE", "ok", applied) for i in range(1, 30))
    assert not any(f"r{i}" in found for i in range(30, 40))
    engine.dispose()
