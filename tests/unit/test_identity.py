"""Built-in identity: users, projects, roles, login sessions, API keys, revocation,
expiry, and secrets never shown back."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from sdwan.runtime import Runtime
from sdwan.store.identity_tables import users
from sdwan.store.repo import now
from sdwan.store.tables import api_tokens
from tests.support.api import ADMIN_TOKEN
from tests.support.identity import PASSWORD, add_user, bearer, login


def test_login_whoami_logout(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    token = login(client, "alice")
    me = client.get("/v1/auth/whoami", headers=bearer(token))
    assert me.status_code == 200
    assert me.json() | {"user_id": None, "token_id": None} == {
        "name": "alice",
        "role": "member",
        "project": "blue",
        "user_id": None,
        "token_id": None,
    }
    assert client.post("/v1/auth/logout", headers=bearer(token)).status_code == 204
    gone = client.get("/v1/auth/whoami", headers=bearer(token))
    assert gone.status_code == 401
    assert gone.json()["error"]["code"] == "not_authenticated"


def test_bad_login_is_401_and_the_same_for_unknown_users(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    open_headers = {"Authorization": ""}
    wrong = client.post(
        "/v1/auth/login", json={"username": "alice", "password": "nope-nope"}, headers=open_headers
    )
    unknown = client.post(
        "/v1/auth/login", json={"username": "bob", "password": "nope-nope"}, headers=open_headers
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


def test_password_is_hashed_at_rest(client: TestClient, runtime: Runtime) -> None:
    add_user(client, "alice", "blue", "member")
    with runtime.engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert PASSWORD not in stored and stored.startswith("scrypt$")
    listed = client.get("/v1/users").text
    assert "password" not in listed and "scrypt" not in listed


def test_short_password_is_422(client: TestClient) -> None:
    answer = client.post("/v1/users", json={"name": "bob", "password": "short"})
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "password"


def test_expired_session_is_401(client: TestClient, runtime: Runtime) -> None:
    add_user(client, "alice", "blue", "member")
    token = login(client, "alice")
    with runtime.engine.begin() as conn:
        conn.execute(
            update(api_tokens)
            .values(expires_at=now() - timedelta(seconds=1))
            .where(api_tokens.c.kind == "session")
        )
    answer = client.get("/v1/routers", headers=bearer(token))
    assert answer.status_code == 401 and "expired" in answer.json()["error"]["message"]


def test_tokens_are_stored_hashed(client: TestClient, runtime: Runtime) -> None:
    add_user(client, "alice", "blue", "member")
    token = login(client, "alice")
    with runtime.engine.connect() as conn:
        digests = [r.token_sha256 for r in conn.execute(select(api_tokens.c.token_sha256))]
    assert token not in digests and all(len(d) == 64 for d in digests)
    assert token not in client.get("/v1/tokens").text


def test_malformed_and_unknown_tokens_are_401(client: TestClient) -> None:
    for header in ("Bearer", "Basic abc", "Bearer sdwan_not-a-token", "Token x y"):
        answer = client.get("/v1/routers", headers={"Authorization": header})
        assert answer.status_code == 401, header
        assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_role_removal_and_demotion_apply_at_once(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    token = login(client, "alice")
    body = {"name": "r1", "router_id": "10.0.0.1", "asn": 65001, "api_address": "10.0.0.1:50051"}
    client.put("/v1/role-assignments", json={"user": "alice", "project": "blue", "role": "reader"})
    assert client.post("/v1/routers", json=body, headers=bearer(token)).status_code == 403
    removed = client.delete("/v1/role-assignments", params={"user": "alice", "project": "blue"})
    assert removed.status_code == 204
    assert client.get("/v1/routers", headers=bearer(token)).status_code == 401


def test_deleting_a_user_cuts_its_tokens(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    token = login(client, "alice")
    assert client.delete("/v1/users/alice").status_code == 204
    assert client.get("/v1/routers", headers=bearer(token)).status_code == 401


def test_password_change_ends_sessions(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    token = login(client, "alice")
    wrong = client.put(
        "/v1/users/alice/password",
        json={"password": "another long one", "current_password": "bad"},
        headers=bearer(token),
    )
    assert wrong.status_code == 403
    ok = client.put(
        "/v1/users/alice/password",
        json={"password": "another long one", "current_password": PASSWORD},
        headers=bearer(token),
    )
    assert ok.status_code == 204
    assert client.get("/v1/routers", headers=bearer(token)).status_code == 401


def test_login_with_several_projects_needs_one(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    client.post("/v1/projects", json={"name": "red"})
    client.put("/v1/role-assignments", json={"user": "alice", "project": "red", "role": "reader"})
    answer = client.post(
        "/v1/auth/login",
        json={"username": "alice", "password": PASSWORD},
        headers={"Authorization": ""},
    )
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "project"
    red = login(client, "alice", "red")
    assert client.get("/v1/auth/whoami", headers=bearer(red)).json()["role"] == "reader"


def test_admin_endpoints_are_admin_only(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    headers = bearer(login(client, "alice"))
    calls = [
        ("POST", "/v1/users", {"name": "eve", "password": "long enough pw"}),
        ("GET", "/v1/users", None),
        ("POST", "/v1/projects", {"name": "evil"}),
        ("PUT", "/v1/role-assignments", {"user": "alice", "project": "blue", "role": "admin"}),
        ("DELETE", "/v1/users/alice", None),
        ("DELETE", "/v1/projects/blue", None),
    ]
    for method, path, body in calls:
        answer = client.request(method, path, json=body, headers=headers)
        assert answer.status_code == 403, (method, path, answer.text)


def test_api_keys_shown_once_and_revocable(client: TestClient) -> None:
    created = client.post("/v1/tokens", json={"name": "ci", "role": "reader", "project": "default"})
    assert created.status_code == 201, created.text
    key = created.json()["token"]
    listed = client.get("/v1/tokens").json()["items"]
    assert any(t["name"] == "ci" for t in listed) and key not in str(listed)
    me = client.get("/v1/auth/whoami", headers=bearer(key)).json()
    assert (me["role"], me["project"]) == ("reader", "default")
    assert client.delete(f"/v1/tokens/{created.json()['id']}").status_code == 200
    assert client.get("/v1/auth/whoami", headers=bearer(key)).status_code == 401


def test_members_keys_are_bound_and_capped(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    add_user(client, "bob", "red", "member")
    alice = bearer(login(client, "alice"))
    too_strong = client.post("/v1/tokens", json={"name": "k", "role": "admin"}, headers=alice)
    assert too_strong.status_code == 403
    other = client.post("/v1/tokens", json={"name": "k", "project": "red"}, headers=alice)
    assert other.status_code == 403
    key = client.post("/v1/tokens", json={"name": "k"}, headers=alice)
    assert key.status_code == 201 and key.json()["project"] == "blue"
    bob = bearer(login(client, "bob"))
    assert client.delete(f"/v1/tokens/{key.json()['id']}", headers=bob).status_code == 404
    assert all(t["name"] != "k" for t in client.get("/v1/tokens", headers=bob).json()["items"])


def test_bootstrap_admin_token_still_works(client: TestClient) -> None:
    me = client.get("/v1/auth/whoami", headers=bearer(ADMIN_TOKEN)).json()
    assert (me["role"], me["project"]) == ("admin", None)


def test_login_as_admin_sees_every_project(client: TestClient) -> None:
    add_user(client, "root", "ops", "admin")
    me = client.get("/v1/auth/whoami", headers=bearer(login(client, "root"))).json()
    assert (me["role"], me["project"]) == ("admin", None)
