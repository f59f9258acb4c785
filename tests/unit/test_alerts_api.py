"""Alert rules, alerts and webhooks through the API: the resource skeleton's rules
(201 with ETag and Location, If-Match 412, 409 on a taken name, 422 naming the field),
what each kind of rule takes, projects (members write their own, readers read, other
projects see nothing), the write-only secret and the webhook allowlists."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.demo_site import site_with_uplinks
from tests.support.identity import add_user, bearer, login

SECRET = "0123456789abcdef-hook-secret"
HOOK = {"name": "pager", "url": "http://127.0.0.1:9/hook", "secret": SECRET}


def _error(answer: Any) -> tuple[int, str | None, str]:
    error = answer.json()["error"]
    return answer.status_code, error.get("field"), error["message"]


def test_an_alert_rule_is_a_resource_like_the_others(client: TestClient) -> None:
    site_with_uplinks(client)
    made = client.post(
        "/v1/alert-rules",
        json={
            "name": "uplink-down",
            "kind": "session_down",
            "threshold": 30,
            "severity": "critical",
            "scope": {"router": "GoBGP-1", "site": "hq"},
            "labels": {"team": "noc"},
        },
    )
    assert made.status_code == 201, made.text
    rule = made.json()
    assert made.headers["ETag"] == '"1"'
    assert made.headers["Location"] == f"/v1/alert-rules/{rule['id']}"
    assert rule["scope"] == {"router": "GoBGP-1", "site": "hq"} and rule["firing"] == 0
    assert rule["threshold"] == 30.0 and rule["enabled"] is True
    path = f"/v1/alert-rules/{rule['id']}"
    stale = client.patch(path, json={"threshold": 5}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    changed = client.patch(
        path, json={"threshold": 5, "enabled": False}, headers={"If-Match": '"1"'}
    )
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    assert changed.json()["threshold"] == 5.0 and changed.json()["enabled"] is False
    listed = client.get("/v1/alert-rules", params={"kind": "session_down"}).json()
    assert [r["name"] for r in listed["items"]] == ["uplink-down"]
    assert client.get("/v1/alert-rules", params={"kind": "uplink_sla"}).json()["total"] == 0
    again = client.post(
        "/v1/alert-rules", json={"name": "uplink-down", "kind": "replica_lost", "threshold": 1}
    )
    assert _error(again)[:2] == (409, "name")
    audit = client.get("/v1/audit", params={"resource_id": rule["id"]}).json()["items"]
    assert [a["action"] for a in audit] == ["update", "create"]
    assert client.delete(path, headers={"If-Match": '"1"'}).status_code == 412
    assert client.delete(path).status_code == 200
    assert client.get(path).status_code == 404


def test_what_a_rule_says_is_checked_for_its_kind(client: TestClient) -> None:
    site_with_uplinks(client)
    base = {"name": "r", "kind": "session_down", "threshold": 10}

    def refused(**changes: Any) -> tuple[int, str | None, str]:
        return _error(client.post("/v1/alert-rules", json={**base, **changes}))

    assert refused(scope={"intent": "far"})[:2] == (422, "scope.intent")
    assert refused(scope={"router": "nope"})[:2] == (422, "scope.router")
    assert refused(kind="intent_degraded", scope={"site": "nope"})[:2] == (422, "scope.site")
    assert refused(kind="uplink_sla", scope={"uplink": "nope"})[:2] == (422, "scope.uplink")
    assert refused(kind="drift_repairs", threshold=2.5)[:2] == (422, "threshold")
    assert refused(threshold=-1)[0] == 422
    assert refused(kind="session_flapping")[0] == 422
    assert refused(labels={"severity": "low"})[:2] == (422, "labels.severity")
    assert refused(labels={"no spaces": "x"})[:2] == (422, "labels.no spaces")
    assert refused(unknown=1)[0] == 422
    ok = client.post(
        "/v1/alert-rules",
        json={**base, "kind": "uplink_sla", "scope": {"site": "hq", "uplink": "vyos1"}},
    )
    assert ok.status_code == 201, ok.text
    rule = ok.json()
    wrong = client.patch(f"/v1/alert-rules/{rule['id']}", json={"scope": {"router": "GoBGP-1"}})
    assert _error(wrong)[:2] == (422, "scope.router")
    assert _error(client.patch(f"/v1/alert-rules/{rule['id']}", json={"threshold": None}))[1] == (
        "threshold"
    )


def test_members_write_their_projects_rules_readers_read_and_others_see_nothing(
    client: TestClient,
) -> None:
    add_user(client, "ann", "blue", "member")
    add_user(client, "rob", "blue", "reader")
    add_user(client, "eve", "red", "member")
    ann, rob, eve = (bearer(login(client, n)) for n in ("ann", "rob", "eve"))
    made = client.post(
        "/v1/alert-rules",
        json={"name": "down", "kind": "session_down", "threshold": 5},
        headers=ann,
    )
    assert made.status_code == 201 and made.json()["project_id"] == "blue"
    path = f"/v1/alert-rules/{made.json()['id']}"
    assert client.get(path, headers=rob).status_code == 200
    assert client.patch(path, json={"threshold": 1}, headers=rob).status_code == 403
    assert client.get(path, headers=eve).status_code == 404
    assert client.get("/v1/alert-rules", headers=eve).json()["total"] == 0
    assert client.delete(path, headers=eve).status_code == 404
    # replicas serve every project: only admins of all of them watch them
    lost = {"name": "lost", "kind": "replica_lost", "threshold": 5}
    assert client.post("/v1/alert-rules", json=lost, headers=ann).status_code == 403
    assert client.post("/v1/alert-rules", json=lost).status_code == 201
    other = {"name": "x", "kind": "session_down", "threshold": 5, "project": "red"}
    assert client.post("/v1/alert-rules", json=other, headers=ann).status_code == 403
    assert _error(client.post("/v1/alert-rules", json={**other, "project": "nope"}))[1] == (
        "project"
    )


def test_a_webhooks_secret_is_write_only(client: TestClient) -> None:
    made = client.post("/v1/webhooks", json={**HOOK, "format": "alertmanager"})
    assert made.status_code == 201, made.text
    hook = made.json()
    assert SECRET not in made.text and "secret" not in hook
    assert hook["url"] == "http://127.0.0.1:9/hook" and hook["format"] == "alertmanager"
    assert hook["filter"] == {"kinds": [], "resource_types": [], "severities": [], "rules": []}
    path = f"/v1/webhooks/{hook['id']}"
    changed = client.patch(path, json={"secret": "another-secret-0123456789"})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    shown = client.get(path)
    assert SECRET not in shown.text and "another-secret" not in shown.text
    audit = client.get("/v1/audit", params={"resource_id": hook["id"]}).json()["items"]
    assert [a["after"]["secret"] for a in audit] == ["***", "***"]
    assert SECRET not in str(audit)
    events = client.get("/v1/events", params={"kind": "resource."}).json()
    assert SECRET not in str(events)
    assert _error(client.post("/v1/webhooks", json={**HOOK, "name": "s", "secret": "short"}))[
        :2
    ] == (422, "secret")
    log = client.get(f"{path}/deliveries")
    assert log.status_code == 200 and set(log.json()) == {"items", "total", "limit", "offset"}
    assert client.get("/v1/webhooks/nope/deliveries").status_code == 404


def test_webhook_urls_must_reach_an_allowed_address(client: TestClient) -> None:
    def refused(url: str, name: str = "h") -> tuple[int, str | None, str]:
        return _error(client.post("/v1/webhooks", json={**HOOK, "name": name, "url": url}))

    status, field, message = refused("http://192.0.2.1/hook")
    assert (status, field) == (422, "url") and "not among the server's allowed" in message
    assert refused("ftp://127.0.0.1/")[:2] == (422, "url")
    assert refused("http://u:p@127.0.0.1/")[:2] == (422, "url")
    bad_filter = {**HOOK, "filter": {"kinds": ["not a kind"]}}
    assert _error(client.post("/v1/webhooks", json=bad_filter))[:2] == (422, "filter.kinds")
    # a project's own list narrows the server's
    made = client.post("/v1/projects", json={"name": "narrow", "webhook_allow": ["::1/128"]})
    assert made.status_code == 201 and made.json()["webhook_allow"] == ["::1/128"]
    in_narrow = {**HOOK, "project": "narrow"}
    status, field, message = _error(client.post("/v1/webhooks", json=in_narrow))
    assert (status, field) == (422, "url") and "project narrow's" in message
    v6 = client.post("/v1/webhooks", json={**in_narrow, "url": "http://[::1]:9/"})
    assert v6.status_code == 201, v6.text
    bad = client.patch("/v1/projects/narrow", json={"webhook_allow": ["unix:/run/"]})
    assert _error(bad)[:2] == (422, "webhook_allow[0]")
    hook = client.post("/v1/webhooks", json=HOOK).json()
    moved = client.patch(f"/v1/webhooks/{hook['id']}", json={"url": "http://192.0.2.1/"})
    assert _error(moved)[:2] == (422, "url")


def test_alerts_are_listed_read_only(client: TestClient) -> None:
    assert client.get("/v1/alerts").json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert _error(client.get("/v1/alerts", params={"state": "open"}))[:2] == (422, "state")
    assert client.get("/v1/alerts", params={"sort": "nope"}).status_code == 422
    assert client.get("/v1/alerts/nope").status_code == 404
    assert client.post("/v1/alerts", json={}).status_code == 405
