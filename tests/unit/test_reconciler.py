"""The reconcile loop against a FakeSpeaker: status transitions, backoff and recovery,
restarts, per-peer errors. (What gobgpd itself does is proven in tests/integration.)"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.api import ROUTER
from tests.support.speaker import FakeSpeaker
from tests.support.waits import wait_for

SOCK: str = ROUTER["api_address"]


def _router_status(client: TestClient) -> dict[str, Any]:
    router: dict[str, Any] = client.get("/v1/routers/GoBGP-1").json()
    return router


def _setup(client: TestClient, speakers: dict[str, FakeSpeaker], n: int = 3) -> FakeSpeaker:
    assert client.post("/v1/routers", json=ROUTER).status_code == 201
    items = [
        {"router": "GoBGP-1", "address": f"198.18.11.{i}", "peer_asn": 65000}
        for i in range(1, n + 1)
    ]
    assert client.post("/v1/neighbors/bulk", json={"items": items}).status_code == 201
    wait_for(lambda: SOCK in speakers and len(speakers[SOCK].peers) == n, what="peers added")
    wait_for(lambda: _router_status(client)["status"] == "ACTIVE", what="router ACTIVE")
    return speakers[SOCK]


def test_unreachable_router_turns_error_and_recovers(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    fake = _setup(client, speakers)
    fake.reachable = False
    error = wait_for(
        lambda: _router_status(client)["status"] == "ERROR" and _router_status(client),
        what="router ERROR",
    )
    assert "unreachable" in error["status_detail"] and "retrying in" in error["status_detail"]
    fake.global_config, fake.peers = None, {}  # it comes back empty, as after a restart
    fake.reachable = True
    wait_for(lambda: _router_status(client)["status"] == "ACTIVE", what="router ACTIVE again")
    wait_for(lambda: len(fake.peers) == 3, what="peers restored")
    assert fake.global_config is not None and fake.global_config.asn == 65001


def _first_error_since(client: TestClient, since: int) -> str:
    """The detail of the router's first change to ERROR after event ``since``."""
    params = {"kind": "status.changed", "since": since}
    events = client.get("/v1/events", params=params).json()["items"]
    details = [e["data"]["status_detail"] for e in events if e["data"]["status"] == "ERROR"]
    assert details, events
    detail: str = details[0]
    return detail


