"""The one transaction idiom of the service layer.

A service method that writes runs its work in ``with unit_of_work(self._engine) as
work:`` and hands ``work.conn`` to store/ repository functions (which never begin or
commit themselves). A method that only reads uses ``with reading(self._engine) as
conn:``. Both join a unit of work already open on this thread of control: so a caller
that wants several service calls in one transaction (``sdwan apply``, a dry run, a
policyinfo record and the policy and attachment it makes) opens the unit of work and
calls the services inside, without passing a connection down. Nothing is visible to
others until the outermost one commits, a failure anywhere rolls everything back,
and what a call wants to happen after its commit (``after_commit``, ``DeferredCalls``:
telling the reconciler, publishing events) waits for that commit and is dropped on
rollback. What must be written in the same transaction once all the work is done (the
revision the work makes: service/revision_log.py) is registered with ``finishing`` and
runs just before the outermost one commits. ``unit_of_work(engine, commit=False)``
runs every check and rolls back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from sdwan.store.snapshot import desired_state_copy, sqlite_file


@dataclass
class UnitOfWork:
    conn: Connection
    deferred: list[Callable[[], None]] = field(default_factory=list)
    # run in the transaction just before it commits (not in a dry run); may still fail it
    finishing: list[Callable[[], None]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)  # what the layers keep about it


_current: ContextVar[UnitOfWork | None] = ContextVar("sdwan_unit_of_work", default=None)


class _Rollback(Exception):
    pass


@contextmanager
def unit_of_work(engine: Engine, *, commit: bool = True) -> Iterator[UnitOfWork]:
    """One transaction for every service call inside; ``commit=False`` rolls it back
    at the end (a dry run that still runs every check). Inside another unit of work
    it joins that one."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    work: UnitOfWork | None = None
    try:
        with engine.begin() as conn:
            work = UnitOfWork(conn)
            token = _current.set(work)
            try:
                yield work
                if commit:
                    for finish in work.finishing:
                        finish()
            finally:
                _current.reset(token)
            if not commit:
                raise _Rollback
    except _Rollback:
        return
    assert work is not None
    for action in work.deferred:
        action()


@contextmanager
def change_or_rehearsal(engine: Engine, *, dry_run: bool) -> Iterator[UnitOfWork]:
    """A unit of work that commits, or for a dry run one that rolls back: on SQLite
    over a private copy of the desired state, so a plan never holds the write lock."""
    if dry_run and sqlite_file(engine) is not None:
        with desired_state_copy(engine) as copy, unit_of_work(copy, commit=False) as work:
            yield work
        return
    with unit_of_work(engine, commit=not dry_run) as work:
        yield work


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads that sees the surrounding unit of work's writes."""
    work = _current.get()
    if work is not None:
        yield work.conn
        return
    with engine.connect() as conn:
        yield conn


def current() -> UnitOfWork | None:
    return _current.get()


def after_commit(action: Callable[[], None]) -> None:
    """Run ``action`` now, or after the surrounding unit of work commits."""
    work = _current.get()
    if work is None:
        action()
    else:
        work.deferred.append(action)


class DeferredCalls:
    """Wraps a notifier or an event sink: every method call waits for the commit of
    the surrounding unit of work (or runs at once outside one). Return values are
    dropped, so wrap only fire-and-forget interfaces."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Callable[..., None]:
        method = getattr(self._inner, name)

        def call(*args: object, **kwargs: object) -> None:
            after_commit(lambda: method(*args, **kwargs))

        return call
