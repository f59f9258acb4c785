"""The API fuzzed from its own OpenAPI contract (issue 10, item 14): schemathesis
against a served `sdwan serve` with a real gobgpd behind one router, bounded in time.
It fails on any 5xx, any status code or content type the contract does not list, and
any request the schema says is invalid but the server accepts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from sdwan.lab import GobgpdFactory
from sdwan.lab.server_process import ADMIN_TOKEN, LAB_API_ADDRESS_ALLOW, OrchestratorProcess

MAX_TIME = 120  # seconds of fuzzing
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,negative_data_rejection"
)


def test_fuzzing_the_contract_finds_nothing(gobgpd_factory: GobgpdFactory, tmp_path: Path) -> None:
    daemon = gobgpd_factory("fz")
    env = {
        "SDWAN_SSE_MAX_AGE": "1",  # event streams end, so a fuzzer's request returns
        "SDWAN_SSE_KEEPALIVE": "0.5",
        "SDWAN_API_ADDRESS_ALLOW": LAB_API_ADDRESS_ALLOW,
    }
    with OrchestratorProcess(tmp_path / "orch", extra_env=env) as orch, orch.client() as api:
        router = {"name": "fz1", "router_id": "192.0.2.1", "asn": 65001}
        made = api.post("/v1/routers", json={**router, "api_address": daemon.api_address})
        assert made.status_code == 201, made.text
        peer = {"router": "fz1", "address": "198.18.0.2", "peer_asn": 65002}
        assert api.post("/v1/neighbors", json=peer).status_code == 201
        schema = api.get("/v1/openapi.json")
        assert schema.status_code == 200
        contract = tmp_path / "openapi.json"
        contract.write_text(json.dumps(schema.json()))
        run = subprocess.run(
            [
                str(Path(sys.executable).with_name("st")),
                "run",
                str(contract),
                "--url",
                orch.url,
                "--header",
                f"Authorization: Bearer {ADMIN_TOKEN}",
                "--checks",
                CHECKS,
                "--max-time",
                str(MAX_TIME),
                "--request-timeout",
                "20",
                "--seed",
                "10",
                # logging out would revoke the fuzzer's own (bootstrap) token
                "--exclude-path",
                "/v1/auth/logout",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=MAX_TIME + 120,
            check=False,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
            cwd=tmp_path,  # schemathesis keeps its example database in the working dir
        )
        report = run.stdout[-15000:] + run.stderr[-3000:]
        assert run.returncode == 0, report
        assert httpx.get(f"{orch.url}/healthz", timeout=5).status_code == 200
        log = orch.log_tail(200)
        assert "Traceback" not in log, log
