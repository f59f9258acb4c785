"""Users, projects and logins for the identity and isolation tests; the real cost of
a password hash."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sdwan.auth import passwords

PASSWORD = "correct horse battery"
REAL_SCRYPT_N = passwords.N  # read at import, before tests/unit/conftest.py lowers it


def add_user(admin: TestClient, name: str, project: str, role: str) -> None:
    """Create project (if new), user and role assignment as the bootstrap admin."""
    answer = admin.post("/v1/projects", json={"name": project})
    assert answer.status_code in (201, 409), answer.text
    answer = admin.post("/v1/users", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    answer = admin.put(
        "/v1/role-assignments", json={"user": name, "project": project, "role": role}
    )
    assert answer.status_code == 200, answer.text


def login(admin: TestClient, name: str, project: str | None = None) -> str:
    body = {"username": name, "password": PASSWORD}
    if project:
        body["project"] = project
    answer = admin.post("/v1/auth/login", json=body, headers={"Authorization": ""})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
