"""A real `sdwan serve --log-format json` driving a real gobgpd: every line of its log
is one JSON event, a request's lines share its id and end with the access line, and
/metrics (the Prometheus client library's exposition) has the process's, the API's,
the reconciler's and the gRPC client's families beside the ones dashboards used
before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from sdwan.lab import GobgpdFactory, wait_for
from sdwan.lab.server_process import OrchestratorProcess

OLD_FAMILIES = {  # name -> type, as dashboards read them
    "sdwan_reconcile_runs": "counter",
    "sdwan_reconcile_errors": "counter",
    "sdwan_drift_detected": "counter",
    "sdwan_drift_repairs": "counter",
    "sdwan_watch_reconnects": "counter",
    "sdwan_reconcile_duration_seconds": "histogram",
    "sdwan_bgp_sessions": "gauge",
    "sdwan_bgp_prefixes_received": "gauge",
    "sdwan_gobgpd_reachable": "gauge",
    "sdwan_event_stream_subscribers": "gauge",
}
NEW_FAMILIES = {
    "process_cpu_seconds": "counter",
    "process_resident_memory_bytes": "gauge",
    "python_gc_collections": "counter",
    "sdwan_http_request_duration_seconds": "histogram",
    "sdwan_gobgp_call_duration_seconds": "histogram",
    "sdwan_reconcile_queue_depth": "gauge",
    "sdwan_reconcile_queue_scheduled": "gauge",
    "sdwan_reconcile_workers_busy": "gauge",
}


def _events(log: Path) -> list[dict[str, Any]]:
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    return [json.loads(line) for line in lines]


def test_json_logs_request_ids_and_metrics(
    tmp_path: Path, lab_environment: object, gobgpd_factory: GobgpdFactory
) -> None:
    daemon = gobgpd_factory("o1")
    server = OrchestratorProcess(tmp_path / "orchestrator", extra_args=["--log-format", "json"])
    server.start(timeout=60)  # a loaded machine: the import alone may take 20 s
    try:
        with server.client() as api:
            body = {
                "name": "R1",
                "router_id": "198.18.230.1",
                "asn": 65001,
                "api_address": daemon.api_address,
                "listen_port": -1,
            }
            created = api.post("/v1/routers", json=body, headers={"X-Request-Id": "it-create-1"})
            assert created.status_code == 201
            assert created.headers["x-request-id"] == "it-create-1"
            nowhere = {
                **body,
                "name": "R2",
                "router_id": "198.18.230.2",
                "api_address": "127.0.0.1:1",
            }
            assert api.post("/v1/routers", json=nowhere).status_code == 201
            refused = httpx.get(
                f"{server.url}/v1/routers?limit=5",
                headers={"Authorization": "Bearer wrong-token-xyz", "X-Request-Id": "it-401"},
            )
            assert refused.status_code == 401 and refused.headers["x-request-id"] == "it-401"
            wait_for(
                lambda: api.get(f"/v1/routers/{created.json()['id']}").json()["status"] == "ACTIVE",
                timeout=20,
                what="R1 ACTIVE",
            )
            peers = [
                {"router": "R1", "address": f"198.18.231.{i}", "peer_asn": 65002} for i in (1, 2)
            ]
            assert api.post("/v1/neighbors/bulk", json={"items": peers}).status_code == 201
            wait_for(
                lambda: all(
                    n["status"] == "ACTIVE"
                    for n in api.get("/v1/neighbors", params={"router": "R1"}).json()["items"]
                ),
                timeout=20,
                what="R1's neighbors ACTIVE",
            )
            metrics = api.get("/metrics")

            def logged() -> list[dict[str, Any]]:
                events = _events(server.log_path)
                done = {e.get("request_id") for e in events if e["logger"] == "sdwan.access"}
                failed = any(e.get("router") == "R2" for e in events)
                return events if {"it-create-1", "it-401"} <= done and failed else []

            events = wait_for(logged, timeout=10, what="the access lines")
    finally:
        server.stop()

    # every line of the log is one JSON event, the server's own announcement too
    assert len(events) == len(server.log_path.read_text().splitlines())
    assert any(e["logger"] == "sdwan.server" and "API http" in e["message"] for e in events)
    for event in events:
        assert {"time", "level", "logger", "message"} <= event.keys()

    # the refused request: its reason and its access line, one id, no token anywhere
    mine = [e for e in events if e.get("request_id") == "it-401"]
    assert [e["logger"] for e in mine] == ["sdwan.api.errors", "sdwan.access"]
    access = mine[-1]
    assert (access["method"], access["route"], access["status"]) == ("GET", "/v1/routers", 401)
    assert "wrong-token-xyz" not in server.log_path.read_text()
    created_line = next(e for e in events if e.get("request_id") == "it-create-1")
    assert created_line["route"] == "/v1/routers" and created_line["status"] == 201
    assert created_line["principal"] and isinstance(created_line["duration_ms"], float)
    # the lines of a reconcile pass name its router: R2's gobgpd does not answer
    failed = [e for e in events if e.get("router") == "R2"]
    assert failed[0]["logger"] == "sdwan.reconcile.reconciler" and failed[0]["router_id"]
    assert "unreachable" in failed[0]["message"] and failed[0]["level"] == "warning"

    # /metrics: the old families as before, and the new ones
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(metrics.text)}
    for name, kind in {**OLD_FAMILIES, **NEW_FAMILIES}.items():
        assert families[name].type == kind, name
    runs = [s for s in families["sdwan_reconcile_runs"].samples if s.labels.get("router") == "R1"]
    assert runs and set(runs[0].labels) == {"router", "kind"}
    grpc_calls = {
        (s.labels["method"], s.labels["code"]): s.value
        for s in families["sdwan_gobgp_call_duration_seconds"].samples
        if s.name.endswith("_count")
    }
    for method in ("GetBgp", "StartBgp", "ListPeer"):
        assert grpc_calls[(method, "OK")] >= 1, method
    assert grpc_calls[("AddPeer", "OK")] >= 2  # pipelined futures, timed when done
    assert any(code == "UNAVAILABLE" for method, code in grpc_calls)  # R2's
    routes = {
        (s.labels["method"], s.labels["route"], s.labels["status"])
        for s in families["sdwan_http_request_duration_seconds"].samples
        if s.name.endswith("_count")
    }
    assert ("POST", "/v1/routers", "2xx") in routes and ("GET", "/v1/routers", "4xx") in routes
    assert all("wrong-token" not in str(route) for route in routes)
