"""Which routers this process drives.

``SoleOwner`` (SQLite, one process): every router, no lease, no fence.

``LeaseOwnership`` (PostgreSQL, several replicas): a thread that, every
``lease / 5`` seconds or when woken (a replica came or went, a lease was released, a
router appeared), in one transaction heartbeats this replica and renews its leases,
then reads the cluster (live replicas, routers, leases), computes the balanced
assignment every replica computes alike (reconcile/assign.py), gives up the routers
that now belong to another live replica (once no pass of theirs runs) and takes the
free or expired leases of the routers that belong to it. The reconciler hears of it
through ``OwnershipListener``: ``acquired`` queues a full pass (which re-reads gobgpd
and changes nothing that matches: no session reset on a takeover), ``lost`` drops
the key at once. A lease that could not be renewed in time (the database away, the
process paused) lapses by this process's own clock and is lost the same way; the
fence (reconcile/fencing.py) stops a pass already running."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from sdwan.errors import StartupRefused
from sdwan.reconcile.assign import assign
from sdwan.reconcile.fencing import Clock, Lease, PassFence
from sdwan.store import leases as rows
from sdwan.store.availability import describe

log = logging.getLogger(__name__)
RENEW_DEADLINE = 0.7  # of the lease: a holder stops acting after this without renewal
RETRY_PERIOD = 0.2  # of the lease: how often leases are renewed and the cluster read
FORGET_DEAD_AFTER = 300.0  # seconds: replicas silent this long leave the replica list


class OwnershipListener(Protocol):
    def acquired(self, router_id: str) -> None: ...
    def lost(self, router_id: str) -> None: ...
    def busy(self, router_id: str) -> bool: ...


@dataclass(frozen=True)
class ReplicaIdentity:
    name: str  # --replica-name (default host:port)
    instance: str  # this process
    address: str  # where it serves the API
    version: str


class SoleOwner:
    """The one process owns every router (SQLite)."""

    dynamic = False

    def owns(self, router_id: str) -> bool:
        return True

    def fence(self, router_id: str) -> PassFence | None:
        return None

    def register(self) -> None:
        pass

    def start(self, listener: OwnershipListener) -> None:
        pass

    def halt(self) -> None:
        pass

    def leave(self) -> None:
        pass

    def wake(self) -> None:
        pass

    def knows(self, router_id: str) -> bool:
        return True


class LeaseOwnership:
    dynamic = True

    def __init__(
        self,
        engine: Engine,
        identity: ReplicaIdentity,
        *,
        lease: float = 5.0,
        announce: Callable[[], None] = lambda: None,
        clock: Clock = time.monotonic,
    ) -> None:
        """``announce``: tell the other replicas that leases moved (NOTIFY)."""
        self._engine = engine
        self.identity = identity
        self.lease = lease
        self.deadline = lease * RENEW_DEADLINE
        self._announce = announce
        self._clock = clock
        self._lock = threading.Lock()
        self._held: dict[str, Lease] = {}
        self._releasing: dict[str, tuple[int, float]] = {}  # router -> token, since
        self._listener: OwnershipListener | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leases", daemon=True)
        self._plan_key: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self._plan: dict[str, str] = {}
        self.ticks = 0

    # --- what the reconciler asks (any thread) -------------------------------------

    def owns(self, router_id: str) -> bool:
        with self._lock:
            lease = self._held.get(router_id)
        return lease is not None and lease.valid(self._clock())

    def fence(self, router_id: str) -> PassFence | None:
        with self._lock:
            lease = self._held.get(router_id)
        if lease is None:
            lease = Lease(router_id, 0, 0.0, 0.0)  # never valid: the pass applies nothing
        return PassFence(lease, instance=self.identity.instance, clock=self._clock)

    def knows(self, router_id: str) -> bool:
        """The router was in the last assignment (else: new, worth a look at once)."""
        return router_id in self._plan

    def held(self) -> list[str]:
        with self._lock:
            return sorted(self._held)

    # --- lifecycle -----------------------------------------------------------------

    def register(self, wait: float | None = None) -> None:
        """Claim this replica's name. A live instance holding it (the same name given
        twice, or a previous process of ours not yet expired) is waited for up to
        ``wait`` seconds (default: two leases), then the start is refused."""
        deadline = self._clock() + (2 * self.lease if wait is None else wait)
        while True:
            with self._engine.begin() as conn:
                age = rows.register(
                    conn,
                    name=self.identity.name,
                    instance=self.identity.instance,
                    address=self.identity.address,
                    version=self.identity.version,
                    stale_after=self.lease,
                )
            if age is None:
                self._announce()
                return
            if self._clock() >= deadline:
                raise StartupRefused(
                    f"another replica named {self.identity.name!r} is running (its heartbeat "
                    f"is {age:.1f} s old): give every replica its own --replica-name"
                )
            time.sleep(min(self.lease * RETRY_PERIOD, 0.5))

    def start(self, listener: OwnershipListener) -> None:
        self._listener = listener
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def halt(self, timeout: float = 10.0) -> None:
        """Stop renewing and taking leases (the reconciler stops next)."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def leave(self) -> None:
        """Give every lease up at once and leave the replica list (a clean shutdown:
        the others take the routers over without waiting for the leases to expire)."""
        with self._lock:
            tokens = {r: lease.token for r, lease in self._held.items()}
            tokens.update({r: token for r, (token, _since) in self._releasing.items()})
            for lease in self._held.values():
                lease.drop()
            self._held.clear()
            self._releasing.clear()
        try:
            with self._engine.begin() as conn:
                rows.release(conn, instance=self.identity.instance, tokens=tokens)
                rows.leave(conn, name=self.identity.name, instance=self.identity.instance)
            self._announce()
        except SQLAlchemyError as exc:
            log.warning("leases: could not release at shutdown (%s); they expire", describe(exc))

    # --- the loop ------------------------------------------------------------------

    def _run(self) -> None:
        failing = False
        while not self._stopping.is_set():
            try:
                self.tick()
                if failing:
                    log.info("leases: the database answers again")
                failing = False
            except SQLAlchemyError as exc:
                if not failing:
                    log.warning("leases: cannot renew (%s)", describe(exc))
                failing = True
            except Exception:
                log.exception("leases: tick failed")
            self._expire_lapsed()
            self._wake.wait(self.lease * RETRY_PERIOD)
            self._wake.clear()

    def tick(self) -> None:
        """One round: heartbeat, renew, read the cluster, release, acquire."""
        identity = self.identity
        started = self._clock()
        with self._lock:
            renewing = [r for r, lease in self._held.items() if lease.valid(started)]
        with self._engine.begin() as conn:
            registered = rows.heartbeat(conn, name=identity.name, instance=identity.instance)
            if not registered:
                registered = (
                    rows.register(
                        conn,
                        name=identity.name,
                        instance=identity.instance,
                        address=identity.address,
                        version=identity.version,
                        stale_after=self.lease,
                    )
                    is None
                )
            renewed = rows.renew(
                conn, router_ids=renewing, instance=identity.instance, lease=self.lease
            )
            cluster = rows.view(conn, lease=self.lease)
            if self.ticks % 60 == 0:
                rows.forget_dead(conn, older_than=max(FORGET_DEAD_AFTER, 10 * self.lease))
        self.ticks += 1
        if not registered:
            log.error("replica name %r is held by another live process", identity.name)
            self._lose(self.held())
            return
        self._apply_renewals(renewing, renewed, started)
        plan = self._assignment(cluster.routers, cluster.live)
        mine = {r for r, name in plan.items() if name == identity.name}
        self._lose([r for r in self.held() if r not in mine], release=True)
        released = self._finish_releases()
        wanted = [
            r
            for r in sorted(mine)
            if r not in self._held
            and r not in self._releasing
            and not _held_elsewhere(cluster.leases.get(r), identity.instance)
        ]
        if wanted:
            self._acquire(wanted)
        if released:
            self._announce()

    def _assignment(self, routers: list[str], live: list[str]) -> dict[str, str]:
        key = (tuple(routers), tuple(live))
        if key != self._plan_key:
            self._plan_key, self._plan = key, assign(routers, live)
        return self._plan

    def _apply_renewals(self, renewing: list[str], renewed: dict[str, int], started: float) -> None:
        lost = []
        with self._lock:
            for router_id in renewing:
                lease = self._held.get(router_id)
                if lease is None:
                    continue
                if renewed.get(router_id) != lease.token or not lease.renewed(started):
                    lost.append(router_id)
        if lost:
            log.info("leases: lost %d router(s) (taken over, or deleted)", len(lost))
            self._lose(lost)

    def _expire_lapsed(self) -> None:
        now = self._clock()
        with self._lock:
            lapsed = [r for r, lease in self._held.items() if not lease.valid(now)]
        if lapsed:
            log.warning("leases: %d lapsed without renewal: stopped driving them", len(lapsed))
            self._lose(lapsed)

    def _lose(self, router_ids: list[str], *, release: bool = False) -> None:
        """Stop driving these routers; with ``release``, hand the lease back in the
        database once no pass of theirs runs any more."""
        listener = self._listener
        for router_id in router_ids:
            with self._lock:
                lease = self._held.pop(router_id, None)
                if lease is None:
                    continue
                lease.drop()  # a pass under it applies nothing more
                if release:
                    self._releasing[router_id] = (lease.token, self._clock())
            if listener is not None:
                listener.lost(router_id)

    def _finish_releases(self) -> bool:
        listener = self._listener
        now = self._clock()
        with self._lock:
            ready = {
                r: token
                for r, (token, since) in self._releasing.items()
                if listener is None or not listener.busy(r) or now - since > self.lease
            }
        if not ready:
            return False
        with self._engine.begin() as conn:
            rows.release(conn, instance=self.identity.instance, tokens=ready)
        with self._lock:
            for router_id in ready:
                self._releasing.pop(router_id, None)
        return True

    def _acquire(self, wanted: list[str]) -> None:
        started = self._clock()
        with self._engine.begin() as conn:
            got = rows.acquire(
                conn,
                router_ids=wanted,
                instance=self.identity.instance,
                name=self.identity.name,
                lease=self.lease,
            )
        if not got:
            return
        with self._lock:
            for router_id, token in got.items():
                self._held[router_id] = Lease(router_id, token, started, self.deadline)
        log.info("leases: took %d router(s)", len(got))
        listener = self._listener
        if listener is not None:
            for router_id in sorted(got):
                listener.acquired(router_id)


def _held_elsewhere(lease: rows.LeaseRow | None, instance: str) -> bool:
    return lease is not None and lease.valid and lease.holder != instance


class Ownership(Protocol):
    """What the reconciler asks: SoleOwner or LeaseOwnership."""

    def owns(self, router_id: str) -> bool: ...
    def fence(self, router_id: str) -> PassFence | None: ...