def test_retries_back_off_and_a_converged_pass_starts_over(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    """Retries wait 0.05 s doubling to 0.2 s (the unit tests' settings), as the status
    says; a pass that converges resets that, so the next failure waits 0.05 s again."""
    fake = _setup(client, speakers, n=1)
    for _round in (1, 2):
        since = client.get("/v1/events").json()["last_id"]
        fake.reachable = False
        wait_for(
            lambda: "retrying in 0.2s" in _router_status(client)["status_detail"],
            what="the longest backoff",
        )
        assert "retrying in 0.05s" in _first_error_since(client, since)
        fake.reachable = True
        wait_for(lambda: _router_status(client)["status"] == "ACTIVE", what="router ACTIVE")


def test_restarted_empty_speaker_gets_everything_back(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    fake = _setup(client, speakers)
    fake.global_config, fake.peers = None, {}
    wait_for(lambda: len(fake.peers) == 3, what="peers restored by the probe")


def test_asn_change_restarts_bgp_and_says_so(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    fake = _setup(client, speakers)
    answer = client.patch("/v1/routers/GoBGP-1", json={"asn": 65009}).json()
    assert answer["status"] == "PENDING_UPDATE"
    assert any("all 3 of its sessions reset" in w for w in answer["warnings"])
    done = wait_for(
        lambda: _router_status(client)["status"] == "ACTIVE" and _router_status(client),
        what="router ACTIVE after restart",
    )
    assert "BGP restarted to apply asn" in done["status_detail"]
    assert fake.global_config is not None and fake.global_config.asn == 65009
    assert "StopBgp" in fake.calls
    wait_for(lambda: len(fake.peers) == 3, what="peers re-added after restart")


def _neighbor(client: TestClient, address: str) -> dict[str, Any]:
    found = client.get("/v1/neighbors", params={"address": address}).json()
    neighbor: dict[str, Any] = found["items"][0]
    return neighbor


def test_peer_rejected_marks_only_that_neighbor(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    """gobgpd refuses one of two peers added together: that neighbor turns ERROR with
    gobgpd's reason, the router and its other neighbors are ACTIVE, and the next change
    of the neighbor, once gobgpd takes it, makes it ACTIVE."""
    fake = _setup(client, speakers, n=1)
    fake.refuse["198.18.11.2"] = "peer-as 65000 not allowed here"
    items = [
        {"router": "GoBGP-1", "address": address, "peer_asn": 65000}
        for address in ("198.18.11.2", "198.18.11.3")
    ]
    assert client.post("/v1/neighbors/bulk", json={"items": items}).status_code == 201
    refused = wait_for(
        lambda: (n := _neighbor(client, "198.18.11.2"))["status"] == "ERROR" and n,
        what="the refused neighbor ERROR",
    )
    assert "peer-as 65000 not allowed here" in refused["status_detail"]
    assert "198.18.11.2" not in fake.peers
    wait_for(lambda: _neighbor(client, "198.18.11.3")["status"] == "ACTIVE", what="ACTIVE")
    assert _neighbor(client, "198.18.11.1")["status"] == "ACTIVE"
    assert _router_status(client)["status"] == "ACTIVE"
    del fake.refuse["198.18.11.2"]
    client.patch(f"/v1/neighbors/{refused['id']}", json={"description": "again"})
    wait_for(lambda: _neighbor(client, "198.18.11.2")["status"] == "ACTIVE", what="ACTIVE")
    assert "198.18.11.2" in fake.peers


def test_a_peer_gobgpd_has_with_another_as_is_updated(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    """gobgpd already has the peer, with another AS: a targeted pass converges it with
    UpdatePeer rather than failing on AddPeer."""
    fake = _setup(client, speakers, n=1)
    neighbor = _neighbor(client, "198.18.11.1")
    fake.peers["198.18.11.1"] = fake.peers["198.18.11.1"].__class__(
        address="198.18.11.1", peer_asn=1
    )
    fake.calls.clear()
    client.patch(f"/v1/neighbors/{neighbor['id']}", json={"description": "x"})
    wait_for(lambda: fake.peers["198.18.11.1"].peer_asn == 65000, what="drift repaired")
    assert "UpdatePeer 198.18.11.1" in fake.calls
    assert "AddPeer 198.18.11.1" not in fake.calls


def test_stray_peer_is_removed_on_full_pass(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    fake = _setup(client, speakers, n=1)
    fake.peers["198.18.99.1"] = fake.peers["198.18.11.1"].__class__(
        address="198.18.99.1", peer_asn=1
    )
    fake.global_config = None  # forces the next probe to run a full pass
    wait_for(
        lambda: "198.18.99.1" not in fake.peers and len(fake.peers) == 1, what="stray peer removed"
    )


def test_neighbor_delete_removes_peer(client: TestClient, speakers: dict[str, FakeSpeaker]) -> None:
    fake = _setup(client, speakers, n=2)
    neighbor = client.get("/v1/neighbors", params={"address": "198.18.11.2"}).json()["items"][0]
    assert client.delete(f"/v1/neighbors/{neighbor['id']}").status_code == 202
    wait_for(lambda: "198.18.11.2" not in fake.peers, what="peer deleted")
    wait_for(lambda: client.get("/v1/neighbors").json()["total"] == 1, what="row deleted")


def test_router_delete_stops_bgp(client: TestClient, speakers: dict[str, FakeSpeaker]) -> None:
    fake = _setup(client, speakers, n=1)
    assert client.delete("/v1/routers/GoBGP-1").status_code == 409
    assert client.delete("/v1/routers/GoBGP-1", params={"cascade": "true"}).status_code == 202
    wait_for(lambda: client.get("/v1/routers/GoBGP-1").status_code == 404, what="router gone")
    assert fake.global_config is None and fake.calls[-1] == "StopBgp"
    assert client.get("/v1/neighbors").json()["total"] == 0


def test_a_router_deleted_while_unreachable_is_deleted_once_reachable(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    fake = _setup(client, speakers, n=1)
    fake.reachable = False
    assert client.delete("/v1/routers/GoBGP-1", params={"cascade": "true"}).status_code == 202
    wait_for(lambda: "unreachable" in _router(client)["status_detail"], what="the failed pass")
    assert _router(client)["status"] == "PENDING_DELETE"
    fake.reachable = True
    wait_for(lambda: client.get("/v1/routers/GoBGP-1").status_code == 404, what="router gone")
    assert fake.global_config is None


def _router(client: TestClient) -> dict[str, Any]:
    found: dict[str, Any] = client.get("/v1/routers/GoBGP-1").json()
    return found


def test_force_delete_of_unreachable_router(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    fake = _setup(client, speakers, n=1)
    fake.reachable = False
    answer = client.delete("/v1/routers/GoBGP-1", params={"cascade": "true", "force": "true"})
    assert answer.status_code == 202 and answer.json()["deleted"] is True
    assert client.get("/v1/routers/GoBGP-1").status_code == 404


def test_healthy_router_is_only_probed(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    """gobgpd reports its default listen addresses; that is not a reason for full passes."""
    fake = _setup(client, speakers, n=1)
    assert fake.global_config is not None
    fake.global_config = fake.global_config.__class__(
        asn=65001, router_id="10.0.1.1", listen_addresses=("0.0.0.0", "::")
    )
    fake.calls.clear()
    wait_for(lambda: fake.calls.count("GetBgp") >= 5, what="five probes")
    assert "ListPeer" not in fake.calls


def test_one_gobgpd_under_two_addresses_is_not_fought_over(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    """The API cannot see that two addresses reach one gobgpd; the reconciler can (its
    claim on the gobgpd): the router declared later stays ERROR, the gobgpd keeps the
    first router's AS, and the later one takes over once the first is deleted."""
    shared = FakeSpeaker()
    speakers[SOCK] = shared
    speakers["unix:///run/sdwan/other-name.sock"] = shared  # the same daemon
    _setup(client, speakers, n=1)
    later = {
        **ROUTER,
        "name": "GoBGP-2",
        "router_id": "10.0.1.2",
        "asn": 65002,
        "api_address": "unix:///run/sdwan/other-name.sock",
    }
    assert client.post("/v1/routers", json=later).status_code == 201, later
    refused = wait_for(
        lambda: (r := client.get("/v1/routers/GoBGP-2").json())["status"] == "ERROR" and r,
        what="the later router refused",
    )
    assert "another router's identity" in refused["status_detail"]
    starts = shared.calls.count("StartBgp")
    wait_for(lambda: shared.calls.count("GetBgp") > 10, what="more passes and probes")
    assert shared.calls.count("StartBgp") == starts  # nobody restarted BGP on it
    assert shared.global_config is not None and shared.global_config.asn == 65001
    assert "198.18.11.1" in shared.peers  # the first router's neighbor was left alone

    assert client.delete("/v1/routers/GoBGP-1", params={"cascade": "true"}).status_code == 202
    wait_for(lambda: client.get("/v1/routers/GoBGP-1").status_code == 404, what="first gone")
    wait_for(
        lambda: client.get("/v1/routers/GoBGP-2").json()["status"] == "ACTIVE",
        what="the later router takes over",
    )
    assert shared.global_config is not None and shared.global_config.asn == 65002
