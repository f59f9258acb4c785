"""The probe agent's control socket (over a real unix socket, against a fake engine) and
its push of the avoid set to the FIB agent (against a tiny stub FIB status server)."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdwan.polling import wait_for
from sdwan.probe.avoid import AvoidPusher
from sdwan.probe.client import ProbeClient, ProbeClientError
from sdwan.probe.config import ProbeConfig
from sdwan.probe.control import ControlServer, StreamHub
from tests.support.fib_status import StubFibStatus

UPLINK = {"id": "u1", "neighbor": "198.18.41.100", "target": "198.18.42.1"}


class FakeEngine:
    def __init__(self) -> None:
        self.current = ProbeConfig()
        self.snapshots = 0

    def config(self) -> ProbeConfig:
        return self.current

    def configure(self, config: ProbeConfig) -> ProbeConfig:
        self.current = config
        return config

    def snapshot(self, kind: str = "snapshot") -> dict[str, Any]:
        self.snapshots += 1
        return {"kind": kind, "seq": self.snapshots, "generation": self.current.generation}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ControlServer, StreamHub, FakeEngine]]:
    engine, hub = FakeEngine(), StreamHub()
    server = ControlServer(f"unix://{tmp_path}/c.probe", engine, hub, summary_interval=0.2)
    server.start()
    yield server, hub, engine
    server.stop()


def test_configuration_round_trip_and_errors(
    served: tuple[ControlServer, StreamHub, FakeEngine],
) -> None:
    server, _hub, engine = served
    assert stat.S_IMODE(os.stat(server.path).st_mode) == 0o660
    client = ProbeClient(f"unix://{server.path}")
    assert asyncio.run(client.config()) == {"generation": 0, "uplinks": []}
    accepted = asyncio.run(client.put_config({"generation": 3, "uplinks": [UPLINK]}))
    assert accepted["uplinks"][0]["method"] == "udp"  # the defaults, filled in
    assert asyncio.run(client.config()) == accepted
    assert engine.current.generation == 3
    with pytest.raises(ProbeClientError) as caught:
        bad = {"generation": 4, "uplinks": [{**UPLINK, "port": 70000}]}
        asyncio.run(client.put_config(bad))
    assert caught.value.status == 422
    assert caught.value.body["field"] == "uplinks[0].port"
    assert engine.current.generation == 3  # nothing of it was applied
    transport = httpx.HTTPTransport(uds=server.path)
    with httpx.Client(transport=transport, base_url="http://agent") as raw:
        answer = raw.put("/config", content=b"{not json")
        assert (answer.status_code, answer.json()["field"]) == (422, "body")
        assert raw.get("/nothing").status_code == 404
        assert raw.post("/config", json={}).status_code == 405
        assert raw.put("/quality", json={}).status_code == 405
        assert raw.put("/config").status_code == 422  # no body


def test_an_agent_that_is_not_there(tmp_path: Path) -> None:
    with pytest.raises(ProbeClientError) as caught:
        asyncio.run(ProbeClient(f"unix://{tmp_path}/none.probe").config())
    assert caught.value.status == 0


def test_the_stream_sends_a_snapshot_changes_at_once_and_summaries(
    served: tuple[ControlServer, StreamHub, FakeEngine],
) -> None:
    server, hub, _engine = served

    async def follow() -> None:
        lines = ProbeClient(f"unix://{server.path}").stream(timeout=5)
        assert (await anext(lines))["kind"] == "snapshot"
        hub.publish({"kind": "change", "seq": 99, "uplinks": {"u1": {"state": "dead"}}})
        change = await anext(lines)
        assert (change["kind"], change["seq"]) == ("change", 99)
        assert (await anext(lines))["kind"] == "summary"  # nothing else for 0.2 s
        await lines.aclose()

    asyncio.run(follow())


def test_a_subscriber_that_falls_behind_is_dropped() -> None:
    hub = StreamHub()
    subscriber = hub.subscribe()
    for seq in range(1000):
        hub.publish({"seq": seq})
    assert not subscriber.overflowed
    hub.publish({"seq": 1000})
    assert subscriber.overflowed


def test_stopping_removes_the_socket(tmp_path: Path) -> None:
    server = ControlServer(f"unix://{tmp_path}/s.probe", FakeEngine(), StreamHub())
    server.start()
    server.stop()
    assert not Path(server.path).exists()


# -- the avoid set ---------------------------------------------------------------------


def test_the_avoid_set_is_pushed_at_once_and_again_every_interval(tmp_path: Path) -> None:
    path = f"{tmp_path}/r.fib"
    fib = StubFibStatus(path)
    pusher = AvoidPusher(f"unix://{path}", interval=0.2)
    pusher.start()
    try:
        wait_for(lambda: fib.received, timeout=5, what="the first push")
        assert fib.received[0] == {"next_hops": [], "source": "probe-agent"}
        pusher.update(["198.18.41.100", "198.18.11.11"])
        wait_for(
            lambda: fib.received[-1]["next_hops"] == ["198.18.11.11", "198.18.41.100"],
            timeout=5,
            what="the new set",
        )
        count = len(fib.received)
        wait_for(lambda: len(fib.received) >= count + 3, timeout=5, what="re-sends")
        assert {tuple(b["next_hops"]) for b in fib.received[count:]} == {
            ("198.18.11.11", "198.18.41.100")
        }
    finally:
        pusher.stop()
    pusher.clear()
    assert fib.received[-1]["next_hops"] == []
    fib.close()


def test_a_fib_agent_that_comes_late_gets_the_set(tmp_path: Path) -> None:
    path = f"{tmp_path}/late.fib"
    pusher = AvoidPusher(f"unix://{path}", interval=0.1)
    pusher.update(["198.18.41.100"])
    pusher.start()
    try:
        wait_for(lambda: pusher.sent == 0 and pusher._failing, timeout=5, what="a failed push")
        fib = StubFibStatus(path)
        wait_for(lambda: fib.received, timeout=5, what="a push once the FIB agent is there")
        assert fib.received[0]["next_hops"] == ["198.18.41.100"]
    finally:
        pusher.stop()
    fib.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--control", "/tmp/x.sock"], "--control must be unix:///PATH"),
        (["--control", "unix:///tmp/x.sock", "--fib", "x"], "--fib must be unix:///PATH"),
        (["--control", "unix:///tmp/x.sock", "--config", "/nonexistent.json"], "--config"),
    ],
)
def test_the_cli_refuses_bad_options(options: list[str], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sdwan", "probe-agent", *options],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert message in proc.stderr
