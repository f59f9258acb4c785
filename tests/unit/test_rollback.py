"""Rollback to a revision (issue 24, item 1): planned first (with its effect on
sessions), applied through the services as a new revision, If-Match safe, limited to
some routers or sites, refused clearly for a revision retention removed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from sdwan.api.app import create_app
from sdwan.config import Settings
from sdwan.runtime import Runtime
from tests.support.api import ADMIN_TOKEN
from tests.support.demo_site import INTENT, generated, site_with_uplinks
from tests.support.identity import add_user, bearer, login
from tests.support.revisions import (
    PASSWORD,
    latest,
    neighbor_id,
    owned_id,
    revision,
    router,
)
from tests.support.runtime import fake_runtime
from tests.support.speaker import FakeSpeaker
from tests.support.waits import wait_for


def _export(client: TestClient) -> Any:
    return client.get("/v1/fleet/export").json()


def _rollback(client: TestClient, number: int, **params: Any) -> Any:
    body = params.pop("body", None)
    headers = params.pop("headers", {})
    return client.post(
        f"/v1/revisions/{number}/rollback", params=params, json=body, headers=headers
    )


def test_a_rollback_is_planned_then_applied_as_a_new_revision(client: TestClient) -> None:
    router(client)
    base, state = latest(client), _export(client)
    ident = neighbor_id(client, "r1")
    client.patch(f"/v1/neighbors/{ident}", json={"peer_asn": 65009, "password": "other"})
    client.post("/v1/neighbors", json={"router": "r1", "address": "198.18.0.3", "peer_asn": 1})
    client.delete(f"/v1/announcements/{owned_id(client, '/v1/announcements', 'r1')}")
    set_id = owned_id(client, "/v1/defined-sets", "r1")
    client.patch(f"/v1/defined-sets/{set_id}", json={"members": ["192.0.2.0/24"]})
    changed = latest(client)
    assert _export(client) != state

    plan = _rollback(client, base, dry_run="true")
    assert plan.status_code == 200, plan.text
    assert plan.headers["ETag"] == f'"{changed}"' and plan.json()["latest"] == changed
    result = plan.json()
    assert result["applied"] is False and result["revision"] is None
    assert latest(client) == changed and _export(client) != state  # nothing changed
    by_key = {(c["kind"], c["key"]): c for c in result["changes"]}
    assert set(by_key) == {
        ("neighbor", "198.18.0.2"),
        ("neighbor", "198.18.0.3"),
        ("announcement", "198.51.100.0/24"),
        ("defined_set", "far"),
    }
    restored = by_key[("neighbor", "198.18.0.2")]
    assert restored["action"] == "update" and restored["router"] == "r1"
    assert restored["fields"] == {"peer_asn": [65009, 65002], "password": ["set", "changed"]}
    assert "session with 198.18.0.2 on r1 resets" in restored["effect"]
    assert by_key[("neighbor", "198.18.0.3")]["action"] == "delete"
    assert by_key[("announcement", "198.51.100.0/24")]["action"] == "create"
    assert by_key[("announcement", "198.51.100.0/24")]["values"]["med"] == 5
    assert "session with 198.18.0.3 on r1 goes away" in result["effects"]

    applied = _rollback(client, base, headers={"If-Match": plan.headers["ETag"]})
    assert applied.status_code == 200, applied.text
    number = applied.json()["revision"]
    assert applied.json()["applied"] is True and number == changed + 1 == latest(client)
    made = revision(client, number)
    assert made["source"] == "rollback" and made["rollback_of"] == base
    assert made["message"] == f"rollback to revision {base}"
    assert _export(client) == state
    assert client.get(f"/v1/neighbors/{ident}").json()["password_set"] is True
    again = _rollback(client, base, dry_run="true").json()
    assert again["changes"] == []  # the same state: the password too, though sealed anew


def test_the_restored_password_reaches_the_router(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    router(client)
    base = latest(client)
    client.patch(f"/v1/neighbors/{neighbor_id(client, 'r1')}", json={"password": None})
    speaker = speakers["unix:///run/sdwan/r1.sock"]
    wait_for(lambda: speaker.peers["198.18.0.2"].password == "", what="password cleared")
    assert _rollback(client, base).status_code == 200
    wait_for(lambda: speaker.peers["198.18.0.2"].password == PASSWORD, what="password back")


def test_a_stale_if_match_is_412_and_changes_nothing(client: TestClient) -> None:
    router(client)
    base = latest(client)
    client.patch("/v1/routers/r1", json={"asn": 65002})
    plan = _rollback(client, base, dry_run="true")
    client.patch("/v1/routers/r1", json={"description": "meanwhile"})
    stale = _rollback(client, base, headers={"If-Match": plan.headers["ETag"]})
    assert stale.status_code == 412, stale.text
    assert "plan again" in stale.json()["error"]["message"]
    assert client.get("/v1/routers/r1").json()["asn"] == 65002
    assert latest(client) == base + 2


def test_a_deleted_router_comes_back_with_its_objects_and_ids(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    router_id = router(client)
    base, state = latest(client), _export(client)
    ids = {path: owned_id(client, path, "r1") for path in ("/v1/policies", "/v1/announcements")}
    neighbor = neighbor_id(client, "r1")
    assert client.delete("/v1/routers/r1", params={"cascade": "true"}).status_code == 202
    wait_for(lambda: client.get("/v1/routers/r1").status_code == 404, what="r1 gone")

    assert _rollback(client, base).status_code == 200
    assert _export(client) == state
    assert client.get("/v1/routers/r1").json()["id"] == router_id
    assert neighbor_id(client, "r1") == neighbor
    assert {p: owned_id(client, p, "r1") for p in ids} == ids
    speaker = speakers["unix:///run/sdwan/r1.sock"]
    wait_for(
        lambda: speaker.global_config is not None and "198.18.0.2" in speaker.peers,
        what="r1 on its gobgpd again",
    )


def test_a_deletion_still_under_way_is_kept(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    router(client)
    base, state = latest(client), _export(client)
    speaker = speakers["unix:///run/sdwan/r1.sock"]
    wait_for(lambda: "198.18.0.2" in speaker.peers, what="the neighbor on gobgpd")
    speaker.reachable = False  # the deletion cannot finish
    client.delete("/v1/routers/r1", params={"cascade": "true"})
    assert client.get("/v1/routers/r1").json()["status"] == "PENDING_DELETE"
    result = _rollback(client, base)
    assert result.status_code == 200, result.text
    kept = {(c["action"], c["kind"]) for c in result.json()["changes"]}
    assert ("create", "router") in kept and ("create", "neighbor") in kept
    assert _export(client) == state
    assert client.get("/v1/routers/r1").json()["status"] in ("PENDING_UPDATE", "ERROR")
    speaker.reachable = True
    wait_for(lambda: client.get("/v1/routers/r1").json()["status"] == "ACTIVE", what="r1 kept")
    assert speaker.global_config is not None and "198.18.0.2" in speaker.peers


def test_a_rollback_limited_to_a_router_leaves_the_others(client: TestClient) -> None:
    router(client, "r1")
    router(client, "r2")
    base = latest(client)
    for name in ("r1", "r2"):
        client.patch(f"/v1/routers/{name}", json={"description": "changed"})
    plan = _rollback(client, base, dry_run="true", body={"routers": ["r1"]}).json()
    assert [(c["kind"], c["key"]) for c in plan["changes"]] == [("router", "r1")]
    assert _rollback(client, base, body={"routers": ["r1"]}).status_code == 200
    assert client.get("/v1/routers/r1").json()["description"] == ""
    assert client.get("/v1/routers/r2").json()["description"] == "changed"
    unknown = _rollback(client, base, body={"routers": ["r9"]})
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "router"


def test_an_intent_rolled_back_takes_its_generated_policy(client: TestClient) -> None:
    site_with_uplinks(client)
    base = latest(client)
    intent = client.post("/v1/intents", json=INTENT)
    assert intent.status_code == 201
    owner = f"/v1/intents/{intent.json()['id']}"
    made = [
        n
        for n, p in generated(client, "/v1/policies", "GoBGP-1").items()
        if p["generated_by"] == owner
    ]
    assert made
    plan = _rollback(client, base, dry_run="true", body={"sites": ["hq"]}).json()
    assert [(c["action"], c["kind"], c["router"], c["key"]) for c in plan["changes"]] == [
        ("delete", "intent", "hq", "far")
    ]
    assert "soft resets" in plan["changes"][0]["effect"]
    assert _rollback(client, base).status_code == 200
    assert client.get("/v1/intents").json()["total"] == 0
    left = generated(client, "/v1/policies", "GoBGP-1")
    statuses = {left[name]["status"] for name in made if name in left}
    assert statuses <= {"PENDING_DELETE"}  # going, with the intent they came from


def test_policyinfo_records_roll_back_with_what_they_made(client: TestClient) -> None:
    router(client)
    base, state = latest(client), _export(client)
    record = {
        "host_name": "r1",
        "policy_name": "pi",
        "statement_name": "s1",
        "statement_action": "next-hop self",
        "route_disposition": "accept",
        "apply_direction": "export",
        "apply_neighbor": "198.18.0.2",
        "exist": "New",
    }
    assert client.post("/v1/policyinfo", json=record).status_code == 201
    assert len(revision(client, base + 1)["changes"]) == 3  # policy, attachment, record
    assert _rollback(client, base).status_code == 200
    assert client.get("/v1/policyinfo").json()["total"] == 0
    assert _export(client) == state


def test_sla_classes_alert_rules_and_webhooks_are_not_revisions(client: TestClient) -> None:
    """Audited, not recorded: a rollback across their changes neither undoes nor
    refuses them."""
    router(client, "r1")
    base = latest(client)
    made = {
        "/v1/sla-classes": {"name": "gold", "latency_ms": 50},
        "/v1/alert-rules": {"name": "down", "kind": "session_down", "threshold": 30},
        "/v1/webhooks": {"name": "pager", "url": "http://127.0.0.1:9/hook", "secret": "s" * 16},
    }
    ids = {}
    for path, body in made.items():
        answer = client.post(path, json=body)
        assert answer.status_code == 201, answer.text
        ids[path] = answer.json()["id"]
    assert latest(client) == base
    client.patch("/v1/routers/r1", json={"description": "changed"})
    assert _rollback(client, base).status_code == 200
    assert client.get("/v1/routers/r1").json()["description"] == ""
    for path, ident in ids.items():
        assert client.get(f"{path}/{ident}").status_code == 200


def test_unknown_and_pruned_revisions(tmp_path: Path, database_url: str) -> None:
    settings = Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        secret_key_file=tmp_path / "secret.key",
        api_address_allow=("*",),
        revision_keep=3,
    )
    runtime = fake_runtime(settings, {})
    try:
        with TestClient(create_app(runtime), headers=bearer(ADMIN_TOKEN)) as client:
            router(client)  # six revisions: the newest three are kept
            page = client.get("/v1/revisions").json()
            assert [r["number"] for r in page["items"]] == [6, 5, 4]
            gone = _rollback(client, 2, dry_run="true")
            assert gone.status_code == 410 and gone.json()["error"]["code"] == "gone"
            assert "oldest kept is 4" in gone.json()["error"]["message"]
            assert _rollback(client, 7, dry_run="true").status_code == 404
            assert client.get("/v1/revisions/2").status_code == 404
            assert _rollback(client, 4, dry_run="true").status_code == 200
    finally:
        _close(runtime)


def test_a_project_writer_rolls_back_its_own_objects_only(client: TestClient) -> None:
    add_user(client, "blue-member", "blue", "member")
    client.post("/v1/projects", json={"name": "red"})
    router(client, "blue-r", project="blue")
    router(client, "red-r", project="red")
    base = latest(client)
    both = {
        "routers": [
            {"name": n, "router_id": "192.0.2.77", "asn": 65077, "api_address": f"unix:///{n}"}
            for n in ("blue-r", "red-r")
        ]
    }
    client.post("/v1/fleet/apply", json={"fleet": both})
    blue = bearer(login(client, "blue-member"))
    plan = _rollback(client, base, dry_run="true", headers=blue)
    assert plan.status_code == 200, plan.text
    assert [c["key"] for c in plan.json()["changes"]] == ["blue-r"]
    assert (
        _rollback(client, base, headers={**blue, "If-Match": plan.headers["ETag"]}).status_code
        == 200
    )
    assert client.get("/v1/routers/blue-r").json()["asn"] == 65001
    assert client.get("/v1/routers/red-r").json()["asn"] == 65077
    denied = _rollback(client, base, body={"routers": ["red-r"]}, headers=blue)
    assert denied.status_code == 422
    add_user(client, "blue-reader", "blue", "reader")
    reader = bearer(login(client, "blue-reader"))
    assert _rollback(client, base, headers=reader).status_code == 403


def _close(runtime: Runtime) -> None:
    runtime.engine.dispose()
    runtime.background_engine.dispose()
