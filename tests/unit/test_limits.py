"""Bounded costs (issue 10, items 7, 11, 12): request bodies (413 before anything
reads them), bulk item limits, RIB reads (deadline, per-caller concurrency), event
streams (credentials re-checked by the clock every keep-alive interval, per-caller
cap)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdwan.api.app import create_app
from sdwan.api.limits import principal_key
from sdwan.auth.principal import Principal, Role
from sdwan.config import Settings
from sdwan.errors import SpeakerUnreachable
from sdwan.runtime import Runtime
from sdwan.service.rib import RibService
from sdwan.store.db import sqlite_url
from tests.support.api import ADMIN_TOKEN
from tests.support.identity import add_user, bearer, login
from tests.support.runtime import fake_runtime
from tests.support.speaker import FakeSpeaker

ROUTER = {
    "name": "R1",
    "router_id": "192.0.2.1",
    "asn": 65001,
    "api_address": "unix:///run/sdwan/r1.sock",
}


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[TestClient, Runtime]]:
    settings = Settings(
        database_url=sqlite_url(tmp_path / "sdwan.db"),
        admin_token=ADMIN_TOKEN,
        secret_key_file=tmp_path / "secret.key",
        max_body_bytes=4096,
        rib_timeout=0.3,
        sse_keepalive=0.2,
        sse_max_streams=2,
    )
    speakers: dict[str, FakeSpeaker] = {}
    runtime = fake_runtime(settings, speakers)
    with TestClient(create_app(runtime), headers=bearer(ADMIN_TOKEN)) as client:
        yield client, runtime
    runtime.engine.dispose()


# --- bodies -----------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_before_authentication(
    limited: tuple[TestClient, Runtime],
) -> None:
    client, _ = limited
    big = {"name": "x", "description": "y" * 5000}
    for headers in ({}, {"Authorization": ""}):  # with or without credentials
        answer = client.post("/v1/projects", json=big, headers=headers)
        assert answer.status_code == 413, answer.text
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["error"]["code"] == "too_large"
        assert answer.json()["error"]["field"] == "body"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"name": "x", "description": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}'

    streamed = client.post(
        "/v1/projects", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert client.post("/v1/projects", json={"name": "small"}).status_code == 201


def test_owned_bulk_requests_are_bounded(client: TestClient) -> None:
    client.post("/v1/routers", json=ROUTER)
    items = [{"router": "R1", "prefix": f"198.18.{i // 256}.{i % 256}/32"} for i in range(1001)]
    answer = client.post("/v1/announcements/bulk", json={"items": items})
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "items"
    schema = client.get("/v1/openapi.json").json()["components"]["schemas"]
    assert schema["AnnouncementCreateBulk"]["properties"]["items"]["maxItems"] == 1000


# --- RIB reads ----------------------------------------------------------------------------


class SlowSource:
    """A gobgpd that answers nothing until the deadline passes."""

    def __init__(self) -> None:
        self.timeouts: list[float] = []

    def list_path(self, request: Any, *, timeout: float) -> Iterator[Any]:
        self.timeouts.append(timeout)
        time.sleep(timeout)
        raise SpeakerUnreachable("gobgpd at x unreachable (ListPath): Deadline Exceeded")
        yield  # a generator, like the real one

    def close(self) -> None:
        pass


def test_a_rib_read_has_a_deadline(limited: tuple[TestClient, Runtime]) -> None:
    client, runtime = limited
    source = SlowSource()
    runtime.services.rib._sources = lambda target: source
    assert client.post("/v1/routers", json=ROUTER).status_code == 201
    started = time.monotonic()
    answer = client.get("/v1/routers/R1/rib")
    assert answer.status_code == 504, answer.text
    assert answer.json()["error"]["code"] == "speaker_timeout"
    assert source.timeouts == [0.3] and time.monotonic() - started < 5
    assert isinstance(runtime.services.rib, RibService)


def test_rib_reads_are_limited_per_caller(limited: tuple[TestClient, Runtime]) -> None:
    client, _runtime = limited
    assert client.post("/v1/routers", json=ROUTER).status_code == 201
    add_user(client, "alice", "default", "reader")
    alice = bearer(login(client, "alice"))
    admin_token_id = client.get("/v1/auth/whoami").json()["token_id"]
    slots = client.app.state.limits.rib  # type: ignore[attr-defined]
    key = principal_key(Principal("x", Role.ADMIN, None, None, admin_token_id))
    held = [slots.take(key), slots.take(key)]  # two reads of the admin in flight
    try:
        busy = client.get("/v1/routers/R1/rib")
        assert busy.status_code == 429 and int(busy.headers["Retry-After"]) >= 1
        # another caller is not affected (its read fails on the missing gobgpd: 502)
        assert client.get("/v1/routers/R1/rib", headers=alice).status_code == 502
    finally:
        for release in held:
            release()
    assert client.get("/v1/routers/R1/rib").status_code == 502  # a slot again


# --- event streams ------------------------------------------------------------------------


def _read_until_closed(response: Any, seconds: float) -> tuple[bool, list[str]]:
    lines: list[str] = []
    deadline = time.monotonic() + seconds
    for line in response.iter_lines():
        lines.append(line)
        if time.monotonic() > deadline:
            return False, lines
    return True, lines


@pytest.mark.parametrize("how", ["revoked", "demoted", "user deleted"])
def test_a_stream_ends_when_its_credentials_do(
    limited: tuple[TestClient, Runtime], how: str
) -> None:
    client, _ = limited
    add_user(client, "alice", "default", "member")
    token = login(client, "alice")
    sse = {**bearer(token), "Accept": "text/event-stream"}
    with client.stream("GET", "/v1/events", headers=sse) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        if how == "revoked":
            assert client.post("/v1/auth/logout", headers=bearer(token)).status_code == 204
        elif how == "demoted":
            demoted = client.put(
                "/v1/role-assignments",
                json={"user": "alice", "project": "default", "role": "reader"},
            )
            assert demoted.status_code == 200
        else:
            assert client.delete("/v1/users/alice").status_code == 204
        closed, lines = _read_until_closed(stream, 5.0)
    assert closed, lines
    assert lines[-2:] == [": credentials no longer valid", ""] or (
        ": credentials no longer valid" in lines
    )


def test_a_stream_ends_within_a_keepalive_while_other_projects_events_flow(
    limited: tuple[TestClient, Runtime],
) -> None:
    """Events of another project wake the stream all the time and send it nothing: the
    credentials are still re-checked by the clock (every 0.2 s here), so a logged-out
    caller's stream ends at once instead of when the fleet falls quiet."""
    client, _ = limited
    add_user(client, "alice", "default", "member")
    token = login(client, "alice")
    assert client.post("/v1/projects", json={"name": "busy"}).status_code == 201
    made = client.post("/v1/routers", json={**ROUTER, "project": "busy"})
    assert made.status_code == 201, made.text
    stop = threading.Event()

    def churn() -> None:  # a busy fleet elsewhere: an event every 20 ms
        for count in range(2000):  # bounded; stopped long before
            if stop.wait(0.02):
                return
            client.patch("/v1/routers/R1", json={"description": f"change {count}"})

    writer = threading.Thread(target=churn, daemon=True)
    sse = {**bearer(token), "Accept": "text/event-stream"}
    with client.stream("GET", "/v1/events", headers=sse) as stream:
        assert stream.status_code == 200
        writer.start()
        try:
            assert client.post("/v1/auth/logout", headers=bearer(token)).status_code == 204
            logged_out = time.monotonic()
            closed, lines = _read_until_closed(stream, 5.0)
            took = time.monotonic() - logged_out
        finally:
            stop.set()
            writer.join(timeout=10)
    assert closed and ": credentials no longer valid" in lines, lines
    assert took < 2.0, took  # one keep-alive (0.2 s), and the margins of a loaded machine


def test_event_streams_are_capped_per_caller(limited: tuple[TestClient, Runtime]) -> None:
    client, _ = limited
    sse = {"Accept": "text/event-stream"}
    with (
        client.stream("GET", "/v1/events", headers=sse) as first,
        client.stream("GET", "/v1/events", headers=sse) as second,
    ):
        assert first.status_code == second.status_code == 200
        third = client.get("/v1/events", headers=sse)
        assert third.status_code == 429
        assert third.json()["error"]["code"] == "too_many_requests"
        assert client.get("/v1/events").status_code == 200  # JSON history: no stream
