"""The change feed on a real PostgreSQL: NOTIFY in a change's transaction reaches the
other replicas' listeners (and only once it commits), a listener reconnects by
itself and says so; events get ids in commit order, so a reader following ids never
skips one that committed late."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event, text

from sdwan.events.feed import (
    LEASES_CHANNEL,
    ROUTERS_CHANNEL,
    FeedListener,
    notify,
    parse_router_payload,
    router_payload,
)
from sdwan.events.log import EventLog
from sdwan.events.model import Event
from sdwan.events.ordered import OrderedEvents
from sdwan.lab import wait_for
from sdwan.service import uow
from sdwan.service.publish import PublishingNotifier
from sdwan.store.db import make_engine


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


class Heard:
    def __init__(self) -> None:
        self.routers: list[tuple[str, set[str] | None]] = []
        self.events = 0
        self.leases = 0
        self.reconnects = 0

    def router_changed(self, router_id: str, addresses: set[str] | None) -> None:
        self.routers.append((router_id, addresses))

    def events_added(self) -> None:
        self.events += 1

    def leases_moved(self) -> None:
        self.leases += 1

    def reconnected(self) -> None:
        self.reconnects += 1


def test_payloads_carry_keys_and_stay_small() -> None:
    assert parse_router_payload(router_payload("o", "r1", {"198.18.0.2", "198.18.0.1"})) == (
        "o",
        "r1",
        {"198.18.0.1", "198.18.0.2"},
    )
    assert parse_router_payload(router_payload("o", "r1", None)) == ("o", "r1", None)
    many = {f"2001:db8::{i:x}" for i in range(500)}  # more than a targeted pass takes
    payload = router_payload("o", "r1", many)
    assert payload.endswith(" *") and len(payload.encode()) < 8000


def test_a_change_reaches_the_other_listeners_when_it_commits(pg_url: str, engine: Engine) -> None:
    heard = Heard()
    listener = FeedListener(pg_url, origin="me", handlers=heard)
    listener.start()
    try:
        assert listener.connected.wait(10)
        with engine.connect() as conn:  # rolled back: never announced
            notify(conn, ROUTERS_CHANNEL, router_payload("other", "r0", None))
            conn.rollback()
        with engine.begin() as conn:
            notify(conn, ROUTERS_CHANNEL, router_payload("me", "r-own", None))  # ours: skipped
            notify(conn, ROUTERS_CHANNEL, router_payload("other", "r1", {"198.18.0.1"}))
            notify(conn, LEASES_CHANNEL, "other")
        wait_for(lambda: heard.routers and heard.leases, timeout=5, what="notifications")
        assert heard.routers == [("r1", {"198.18.0.1"})]
        # PostgreSQL drops the listener's connection (a restart would): it comes back
        with engine.begin() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'sdwan' AND query LIKE 'LISTEN%'"
                )
            )
        wait_for(lambda: heard.reconnects == 1, timeout=10, what="the listener to reconnect")
        with engine.begin() as conn:
            notify(conn, ROUTERS_CHANNEL, router_payload("other", "r2", None))
        wait_for(lambda: len(heard.routers) == 2, timeout=5, what="a change after reconnecting")
        assert heard.routers[-1] == ("r2", None)
    finally:
        listener.stop()


class Local:
    def __init__(self) -> None:
        self.called: list[str] = []

    def router_changed(self, router_id: str, addresses: set[str] | None = None) -> None:
        self.called.append(router_id)


def test_a_transaction_announces_its_routers_in_one_statement_at_commit(
    pg_url: str, engine: Engine
) -> None:
    heard, local = Heard(), Local()
    listener = FeedListener(pg_url, origin="other", handlers=heard)
    notifier = PublishingNotifier(engine, local, origin="me")
    listener.start()
    try:
        assert listener.connected.wait(10)
        with uow.unit_of_work(engine, commit=False):  # a dry run: nothing announced
            notifier.router_changed("dry")
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        with uow.unit_of_work(engine):
            for i in range(50):
                notifier.router_changed(f"r{i}", {"198.18.0.1"} if i == 0 else None)
            assert heard.routers == [] and local.called == []  # not before the commit
        assert sum("pg_notify" in statement for statement in statements) == 1
        wait_for(lambda: len(heard.routers) == 50, timeout=5, what="50 notifications")
        assert heard.routers[0] == ("r0", {"198.18.0.1"})
        assert {r for r, _ in heard.routers} == {f"r{i}" for i in range(50)}
        assert local.called == [f"r{i}" for i in range(50)]
    finally:
        listener.stop()


def _event(n: int) -> Event:
    return Event("resource.created", "router", f"id-{n}", f"r{n}", f"event {n}")


def test_event_ids_follow_commit_order(pg_url: str, engine: Engine) -> None:
    """The transaction that recorded its events first but commits last still gets the
    higher ids: a reader that already went past the other's never misses them."""
    ordered = OrderedEvents("me")
    ordered.install(engine)
    log = EventLog(engine, ordered=ordered)
    heard = Heard()
    listener = FeedListener(pg_url, origin="other-replica", handlers=heard)
    listener.start()
    try:
        assert listener.connected.wait(10)
        first_recorded = threading.Event()
        second_committed = threading.Event()

        def slow() -> None:
            with engine.begin() as conn:
                log.record(conn, [_event(1)])
                first_recorded.set()
                assert second_committed.wait(10)

        thread = threading.Thread(target=slow)
        thread.start()
        assert first_recorded.wait(10)
        with engine.begin() as conn:
            log.record(conn, [_event(2)])
        seen = log.read(since=0, limit=10)  # the first transaction is still open
        second_committed.set()
        assert [e["resource_id"] for e in seen] == ["id-2"]
        cursor = seen[-1]["id"]
        thread.join(10)
        later = log.read(since=cursor, limit=10)
        assert [e["resource_id"] for e in later] == ["id-1"]  # not skipped
        wait_for(lambda: heard.events >= 2, timeout=5, what="a wake-up per commit")
        with engine.connect() as conn:  # a rollback inserts nothing
            log.record(conn, [_event(3)])
            conn.rollback()
        assert [e["resource_id"] for e in log.read(since=0, limit=10)] == ["id-2", "id-1"]
    finally:
        listener.stop()
