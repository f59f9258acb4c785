"""What the dashboard needs from the API: project filters on router and neighbor lists
(a project-scoped caller lists its own project's neighbors without naming a router),
dry-run PATCHes that show a change's warnings before making it, and /ui/ served with
its security headers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from sdwan.api import ui
from tests.support.identity import add_user, bearer, login
from tests.support.waits import wait_for

API = "unix:///run/sdwan/ui-test.sock"


def _router(client: TestClient, name: str, project: str, number: int) -> None:
    body = {
        "name": name,
        "router_id": f"10.0.2.{number}",
        "asn": 65001,
        "api_address": f"{API}{number}",
        "project": project,
    }
    answer = client.post("/v1/routers", json=body)
    assert answer.status_code == 201, answer.text
    neighbor = {"router": name, "address": f"198.18.30.{number}", "peer_asn": 65000}
    answer = client.post("/v1/neighbors", json=neighbor)
    assert answer.status_code == 201, answer.text


def test_project_filters_on_routers_and_neighbors(client: TestClient) -> None:
    add_user(client, "blue-reader", "blue", "reader")
    add_user(client, "red-member", "red", "member")
    _router(client, "B1", "blue", 1)
    _router(client, "B2", "blue", 2)
    _router(client, "R1", "red", 3)

    def names(path: str, headers: dict[str, str] | None = None, **params: str) -> list[str]:
        answer = client.get(path, params=params, headers=headers or {})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["total"] == len(body["items"])
        return sorted(i.get("name") or i["router_name"] for i in body["items"])

    assert names("/v1/routers", project="blue") == ["B1", "B2"]
    assert names("/v1/routers", project="red") == ["R1"]
    assert names("/v1/routers", project="nosuch") == []
    assert names("/v1/neighbors", project="blue") == ["B1", "B2"]
    assert names("/v1/neighbors", project="blue", router="B1") == ["B1"]
    assert names("/v1/neighbors") == ["B1", "B2", "R1"]

    # a project-scoped caller: its own project without asking, nothing of another
    blue = bearer(login(client, "blue-reader"))
    assert names("/v1/neighbors", blue) == ["B1", "B2"]
    assert names("/v1/neighbors", blue, project="blue") == ["B1", "B2"]
    assert names("/v1/neighbors", blue, project="red") == []
    assert names("/v1/routers", blue, project="red") == []
    red = bearer(login(client, "red-member"))
    assert names("/v1/neighbors", red) == ["R1"]
    assert client.get("/v1/neighbors", params={"router": "B1"}, headers=red).status_code == 422


def test_dry_run_patch_shows_warnings_and_changes_nothing(client: TestClient) -> None:
    _router(client, "D1", "default", 9)
    neighbor = client.get("/v1/neighbors", params={"router": "D1"}).json()["items"][0]
    url = f"/v1/neighbors/{neighbor['id']}"
    # wait until the reconciler made it ACTIVE: a PENDING_CREATE neighbor has no session
    # to reset, so it gets no warning
    wait_for(lambda: client.get(url).json()["status"] == "ACTIVE", what="neighbor ACTIVE")
    before = client.get(url)
    events_before = client.get("/v1/events").json()["last_id"]
    audit_before = client.get("/v1/audit").json()["total"]

    preview = client.patch(f"{url}?dry_run=true", json={"peer_asn": 65010})
    assert preview.status_code == 200, preview.text
    assert preview.json()["peer_asn"] == 65010
    assert any("resets the BGP session" in w for w in preview.json()["warnings"])
    assert "ETag" not in preview.headers
    after = client.get(url)
    assert after.json()["peer_asn"] == 65000
    assert after.headers["ETag"] == before.headers["ETag"]
    assert client.get("/v1/events").json()["last_id"] == events_before
    assert client.get("/v1/audit").json()["total"] == audit_before

    # a timer change resets nothing: no warning; a stale If-Match is refused as for real
    calm = client.patch(f"{url}?dry_run=true", json={"hold_time": 30, "keepalive_interval": 10})
    assert calm.status_code == 200 and calm.json()["warnings"] == []
    stale = client.patch(f"{url}?dry_run=true", json={"peer_asn": 1}, headers={"If-Match": '"99"'})
    assert stale.status_code == 412
    bad = client.patch(f"{url}?dry_run=true", json={"peer_asn": 0})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "peer_asn"

    router = client.patch("/v1/routers/D1?dry_run=true", json={"asn": 65020})
    assert router.status_code == 200, router.text
    assert any("restarts BGP" in w for w in router.json()["warnings"])
    assert client.get("/v1/routers/D1").json()["asn"] == 65001
    real = client.patch(url, json={"peer_asn": 65010}, headers={"If-Match": before.headers["ETag"]})
    assert real.status_code == 200 and real.json()["warnings"] == preview.json()["warnings"]


def _ui_app(dist: Path) -> TestClient:
    app = FastAPI()
    ui.install(app, dist)
    return TestClient(app)


def test_ui_is_served_with_security_headers(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>sdwan</title>")
    (tmp_path / "assets" / "index-abc.js").write_text("export {};")
    with _ui_app(tmp_path) as web:
        root = web.get("/", follow_redirects=False)
        assert root.status_code == 307 and root.headers["location"] == "/ui/"
        assert web.get("/ui", follow_redirects=False).headers["location"] == "/ui/"
        page = web.get("/ui/")
        assert page.status_code == 200 and "<title>sdwan</title>" in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "default-src 'none'" in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-cache"
        asset = web.get("/ui/assets/index-abc.js")
        assert asset.status_code == 200
        assert asset.headers["content-type"].startswith("text/javascript")
        assert "immutable" in asset.headers["cache-control"]
        assert asset.headers["content-security-policy"] == csp
        assert web.get("/ui/../pyproject.toml").status_code == 404
        assert web.get("/ui/assets/nosuch.js").status_code == 404


def test_ui_not_built_says_how_to_build(tmp_path: Path) -> None:
    with _ui_app(tmp_path / "missing") as web:
        answer = web.get("/ui/")
        assert answer.status_code == 503
        assert "scripts/setup" in answer.json()["error"]["message"]
        assert answer.headers["x-content-type-options"] == "nosniff"
