"""A real Keystone for the session, and an sdwan API using it as its auth backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sdwan.api.app import create_app
from sdwan.runtime import Runtime
from tests.support.keystone import (
    ADMIN_PASSWORD,
    PASSWORD,
    USERS,
    Keystone,
    keystone_settings,
    missing,
)
from tests.support.runtime import fake_runtime
from tests.support.speaker import FakeSpeaker


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
