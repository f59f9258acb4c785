"""GET /v1/events as Server-Sent Events, read with a real HTTP client (httpx) from a
real `sdwan serve`; and the CLI's `sdwan events`, `sdwan watch --once`, `neighbor list`."""

from __future__ import annotations

import json

import httpx

from sdwan.lab import GobgpdFactory, wait_for
from sdwan.lab.server_process import OrchestratorProcess
from tests.support.backends import BOTH_BACKENDS
from tests.support.event_stream import Stream

pytestmark = BOTH_BACKENDS


def test_event_stream_replays_then_follows_live(
    gobgpd_factory: GobgpdFactory, orchestrator: OrchestratorProcess
) -> None:
    daemon = gobgpd_factory("e1")
    url = f"{orchestrator.url}/v1/events"
    with orchestrator.client() as api:
        assert httpx.get(url).status_code == 401
        body = {
            "name": "R1",
            "router_id": "198.18.220.1",
            "asn": 65001,
            "api_address": daemon.api_address,
            "listen_port": -1,
        }
        assert api.post("/v1/routers", json=body).status_code == 201
        first = api.get("/v1/events").json()["items"]
        assert first[0]["kind"] == "resource.created" and first[0]["router_name"] == "R1"

        # replay from the beginning, then live
        stream = Stream(f"{url}?since=0", Accept="text/event-stream")
        replayed = stream.next()
        assert replayed["id"] == first[0]["id"] and replayed["kind"] == "resource.created"
        neighbor = {"router": "R1", "address": "198.18.221.1", "peer_asn": 65002}
        assert api.post("/v1/neighbors", json=neighbor).status_code == 201
        created = stream.until(
            lambda e: e["kind"] == "resource.created" and e["resource_type"] == "neighbor"
        )
        assert created["data"]["address"] == "198.18.221.1"
        # the neighbor's config status (from its reconcile pass) and its session (from
        # gobgpd's watch stream) come from two sources: in either order
        seen = stream.collect(
            {
                "active": lambda e: (
                    e["kind"] == "status.changed" and e["resource_id"] == created["resource_id"]
                ),
                "session": lambda e: e["kind"] == "session.changed",
            }
        )
        assert seen["active"]["data"]["status"] == "ACTIVE"
        session = seen["session"]
        assert session["data"]["address"] == "198.18.221.1"
        assert session["data"]["session_state"] in ("IDLE", "ACTIVE", "CONNECT")
        stream.stop.set()

        # a reconnect with Last-Event-ID resumes right after that event
        again = Stream(url, Accept="text/event-stream", **{"Last-Event-ID": str(created["id"])})
        assert again.next()["id"] > created["id"]
        again.stop.set()
        # secrets never reach the log
        patch = api.patch(f"/v1/neighbors/{created['resource_id']}", json={"password": "s3cr3t"})
        assert patch.status_code == 200
        updated = wait_for(
            lambda: api.get("/v1/events", params={"kind": "resource.updated"}).json()["items"],
            timeout=5,
            what="resource.updated",
        )
        assert updated[-1]["data"]["changed"] == ["password"]
        assert "s3cr3t" not in api.get("/v1/events", params={"limit": 1000}).text

        # the subscriber gauge saw our streams
        metrics = api.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert "sdwan_event_stream_subscribers" in metrics.text
        assert 'sdwan_gobgpd_reachable{router="R1"} 1' in metrics.text
        assert 'sdwan_bgp_sessions{router="R1",state=' in metrics.text
        assert httpx.get(f"{orchestrator.url}/metrics").status_code == 401


def test_cli_watch_events_and_neighbor_list(
    gobgpd_factory: GobgpdFactory, orchestrator: OrchestratorProcess
) -> None:
    daemon = gobgpd_factory("e2")
    orchestrator.cli(
        "router", "create", "--name", "R2", "--router-id", "198.18.222.1", "--asn", "65001",
        "--api-address", daemon.api_address, "--listen-port", "-1", "--wait",
    )  # fmt: skip
    orchestrator.cli(
        "neighbor", "create", "--router", "R2", "--address", "198.18.223.1",
        "--peer-asn", "65002", "--passive", "--wait",
    )  # fmt: skip
    with orchestrator.client() as api:
        wait_for(
            lambda: api.get("/v1/neighbors").json()["items"][0]["session_state"] != "UNKNOWN",
            timeout=10,
            what="live state of the neighbor",
        )
    listed = orchestrator.cli("neighbor", "list").stdout
    for header in ("SESSION", "UP/DOWN", "UPTIME", "RCVD/ACPT/ADV"):
        assert header in listed
    assert "ACTIVE" in listed and "DOWN" in listed

    table = orchestrator.cli("watch", "--once").stdout
    assert "198.18.223.1" in table and "SESSION" in table and "R2" in table

    events = orchestrator.cli("events", "--since", "0").stdout
    assert "resource.created" in events and "router R2 created" in events
    as_json = json.loads(orchestrator.cli("events", "--kind", "session.", "-o", "json").stdout)
    assert as_json and all(e["kind"] == "session.changed" for e in as_json)
    routers = orchestrator.cli("router", "list").stdout
    assert "GOBGPD" in routers and "up " in routers
