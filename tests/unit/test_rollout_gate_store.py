"""The rollout gate's probe built from a runtime (the API over FakeSpeakers): what is
not applied yet, by name and with its error; a capture of a router whose gobgpd does
not answer records why, within the probe's time."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from sdwan.rollout.gate import GateProbe
from sdwan.runtime import Runtime
from tests.support.revisions import router
from tests.support.speaker import FakeSpeaker
from tests.support.waits import wait_for

SOCK = "unix:///run/sdwan/r1.sock"  # tests.support.revisions.router's, never a gobgpd


def test_pending_names_every_object_not_applied(quiet: tuple[Runtime, TestClient]) -> None:
    runtime, client = quiet  # no reconciler: nothing is applied
    router_id = router(client)
    probe = GateProbe.from_runtime(runtime)
    assert probe.pending(router_ids=[router_id]) == [
        "router r1: PENDING_CREATE",
        "neighbor 198.18.0.2 on r1: PENDING_CREATE",
        "defined set far on r1: PENDING_CREATE",
        "policy nh on r1: PENDING_CREATE",
        "policy attachment to-peer on r1: PENDING_CREATE",
        "announcement 198.51.100.0/24 on r1: PENDING_CREATE",
    ]
    assert probe.pending(router_ids=[]) == []


def test_pending_empties_once_applied_and_shows_an_error(
    runtime: Runtime, client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    speakers[SOCK] = FakeSpeaker(refuse={"198.18.0.3": "peer-as 0 is not allowed"})
    router_id = router(client)
    probe = GateProbe.from_runtime(runtime)
    wait_for(lambda: probe.pending(router_ids=[router_id]) == [], what="r1 applied")
    bad = {"router": "r1", "address": "198.18.0.3", "peer_asn": 65003}
    assert client.post("/v1/neighbors", json=bad).status_code == 201
    found = wait_for(
        lambda: (p := probe.pending(router_ids=[router_id])) and "ERROR" in p[0] and p,
        what="the refused neighbor in error",
    )
    assert found == ["neighbor 198.18.0.3 on r1: ERROR: peer-as 0 is not allowed"], found


def test_a_capture_records_a_router_that_does_not_answer(
    quiet: tuple[Runtime, TestClient],
) -> None:
    runtime, client = quiet
    router_id = router(client)
    probe = GateProbe.from_runtime(runtime)
    started = time.monotonic()
    snap = probe.capture(router_ids=[router_id], site_ids=[])
    assert time.monotonic() - started < runtime.settings.rib_timeout + 1
    health = snap.routers[router_id]
    assert health.name == "r1" and health.error is not None and SOCK in health.error
    assert [n.address for n in health.neighbors.values()] == ["198.18.0.2"]
    assert health.announcements == {"198.51.100.0/24"} and health.looked_up == frozenset()
    (failure,) = probe.judge(snap, snap)
    assert (failure.router, failure.check) == ("r1", "reachable")
