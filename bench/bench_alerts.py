"""Benchmark: how close to their thresholds alerts fire and resolve, and what webhook
receivers that hang, fail or answer slowly cost the other hooks and the API.

1. Alert timing, on a real gobgpd pair in network namespaces. Router A is managed by
   the orchestrator; its peer B is configured directly over gRPC (not managed), so each
   round can take A's session down (DisablePeer on B) and up (EnablePeer). A rule
   ``session_down`` with a 2 s threshold watches A. Measured with the server's own
   timestamps (one clock):
     fire     fired_at - (when the session went down + 2 s)
     resolve  resolved_at - when the session was Established again (its event)
2. Webhooks: site creations with one healthy hook, in three setups taken in turn (so
   that the machine's drift falls on each alike): the healthy hook alone; beside a
   hook whose receiver accepts and never answers (SDWAN_WEBHOOK_TIMEOUT 10 s); beside
   that one, a hook whose receiver always answers 503 and one whose receiver answers
   each request after 0.5 s (the others are disabled in between). Measured: each
   POST's latency, each GET's latency, and the healthy hook's delivery latency (from
   the POST's start to the receiver reading the body), setup beside setup.

    .venv/bin/python bench/bench_alerts.py [--rounds 5] [--sites 50]

Needs root (namespaces), gobgpd. Not a test: absolute times on a shared machine are
noise; compare each figure with the target (2 s) and the two webhook runs with each
other. Cleans up its namespaces, daemons and receivers, also on failure.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.lab import GobgpdFactory, GobgpdProcess, Lab, wait_for
from sdwan.lab.server_process import OrchestratorProcess
from sdwan.lab.webhook_receiver import Received, WebhookReceiver

THRESHOLD = 2.0
TARGET = 2.0  # seconds: fire within 2 s of the threshold, resolve within 2 s of clearing
A_ADDR, B_ADDR = "198.18.180.1", "198.18.180.2"
SECRET = "bench-webhook-secret-0123456789"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def summary(name: str, values: list[float], unit: str = "ms") -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"  {name:<40} n={len(values):<3} p50 {statistics.median(values):8.1f} {unit}"
        f"   p99 {p99:8.1f} {unit}   max {max(values):8.1f} {unit}"
    )


def unmanaged_peer(b: GobgpdProcess) -> None:
    stub = b.grpc_stub()
    glob = pb.Global(asn=65180, router_id=B_ADDR, listen_port=179)
    stub.StartBgp(pb.StartBgpRequest(**{"global": glob}), timeout=10)
    peer = pb.Peer(
        conf=pb.PeerConf(neighbor_address=A_ADDR, peer_asn=65080),
        timers=pb.Timers(config=pb.TimersConfig(hold_time=9, keepalive_interval=3)),
    )
    stub.AddPeer(pb.AddPeerRequest(peer=peer), timeout=10)


def came_up(api: httpx.Client, neighbor_id: str) -> float:
    """When the server recorded the session's latest move to Established (its event;
    ``established_since`` is gobgpd's uptime, in whole seconds)."""
    found = api.get("/v1/events", params={"kind": "session.changed", "limit": 1000}).json()
    times = [
        when(e["time"]).timestamp()
        for e in found["items"]
        if e["resource_id"] == neighbor_id and e["data"]["session_state"] == "ESTABLISHED"
    ]
    return max(times)


def resolved(api: httpx.Client, path: str) -> dict[str, Any] | None:
    alert: dict[str, Any] = api.get(path).json()
    return alert if alert["state"] == "resolved" else None


def alert_timing(api: httpx.Client, a: GobgpdProcess, b: GobgpdProcess, rounds: int) -> None:
    router = {"name": "A", "router_id": A_ADDR, "asn": 65080, "api_address": a.api_address}
    assert api.post("/v1/routers", json=router).status_code == 201
    neighbor = {
        "router": "A",
        "address": B_ADDR,
        "peer_asn": 65180,
        "hold_time": 9,
        "keepalive_interval": 3,
    }
    made = api.post("/v1/neighbors", json=neighbor)
    assert made.status_code == 201, made.text
    path = f"/v1/neighbors/{made.json()['id']}"

    def session(state: str) -> dict[str, Any] | None:
        body: dict[str, Any] = api.get(path).json()
        return body if (body["session_state"] == "ESTABLISHED") == (state == "up") else None

    wait_for(lambda: session("up"), timeout=60, what="A's session ESTABLISHED")
    rule = {
        "name": "down",
        "kind": "session_down",
        "threshold": THRESHOLD,
        "scope": {"router": "A"},
    }
    assert api.post("/v1/alert-rules", json=rule).status_code == 201
    fire, resolve = [], []
    stub = b.grpc_stub()
    for _ in range(rounds):
        stub.DisablePeer(pb.DisablePeerRequest(address=A_ADDR), timeout=5)
        alert = wait_for(
            lambda: (
                (i := api.get("/v1/alerts", params={"state": "firing"}).json()["items"]) and i[0]
            ),
            timeout=60,
            interval=0.02,
            what="the alert firing",
        )
        due = when(alert["since"]).timestamp() + THRESHOLD
        fire.append((when(alert["fired_at"]).timestamp() - due) * 1000)
        stub.EnablePeer(pb.EnablePeerRequest(address=A_ADDR), timeout=5)
        up = wait_for(lambda: session("up"), timeout=120, what="A's session up again")
        done = wait_for(
            partial(resolved, api, f"/v1/alerts/{alert['id']}"),
            timeout=60,
            interval=0.02,
            what="the alert resolved",
        )
        cleared = came_up(api, up["id"])
        resolve.append((when(done["resolved_at"]).timestamp() - cleared) * 1000)
    print(f"alert timing (session_down, threshold {THRESHOLD:g} s, target {TARGET:g} s):")
    print(summary("fire: after the threshold", fire))
    print(summary("resolve: after Established again", resolve))


