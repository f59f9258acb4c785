"""store/quality_repo.py on both stores: the latest report per uplink, the history's
buckets (merged when written twice, read newest last, pruned per resolution) and the
steering state, over uplinks made through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from sdwan.runtime import Runtime
from sdwan.store import quality_repo
from sdwan.store.quality_repo import HistoryBucket, UplinkQualityRecord
from tests.support.demo_site import INTENT, site_with_uplinks

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FIGURES = {"window_s": 2.0, "sent": 40, "answered": 38, "loss_pct": 5.0, "latency_ms": 12.5}


def _uplinks(client: TestClient) -> dict[str, str]:
    site_with_uplinks(client)
    items = client.get("/v1/uplinks").json()["items"]
    return {u["name"]: u["id"] for u in items}


def _report(uplink_id: str, state: str = "up", at: datetime = T0) -> UplinkQualityRecord:
    return UplinkQualityRecord(
        uplink_id=uplink_id,
        state=state,
        since=at - timedelta(seconds=30),
        short=FIGURES,
        long={**FIGURES, "window_s": 30.0, "loss_pct": 1.0},
        classes={"gold": {"state": "violated", "since": at.timestamp(), "reason": "loss"}},
        agent="unix:///run/sdwan/GoBGP-1.sock.probe",
        reported_at=at,
        local_address="198.18.11.1",
        interface="eth1",
    )


def test_the_latest_report_replaces_the_one_before(client: TestClient, runtime: Runtime) -> None:
    ids = _uplinks(client)
    with runtime.engine.begin() as conn:
        quality_repo.upsert_quality(conn, rows=[_report(ids["vyos1"]), _report("no-such-uplink")])
    with runtime.engine.begin() as conn:
        later = _report(ids["vyos1"], "dead", T0 + timedelta(seconds=1))
        quality_repo.upsert_quality(conn, rows=[later, _report(ids["vyos2"])])
    with runtime.engine.connect() as conn:
        found = quality_repo.quality_of(conn, uplink_ids=[*ids.values(), "no-such-uplink"])
        named = quality_repo.named_quality(conn)
        elsewhere = quality_repo.named_quality(conn, project_id="red")
    assert set(found) == set(ids.values())
    assert found[ids["vyos1"]] == later
    assert [(n.site, n.uplink, n.router, n.project_id) for n in named] == [
        ("hq", "vyos1", "GoBGP-1", "default"),
        ("hq", "vyos2", "GoBGP-2", "default"),
    ]
    assert elsewhere == []
    # an uplink's rows go with it
    assert client.delete(f"/v1/uplinks/{ids['vyos2']}").status_code == 200
    with runtime.engine.begin() as conn:
        assert set(quality_repo.quality_of(conn, uplink_ids=list(ids.values()))) == {ids["vyos1"]}
        quality_repo.delete_quality(conn, uplink_ids=[ids["vyos1"]])
        assert quality_repo.quality_of(conn, uplink_ids=list(ids.values())) == {}


def test_history_buckets_merge_read_newest_last_and_prune(
    client: TestClient, runtime: Runtime
) -> None:
    uplink = _uplinks(client)["vyos1"]

    def bucket(minute: int, resolution: int = 60, **figures: float | None) -> HistoryBucket:
        start = T0 + timedelta(minutes=minute)
        return HistoryBucket(uplink, resolution, start, **figures)  # type: ignore[arg-type]

    first = bucket(0, reports=2, loss_pct=1.0, loss_max_pct=2.0, latency_ms=10.0, dead_s=1.0)
    second = bucket(
        0, reports=6, loss_pct=5.0, loss_max_pct=9.0, latency_ms=None, jitter_ms=0.5, dead_s=2.0
    )
    with runtime.engine.begin() as conn:
        quality_repo.add_history(conn, buckets=[first, *(bucket(m, reports=1) for m in (1, 2, 3))])
    with runtime.engine.begin() as conn:  # the rest of minute 0, and an hour's bucket
        quality_repo.add_history(conn, buckets=[second, bucket(0, 3600, reports=9)])
    with runtime.engine.connect() as conn:
        minutes = quality_repo.history(
            conn, uplink_id=uplink, resolution=60, since=None, until=None, limit=100
        )
        newest = quality_repo.history(
            conn, uplink_id=uplink, resolution=60, since=None, until=None, limit=2
        )
        window = quality_repo.history(
            conn,
            uplink_id=uplink,
            resolution=60,
            since=T0 + timedelta(minutes=1),
            until=T0 + timedelta(minutes=3),
            limit=100,
        )
        resolutions = quality_repo.resolutions_of(conn, uplink_id=uplink)
    assert [b.bucket_start for b in minutes] == [T0 + timedelta(minutes=m) for m in range(4)]
    merged = minutes[0]
    assert merged.reports == 8
    assert merged.loss_pct == pytest.approx((1.0 * 2 + 5.0 * 6) / 8)
    assert merged.loss_max_pct == 9.0
    assert merged.latency_ms == 10.0 and merged.jitter_ms == 0.5  # one side measured
    assert merged.dead_s == 3.0
    assert [b.bucket_start.minute for b in newest] == [2, 3]  # the newest, oldest first
    assert [b.bucket_start.minute for b in window] == [1, 2]
    assert resolutions == {60: T0, 3600: T0}
    with runtime.engine.begin() as conn:
        gone = quality_repo.prune_history(
            conn, before_by_resolution={60: T0 + timedelta(minutes=2), 3600: T0}
        )
    assert gone == 2
    with runtime.engine.connect() as conn:
        assert quality_repo.resolutions_of(conn, uplink_id=uplink) == {
            60: T0 + timedelta(minutes=2),
            3600: T0,
        }


def test_steering_state_per_intent(client: TestClient, runtime: Runtime) -> None:
    _uplinks(client)
    intent = client.post("/v1/intents", json=INTENT).json()["id"]
    state = {"demoted": {"vyos1": {"since": 1.0, "reason": "loss 6.1 % > 1 %"}}}
    with runtime.engine.begin() as conn:
        assert quality_repo.put_steering(conn, intent_id=intent, state={}, updated_at=T0)
        assert quality_repo.put_steering(conn, intent_id=intent, state=state, updated_at=T0)
        assert not quality_repo.put_steering(conn, intent_id="gone", state=state, updated_at=T0)
    with runtime.engine.connect() as conn:
        found = quality_repo.get_steering(conn, intent_ids=[intent, "gone"])
    assert list(found) == [intent]
    assert found[intent].state == state and found[intent].updated_at == T0
    assert client.delete(f"/v1/intents/{intent}").status_code == 200
    with runtime.engine.connect() as conn:
        assert quality_repo.get_steering(conn, intent_ids=[intent]) == {}
