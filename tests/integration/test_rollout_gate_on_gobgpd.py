"""The rollout gate on real gobgpd (issue 24, item 2): a snapshot of a healthy network
passes; a change that breaks a session (a neighbor's peer AS made wrong) fails the
gate naming the routers and neighbors, the intent it spoils, the prediction that no
longer holds and the custom check on a router downstream; objects of a change are
pending until the router applies them; a router that stops answering is a failure
within the capture's deadline, not a hang.

e1 (AS65000) --- r1 (AS65001) --- i1 (AS65001); e1 announces the far network, r1
198.51.100.0/24; site s = r1, uplink "up" = its session to e1, intent "far": the far
network over "up"."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from sdwan.gobgp.client import GobgpClient
from sdwan.lab import GobgpdFactory, Lab
from sdwan.lab.server_process import OrchestratorProcess
from sdwan.polling import wait_for
from sdwan.rollout.gate import CustomCheck, GateFailure, GateProbe, HealthSnapshot
from sdwan.store.db import make_engine, sqlite_url
from tests.support.policy_lab import FAR, PolicyLab, build

OWN = "198.51.100.0/24"  # r1's announcement
E1_ON_R1, R1_ON_E1 = "198.18.1.1", "198.18.1.2"
CHECKS = [CustomCheck.parse(f"rib_has:i1:{FAR}"), CustomCheck.parse(f"rib_has:i1:{OWN}")]


@pytest.fixture
def engine(orchestrator: OrchestratorProcess) -> Iterator[Engine]:
    made = make_engine(sqlite_url(orchestrator.db_path))
    yield made
    made.dispose()


def _probe(engine: Engine, timeout: float) -> GateProbe:
    """A probe whose captures take ``timeout`` s at most; its clients' own timeout is
    far longer, so only the capture's deadline can bound them."""
    return GateProbe(engine=engine, sources=lambda e: GobgpClient(e, timeout=60), timeout=timeout)


def _network(plab: PolicyLab) -> tuple[dict[str, str], str]:
    """Announcements, the site and its intent; router name -> id, and the site id."""
    with plab.api() as api:
        for router, prefix in (("e1", FAR), ("r1", OWN)):
            answer = api.post("/v1/announcements", json={"router": router, "prefix": prefix})
            assert answer.status_code == 201, answer.text
        for path, body in (
            ("/v1/sites", {"name": "s", "routers": [{"router": "r1"}]}),
            ("/v1/uplinks", {"site": "s", "name": "up", "router": "r1", "neighbor": E1_ON_R1}),
            (
                "/v1/intents",
                {
                    "site": "s",
                    "name": "far",
                    "destination": {"type": "prefixes", "prefixes": [{"prefix": FAR}]},
                    "prefer": [["up"]],
                },
            ),
        ):
            answer = api.post(path, json=body)
            assert answer.status_code == 201, answer.text
        routers = {r["name"]: r["id"] for r in api.get("/v1/routers").json()["items"]}
        site = api.get("/v1/sites/s").json()["id"]
    return routers, str(site)


def _keys(failures: list[GateFailure]) -> set[tuple[str | None, str]]:
    return {(f.router, f.check) for f in failures}


def test_the_gate_sees_a_broken_session_and_what_it_spoils(
    lab: Lab, gobgpd_factory: GobgpdFactory, orchestrator: OrchestratorProcess, engine: Engine
) -> None:
    plab = build(lab, gobgpd_factory, orchestrator, names=("e1", "r1", "i1"))
    routers, site = _network(plab)
    ids = list(routers.values())
    probe = _probe(engine, timeout=10)
    wait_for(lambda: probe.pending(router_ids=ids) == [], timeout=60, what="all applied")

    def healthy() -> HealthSnapshot | None:
        snap = probe.capture(router_ids=ids, site_ids=[site], checks=CHECKS)
        verdicts = [i.verdict for i in snap.intents.values()]
        return (
            snap
            if verdicts == ["VERIFIED"] and not probe.judge(snap, snap, checks=CHECKS)
            else None
        )

    before = wait_for(healthy, timeout=60, what="the far intent VERIFIED", interval=0.3)
    r1 = before.routers[routers["r1"]]
    assert r1.error is None and r1.originated == {OWN}
    assert {n.address: n.state for n in r1.neighbors.values()} == {
        E1_ON_R1: "ESTABLISHED",
        "198.18.2.2": "ESTABLISHED",
    }
    assert before.routers[routers["i1"]].best == {FAR, OWN}

    # r1 stops answering; the change waits for it, and a capture does not
    with plab.api() as api:
        neighbor = next(
            n["id"]
            for n in api.get("/v1/neighbors", params={"router": "r1"}).json()["items"]
            if n["address"] == E1_ON_R1
        )
        pid = plab.daemons["r1"].pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            answer = api.patch(f"/v1/neighbors/{neighbor}", json={"peer_asn": 65099})
            assert answer.is_success, answer.text
            assert probe.pending(router_ids=[routers["r1"]]) == [
                f"neighbor {E1_ON_R1} on r1: PENDING_UPDATE"
            ]
            started = time.monotonic()
            stalled = _probe(engine, timeout=1.5).capture(router_ids=[routers["r1"]], site_ids=[])
            took = time.monotonic() - started
        finally:
            os.kill(pid, signal.SIGCONT)
    assert took < 5.0, took  # the deadline, not the clients' 60 s
    silent = [f for f in probe.judge(before, stalled) if f.check == "reachable"]
    assert [f.router for f in silent] == ["r1"] and "1.5 s" in silent[0].detail, silent

    wait_for(lambda: probe.pending(router_ids=ids) == [], timeout=60, what="the change applied")

    def broken() -> list[GateFailure] | None:
        after = probe.capture(router_ids=ids, site_ids=[site], checks=CHECKS)
        failures = probe.judge(before, after, checks=CHECKS)
        wanted = {("r1", "session"), ("e1", "session"), (None, "intent"), ("i1", "rib_has")}
        return failures if wanted <= _keys(failures) else None

    failures = wait_for(broken, timeout=60, what="the gate failing", interval=0.3)
    by_key = {(f.router, f.check): f for f in failures}
    assert by_key["r1", "session"].detail.startswith(
        f"neighbor {E1_ON_R1} was ESTABLISHED, now "
    ), by_key["r1", "session"]
    assert by_key["e1", "session"].detail.startswith(f"neighbor {R1_ON_E1} was ESTABLISHED")
    assert by_key[None, "intent"].predicted == "VERIFIED"
    assert "s/far" in by_key[None, "intent"].detail
    prediction = by_key["r1", "prediction"]
    assert prediction.predicted["uplink"] == "up" and FAR in prediction.detail, prediction
    assert prediction.predicted["neighbor"] == E1_ON_R1 and prediction.observed["uplink"] is None
    assert by_key["i1", "rib_has"].detail == f"{FAR} has no best path in i1's RIB"
    # what the change did not touch passes: r1 still announces its own prefix, i1 has it
    assert ("r1", "announced") not in by_key and ("r1", "reachable") not in by_key
    assert [f for f in failures if OWN in f.detail] == []
    assert ("i1", "session") not in by_key
