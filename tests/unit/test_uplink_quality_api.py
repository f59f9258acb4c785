"""How an uplink is measured (``probe``), the probe agent of a site router, and what
was measured: ``quality`` in the uplink answers, the stored history, and the per-uplink
gauges of /metrics (checked by promtool). The quality rows are written as the quality
controller writes them (store/quality_repo.py)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from sdwan.runtime import Runtime
from sdwan.store import quality_repo
from sdwan.store.quality_repo import HistoryBucket, UplinkQualityRecord
from tests.support.demo_site import SITE, UPLINKS, routers, site_with_uplinks
from tests.support.identity import add_user, bearer, login

DEFAULT_PROBE = {"method": "udp", "target": None, "port": 862, "rate": None}


def _uplink(client: TestClient, name: str) -> dict[str, Any]:
    items = client.get("/v1/uplinks", params={"site": "hq", "name": name}).json()["items"]
    assert len(items) == 1
    found: dict[str, Any] = items[0]
    return found


def _report(uplink_id: str, *, age: float = 0.0, state: str = "up") -> UplinkQualityRecord:
    now = datetime.now(UTC)
    return UplinkQualityRecord(
        uplink_id=uplink_id,
        state=state,
        since=now - timedelta(minutes=5),
        short={
            "window_s": 2.0,
            "sent": 40,
            "answered": 38,
            "loss_pct": 5.0,
            "latency_ms": 152.4,
            "jitter_ms": None,
        },
        long={
            "window_s": 30.0,
            "sent": 600,
            "answered": 594,
            "loss_pct": 1.0,
            "latency_ms": 151.0,
            "jitter_ms": 0.25,
        },
        classes={
            "gold": {"state": "violated", "since": now.timestamp() - 3, "reason": "loss 5 % > 1 %"},
            "bronze": {"state": "met", "since": now.timestamp() - 60, "reason": ""},
            "new": {"state": "unknown", "since": 0, "reason": ""},
        },
        agent="unix:///run/sdwan/GoBGP-1.sock.probe",
        reported_at=now - timedelta(seconds=age),
        local_address="198.18.11.1",
        interface="gb1-vyos1",
    )


def _store(runtime: Runtime, *reports: UplinkQualityRecord) -> None:
    with runtime.engine.begin() as conn:
        quality_repo.upsert_quality(conn, rows=list(reports))


def test_probe_settings_in_full_and_checked(client: TestClient) -> None:
    routers(client)
    assert client.post("/v1/sites", json=SITE).status_code == 201
    plain = client.post("/v1/uplinks", json=UPLINKS[0])
    assert plain.status_code == 201 and plain.json()["probe"] == DEFAULT_PROBE
    icmp = {"method": "icmp", "target": "2001:db8::0001", "rate": 20}
    made = client.post("/v1/uplinks", json={**UPLINKS[1], "probe": icmp})
    assert made.status_code == 201, made.text
    assert made.json()["probe"] == {**DEFAULT_PROBE, **icmp, "target": "2001:db8::1", "rate": 20.0}
    url = f"/v1/uplinks/{made.json()['id']}"
    for probe, field in (
        ({"target": "not an address"}, "probe.target"),
        ({"method": "tcp"}, "probe.method"),
        ({"rate": 0}, "probe.rate"),
        ({"port": 70000}, "probe.port"),
        ({"size": 1}, "probe.size"),
    ):
        answer = client.patch(url, json={"probe": probe})
        assert answer.status_code == 422, (probe, answer.text)
        assert answer.json()["error"]["field"] == field, (probe, answer.text)
        bad = client.post("/v1/uplinks", json={**UPLINKS[1], "name": "x", "probe": probe})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == field
    assert client.patch(url, json={"probe": None}).json()["error"]["field"] == "probe"
    # the whole setting is replaced: what is left out is its default again
    replaced = client.patch(url, json={"probe": {"method": "none"}}, headers={"If-Match": '"1"'})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["probe"] == {**DEFAULT_PROBE, "method": "none"}
    assert replaced.json()["version"] == 2
    again = client.patch(url, json={"probe": {"method": "none", "port": 862}})
    assert again.json()["version"] == 2  # the same setting: nothing changed


def test_site_routers_name_their_probe_agent(client: TestClient) -> None:
    routers(client)
    agent = "unix:///run/sdwan/GoBGP-1.sock.probe"
    body = {**SITE, "routers": [{"router": "GoBGP-1", "probe_agent": agent}, {"router": "GoBGP-2"}]}
    made = client.post("/v1/sites", json=body)
    assert made.status_code == 201, made.text
    members = made.json()["routers"]
    assert [(m["probe_agent"], m["fib_agent"]) for m in members] == [(agent, None), (None, None)]
    for address in ("192.0.2.1:80", "unix://relative"):
        refused = client.patch(
            "/v1/sites/hq", json={"routers": [{"router": "GoBGP-1", "probe_agent": address}]}
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == "routers[0].probe_agent"
    moved = client.patch(
        "/v1/sites/hq", json={"routers": [{"router": "GoBGP-1", "probe_agent": agent + "2"}]}
    )
    assert moved.status_code == 200 and moved.json()["routers"][0]["probe_agent"] == agent + "2"


def test_uplink_answers_carry_the_measured_quality(client: TestClient, runtime: Runtime) -> None:
    site_with_uplinks(client)
    vyos1, vyos2 = _uplink(client, "vyos1"), _uplink(client, "vyos2")
    assert vyos1["quality"] is None  # never reported
    _store(runtime, _report(vyos1["id"]), _report(vyos2["id"], age=60, state="dead"))
    quality = client.get(f"/v1/uplinks/{vyos1['id']}").json()["quality"]
    assert quality["state"] == "up" and quality["stale"] is False
    assert quality["local_address"] == "198.18.11.1" and quality["interface"] == "gb1-vyos1"
    assert quality["short"]["loss_pct"] == 5.0 and quality["short"]["jitter_ms"] is None
    assert quality["long"]["latency_ms"] == 151.0 and quality["long"]["sent"] == 600
    assert quality["classes"]["gold"]["state"] == "violated"
    assert quality["classes"]["gold"]["reason"] == "loss 5 % > 1 %"
    assert quality["classes"]["new"]["since"] is None
    listed = {u["name"]: u["quality"] for u in client.get("/v1/uplinks").json()["items"]}
    assert listed["vyos1"]["stale"] is False
    assert listed["vyos2"]["state"] == "dead" and listed["vyos2"]["stale"] is True


def test_history_is_bounded_and_newest_last(client: TestClient, runtime: Runtime) -> None:
    site_with_uplinks(client)
    uplink = _uplink(client, "vyos1")
    url = f"/v1/uplinks/{uplink['id']}/quality/history"
    empty = client.get(url).json()
    assert (empty["resolution"], empty["resolutions"], empty["items"]) == (None, [], [])
    now = datetime.now(UTC).replace(microsecond=0)
    buckets = [
        HistoryBucket(uplink["id"], 10, now - timedelta(seconds=10 * i), 10, loss_pct=float(i))
        for i in range(30)  # 10 s points for the last 5 minutes
    ] + [
        HistoryBucket(uplink["id"], 60, now - timedelta(minutes=i), 60, latency_ms=float(i))
        for i in range(120)  # minutes for the last 2 hours
    ]
    with runtime.engine.begin() as conn:
        quality_repo.add_history(conn, buckets=buckets)
    finest = client.get(url, params={"limit": 5}).json()
    assert finest["resolution"] == 10 and finest["resolutions"] == [10, 60]
    assert [p["loss_pct"] for p in finest["items"]] == [4.0, 3.0, 2.0, 1.0, 0.0]  # newest last
    assert finest["items"][-1]["reports"] == 10 and finest["items"][-1]["dead_s"] == 0.0
    hour_ago = (now - timedelta(hours=1)).isoformat()
    reaching = client.get(url, params={"since": hour_ago}).json()  # 10 s points do not reach
    assert reaching["resolution"] == 60 and len(reaching["items"]) == 61
    window = client.get(
        url,
        params={
            "resolution": 60,
            "since": hour_ago,
            "until": (now - timedelta(minutes=50)).isoformat(),
        },
    ).json()
    assert [p["latency_ms"] for p in window["items"]] == [float(i) for i in range(60, 50, -1)]
    assert client.get(url, params={"resolution": 3600}).json()["items"] == []
    for params, field in (
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-01-01T00:00:00"}, "since"),  # no time zone
        ({"since": now.isoformat(), "until": hour_ago}, "until"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"resolution": 0}, "resolution"),
    ):
        answer = client.get(url, params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["error"]["field"] == field, (params, answer.text)
    assert client.get("/v1/uplinks/nope/quality/history").status_code == 404
    add_user(client, "red-member", "red", "member")
    hidden = client.get(url, headers=bearer(login(client, "red-member")))
    assert hidden.status_code == 404


def test_metrics_carry_each_uplinks_quality(client: TestClient, runtime: Runtime) -> None:
    site_with_uplinks(client)
    vyos1 = _uplink(client, "vyos1")
    _store(runtime, _report(vyos1["id"]))
    text = client.get("/metrics").text
    labels = 'router="GoBGP-1",site="hq",uplink="vyos1"'
    for line in (  # as the Prometheus client writes values
        f'sdwan_uplink_loss_ratio{{{labels},window="short"}} 0.05',
        f'sdwan_uplink_loss_ratio{{{labels},window="long"}} 0.01',
        f'sdwan_uplink_latency_seconds{{{labels},window="long"}} 0.151',
        f'sdwan_uplink_jitter_seconds{{{labels},window="long"}} 0.00025',
        'sdwan_uplink_state{router="GoBGP-1",site="hq",state="up",uplink="vyos1"} 1.0',
        'sdwan_uplink_state{router="GoBGP-1",site="hq",state="dead",uplink="vyos1"} 0.0',
        f'sdwan_uplink_sla_met{{class="gold",{labels}}} 0.0',
        f'sdwan_uplink_sla_met{{class="bronze",{labels}}} 1.0',
    ):
        assert line in text.splitlines(), line
    assert f'sdwan_uplink_jitter_seconds{{{labels},window="short"}}' not in text  # unmeasured
    assert 'class="new"' not in text  # unknown: no series
    assert f"sdwan_uplink_quality_age_seconds{{{labels}}} " in text
    # a member of another project sees none of it
    add_user(client, "red-member", "red", "member")
    assert (
        "sdwan_uplink_state{"
        not in client.get("/metrics", headers=bearer(login(client, "red-member"))).text
    )
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run scripts/setup (Debian package prometheus)"
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
