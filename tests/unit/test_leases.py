"""Router leases, replicas and the fencing check in a real PostgreSQL
(store/leases.py): acquisition, renewal, expiry by the database's clock, tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from sdwan.lab import wait_for
from sdwan.lab.postgres import PostgresServer
from sdwan.store import leases, repo
from sdwan.store.db import make_engine, migrate
from tests.support.store import add_routers


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


def acquire(engine: Engine, ids: list[str], instance: str, lease: float = 5.0) -> dict[str, int]:
    with engine.begin() as conn:
        return leases.acquire(conn, router_ids=ids, instance=instance, name=instance, lease=lease)


def holds(engine: Engine, router_id: str, instance: str, token: int) -> bool:
    with engine.begin() as conn:
        return leases.holds(conn, router_id=router_id, instance=instance, token=token)


def test_a_free_router_is_taken_once_with_token_1(engine: Engine) -> None:
    ids = add_routers(engine, 2)
    assert acquire(engine, ids, "a") == dict.fromkeys(ids, 1)
    assert acquire(engine, ids, "b") == {}  # held and valid
    with engine.connect() as conn:
        assert leases.owners(conn, router_ids=ids) == dict.fromkeys(ids, "a")


def test_an_expired_lease_is_taken_over_with_the_next_token(engine: Engine) -> None:
    (router,) = add_routers(engine, 1)
    acquire(engine, [router], "a", lease=0.3)
    taken = wait_for(lambda: acquire(engine, [router], "b"), timeout=5, what="the lease to expire")
    assert taken == {router: 2}
    with engine.begin() as conn:  # the old holder can no longer renew...
        assert leases.renew(conn, router_ids=[router], instance="a", lease=5) == {}
    assert not holds(engine, router, "a", 1)  # ...nor write status under its token
    assert holds(engine, router, "b", 2)


def test_renewal_keeps_a_lease_and_release_frees_it_at_once(engine: Engine) -> None:
    (router,) = add_routers(engine, 1)
    acquire(engine, [router], "a", lease=60)
    with engine.begin() as conn:
        assert leases.renew(conn, router_ids=[router], instance="a", lease=60) == {router: 1}
        leases.release(conn, instance="a", tokens={router: 1})
    assert not holds(engine, router, "a", 1)
    assert acquire(engine, [router], "b") == {router: 2}
    with engine.connect() as conn:
        assert leases.owners(conn, router_ids=[router]) == {router: "b"}


def test_a_release_with_an_old_token_frees_nothing(engine: Engine) -> None:
    (router,) = add_routers(engine, 1)
    acquire(engine, [router], "a", lease=0.2)
    wait_for(lambda: acquire(engine, [router], "b", lease=60), timeout=5, what="takeover")
    with engine.begin() as conn:
        leases.release(conn, instance="a", tokens={router: 1})
    assert holds(engine, router, "b", 2)


def test_a_deleted_router_takes_its_lease_along(engine: Engine) -> None:
    (router,) = add_routers(engine, 1)
    acquire(engine, [router], "a")
    with engine.begin() as conn:
        repo.delete_router_row(conn, router_id=router)
    with engine.connect() as conn:
        assert leases.owners(conn, router_ids=[router]) == {}
    assert acquire(engine, [router], "a") == {}  # nothing to take


def test_a_name_held_by_a_live_replica_is_refused_until_it_goes_stale(engine: Engine) -> None:
    def register(instance: str, stale_after: float) -> float | None:
        with engine.begin() as conn:
            return leases.register(
                conn,
                name="r1",
                instance=instance,
                address="h:1",
                version="0",
                stale_after=stale_after,
            )

    assert register("i1", 60) is None
    age = register("i2", 60)  # refused: i1's heartbeat is younger than a minute
    assert age is not None and 0 <= age < 60
    wait_for(lambda: register("i2", 0.3) is None, timeout=5, what="the old instance to go stale")
    with engine.begin() as conn:
        assert not leases.heartbeat(conn, name="r1", instance="i1")  # it lost its name
        assert leases.heartbeat(conn, name="r1", instance="i2")
        rows = leases.list_replicas(conn)
    assert [(r.name, r.routers) for r in rows] == [("r1", 0)]


def test_a_fenced_write_blocks_a_takeover_until_it_commits_but_never_a_renewal(
    engine: Engine,
) -> None:
    """What the store writer holds while it writes status under a lease: renewals of
    that lease go through (no deadlock with the lease thread), a takeover waits."""
    import threading

    from sqlalchemy import text

    (router,) = add_routers(engine, 1)
    acquire(engine, [router], "a", lease=0.5)
    with engine.connect() as writer:
        assert leases.holds(writer, router_id=router, instance="a", token=1)
        with engine.begin() as conn:  # the lease thread renews meanwhile, without waiting
            conn.execute(text("SET LOCAL lock_timeout = '200ms'"))
            assert leases.renew(conn, router_ids=[router], instance="a", lease=0.3) == {router: 1}
        taken: dict[str, int] = {}

        def takeover() -> None:
            def attempt() -> dict[str, int]:
                return acquire(engine, [router], "b")

            taken.update(wait_for(attempt, timeout=10, what="the lease to expire"))

        thread = threading.Thread(target=takeover)
        thread.start()
        thread.join(1.5)  # the lease expired long ago: only the open write holds it back
        assert thread.is_alive() and not taken
        writer.commit()
        thread.join(10)
    assert taken == {router: 2}


def test_replicas_starting_together_migrate_once(postgres: PostgresServer) -> None:
    """Three processes migrating one empty database at the same moment: the advisory
    lock lets one create the schema; the others find it done (without the lock they
    would fail on tables created under them)."""
    import secrets
    import threading

    from sqlalchemy import text

    name = "mig_" + secrets.token_hex(4)
    url = postgres.create_database(name)
    engines = [make_engine(url) for _ in range(3)]
    failures: list[BaseException] = []

    def run(engine: Engine) -> None:
        try:
            migrate(engine)
        except BaseException as exc:
            failures.append(exc)

    try:
        threads = [threading.Thread(target=run, args=(e,)) for e in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert failures == []
        with engines[0].connect() as conn:
            versions = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        heads = _script_heads()
        assert len(heads) == 1 and versions == set(heads)
    finally:
        for engine in engines:
            engine.dispose()
        postgres.drop_database(name)


def _script_heads() -> list[str]:
    """The head revisions of the migration scripts (one: ``migrate`` upgrades to it)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from sdwan.store.db import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return list(ScriptDirectory.from_config(config).get_heads())
