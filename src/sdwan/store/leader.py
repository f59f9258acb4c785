"""Which replica does a job only one may do at a time (evaluate the alert rules,
deliver the webhooks in order). One process on SQLite: that one (``SoleLeader``).
Replicas on PostgreSQL: the one holding a session advisory lock (``AdvisoryLeader``) on
a connection kept for it. When that replica dies or loses its connection, PostgreSQL
releases the lock and the next replica that asks takes it."""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)


class Leader(Protocol):
    def leads(self) -> bool: ...

    def release(self) -> None: ...


class SoleLeader:
    def leads(self) -> bool:
        return True

    def release(self) -> None:
        pass


class AdvisoryLeader:
    """``leads()`` takes the lock if free and says whether this replica holds it; its
    connection is checked on every call, so a replica whose connection broke stops at
    once (another may have the lock by then)."""

    def __init__(self, engine: Engine, key: int, *, job: str) -> None:
        self._engine = engine
        self._key = key
        self._job = job
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def leads(self) -> bool:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT 1"))
                    self._conn.commit()
                    return True
                except SQLAlchemyError as exc:
                    log.warning("%s: lost the connection holding the lead: %s", self._job, exc)
                    self._drop()
            try:
                conn = self._engine.connect()
            except SQLAlchemyError:
                return False
            try:
                got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
                held = bool(got.scalar())
                conn.commit()  # the lock is the session's: it outlives the transaction
            except SQLAlchemyError:
                conn.close()
                return False
            if not held:
                conn.close()
                return False
            log.info("%s: this replica leads", self._job)
            self._conn = conn
            return True

    def release(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                self._conn.commit()
            except SQLAlchemyError:
                pass
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # never back to the pool: the lock would go with it
            finally:
                conn.close()
