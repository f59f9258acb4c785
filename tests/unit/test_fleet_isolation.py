"""Fleet files: scoped to the caller's project like apply (issue 10, item 2), request
state kept per request (item 13), and a dry run that never holds SQLite's write lock
(item 11)."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from sdwan.auth.principal import Principal, Role
from sdwan.errors import InvalidInput
from sdwan.runtime import Runtime
from tests.support.identity import add_user, bearer, login
from tests.support.waits import wait_for

RED = {
    "name": "red-r",
    "router_id": "192.0.2.9",
    "asn": 65009,
    "api_address": "unix:///run/sdwan/red.sock",
}
RED_NEIGHBOR = {"address": "198.18.0.9", "peer_asn": 65000, "password": "red-secret"}


def _plan(client: TestClient, fleet: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post("/v1/fleet/plan", json={"fleet": fleet}, headers=headers)


def test_plan_answers_the_same_whatever_a_guessed_file_holds(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(client, "blue-member", "blue", "member")
    client.post("/v1/projects", json={"name": "red"})
    assert client.post("/v1/routers", json={**RED, "project": "red"}).status_code == 201
    made = client.post("/v1/neighbors", json={**RED_NEIGHBOR, "router": "red-r"})
    assert made.status_code == 201
    red_id = client.get("/v1/routers/red-r").json()["id"]
    # the reconciler opens the password to push it; only after its pass does a
    # decryption below mean that the plan read it (a pass late under load did)
    neighbor = f"/v1/neighbors/{made.json()['id']}"
    wait_for(lambda: client.get(neighbor).json()["status"] == "ACTIVE", what="red's pass")
    blue = bearer(login(client, "blue-member"))
    opened: list[bytes] = []
    original_open = runtime.secrets.open

    def recording_open(sealed: bytes) -> str:
        opened.append(sealed)
        return original_open(sealed)

    monkeypatch.setattr(runtime.secrets, "open", recording_open)

    exact = {"routers": [{**RED, "neighbors": [RED_NEIGHBOR]}]}
    different = {"routers": [{**RED, "asn": 65010, "neighbors": [RED_NEIGHBOR]}]}
    answers = [_plan(client, fleet, blue) for fleet in (exact, different)]
    for answer in answers:
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"]["field"] == "routers[0].name"
    assert answers[0].json() == answers[1].json()
    assert red_id not in answers[1].text
    assert opened == []  # the foreign neighbor's password was never decrypted
    # apply answers the same; the router's id is no way in either
    assert client.post("/v1/fleet/apply", json={"fleet": exact}, headers=blue).json() == (
        answers[0].json()
    )
    # naming the router by its id instead reads nothing either: a new router whose
    # gobgpd is taken by "another router"
    by_id = _plan(client, {"routers": [{**RED, "name": red_id}]}, blue)
    assert by_id.status_code == 409, by_id.text
    assert by_id.json()["error"]["field"] == "routers[0].api_address"
    assert "red-r" not in by_id.text and opened == []


def test_concurrent_applies_report_their_own_error_locations(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fails at its attachment while B is busy with a neighbor of another file: A's
    error must name A's attachment, whatever B did meanwhile."""
    admin = Principal("admin", Role.ADMIN, None)
    a_file = {
        "routers": [
            {
                **RED,
                "name": "a",
                "api_address": "unix:///run/sdwan/a.sock",
                "attachments": [{"name": "x", "direction": "export", "policies": ["missing"]}],
            }
        ]
    }
    b_file = {
        "routers": [
            {
                **RED,
                "name": "b",
                "api_address": "unix:///run/sdwan/b.sock",
                "neighbors": [{"address": "198.18.0.1", "peer_asn": 65000}],
            }
        ]
    }
    a_at_attachment, b_moved_on, a_done = threading.Event(), threading.Event(), threading.Event()
    fleet = runtime.services.fleet
    attachments = fleet._owned["attachments"]
    create_attachment = attachments.create_many
    create_neighbors = fleet._neighbors.create_many

    def slow_attachment(*args: Any, **kwargs: Any) -> Any:
        a_at_attachment.set()
        assert b_moved_on.wait(10)
        return create_attachment(*args, **kwargs)

    def slow_neighbors(*args: Any, **kwargs: Any) -> Any:
        assert a_at_attachment.wait(10)
        b_moved_on.set()
        assert a_done.wait(10)
        return create_neighbors(*args, **kwargs)

    monkeypatch.setattr(attachments, "create_many", slow_attachment)
    monkeypatch.setattr(fleet._neighbors, "create_many", slow_neighbors)
    results: dict[str, Any] = {}

    def run(name: str, document: dict[str, Any]) -> None:
        try:
            results[name] = fleet.apply(admin, document, prune=False, dry_run=True)
        except InvalidInput as exc:
            results[name] = exc
        finally:
            if name == "a":
                a_done.set()

    threads = [
        threading.Thread(target=run, args=("a", a_file)),
        threading.Thread(target=run, args=("b", b_file)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    error = results["a"]
    assert isinstance(error, InvalidInput)
    assert error.field == "routers[0].attachments[0].policies[0]", error.message
    assert results["b"]["dry_run"] is True


def test_a_dry_run_leaves_the_database_writable(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a dry run is between two of its writes, another writer still commits."""
    admin = Principal("admin", Role.ADMIN, None)
    document = {"routers": [{**RED, "neighbors": [{"address": "198.18.0.1", "peer_asn": 65000}]}]}
    paused, resume = threading.Event(), threading.Event()
    create_neighbors = runtime.services.fleet._neighbors.create_many

    def pause(*args: Any, **kwargs: Any) -> Any:
        paused.set()
        assert resume.wait(10)
        return create_neighbors(*args, **kwargs)

    monkeypatch.setattr(runtime.services.fleet._neighbors, "create_many", pause)
    result: dict[str, Any] = {}
    thread = threading.Thread(
        target=lambda: result.update(
            runtime.services.fleet.apply(admin, document, prune=False, dry_run=True)
        )
    )
    thread.start()
    try:
        assert paused.wait(10)  # the router of the file is "created" by now
        insert = (
            "INSERT INTO projects (name, description, created_at) VALUES "
            "('written-meanwhile', '', '2026-01-01 00:00:00')"
        )
        if runtime.engine.dialect.name == "sqlite":
            path = runtime.engine.url.database
            assert path is not None
            other = sqlite3.connect(path, timeout=0.5)
            try:
                other.execute(insert)
                other.commit()  # "database is locked" if the dry run held the write lock
            finally:
                other.close()
        else:  # PostgreSQL: a lock the dry run held would time out
            with runtime.engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '500ms'"))
                conn.execute(text(insert.replace("00:00:00'", "00:00:00+00:00'")))
    finally:
        resume.set()
        thread.join(20)
    assert [c["action"] for c in result["changes"]] == ["create", "create"]
    assert client.get("/v1/routers/red-r").status_code == 404  # nothing was applied
    names = [p["name"] for p in client.get("/v1/projects").json()["items"]]
    assert "written-meanwhile" in names
