"""The Keystone backend against a real Keystone v3: X-Auth-Token validation, project
and role mapping, isolation, the cache, revocation, Keystone down (503), and the
CLI's login with the OS_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sdwan.api.app import create_app
from sdwan.cli.client import State
from sdwan.cli.main import app as cli
from sdwan.lab import wait_for
from sdwan.runtime import Runtime
from tests.support.keystone import CACHE_TTL, PASSWORD, Keystone, _free_port, keystone_settings
from tests.support.runtime import fake_runtime

ROUTER = {
    "name": "ks-r1",
    "router_id": "192.0.2.1",
    "asn": 65001,
    "api_address": "unix:///run/sdwan/ks-r1.sock",
}


def ks(token: str) -> dict[str, str]:
    return {"X-Auth-Token": token}


def ours(keystone: Keystone, name: str, domain: str = "default") -> str:
    """Our project for a Keystone project: by its id."""
    return f"keystone-{keystone.project_id(name, domain)}"


def test_roles_and_projects_map(
    ks_client: TestClient, ks_tokens: dict[str, str], keystone: Keystone
) -> None:
    who = {
        name: ks_client.get("/v1/auth/whoami", headers=ks(token)).json()
        for name, token in ks_tokens.items()
    }
    blue, red = ours(keystone, "blue"), ours(keystone, "red")
    assert (who["ks-blue-member"]["role"], who["ks-blue-member"]["project"]) == ("member", blue)
    assert (who["ks-blue-reader"]["role"], who["ks-blue-reader"]["project"]) == ("reader", blue)
    assert (who["ks-red-member"]["role"], who["ks-red-member"]["project"]) == ("member", red)
    assert (who["admin"]["role"], who["admin"]["project"]) == ("admin", None)
    assert who["ks-blue-member"]["name"] == "keystone:ks-blue-member"


def test_isolation_and_roles(
    ks_client: TestClient, ks_tokens: dict[str, str], keystone: Keystone
) -> None:
    blue, reader = ks(ks_tokens["ks-blue-member"]), ks(ks_tokens["ks-blue-reader"])
    red, admin = ks(ks_tokens["ks-red-member"]), ks(ks_tokens["admin"])
    assert ks_client.post("/v1/routers", json=ROUTER, headers=reader).status_code == 403
    made = ks_client.post("/v1/routers", json=ROUTER, headers=blue)
    assert made.status_code == 201, made.text
    assert made.json()["project_id"] == ours(keystone, "blue")
    url = f"/v1/routers/{made.json()['id']}"
    assert ks_client.get(url, headers=reader).status_code == 200
    assert ks_client.get(url, headers=red).status_code == 404
    assert ks_client.patch(url, json={"asn": 65002}, headers=red).status_code == 404
    assert ks_client.delete(url, headers=red).status_code == 404
    assert ks_client.patch(url, json={"asn": 65002}, headers=reader).status_code == 403
    assert ks_client.get("/v1/routers", headers=red).json()["total"] == 0
    assert ks_client.get("/v1/routers", headers=admin).json()["total"] == 1
    assert ks_client.patch(url, json={"asn": 65002}, headers=blue).status_code == 200
    entries = ks_client.get("/v1/audit", headers=reader).json()["items"]
    assert {e["actor"] for e in entries if e["resource_type"] == "router"} == {
        "keystone:ks-blue-member"
    }
    assert ks_client.get("/v1/audit", headers=red).json()["total"] == 0


def test_bad_tokens_are_401(ks_client: TestClient) -> None:
    for token in ("not-a-token", "gAAAAABnotafernettoken" + "x" * 100):
        answer = ks_client.get("/v1/routers", headers=ks(token))
        assert answer.status_code == 401, answer.text
    assert ks_client.get("/v1/routers").status_code == 401


def test_bootstrap_bearer_token_still_works(ks_client: TestClient) -> None:
    token = "ks-test-bootstrap-token-0123456789abcdef"
    answer = ks_client.get("/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["role"] == "admin"


def test_validation_is_cached_briefly(
    ks_client: TestClient, ks_runtime: Runtime, ks_tokens: dict[str, str]
) -> None:
    assert ks_runtime.services.keystone is not None
    headers = ks(ks_tokens["ks-blue-reader"])
    before = ks_runtime.services.keystone.validations
    for _ in range(5):
        assert ks_client.get("/v1/routers", headers=headers).status_code == 200
    assert ks_runtime.services.keystone.validations == before + 1
    wait_for(
        lambda: (
            ks_client.get("/v1/routers", headers=headers).status_code == 200
            and ks_runtime.services.keystone is not None
            and ks_runtime.services.keystone.validations > before + 1
        ),
        timeout=CACHE_TTL + 5,
        what="a new validation after the cache TTL",
    )


def test_revoked_keystone_token_stops_working(ks_client: TestClient, keystone: Keystone) -> None:
    token = keystone.token("ks-blue-member", PASSWORD, "blue")
    assert ks_client.get("/v1/routers", headers=ks(token)).status_code == 200
    admin = keystone.token("admin", "keystone-admin-pw", "admin")
    import httpx

    revoked = httpx.delete(
        f"{keystone.url}/v3/auth/tokens",
        headers={"X-Auth-Token": admin, "X-Subject-Token": token},
        timeout=30,
    )
    assert revoked.status_code == 204
    wait_for(
        lambda: ks_client.get("/v1/routers", headers=ks(token)).status_code == 401,
        timeout=CACHE_TTL + 5,
        what="the revoked token to be refused",
    )


def test_keystone_down_is_503_never_access(tmp_path: Path, ks_tokens: dict[str, str]) -> None:
    dead = f"http://127.0.0.1:{_free_port()}"
    runtime = fake_runtime(keystone_settings(tmp_path, dead))
    try:
        with TestClient(create_app(runtime)) as client:
            answer = client.get("/v1/routers", headers=ks(ks_tokens["admin"]))
            assert answer.status_code == 503
            error = answer.json()["error"]
            assert error["code"] == "auth_backend_unavailable"
            assert "Keystone" in error["message"] and "unreachable" in error["message"]
    finally:
        runtime.engine.dispose()


def test_cli_login_with_os_variables(
    ks_client: TestClient,
    keystone: Keystone,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "cli.yaml"
    monkeypatch.setenv("SDWAN_CONFIG", str(config))
    monkeypatch.setenv("SDWAN_URL", "http://testserver")
    for name, value in {
        "OS_AUTH_URL": f"{keystone.url}/v3",
        "OS_USERNAME": "ks-red-member",
        "OS_PASSWORD": PASSWORD,
        "OS_PROJECT_NAME": "red",
    }.items():
        monkeypatch.setenv(name, value)
    state = State(transport=ks_client._transport)
    result = CliRunner().invoke(cli, ["login", "--keystone"], obj=state)
    assert result.exit_code == 0, result.output
    stored = yaml.safe_load(config.read_text())
    assert stored["auth"] == "keystone" and PASSWORD not in config.read_text()
    who = CliRunner().invoke(
        cli, ["whoami", "-o", "json"], obj=State(transport=ks_client._transport)
    )
    assert who.exit_code == 0 and f'"project": "{ours(keystone, "red")}"' in who.output
    monkeypatch.setenv("OS_PASSWORD", "wrong")
    bad = CliRunner().invoke(
        cli, ["login", "--keystone"], obj=State(transport=ks_client._transport)
    )
    assert bad.exit_code == 1 and "refused" in bad.output


def test_projects_map_by_id_and_admin_only_from_the_admin_project(
    ks_client: TestClient, keystone: Keystone
) -> None:
    """Two Keystone projects named alike in two domains stay two projects; one named
    "default" is not the built-in project; an admin of any other project is a member
    of it only, and mints no built-in keys (issue 10, item 8)."""
    other = keystone.add_domain("elsewhere")
    keystone.add_user("ks-blue-twin", PASSWORD, "blue", "member", domain=other)
    keystone.add_user("ks-default-admin", PASSWORD, "default", "admin")
    twin = keystone.token("ks-blue-twin", PASSWORD, "blue", domain=other)
    default_admin = keystone.token("ks-default-admin", PASSWORD, "default")

    twin_who = ks_client.get("/v1/auth/whoami", headers=ks(twin)).json()
    assert twin_who["project"] == ours(keystone, "blue", other) != ours(keystone, "blue")
    made = ks_client.post("/v1/routers", json={**ROUTER, "name": "twin-r"}, headers=ks(twin))
    assert made.status_code == 201, made.text
    blue_member = keystone.token("ks-blue-member", PASSWORD, "blue")
    assert ks_client.get("/v1/routers/twin-r", headers=ks(blue_member)).status_code == 404

    admin_who = ks_client.get("/v1/auth/whoami", headers=ks(default_admin)).json()
    assert admin_who["role"] == "member"
    assert admin_who["project"] == ours(keystone, "default") != "default"
    assert ks_client.get("/v1/users", headers=ks(default_admin)).status_code == 403
    minted = ks_client.post(
        "/v1/tokens", json={"name": "k", "role": "admin"}, headers=ks(default_admin)
    )
    assert minted.status_code == 403
    projects = {
        p["name"]: p
        for p in ks_client.get("/v1/projects", headers=ks(default_admin)).json()["items"]
    }
    assert "Keystone project default (domain Default)" in str(projects)
