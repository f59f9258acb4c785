"""Fencing (reconcile/fencing.py): a lapsed lease stops writes to gobgpd and to the
store, reads go on. Pure logic with a fake clock; the SQL side is in test_leases.py."""

from __future__ import annotations

import pytest

from sdwan.domain.bgp import GlobalConfig, PeerConfig
from sdwan.reconcile.fencing import FencedSpeaker, FencedWriter, Lease, LeaseLost, PassFence
from tests.support.speaker import FakeSpeaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_lease_is_valid_until_its_renew_deadline_and_renewal_extends_it() -> None:
    lease = Lease("r1", 1, renewed_at=100.0, deadline=3.5)
    assert lease.valid(103.4)
    assert not lease.valid(103.5)
    assert lease.renewed(102.0)  # started while valid
    assert lease.valid(105.4)


def test_a_lapsed_lease_is_never_revived_by_a_late_renewal() -> None:
    """A renewal that started after the deadline (the process was paused) does not
    bring the lease back: a pass that began before the lapse must never write after."""
    lease = Lease("r1", 1, renewed_at=100.0, deadline=3.5)
    assert not lease.renewed(110.0)
    assert not lease.valid(110.1)


def test_a_dropped_lease_is_invalid_at_once() -> None:
    lease = Lease("r1", 1, renewed_at=100.0, deadline=3.5)
    lease.drop()
    assert not lease.valid(100.0)
    assert not lease.renewed(100.0)


def _fenced(clock: Clock) -> tuple[FakeSpeaker, FencedSpeaker, PassFence]:
    speaker = FakeSpeaker()
    lease = Lease("r1", 7, renewed_at=clock(), deadline=3.5)
    fence = PassFence(lease, instance="i1", clock=clock)
    return speaker, FencedSpeaker(speaker, fence), fence


def test_writes_go_through_while_the_lease_holds() -> None:
    clock = Clock()
    speaker, fenced, _fence = _fenced(clock)
    fenced.start_bgp(GlobalConfig(asn=65001, router_id="10.0.0.1"))
    fenced.add_peer(PeerConfig(address="198.18.0.1", peer_asn=65000))
    assert set(speaker.list_peers()) == {"198.18.0.1"}


def test_after_a_pause_past_the_deadline_no_write_reaches_gobgpd() -> None:
    clock = Clock()
    speaker, fenced, _fence = _fenced(clock)
    fenced.start_bgp(GlobalConfig(asn=65001, router_id="10.0.0.1"))
    clock.now += 10.0  # SIGSTOP, then SIGCONT
    assert fenced.get_global() is not None  # reads go on
    for write in (
        lambda: fenced.add_peer(PeerConfig(address="198.18.0.1", peer_asn=65000)),
        lambda: fenced.delete_peer("198.18.0.1"),
        fenced.stop_bgp,
    ):
        with pytest.raises(LeaseLost):
            write()
    assert speaker.list_peers() == {}
    assert speaker.get_global() is not None


class Sink:
    def __init__(self) -> None:
        self.jobs: list[object] = []

    def write(self, job: object, timeout: float = 30.0) -> bool:
        self.jobs.append(job)
        return True

    def submit(self, job: object) -> None:
        self.jobs.append(job)


def test_status_writes_are_refused_once_the_lease_lapsed() -> None:
    clock = Clock()
    _speaker, _fenced_speaker, fence = _fenced(clock)
    sink = Sink()
    writer = FencedWriter(sink, fence)
    writer.write(lambda conn: False)
    assert len(sink.jobs) == 1
    clock.now += 10.0
    with pytest.raises(LeaseLost):
        writer.write(lambda conn: False)
    with pytest.raises(LeaseLost):
        writer.submit(lambda conn: False)
    assert len(sink.jobs) == 1


def test_a_job_queued_before_the_lapse_is_skipped_when_it_runs_after() -> None:
    clock = Clock()
    _speaker, _fenced_speaker, fence = _fenced(clock)
    ran = []

    def job(conn: object) -> bool:
        ran.append(conn)
        return True

    guarded = fence.job(job)
    clock.now += 10.0
    assert guarded(object()) is False  # type: ignore[arg-type]
    assert ran == []
