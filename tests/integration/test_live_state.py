"""Live session state on real gobgpd pairs in namespaces: Established, DOWN with a
reason when the peer daemon dies, UP when it returns; a restarted gobgpd healed; an
orchestrator restart that resets nothing (checked on gobgpd itself)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.lab import GobgpdFactory, GobgpdProcess, Lab, wait_for
from sdwan.lab.server_process import OrchestratorProcess
from tests.support.backends import BOTH_BACKENDS
from tests.support.lab import declare_peering
from tests.support.waits import wait_status

pytestmark = BOTH_BACKENDS

A_ADDR, B_ADDR = "198.18.101.1", "198.18.101.2"


@dataclass
class LivePair:
    a: GobgpdProcess
    b: GobgpdProcess
    a_neighbor: str  # id of A's neighbor B
    b_neighbor: str


def _peer(gobgpd: GobgpdProcess, address: str) -> pb.Peer:
    request = pb.ListPeerRequest(address=address)
    replies: list[pb.ListPeerResponse] = list(gobgpd.grpc_stub().ListPeer(request, timeout=5))
    assert len(replies) == 1, f"{gobgpd.name} has no peer {address}"
    return replies[0].peer


def _neighbor(api: httpx.Client, neighbor_id: str) -> dict[str, Any]:
    answer = api.get(f"/v1/neighbors/{neighbor_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _session_is(api: httpx.Client, neighbor_id: str, state: str) -> dict[str, Any] | None:
    body = _neighbor(api, neighbor_id)
    return body if body["session_state"] == state else None


def _full_runs(api: httpx.Client, router: str) -> int:
    series = f'sdwan_reconcile_runs_total{{kind="full",router="{router}"}} '
    for line in api.get("/metrics").text.splitlines():
        if line.startswith(series):
            return int(float(line.split()[-1]))
    return 0


@pytest.fixture
def live_orchestrator(
    tmp_path: Path, lab_environment: object, backend: str | None
) -> Iterator[OrchestratorProcess]:
    proc = OrchestratorProcess(
        tmp_path / "orchestrator",
        extra_env={"SDWAN_RECONCILE_INTERVAL": "2"},
        database_url=backend,
    )
    proc.start()
    yield proc
    proc.stop()
    log = proc.log_path.read_text(errors="replace")
    assert "Traceback" not in log, proc.log_tail(60)


@pytest.fixture
def live_pair(
    lab: Lab, gobgpd_factory: GobgpdFactory, live_orchestrator: OrchestratorProcess
) -> LivePair:
    with live_orchestrator.client() as api:
        a, b, ids = declare_peering(lab, gobgpd_factory, api, A_ADDR, B_ADDR)
    return LivePair(a, b, ids[0], ids[1])


def test_session_up_down_with_reason_and_up_again(
    live_pair: LivePair, live_orchestrator: OrchestratorProcess
) -> None:
    with live_orchestrator.client() as api:
        up = wait_for(
            lambda: _session_is(api, live_pair.a_neighbor, "ESTABLISHED"),
            timeout=40,
            what="A's session ESTABLISHED through the API",
        )
        assert up["session"] == "UP" and up["established_since"] and up["uptime"] >= 0
        assert up["prefixes_received"] == 0 and up["prefixes_accepted"] == 0
        assert up["flap_count"] == 0
        version = up["version"]

        live_pair.b.kill()  # the peer daemon dies
        down = wait_for(
            lambda: (
                _session_is(api, live_pair.a_neighbor, "ACTIVE")
                or _session_is(api, live_pair.a_neighbor, "IDLE")
                or _session_is(api, live_pair.a_neighbor, "CONNECT")
            ),
            timeout=20,
            what="A's session down through the API",
        )
        assert down["session"] == "DOWN"
        assert down["flap_count"] == 1
        assert down["last_down_reason"].startswith("connection lost"), down
        assert down["version"] == version  # live state is not desired state: same ETag
        # the watch stream and the reconciler's probe notice it independently
        router_b = wait_for(
            lambda: (
                (r := api.get("/v1/routers/B").json())["reachable"] is False
                and r["status"] == "ERROR"
                and r
            ),
            timeout=10,
            what="router B unreachable and ERROR",
        )
        assert "unreachable" in router_b["status_detail"]
        b_session = _neighbor(api, live_pair.b_neighbor)
        assert b_session["session_state"] == "UNKNOWN"
        assert (
            "unreachable" in b_session["last_down_reason"]
            or "broke" in b_session["last_down_reason"]
        )

        live_pair.b.start()  # back, empty: the orchestrator gives it its config again
        wait_for(
            lambda: _session_is(api, live_pair.a_neighbor, "ESTABLISHED"),
            timeout=40,
            what="A's session ESTABLISHED again",
        )
        b_again = wait_for(
            lambda: _session_is(api, live_pair.b_neighbor, "ESTABLISHED"),
            timeout=20,
            what="B's session ESTABLISHED again",
        )
        assert b_again["flap_count"] == 1
        router_b = api.get("/v1/routers/B").json()
        assert router_b["reachable"] is True and router_b["status"] == "ACTIVE"
        kinds = {e["kind"] for e in api.get("/v1/events", params={"limit": 1000}).json()["items"]}
        assert {"session.changed", "router.reachability", "status.changed"} <= kinds


def test_orchestrator_restart_resets_no_session_on_gobgpd(
    live_pair: LivePair, live_orchestrator: OrchestratorProcess
) -> None:
    with live_orchestrator.client() as api:
        wait_for(
            lambda: (
                _session_is(api, live_pair.a_neighbor, "ESTABLISHED")
                and _session_is(api, live_pair.b_neighbor, "ESTABLISHED")
            ),
            timeout=40,
            what="both sessions ESTABLISHED",
        )

    def on_gobgpd() -> tuple[int, ...]:
        a, b = _peer(live_pair.a, B_ADDR), _peer(live_pair.b, A_ADDR)
        return (
            a.state.flops,
            b.state.flops,
            a.timers.state.uptime.seconds,
            b.timers.state.uptime.seconds,
            a.state.session_state,
            b.state.session_state,
        )

    before = on_gobgpd()
    live_orchestrator.stop()
    live_orchestrator.start()
    with live_orchestrator.client() as api:
        for name in ("A", "B"):
            wait_status(live_orchestrator, f"/v1/routers/{name}", "ACTIVE")

        # two full read-backs each (start, then the 2 s periodic pass): nothing to do
        wait_for(
            lambda: all(_full_runs(api, name) >= 2 for name in ("A", "B")),
            timeout=15,
            what="two full passes on both routers",
        )
        after_api = _neighbor(api, live_pair.a_neighbor)
    assert on_gobgpd() == before
    assert before[4] == pb.PeerState.ESTABLISHED
    assert after_api["session_state"] == "ESTABLISHED" and after_api["flap_count"] == 0
