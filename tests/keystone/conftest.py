"""A real Keystone for the session, and an sdwan API using it as its auth backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sdwan.api.app import create_app
from sdwan.auth.keystone import KeystoneConfig
from sdwan.config import Settings
from sdwan.runtime import Runtime
from sdwan.store.db import sqlite_url
from tests.fakes.runtime import fake_runtime
from tests.fakes.speaker import FakeSpeaker
from tests.keystone.server import ADMIN_PASSWORD, Keystone, missing

PASSWORD = "keystone-user-pw"
USERS = {  # name -> (project, role)
    "ks-blue-member": ("blue", "member"),
    "ks-blue-reader": ("blue", "reader"),
    "ks-red-member": ("red", "member"),
}
CACHE_TTL = 3.0  # the five requests of the cache test fit in it on a loaded machine


@pytest.fixture(scope="session")
def keystone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keystone]:
    problem = missing()
    if problem:  # a failure, not a skip: CI must have it (scripts/setup installs it)
        pytest.fail(problem, pytrace=False)
    server = Keystone(tmp_path_factory.mktemp("keystone"))
    try:
        server.start()
        for name, (project, role) in USERS.items():
            server.add_user(name, PASSWORD, project, role)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ks_tokens(keystone: Keystone) -> dict[str, str]:
    tokens = {name: keystone.token(name, PASSWORD, p) for name, (p, _r) in USERS.items()}
    tokens["admin"] = keystone.token("admin", ADMIN_PASSWORD, "admin")
    return tokens


def keystone_settings(tmp_path: Path, url: str, admin_project_id: str | None = None) -> Settings:
    return Settings(
        database_url=sqlite_url(tmp_path / "sdwan.db"),
        admin_token="ks-test-bootstrap-token-0123456789abcdef",
        secret_key_file=tmp_path / "secret.key",
        auth_backend="keystone",
        keystone=KeystoneConfig(
            url=url,
            username="admin",
            password=ADMIN_PASSWORD,
            project="admin",
            cache_ttl=CACHE_TTL,
            timeout=3.0,
            admin_project_id=admin_project_id,
        ),
    )


@pytest.fixture
def ks_runtime(tmp_path: Path, keystone: Keystone) -> Iterator[Runtime]:
    speakers: dict[str, FakeSpeaker] = {}
    rt = fake_runtime(
        keystone_settings(tmp_path, keystone.url, keystone.project_id("admin")), speakers
    )
    yield rt
    rt.engine.dispose()


@pytest.fixture
def ks_client(ks_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(ks_runtime)) as client:
        yield client