def nth_delivery(receiver: WebhookReceiver, index: int) -> Received | None:
    return receiver.delivered[index] if len(receiver.delivered) > index else None


def sites(
    api: httpx.Client, prefix: str, count: int, healthy: WebhookReceiver
) -> dict[str, list[float]]:
    writes, reads, deliveries = [], [], []
    for index in range(count):
        before = len(healthy.delivered)
        started = time.monotonic()
        body = {"name": f"{prefix}{index}", "prefixes": [{"prefix": f"192.0.2.{index}/32"}]}
        assert api.post("/v1/sites", json=body).status_code == 201
        writes.append((time.monotonic() - started) * 1000)
        read = time.monotonic()
        assert api.get("/v1/sites", params={"limit": 5}).status_code == 200
        reads.append((time.monotonic() - read) * 1000)
        got = wait_for(
            partial(nth_delivery, healthy, before),
            timeout=30,
            interval=0.002,
            what="the healthy hook's delivery",
        )
        deliveries.append((got.at - started) * 1000)
    return {"POST /v1/sites": writes, "GET /v1/sites": reads, "healthy hook delivery": deliveries}


def troubled_receivers(api: httpx.Client, count: int, cycles: int = 4) -> None:
    """Three setups, taken in turn ``cycles`` times (so that the machine's drift falls
    on each alike), ``count`` site creations each in all."""
    site_events = {"kinds": ["resource.created"], "resource_types": ["site"]}
    with (
        WebhookReceiver() as healthy,
        WebhookReceiver(hang=True) as stuck,
        WebhookReceiver(status=503) as failing,
        WebhookReceiver(delay=0.5) as slow,
    ):
        hook = {"name": "healthy", "url": healthy.url(), "secret": SECRET, "filter": site_events}
        ids = {}
        for name, receiver in (
            ("healthy", healthy),
            ("stuck", stuck),
            ("failing", failing),
            ("slow", slow),
        ):
            body = {**hook, "name": name, "url": receiver.url(), "enabled": name == "healthy"}
            made = api.post("/v1/webhooks", json=body)
            assert made.status_code == 201, made.text
            ids[name] = made.json()["id"]
        setups = {
            "alone": set(),
            "one hanging": {"stuck"},
            "+ failing, slow": {"stuck", "failing", "slow"},
        }
        runs: dict[str, dict[str, list[float]]] = {setup: {} for setup in setups}
        for cycle in range(cycles):
            for setup, enabled in setups.items():
                for name in ("stuck", "failing", "slow"):
                    patch = {"enabled": name in enabled}
                    assert api.patch(f"/v1/webhooks/{ids[name]}", json=patch).status_code == 200
                prefix = f"c{cycle}{len(enabled)}-"
                for measure, values in sites(api, prefix, count // cycles, healthy).items():
                    runs[setup].setdefault(measure, []).extend(values)
        assert stuck.received, "the stuck receiver was never called"
        print(
            f"webhooks, {count} site creations a setup, setups taken in turn {cycles} times: "
            f"the healthy hook alone; beside one whose receiver hangs ({len(stuck.received)} "
            f"attempts, none answered); beside it, one that fails ({len(failing.received)} "
            f"attempts) and one that answers after 0.5 s ({len(slow.delivered)} delivered):"
        )
        for name in runs["alone"]:
            for setup, measured in runs.items():
                ratio = statistics.median(measured[name]) / statistics.median(runs["alone"][name])
                print(summary(f"{name}, {setup}", measured[name]) + f"   p50 x{ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sites", type=int, default=50)
    args = parser.parse_args()
    prefix = "ba" + secrets.token_hex(2)
    lab = Lab(prefix)
    workdir = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    factory = GobgpdFactory(workdir / "gobgpd", prefix=prefix)
    orch = OrchestratorProcess(workdir / "orch", extra_env={"SDWAN_WEBHOOK_TIMEOUT": "10"})
    try:
        ns_a, ns_b = lab.namespace("a"), lab.namespace("b")
        lab.link(ns_a, "a0", ns_b, "b0", addrs_a=[f"{A_ADDR}/30"], addrs_b=[f"{B_ADDR}/30"])
        a, b = factory("a", netns=ns_a), factory("b", netns=ns_b)
        unmanaged_peer(b)
        orch.start()
        with orch.client() as api:
            alert_timing(api, a, b, args.rounds)
            troubled_receivers(api, args.sites)
    finally:
        orch.stop()
        factory.close_all()
        lab.teardown()


if __name__ == "__main__":
    main()
