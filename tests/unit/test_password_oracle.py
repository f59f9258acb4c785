"""The TCP-MD5 password is write-only, and no answer tells whether a guess is right
(issue 21, item 3): a password given is always a change, in a PATCH (dry run or not)
and in the fleet plan; the right one and a wrong one get the same answer. What gobgpd
does with the same password again (nothing: no session reset) is checked on real
daemons in tests/integration/test_session_updates.py."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.waits import wait_for

RIGHT, WRONG = "the-right-one", "a-wrong-guess"
ROUTER = {
    "name": "P1",
    "router_id": "10.0.3.1",
    "asn": 65001,
    "api_address": "unix:///run/sdwan/pw-test.sock",
}
NEIGHBOR = {"address": "198.18.40.2", "peer_asn": 65002}


def _neighbor(client: TestClient) -> str:
    assert client.post("/v1/routers", json=ROUTER).status_code == 201
    made = client.post("/v1/neighbors", json={**NEIGHBOR, "router": "P1", "password": RIGHT})
    assert made.status_code == 201, made.text
    url = f"/v1/neighbors/{made.json()['id']}"
    wait_for(lambda: client.get(url).json()["status"] == "ACTIVE", what="neighbor ACTIVE")
    return url


def _seen(answer: Any) -> dict[str, Any]:
    """What a caller learns from an answer (the clock aside)."""
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return {k: v for k, v in body.items() if k not in ("updated_at", "conditions")}


def test_a_dry_run_patch_answers_the_same_for_any_password(client: TestClient) -> None:
    url = _neighbor(client)
    version = client.get(url).json()["version"]
    right = _seen(client.patch(f"{url}?dry_run=true", json={"password": RIGHT}))
    wrong = _seen(client.patch(f"{url}?dry_run=true", json={"password": WRONG}))
    assert right == wrong
    assert right["version"] == version + 1 and right["status"] == "PENDING_UPDATE"
    assert any("unless gobgpd has that password" in w for w in right["warnings"]), right
    assert client.get(url).json()["version"] == version  # nothing was kept


def test_a_patch_with_the_same_password_is_a_change(client: TestClient) -> None:
    url = _neighbor(client)
    version = client.get(url).json()["version"]
    answer = client.patch(url, json={"password": RIGHT})
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == version + 1 and answer.json()["warnings"]
    again = client.patch(url, json={"password": WRONG})
    assert again.json()["version"] == version + 2
    assert again.json()["warnings"] == answer.json()["warnings"]


def test_clearing_changes_only_a_neighbor_that_has_a_password(client: TestClient) -> None:
    """Whether a password is set is public (``password_set``): clearing may compare."""
    url = _neighbor(client)
    version = client.get(url).json()["version"]
    cleared = client.patch(url, json={"password": None})
    assert cleared.json()["version"] == version + 1 and cleared.json()["password_set"] is False
    again = client.patch(url, json={"password": ""})
    assert again.json()["version"] == version + 1 and again.json()["warnings"] == []


def test_the_fleet_plan_answers_the_same_for_any_password(client: TestClient) -> None:
    _neighbor(client)

    def plan(password: str) -> dict[str, Any]:
        router = {**ROUTER, "neighbors": [{**NEIGHBOR, "password": password}]}
        answer = client.post("/v1/fleet/plan", json={"fleet": {"routers": [router]}})
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    right, wrong = plan(RIGHT), plan(WRONG)
    assert right == wrong
    (change,) = right["changes"]
    assert (change["kind"], change["key"], change["fields"]) == (
        "neighbor",
        NEIGHBOR["address"],
        {"password": ["(secret)", "(secret)"]},
    )
    assert right["effects"] == [
        f"session with {NEIGHBOR['address']} on P1 resets unless gobgpd has that password"
    ]
    assert RIGHT not in str(right)
