"""``sdwan login|logout|whoami|user|project|role|token|audit`` against the real API
(the TestClient's ASGI transport under the CLI's httpx client)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from sdwan.cli.client import State
from sdwan.cli.main import app
from tests.support.api import ADMIN_TOKEN
from tests.support.identity import PASSWORD, add_user

URL = "http://testserver"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.yaml"
    monkeypatch.setenv("SDWAN_CONFIG", str(path))
    monkeypatch.setenv("SDWAN_URL", URL)
    return path


def run(client: TestClient, args: list[str], stdin: str | None = None) -> Result:
    state = State(transport=client._transport)
    return CliRunner().invoke(app, args, obj=state, input=stdin)


def test_login_stores_token_and_logout_revokes(client: TestClient, config: Path) -> None:
    add_user(client, "alice", "blue", "member")
    result = run(client, ["login", "-u", "alice", "--password-stdin"], PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    token = yaml.safe_load(config.read_text())["token"]
    assert token.startswith("sdwan_") and oct(config.stat().st_mode & 0o777) == "0o600"
    assert PASSWORD not in config.read_text() and token not in result.output
    who = run(client, ["whoami", "-o", "json"])
    assert who.exit_code == 0 and '"project": "blue"' in who.output
    assert run(client, ["logout"]).exit_code == 0
    after = run(client, ["whoami"])
    assert after.exit_code == 1 and "revoked" in after.output


def test_wrong_password_fails_cleanly(client: TestClient, config: Path) -> None:
    add_user(client, "alice", "blue", "member")
    result = run(client, ["login", "-u", "alice", "--password-stdin"], "wrong-password\n")
    assert result.exit_code == 1
    assert "invalid username or password" in result.output
    assert not config.exists()


def test_admin_commands(client: TestClient, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDWAN_TOKEN", ADMIN_TOKEN)
    assert run(client, ["project", "create", "blue"]).exit_code == 0
    made = run(
        client,
        ["user", "create", "bob", "--project", "blue", "--role", "reader", "--password-stdin"],
        PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    assert "reader@blue" in run(client, ["user", "list"]).output
    assert run(client, ["role", "grant", "bob", "member", "--project", "blue"]).exit_code == 0
    assert "member" in run(client, ["role", "list", "--project", "blue"]).output
    key = run(client, ["token", "create", "ci", "--role", "reader", "--project", "blue"])
    assert key.exit_code == 0, key.output
    secret = key.stdout.strip().splitlines()[-1]
    assert secret.startswith("sdwan_")
    listed = run(client, ["token", "list", "-o", "json"])
    assert "ci" in listed.output and secret not in listed.output
    assert run(client, ["role", "revoke", "bob", "--project", "blue"]).exit_code == 0
    assert run(client, ["user", "delete", "bob"]).exit_code == 0
    denied = run(client, ["project", "delete", "nope"])
    assert denied.exit_code == 1 and "not found" in denied.output
