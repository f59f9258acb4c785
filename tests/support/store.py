"""The store in unit tests: rows written straight through the repositories, and
waiting for the store writer through its public interface."""

from __future__ import annotations

from sqlalchemy import Engine

from sdwan.store import repo
from sdwan.store.batch_writer import JobSink


def add_routers(engine: Engine, count: int) -> list[str]:
    """``count`` routers r0, r1 ... PENDING_CREATE; their ids, sorted."""
    stamp = repo.now()
    rows = [
        {
            "id": repo.new_id(),
            "project_id": "default",
            "name": f"r{i}",
            "router_id": f"10.0.0.{i + 1}",
            "asn": 65001,
            "api_address": f"unix:///run/sdwan/r{i}.sock",
            "listen_port": 179,
            "listen_addresses": [],
            "description": "",
            "status": "PENDING_CREATE",
            "status_detail": "",
            "version": 1,
            "created_at": stamp,
            "updated_at": stamp,
        }
        for i in range(count)
    ]
    with engine.begin() as conn:
        repo.insert_routers(conn, rows=rows)
    return sorted(str(r["id"]) for r in rows)


def committed(writer: JobSink, timeout: float = 5.0) -> bool:
    """True once everything queued on ``writer`` before this call has committed: the
    writer runs jobs in order, so a job that does nothing commits after them."""
    return writer.write(lambda _conn: False, timeout)
