"""Conditions through the API, with the reconciler running against a FakeSpeaker and
the store on each backend: stored, shown, derived into status_detail, read-only."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from sdwan.domain.bgp import PeerConfig
from tests.fakes.speaker import FakeSpeaker
from tests.unit.conftest import wait_for
from tests.unit.test_api_crud import ROUTER

SOCK = ROUTER["api_address"]
ADDRESS = "198.18.11.1"


def _by_type(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in resource["conditions"]}


def _active(client: TestClient, path: str) -> dict[str, Any]:
    return wait_for(
        lambda: (body := client.get(path).json())["status"] == "ACTIVE" and body,
        what=f"{path} ACTIVE",
    )


def test_conditions_after_apply_and_read_only(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    router = client.post("/v1/routers", json={**ROUTER, "drift_mode": "report"}).json()
    assert _by_type(router)["Applied"]["reason"] == "Pending"  # shown before any pass
    item = {"router": "GoBGP-1", "address": ADDRESS, "peer_asn": 65000}
    neighbor = client.post("/v1/neighbors", json=item).json()
    path = f"/v1/neighbors/{neighbor['id']}"
    router = _active(client, "/v1/routers/GoBGP-1")
    applied = _by_type(router)["Applied"]
    assert (applied["status"], applied["reason"], applied["observed_version"]) == (
        "True",
        "Applied",
        1,
    )
    assert _by_type(router)["Reachable"]["status"] == "True"
    neighbor = _active(client, path)
    assert {t: (x["status"], x["reason"]) for t, x in _by_type(neighbor).items()} == {
        "Applied": ("True", "Applied"),
        "Drifted": ("False", "InSync"),
    }

    # read-only: sending them is an unknown field
    for answer in (
        client.post("/v1/routers", json={**ROUTER, "name": "x", "conditions": []}),
        client.patch(path, json={"conditions": []}),
    ):
        assert answer.status_code == 422 and answer.json()["error"]["field"] == "conditions"

    # drift by hand on a report-only router: Drifted True on both, and gone again
    fake = speakers[SOCK]
    fake.peers[ADDRESS] = PeerConfig(address=ADDRESS, peer_asn=65000, hold_time=40)
    router_id = router["id"]
    notifier = client.app.state.services.routers._notifier  # type: ignore[attr-defined]
    notifier.router_changed(router_id)
    drifted = wait_for(
        lambda: _by_type(n := client.get(path).json())["Drifted"]["status"] == "True" and n,
        what="neighbor Drifted",
    )
    condition = _by_type(drifted)["Drifted"]
    assert condition["reason"] == "ReportOnly" and "hold_time" in condition["message"]
    assert drifted["status_detail"] == f"drift (report-only): {condition['message']}"
    on_router = _by_type(client.get("/v1/routers/GoBGP-1").json())["Drifted"]
    assert (on_router["status"], on_router["reason"]) == ("True", "ReportOnly")
    fake.peers[ADDRESS] = PeerConfig(address=ADDRESS, peer_asn=65000)  # put back by hand
    notifier.router_changed(router_id)
    back = wait_for(
        lambda: _by_type(n := client.get(path).json())["Drifted"]["reason"] == "InSync" and n,
        what="neighbor in sync again",
    )
    assert back["status_detail"] == ""
    assert _by_type(back)["Drifted"]["since"] > condition["since"]
