"""API keys bound to their user, capped lifetimes, revocation on a password change
(issue 10, item 6); the bootstrap token's strength and replacement, scrypt's cost and
rehash on login (item 9)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sdwan.auth import passwords
from sdwan.auth.principal import Principal, Role
from sdwan.config import Settings, load_settings
from sdwan.errors import NotAuthenticated, PermissionDenied
from sdwan.runtime import Runtime, build_runtime
from sdwan.store.db import sqlite_url
from sdwan.store.identity_tables import users
from tests.support.identity import PASSWORD, REAL_SCRYPT_N, add_user, bearer, login

Headers = dict[str, str]


def _key(client: TestClient, headers: Headers, **body: object) -> dict[str, object]:
    made = client.post("/v1/tokens", json={"name": "automation", **body}, headers=headers)
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def _works(client: TestClient, token: object) -> bool:
    status: int = client.get("/v1/auth/whoami", headers=bearer(str(token))).status_code
    return status == 200


@pytest.fixture
def admin_user(client: TestClient) -> Headers:
    """A second admin, as a user with a login session (not the bootstrap token)."""
    add_user(client, "ada", "default", "admin")
    return bearer(login(client, "ada"))


def test_an_admin_users_key_dies_with_the_user(client: TestClient, admin_user: Headers) -> None:
    key = _key(client, admin_user, role="admin")
    member_key = _key(client, admin_user, role="member", project="default")
    assert key["user_id"] is not None and key["user_id"] == member_key["user_id"]
    assert _works(client, key["token"]) and _works(client, member_key["token"])
    assert client.delete("/v1/users/ada").status_code == 204
    assert not _works(client, key["token"])
    assert not _works(client, member_key["token"])


def test_a_demoted_admin_loses_its_keys_powers(client: TestClient, admin_user: Headers) -> None:
    admin_key = _key(client, admin_user, role="admin")
    client.post("/v1/projects", json={"name": "blue"})
    blue_key = _key(client, admin_user, role="member", project="blue")
    demoted = client.put(
        "/v1/role-assignments", json={"user": "ada", "project": "default", "role": "member"}
    )
    assert demoted.status_code == 200
    who = client.get("/v1/auth/whoami", headers=bearer(str(admin_key["token"])))
    assert who.status_code == 401  # an admin key of a user who is no admin any more
    assert not _works(client, blue_key["token"])  # ada has no role in blue
    # a key for a project where the user still has a role: at most that role
    default_key = _key(client, bearer(login(client, "ada")), role="member")
    assert (
        client.get("/v1/auth/whoami", headers=bearer(str(default_key["token"]))).json()["role"]
        == "member"
    )


def test_a_password_change_can_revoke_the_users_keys(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    alice = bearer(login(client, "alice"))
    kept = _key(client, alice)
    changed = client.put(
        "/v1/users/alice/password",
        json={"password": "a new password 1", "current_password": PASSWORD},
        headers=alice,
    )
    assert changed.status_code == 204
    assert not _works(client, alice["Authorization"].removeprefix("Bearer "))  # session ended
    assert _works(client, kept["token"])  # keys survive unless asked
    session = client.post(
        "/v1/auth/login",
        json={"username": "alice", "password": "a new password 1"},
        headers={"Authorization": ""},
    ).json()["token"]
    again = client.put(
        "/v1/users/alice/password",
        json={
            "password": "a newer password 2",
            "current_password": "a new password 1",
            "revoke_api_keys": True,
        },
        headers=bearer(session),
    )
    assert again.status_code == 204
    assert not _works(client, kept["token"])


def test_keys_expire_within_the_configured_cap(client: TestClient) -> None:
    default = _key(client, {}, role="admin")
    expires = datetime.fromisoformat(str(default["expires_at"]))
    days = (expires - datetime.now(UTC)).total_seconds() / 86400
    assert 89.9 < days <= 90  # SDWAN_API_KEY_MAX_TTL's default
    too_long = client.post(
        "/v1/tokens", json={"name": "forever", "role": "admin", "expires_in": 91 * 86400}
    )
    assert too_long.status_code == 422 and too_long.json()["error"]["field"] == "expires_in"


def test_the_cap_is_configurable(tmp_path: Path) -> None:
    settings = Settings(
        database_url=sqlite_url(tmp_path / "db"),
        secret_key_file=tmp_path / "key",
        api_key_max_ttl=3600,
        run_reconciler=False,
    )
    runtime = build_runtime(settings)
    try:
        root = Principal("root", Role.ADMIN, None, None, "bootstrap")
        key = runtime.services.identity.create_api_key(
            root, name="k", role=Role.ADMIN, project=None, expires_in=None
        )
        assert key.record.expires_at is not None
        left = (key.record.expires_at - datetime.now(UTC)).total_seconds()
        assert 3590 < left <= 3600
    finally:
        runtime.stop()


def test_keystone_principals_mint_no_builtin_keys(client: TestClient) -> None:
    identity = client.app.state.services.identity  # type: ignore[attr-defined]
    keystone_admin = Principal("keystone:admin", Role.ADMIN, None)
    with pytest.raises(PermissionDenied, match="Keystone"):
        identity.create_api_key(keystone_admin, name="k", role=None, project=None, expires_in=None)


# --- the bootstrap token --------------------------------------------------------------


def test_a_short_bootstrap_token_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        Settings(database_url="sqlite://", admin_token="change-me")
    Settings(database_url="sqlite://", admin_token="change-me", dev_mode=True)
    monkeypatch.setenv("SDWAN_ADMIN_TOKEN", "change-me")
    with pytest.raises(ValueError, match="SDWAN_DEV_MODE"):
        load_settings(db=str(tmp_path / "db"))
    monkeypatch.setenv("SDWAN_DEV_MODE", "1")
    assert load_settings(db=str(tmp_path / "db")).admin_token == "change-me"


@pytest.mark.parametrize("ttl", ["3600", "-1", "soon"])
def test_the_keystone_cache_ttl_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ttl: str
) -> None:
    """A revoked Keystone token keeps working while its validation is cached: the TTL
    is at most 300 s (keystonemiddleware's default); 0 asks Keystone every time."""
    for name in ("URL", "USERNAME", "PASSWORD", "PROJECT"):
        monkeypatch.setenv(f"SDWAN_KEYSTONE_{name}", "http://127.0.0.1:5000")
    monkeypatch.setenv("SDWAN_AUTH_BACKEND", "keystone")
    monkeypatch.setenv("SDWAN_KEYSTONE_CACHE_TTL", ttl)
    with pytest.raises(ValueError, match="SDWAN_KEYSTONE_CACHE_TTL must be 0 to 300 seconds"):
        load_settings(db=str(tmp_path / "db"))
    monkeypatch.setenv("SDWAN_KEYSTONE_CACHE_TTL", "0")
    settings = load_settings(db=str(tmp_path / "db"))
    assert settings.keystone is not None and settings.keystone.cache_ttl == 0


def test_a_new_bootstrap_token_revokes_the_previous_one(tmp_path: Path) -> None:
    first, second = "first-bootstrap-token-" + "a" * 20, "second-bootstrap-token-" + "b" * 20

    def runtime(token: str | None) -> Runtime:
        return build_runtime(
            Settings(
                database_url=sqlite_url(tmp_path / "db"),
                secret_key_file=tmp_path / "key",
                admin_token=token,
                run_reconciler=False,
            )
        )

    one = runtime(first)
    assert one.services.authenticator.authenticate(first).is_admin
    one.stop()
    two = runtime(second)
    try:
        assert two.services.authenticator.authenticate(second).is_admin
        with pytest.raises(NotAuthenticated):
            two.services.authenticator.authenticate(first)
    finally:
        two.stop()


# --- scrypt -----------------------------------------------------------------------------


def test_scrypt_costs_owasps_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (REAL_SCRYPT_N, passwords.R, passwords.P) == (2**17, 8, 1)
    monkeypatch.setattr(passwords, "N", REAL_SCRYPT_N)
    stored = passwords.hash_password("a password")
    assert stored.startswith("scrypt$131072$8$1$")
    assert passwords.verify_password("a password", stored)
    assert not passwords.needs_rehash(stored)


def test_an_older_hash_is_replaced_at_login(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(client, "alice", "blue", "member")  # hashed at the fixture's lower cost
    engine = client.app.state.services.identity._engine  # type: ignore[attr-defined]

    def stored() -> str:
        with engine.connect() as conn:
            return str(
                conn.execute(users.select().where(users.c.name == "alice")).one().password_hash
            )

    old = stored()
    assert old.startswith(f"scrypt${passwords.N}$")
    monkeypatch.setattr(passwords, "N", passwords.N * 2)  # the server's cost went up
    login(client, "alice")
    new = stored()
    assert new != old and new.startswith(f"scrypt${passwords.N}$")
    login(client, "alice")  # still the same password
    assert stored() == new  # and no rehash when the cost is current
