"""An API over a fresh database (SQLite, then PostgreSQL: ``database_url``) and a
FakeSpeaker per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sdwan.api.app import create_app
from sdwan.auth import passwords
from sdwan.runtime import Runtime
from tests.support import rest_api
from tests.support.api import ADMIN_TOKEN
from tests.support.runtime import fake_runtime, unit_settings
from tests.support.speaker import FakeSpeaker


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt at N=2**14 instead of 2**17 (0.7 s a hash here): unit tests create and
    log in many users. tests/unit/test_credentials.py checks the real cost."""

    monkeypatch.setattr(passwords, "N", 2**14)


@pytest.fixture
def speakers() -> dict[str, FakeSpeaker]:
    """One FakeSpeaker per api_address, created on first use."""
    return {}


@pytest.fixture
def runtime(
    tmp_path: Path, speakers: dict[str, FakeSpeaker], database_url: str
) -> Iterator[Runtime]:
    rt = fake_runtime(unit_settings(tmp_path, database_url), speakers)
    yield rt
    rt.engine.dispose()
    rt.background_engine.dispose()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as c:
        yield c


@pytest.fixture
def quiet(tmp_path: Path, database_url: str) -> Iterator[tuple[Runtime, TestClient]]:
    """The API without the reconciler, the alert controller or the webhook dispatcher:
    the test drives what it needs of them."""
    runtime = fake_runtime(unit_settings(tmp_path, database_url, run_reconciler=False), {})
    app = create_app(runtime)
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        yield runtime, client
    runtime.engine.dispose()
    runtime.background_engine.dispose()


# --- the CLI against a fake REST API (tests/support/rest_api.py) ----------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The CLI's settings: the fake API's URL and a token in the environment, the config
    file (returned) in the test's own directory."""
    config = tmp_path / "sdwan" / "config.yaml"
    monkeypatch.setenv("SDWAN_CONFIG", str(config))
    monkeypatch.setenv("SDWAN_URL", rest_api.URL)
    monkeypatch.setenv("SDWAN_TOKEN", "s3cret")
    return config


@pytest.fixture
def api() -> rest_api.FakeApi:
    return rest_api.FakeApi()
