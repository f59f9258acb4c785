"""The store writer: one transaction per batch, a failing job does not sink the rest,
``write`` returns after the commit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, event, text

from sdwan.store.batch_writer import BatchWriter, Job
from sdwan.store.db import make_engine, sqlite_url
from tests.support.store import committed
from tests.support.waits import wait_for


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(sqlite_url(tmp_path / "w.db"), durable=False)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (v INTEGER NOT NULL)"))
    yield engine
    engine.dispose()


def _insert(value: int | None) -> Job:
    def job(conn: Connection) -> bool:
        conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})
        return value == 7

    return job


def _values(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT v FROM t ORDER BY v"))]


def test_jobs_queued_together_commit_in_one_transaction(engine: Engine) -> None:
    woken: list[int] = []
    commits: list[int] = []
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    writer = BatchWriter(engine, on_commit=lambda: woken.append(1))
    for value in range(10):
        writer.submit(_insert(value))
    writer.start()  # everything is already queued: one batch
    try:
        wait_for(lambda: _values(engine) == list(range(10)), what="the ten rows")
        assert commits == [1]
        assert woken == [1]  # job 7 said it recorded events: readers woken once
    finally:
        writer.stop()


def test_a_failing_job_is_dropped_alone(engine: Engine) -> None:
    writer = BatchWriter(engine)
    writer.submit(_insert(1))
    writer.submit(_insert(None))  # NOT NULL: fails
    writer.submit(_insert(3))
    writer.start()
    try:
        assert committed(writer)
        assert _values(engine) == [1, 3]
    finally:
        writer.stop()


def test_write_returns_once_committed_and_stop_writes_what_is_queued(engine: Engine) -> None:
    writer = BatchWriter(engine)
    writer.start()
    assert writer.write(_insert(5))
    assert _values(engine) == [5]  # visible to another connection at once
    writer.submit(_insert(6))
    writer.stop()
    assert _values(engine) == [5, 6]
    assert writer.write(_insert(8), timeout=1)  # stopped: no wait
    assert _values(engine) == [5, 6]
