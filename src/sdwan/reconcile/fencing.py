"""Fencing: a replica that lost a router's lease never applies a stale plan.

The way controller-runtime's leader election does it: a holder acts only while its
lease is valid by its *own* monotonic clock, counted from the start of its last
successful renewal, and only up to a renew deadline shorter than the lease. Whoever
takes the lease over can only do so once the lease expired by the database's clock,
after the full lease time; so the old holder stops before the new one starts, even
when it was paused (SIGSTOP, a VM migration, a long GC) and has not yet noticed.

A pass runs under the lease it started with (``PassFence``):
- every write to gobgpd is checked first (``FencedSpeaker``): a lapsed, released or
  replaced lease raises ``LeaseLost`` and the pass ends, applying nothing more;
- every status write is checked again inside the store writer's transaction, against
  the lease row with the pass's fencing token (``FencedWriter``, store/leases.holds).

What is left is the time between the check and the gRPC call leaving the process (a
pause exactly there): the renew deadline's margin (lease minus deadline) is what
bounds it, as in controller-runtime."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection

from sdwan.reconcile import dry_speaker
from sdwan.store import leases as lease_rows
from sdwan.store.batch_writer import Job, JobSink

if TYPE_CHECKING:
    from sdwan.gobgp.client import BgpSpeaker
    from sdwan.reconcile.reconciler import Context

Clock = Callable[[], float]

# BgpSpeaker methods that change gobgpd: SpeakerWrites' (everything else only reads)
WRITES = dry_speaker.WRITES


class LeaseLost(Exception):
    """The pass's lease lapsed, was released or moved to another replica."""


class Lease:
    """This replica's lease on one router, as it knows it."""

    def __init__(self, router_id: str, token: int, renewed_at: float, deadline: float) -> None:
        self.router_id = router_id
        self.token = token
        self.deadline = deadline
        self._renewed_at = renewed_at  # monotonic start of the last successful renewal
        self._dropped = False
        self._lock = threading.Lock()

    def valid(self, now: float) -> bool:
        with self._lock:
            return not self._dropped and now - self._renewed_at < self.deadline

    def renewed(self, started: float) -> bool:
        """A renewal that started at ``started`` succeeded. Only a lease still valid at
        that moment is extended: one that lapsed stays lapsed (a pass that began before
        the lapse must never write after it), and is taken again with a new token."""
        with self._lock:
            if self._dropped or started - self._renewed_at >= self.deadline:
                return False
            self._renewed_at = max(self._renewed_at, started)
            return True

    def drop(self) -> None:
        with self._lock:
            self._dropped = True


class PassFence:
    """The lease one pass runs under."""

    def __init__(self, lease: Lease, *, instance: str, clock: Clock) -> None:
        self.lease = lease
        self.instance = instance
        self._clock = clock

    @property
    def router_id(self) -> str:
        return self.lease.router_id

    def holds(self) -> bool:
        return self.lease.valid(self._clock())

    def check(self) -> None:
        if not self.holds():
            raise LeaseLost(f"router {self.router_id}: lease {self.lease.token} no longer held")

    def job(self, job: Job) -> Job:
        """``job`` only if the lease still holds when the store writer runs it: by this
        replica's clock, and in the database with this token."""

        def fenced(conn: Connection) -> bool:
            if not self.holds() or not lease_rows.holds(
                conn, router_id=self.router_id, instance=self.instance, token=self.lease.token
            ):
                return False
            return job(conn)

        return fenced

    def context(self, ctx: Context) -> Context:
        """``ctx`` for one pass under this fence."""
        return dataclasses.replace(
            ctx,
            writer=FencedWriter(ctx.writer, self),
            guard=lambda speaker: cast("BgpSpeaker", FencedSpeaker(speaker, self)),
        )


class FencedSpeaker:
    """A BgpSpeaker whose writes check the fence first."""

    def __init__(self, inner: BgpSpeaker, fence: PassFence) -> None:
        self._inner = inner
        self._fence = fence

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name not in WRITES:
            return attribute

        def guarded(*args: Any, **kwargs: Any) -> Any:
            self._fence.check()
            return attribute(*args, **kwargs)

        return guarded


class FencedWriter:
    """A store writer whose jobs run only while the fence holds."""

    def __init__(self, inner: JobSink, fence: PassFence) -> None:
        self._inner = inner
        self._fence = fence

    def write(self, job: Job, timeout: float = 30.0) -> bool:
        self._fence.check()
        return self._inner.write(self._fence.job(job), timeout)

    def submit(self, job: Job) -> None:
        self._fence.check()
        self._inner.submit(self._fence.job(job))
