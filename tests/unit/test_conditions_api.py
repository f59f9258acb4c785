"""Conditions through the API, with the reconciler running against a FakeSpeaker and
the store on each backend: stored, shown, derived into status_detail, read-only."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from sdwan.domain.bgp import PeerConfig
from sdwan.errors import SpeakerRejected
from tests.support.api import ROUTER
from tests.support.speaker import FakeSpeaker
from tests.support.waits import wait_for

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


def test_owned_rows_conditions_applied_then_rejected(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    """Defined sets, policies, attachments and announcements carry Applied too: True once
    their stage applied them, False/Rejected with gobgpd's reason when it refused."""
    client.post("/v1/routers", json=ROUTER)
    _active(client, "/v1/routers/GoBGP-1")
    made = [
        client.post(path, json={"router": "GoBGP-1", **body}).json()
        for path, body in (
            ("/v1/defined-sets", {"name": "far", "type": "prefix", "members": ["203.0.113.0/24"]}),
            (
                "/v1/policies",
                {
                    "name": "p",
                    "statements": [
                        {"conditions": {"prefix_set": "far"}, "actions": {"disposition": "reject"}}
                    ],
                },
            ),
            (
                "/v1/policy-attachments",
                {"name": "a", "direction": "import", "policies": ["p"], "default_action": "accept"},
            ),
            ("/v1/announcements", {"prefix": "198.51.100.0/24"}),
        )
    ]
    paths = ["defined-sets", "policies", "policy-attachments", "announcements"]
    for kind, body in zip(paths, made, strict=True):
        assert _by_type(body)["Applied"]["reason"] == "Pending", kind  # shown before a pass
        done = _active(client, f"/v1/{kind}/{body['id']}")
        applied = _by_type(done)["Applied"]
        assert (applied["status"], applied["reason"], applied["observed_version"]) == (
            "True",
            "Applied",
            1,
        )
        assert done["status_detail"] == ""
        listed = client.get(f"/v1/{kind}", params={"router": "GoBGP-1"}).json()["items"]
        assert [x["conditions"] for x in listed] == [done["conditions"]]
    answer = client.post(
        "/v1/announcements", json={"router": "GoBGP-1", "prefix": "192.0.2.0/24", "conditions": []}
    )
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "conditions"

    # gobgpd refuses the next announcement: ERROR, the reason in the condition
    fake = speakers[SOCK]

    def refuse(item: object) -> None:
        raise SpeakerRejected("refused by the test")

    fake.add_path = refuse  # type: ignore[method-assign]
    second = client.post("/v1/announcements", json={"router": "GoBGP-1", "prefix": "192.0.2.0/24"})
    path = f"/v1/announcements/{second.json()['id']}"
    failed = wait_for(
        lambda: (body := client.get(path).json())["status"] == "ERROR" and body,
        what="announcement ERROR",
    )
    applied = _by_type(failed)["Applied"]
    assert (applied["status"], applied["reason"], applied["message"]) == (
        "False",
        "Rejected",
        "refused by the test",
    )
    assert failed["status_detail"] == "refused by the test"  # derived from the condition
