"""One gobgpd declared twice, under two addresses the API cannot tell apart (it
listens on two sockets): the router declared later is not applied (ERROR) instead of
the two fighting over the gobgpd, and takes over once the first one is deleted."""

from __future__ import annotations

import time
from pathlib import Path

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.lab import GobgpdFactory, wait_for
from sdwan.lab.server_process import OrchestratorProcess


def _asn(stub: object) -> int:
    reply = stub.GetBgp(pb.GetBgpRequest(), timeout=5)  # type: ignore[attr-defined]
    return int(getattr(reply, "global").asn)


def test_a_gobgpd_declared_twice_is_not_fought_over(
    gobgpd_factory: GobgpdFactory, orchestrator: OrchestratorProcess, tmp_path: Path
) -> None:
    second = f"unix://{tmp_path}/second.sock"
    daemon = gobgpd_factory("twice", also_listen=[second])
    stub = daemon.grpc_stub()
    with orchestrator.client() as api:
        first = {
            "name": "FIRST",
            "router_id": "198.18.230.1",
            "asn": 65001,
            "api_address": daemon.api_address,
            "listen_port": -1,
        }
        assert api.post("/v1/routers", json=first).status_code == 201
        wait_for(lambda: _asn(stub) == 65001, timeout=15, what="FIRST applied")
        later = {**first, "name": "LATER", "router_id": "198.18.230.2", "asn": 65002}
        answer = api.post("/v1/routers", json={**later, "api_address": second})
        assert answer.status_code == 201, answer.text
        refused = wait_for(
            lambda: (r := api.get("/v1/routers/LATER").json())["status"] == "ERROR" and r,
            timeout=15,
            what="LATER refused",
        )
        assert "another router's identity" in refused["status_detail"]
        assert "FIRST" not in refused["status_detail"]  # no other router is named
        # over several of LATER's retries the gobgpd keeps FIRST's AS: nobody flips it
        window = time.monotonic() + 3.0
        while time.monotonic() < window:
            assert _asn(stub) == 65001
        assert api.get("/v1/routers/FIRST").json()["status"] == "ACTIVE"

        assert api.delete("/v1/routers/FIRST").status_code == 202
        wait_for(
            lambda: api.get("/v1/routers/FIRST").status_code == 404,
            timeout=15,
            what="FIRST gone",
        )
        wait_for(
            lambda: api.get("/v1/routers/LATER").json()["status"] == "ACTIVE",
            timeout=40,  # LATER's backoff may be at its longest
            what="LATER takes the gobgpd over",
        )
        assert _asn(stub) == 65002
