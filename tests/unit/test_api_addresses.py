"""gobgpd API addresses: one canonical spelling, uniqueness on the gobgpd they reach
whatever the spelling, answers that name no other project's router, and the admins'
allowlists (issue 10, items 1 and 3)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sdwan.api.app import create_app
from sdwan.config import Settings
from sdwan.domain.api_address import DEFAULT_ALLOW, endpoint_key, normalize_api_address
from sdwan.service.api_addresses import AddressPolicy
from sdwan.store.db import sqlite_url
from tests.support.api import ADMIN_TOKEN
from tests.support.identity import add_user, bearer, login
from tests.support.runtime import fake_runtime
from tests.support.speaker import FakeSpeaker

Headers = dict[str, str]


def router(name: str, address: str) -> dict[str, object]:
    return {"name": name, "router_id": "192.0.2.1", "asn": 65001, "api_address": address}


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("unix:////run/sdwan/x.sock", "unix:///run/sdwan/x.sock"),
        ("unix:///run/sdwan/./x.sock", "unix:///run/sdwan/x.sock"),
        ("unix:///run/../run/sdwan/x.sock", "unix:///run/sdwan/x.sock"),
        ("unix:/run/sdwan/x.sock", "unix:///run/sdwan/x.sock"),
        ("127.1:50051", "127.0.0.1:50051"),
        ("0x7f.0.0.1", "127.0.0.1:50051"),
        ("[::ffff:127.0.0.1]:50051", "127.0.0.1:50051"),
        ("[2001:DB8:0::1]:050051", "[2001:db8::1]:50051"),
        ("GoBGP-1.Example.:50052", "gobgp-1.example:50052"),
    ],
)
def test_canonical_spelling(given: str, canonical: str) -> None:
    assert normalize_api_address(given) == canonical


def test_every_spelling_of_this_host_is_one_endpoint() -> None:
    keys = {
        endpoint_key(a)
        for a in (
            "localhost:50051",
            "127.0.0.1:50051",
            "127.1:50051",
            "127.0.0.2:50051",
            "[::1]:50051",
            "[::ffff:127.0.0.1]:50051",
            "0.0.0.0:50051",
            "LOCALHOST.",
        )
    }
    assert keys == {"local:50051"}
    assert endpoint_key("localhost:50052") != endpoint_key("localhost:50051")
    assert endpoint_key("192.0.2.1:50051") != endpoint_key("192.0.2.2:50051")


@pytest.fixture
def callers(client: TestClient) -> dict[str, Headers]:
    add_user(client, "blue-member", "blue", "member")
    add_user(client, "red-member", "red", "member")
    return {
        "blue": bearer(login(client, "blue-member")),
        "red": bearer(login(client, "red-member")),
    }


@pytest.mark.parametrize(
    ("taken", "alias"),
    [
        ("unix:///run/sdwan/x.sock", "unix:////run/sdwan/x.sock"),
        ("unix:///run/sdwan/x.sock", "unix:///run/sdwan/./x.sock"),
        ("unix:///run/sdwan/x.sock", "unix:///run/../run/sdwan/x.sock"),
        ("127.0.0.1:50051", "localhost:50051"),
        ("127.0.0.1:50051", "127.1:50051"),
        ("127.0.0.1:50051", "[::ffff:127.0.0.1]:50051"),
        ("127.0.0.1:50051", "[::1]:50051"),
        ("localhost", "0.0.0.0:50051"),
    ],
)
def test_another_projects_gobgpd_cannot_be_claimed_by_another_spelling(
    client: TestClient, callers: dict[str, Headers], taken: str, alias: str
) -> None:
    made = client.post("/v1/routers", json=router("blue-r1", taken), headers=callers["blue"])
    assert made.status_code == 201, made.text
    answer = client.post(
        "/v1/routers",
        json={**router("red-r1", alias), "asn": 65002},
        headers=callers["red"],
    )
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert error["field"] == "api_address"
    assert "blue-r1" not in error["message"]  # no foreign router named
    assert "another router" in error["message"]
    # the same router renamed through PATCH is refused the same way
    own = client.post(
        "/v1/routers", json=router("red-r2", "unix:///run/sdwan/red.sock"), headers=callers["red"]
    )
    assert own.status_code == 201
    moved = client.patch("/v1/routers/red-r2", json={"api_address": alias}, headers=callers["red"])
    assert moved.status_code == 409 and "blue-r1" not in moved.text
    # within its own project (or for admins) the router holding it is named
    mine = client.post("/v1/routers", json=router("blue-r2", alias), headers=callers["blue"])
    assert mine.status_code == 409 and "router blue-r1" in mine.json()["error"]["message"]


def test_a_name_conflict_names_no_foreign_router(
    client: TestClient, callers: dict[str, Headers]
) -> None:
    made = client.post(
        "/v1/routers", json=router("shared", "unix:///run/sdwan/a.sock"), headers=callers["blue"]
    )
    assert made.status_code == 201
    answer = client.post(
        "/v1/routers", json=router("shared", "unix:///run/sdwan/b.sock"), headers=callers["red"]
    )
    assert answer.status_code == 409
    assert answer.json()["error"] == {
        "status": 409,
        "code": "conflict",
        "message": "name: 'shared' is already in use",
        "field": "name",
        "details": [],
    }


def test_a_symlinked_socket_path_is_the_socket_it_points_to(
    client: TestClient, tmp_path: Path
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    made = client.post("/v1/routers", json=router("r1", f"unix://{real}/g.sock"))
    assert made.status_code == 201
    answer = client.post("/v1/routers", json=router("r2", f"unix://{tmp_path}/link/g.sock"))
    assert answer.status_code == 409 and answer.json()["error"]["field"] == "api_address"


# --- allowlists --------------------------------------------------------------------


@pytest.fixture
def allowlisted(tmp_path: Path) -> Iterator[TestClient]:
    """An API whose server allowlist is two socket directories and TEST-NET-1."""
    (tmp_path / "ok").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "ok" / "out").symlink_to(tmp_path / "elsewhere")
    settings = Settings(
        database_url=sqlite_url(tmp_path / "sdwan.db"),
        admin_token=ADMIN_TOKEN,
        secret_key_file=tmp_path / "secret.key",
        api_address_allow=(f"unix:{tmp_path}/ok/", "192.0.2.0/24", "::1/128"),
    )
    speakers: dict[str, FakeSpeaker] = {}
    runtime = fake_runtime(settings, speakers)
    with TestClient(create_app(runtime), headers=bearer(ADMIN_TOKEN)) as client:
        yield client
    runtime.engine.dispose()


def test_the_server_allowlist_decides_which_addresses_routers_use(
    allowlisted: TestClient, tmp_path: Path
) -> None:
    client = allowlisted
    ok = client.post("/v1/routers", json=router("r1", f"unix://{tmp_path}/ok/g1.sock"))
    assert ok.status_code == 201, ok.text
    assert client.post("/v1/routers", json=router("r2", "192.0.2.7:50051")).status_code == 201
    for name, refused in [
        ("r3", f"unix://{tmp_path}/elsewhere/g.sock"),
        ("r4", f"unix://{tmp_path}/ok/../elsewhere/g.sock"),  # normalised first
        ("r5", f"unix://{tmp_path}/ok/out/g.sock"),  # a symlink out of the directory
        ("r6", "198.51.100.7:50051"),
        ("r7", "[::ffff:198.51.100.7]:50051"),
        ("r8", "gobgp.invalid:50051"),  # a name that resolves to nothing
    ]:
        answer = client.post("/v1/routers", json=router(name, refused))
        assert answer.status_code == 422, (refused, answer.text)
        assert answer.json()["error"]["field"] == "api_address"
    localhost = client.post("/v1/routers", json=router("r9", "localhost:50053"))
    assert localhost.status_code == 422  # resolves to 127.0.0.1 too, which is not allowed
    moved = client.patch("/v1/routers/r2", json={"api_address": "198.51.100.7:50051"})
    assert moved.status_code == 422 and moved.json()["error"]["field"] == "api_address"


def test_a_project_list_narrows_the_server_list(allowlisted: TestClient, tmp_path: Path) -> None:
    client = allowlisted
    add_user(client, "blue-member", "blue", "member")
    blue = bearer(login(client, "blue-member"))
    bad = client.patch("/v1/projects/blue", json={"api_address_allow": ["198.18.0.0/33"]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "api_address_allow[0]"
    refused = client.patch(
        "/v1/projects/blue", json={"api_address_allow": ["192.0.2.0/28"]}, headers=blue
    )
    assert refused.status_code == 403
    narrowed = client.patch("/v1/projects/blue", json={"api_address_allow": ["192.0.2.0/28"]})
    assert narrowed.status_code == 200 and narrowed.json()["api_address_allow"] == ["192.0.2.0/28"]
    assert client.get("/v1/projects", headers=blue).json()["items"][0]["api_address_allow"] == [
        "192.0.2.0/28"
    ]

    inside = client.post("/v1/routers", json=router("b1", "192.0.2.5:50051"), headers=blue)
    assert inside.status_code == 201
    outside = client.post("/v1/routers", json=router("b2", "192.0.2.100:50051"), headers=blue)
    assert outside.status_code == 422
    assert "project blue" in outside.json()["error"]["message"]
    # an admin creating a router in blue is held to blue's list too
    admin = client.post(
        "/v1/routers", json={**router("b3", "192.0.2.101:50051"), "project": "blue"}
    )
    assert admin.status_code == 422
    # a project list cannot widen the server's
    widened = client.patch("/v1/projects/blue", json={"api_address_allow": ["*"]})
    assert widened.status_code == 200
    wide = client.post("/v1/routers", json=router("b4", "198.51.100.9:50051"), headers=blue)
    assert wide.status_code == 422
    assert "server" in wide.json()["error"]["message"]
    reset = client.patch("/v1/projects/blue", json={"api_address_allow": None})
    assert reset.json()["api_address_allow"] is None


def test_the_default_allowlist_is_local_sockets_and_loopback() -> None:
    policy = AddressPolicy(
        DEFAULT_ALLOW,
        resolver=lambda host, port: [
            ipaddress.ip_address("127.0.0.1"),
            ipaddress.ip_address("::1"),
        ],
    )
    for allowed in (
        "unix:///run/sdwan/g.sock",
        "unix:///run/sdwan-lab/x/g.sock",
        "127.0.0.1:50051",
        "[::1]:50051",
        "localhost:50051",
    ):
        policy.check(normalize_api_address(allowed), None, project="p", field="api_address")
    for refused in (
        "unix:///tmp/g.sock",
        "unix:///run/docker.sock",
        "192.0.2.1:50051",
        "[2001:db8::1]:50051",
    ):
        with pytest.raises(Exception, match="not among the server's allowed"):
            policy.check(normalize_api_address(refused), None, project="p", field="api_address")
