"""Replicas sharing routers out through leases in a real PostgreSQL
(reconcile/ownership.py), driven tick by tick: even spread, hand-over when a replica
joins, takeover when one dies, fencing of the one that lost its leases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from sdwan.lab import wait_for
from sdwan.reconcile.fencing import LeaseLost
from sdwan.reconcile.ownership import LeaseOwnership, ReplicaIdentity
from sdwan.store import leases
from sdwan.store.db import make_engine
from tests.support.store import add_routers

# long enough that no tick of a replica comes a lease after its last one on a loaded
# machine (0.5 s did not: a replica then counted the other one dead mid-test)
LEASE = 2.0


class Recorder:
    def __init__(self) -> None:
        self.owned: set[str] = set()
        self.busy_ids: set[str] = set()

    def acquired(self, router_id: str) -> None:
        self.owned.add(router_id)

    def lost(self, router_id: str) -> None:
        self.owned.discard(router_id)

    def busy(self, router_id: str) -> bool:
        return router_id in self.busy_ids


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


def replica(engine: Engine, name: str) -> tuple[LeaseOwnership, Recorder]:
    identity = ReplicaIdentity(name=name, instance=f"{name}-instance", address=name, version="0")
    ownership = LeaseOwnership(engine, identity, lease=LEASE)
    recorder = Recorder()
    ownership._listener = recorder  # driven by tick(), not by its thread
    ownership.register()
    return ownership, recorder


def test_routers_spread_evenly_and_move_when_a_replica_joins(engine: Engine) -> None:
    ids = add_routers(engine, 6)
    a, seen_a = replica(engine, "a")
    a.tick()
    assert seen_a.owned == set(ids) == set(a.held())
    b, seen_b = replica(engine, "b")
    b.tick()
    assert seen_b.owned == set()  # a still holds them all
    a.tick()  # a sees b: gives half up
    b.tick()
    assert len(seen_a.owned) == len(seen_b.owned) == 3
    assert seen_a.owned.isdisjoint(seen_b.owned)
    with engine.connect() as conn:
        counts = {r.name: r.routers for r in leases.list_replicas(conn)}
    assert counts == {"a": 3, "b": 3}


def test_a_router_being_reconciled_is_handed_over_only_after_its_pass(engine: Engine) -> None:
    ids = add_routers(engine, 2)
    a, seen_a = replica(engine, "a")
    a.tick()
    seen_a.busy_ids = set(ids)  # passes still running
    b, seen_b = replica(engine, "b")
    b.tick()
    a.tick()  # gives one up locally at once, but keeps its lease row while busy
    assert len(seen_a.owned) == 1
    b.tick()
    assert seen_b.owned == set()
    seen_a.busy_ids = set()
    a.tick()  # the pass ended: released
    b.tick()
    assert len(seen_b.owned) == 1


def test_a_dead_replicas_routers_are_taken_over_and_its_fence_closes(engine: Engine) -> None:
    ids = add_routers(engine, 4)
    a, _seen_a = replica(engine, "a")
    b, seen_b = replica(engine, "b")
    a.tick()
    b.tick()
    a.tick()
    b.tick()
    mine_a = set(a.held())
    assert len(mine_a) == 2
    router = sorted(mine_a)[0]
    fence = a.fence(router)
    assert fence is not None and fence.holds()

    # a stops ticking (SIGKILL, SIGSTOP): b takes everything within the lease time
    def b_has_all() -> bool:
        b.tick()
        return seen_b.owned == set(ids)

    wait_for(b_has_all, timeout=5 * LEASE + 2, what="b to take a's routers over")
    with pytest.raises(LeaseLost):
        fence.check()  # a's own clock says its lease lapsed
    with engine.begin() as conn:  # and the database says the token moved on
        assert not leases.holds(
            conn, router_id=router, instance="a-instance", token=fence.lease.token
        )
    a.tick()  # a comes back: it learns it lost them, and the plan now has both again
    assert not set(a.held()) & (set(ids) - set(b.held()))


def test_leaving_hands_everything_over_at_once(engine: Engine) -> None:
    ids = add_routers(engine, 3)
    a, _seen_a = replica(engine, "a")
    a.tick()
    b, seen_b = replica(engine, "b")
    a.leave()  # clean shutdown: released, and gone from the replica list
    b.tick()
    assert seen_b.owned == set(ids)
    with engine.connect() as conn:
        assert [r.name for r in leases.list_replicas(conn)] == ["b"]
