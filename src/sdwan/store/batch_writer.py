"""The one thread that writes derived state: reconcile status, live session state,
reachability, drift and their events. Producers (reconcile workers, the watch loop)
hand it jobs; it runs every job queued at that moment in ONE transaction (group
commit: no artificial delay, and while a transaction runs the next batch gathers).
Only this thread and the API's own requests ever take SQLite's write lock, never
across network I/O, and a fleet that changes at once costs a transaction per batch,
not one per router or per watch event.

A job is ``job(conn) -> bool`` (True: it recorded events, so readers are woken after
the commit). ``write`` waits for the commit of its job (a reconcile pass must see its
own status before the router's next pass reads it); ``submit`` does not. If a batch
fails, each of its jobs is retried alone in its own transaction; a job that fails
again is logged and dropped (what it wrote is derived state: the next pass or poll
writes it again). A batch that failed because the database is away (PostgreSQL
restarting) is not dropped: it is tried again, with backoff, until the database
answers or the writer stops."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from sdwan.store.availability import describe, is_unavailable
from sdwan.threadnames import name_this_thread

log = logging.getLogger(__name__)
Job = Callable[[Connection], bool]
MAX_BATCH = 2000  # jobs per transaction at most
RETRY_INITIAL = 0.1  # seconds before a batch is tried again while the database is away
RETRY_MAX = 2.0


class JobSink(Protocol):
    """What producers of jobs use: the BatchWriter, or a wrapper of it (fencing)."""

    def write(self, job: Job, timeout: float = 30.0) -> bool: ...
    def submit(self, job: Job) -> None: ...


class BatchWriter:
    def __init__(
        self,
        engine: Engine,
        *,
        on_commit: Callable[[], None] = lambda: None,
        idle: Callable[[], None] | None = None,
        idle_every: float = 60.0,
    ) -> None:
        """``on_commit`` runs after a batch whose jobs recorded events; ``idle`` runs
        on this thread every ``idle_every`` seconds (housekeeping such as pruning)."""
        self._engine = engine
        self._on_commit = on_commit
        self._idle = idle
        self._idle_every = idle_every
        self._cond = threading.Condition()
        self._jobs: list[tuple[Job, threading.Event | None]] = []
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)

    def submit(self, job: Job) -> None:
        """Queue ``job``; it commits with the next batch."""
        self._put(job, None)

    def write(self, job: Job, timeout: float = 30.0) -> bool:
        """Queue ``job`` and wait until its batch has committed (or was dropped);
        False if that took longer than ``timeout``."""
        done = threading.Event()
        self._put(job, done)
        return done.wait(timeout)

    def _put(self, job: Job, done: threading.Event | None) -> None:
        with self._cond:
            if self._stopping and not self._thread.is_alive():
                if done is not None:
                    done.set()  # nobody will write it: do not keep the caller waiting
                return
            self._jobs.append((job, done))
            self._cond.notify()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, then end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        name_this_thread()
        next_idle = time.monotonic() + self._idle_every
        while True:
            with self._cond:
                while not self._jobs and not self._stopping:
                    left = next_idle - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                batch, self._jobs = self._jobs[:MAX_BATCH], self._jobs[MAX_BATCH:]
                if not batch and self._stopping:
                    return
            try:
                if batch:
                    self._write(batch)
                if self._idle is not None and time.monotonic() >= next_idle:
                    next_idle = time.monotonic() + self._idle_every
                    self._idle()
            except Exception:  # the writer must outlive any one job
                log.exception("store writer: a batch failed")

    def _write(self, batch: list[tuple[Job, threading.Event | None]]) -> None:
        try:
            try:
                woke = self._commit(batch)
            except Exception as exc:
                log.info("store writer: batch of %d failed (%s); one by one", len(batch), exc)
                woke = [self._write_alone(job) for job, _done in batch]
            if any(woke):
                self._on_commit()
        finally:
            for _job, done in batch:
                if done is not None:
                    done.set()

    def _commit(self, batch: list[tuple[Job, threading.Event | None]]) -> list[bool]:
        delay = 0.0
        while True:
            try:
                with self._engine.begin() as conn:
                    return [job(conn) for job, _done in batch]
            except Exception as exc:
                if not is_unavailable(exc) or self._stopping:
                    raise
                if delay == 0.0:
                    log.warning("store writer: the database is away (%s); retrying", describe(exc))
                delay = min(max(delay * 2, RETRY_INITIAL), RETRY_MAX)
                time.sleep(delay)

    def _write_alone(self, job: Job) -> bool:
        try:
            return self._commit([(job, None)])[0]
        except SQLAlchemyError as exc:
            log.warning("store writer: dropped a write: %s", exc)
        except Exception:
            log.exception("store writer: dropped a write")
        return False
