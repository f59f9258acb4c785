"""The peer's BGP identifier on real gobgpd: two routers peered over link addresses
that are not their router IDs show each other's router ID as ``remote_router_id``
(GET /v1/neighbors, ``sdwan neighbor show``) while the session is Established, and
null once it is not."""

from __future__ import annotations

from typing import Any

import httpx

from sdwan.lab import GobgpdFactory, Lab, wait_for
from sdwan.lab.server_process import OrchestratorProcess
from tests.support.lab import declare_peering

A_LINK, B_LINK = "198.18.102.1", "198.18.102.2"  # the veth: where the sessions run
A_ID, B_ID = "198.18.202.1", "198.18.202.2"  # router IDs, on no interface


def _by_router(api: httpx.Client) -> dict[str, dict[str, Any]]:
    answer = api.get("/v1/neighbors")
    assert answer.status_code == 200, answer.text
    return {n["router_name"]: n for n in answer.json()["items"]}


def _both_up(api: httpx.Client) -> dict[str, dict[str, Any]] | None:
    listed = _by_router(api)
    states = {n["session_state"] for n in listed.values()}
    return listed if len(listed) == 2 and states == {"ESTABLISHED"} else None


def test_a_session_reports_the_peers_router_id_while_established(
    lab: Lab, gobgpd_factory: GobgpdFactory, orchestrator: OrchestratorProcess
) -> None:
    with orchestrator.client() as api:
        _a, b, _ids = declare_peering(
            lab, gobgpd_factory, api, A_LINK, B_LINK, router_ids=(A_ID, B_ID)
        )
        up = wait_for(lambda: _both_up(api), timeout=40, what="both sessions ESTABLISHED")
        assert up["A"]["remote_router_id"] == B_ID, up["A"]
        assert up["B"]["remote_router_id"] == A_ID, up["B"]
        one = api.get(f"/v1/neighbors/{up['A']['id']}").json()
        assert (one["address"], one["remote_router_id"]) == (B_LINK, B_ID)

        shown = orchestrator.cli("neighbor", "show", f"A/{B_LINK}").stdout
        assert any("remote_router_id" in line and B_ID in line for line in shown.splitlines())

        b.kill()  # A's session leaves Established: the identifier goes with it
        down = wait_for(
            lambda: (n := _by_router(api)["A"])["session_state"] != "ESTABLISHED" and n,
            timeout=20,
            what="A's session down",
        )
        assert down["remote_router_id"] is None, down
