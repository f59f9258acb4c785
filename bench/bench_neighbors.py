"""Benchmark: declare N neighbors on one gobgpd and time until all are present on it.

Four ways, measured side by side in one run on fresh gobgpd daemons:
  floor       direct gRPC AddPeer, 32 calls in flight (the fastest direct client, and
              what sdwan does: grpc_floor.py)
  sequential  direct gRPC AddPeer, one after another (a second reference)
  original    one `gobgp` CLI process per neighbor (the 2016 system's way)
  sdwan       the orchestrator: one bulk POST, and N single POSTs (each waited for)
and prints times, ratios, the single-POST latency distribution and the server's RSS.

    .venv/bin/python bench/bench_neighbors.py [-n 1000]

Not a test: absolute times on a shared 2-core machine are noise; the ratios are not.
Needs root (its gobgpd run in a network namespace of their own) and gobgpd and gobgp
installed (scripts/setup).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import grpc_floor
import httpx

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.lab import GobgpdProcess, wait_for
from sdwan.lab.netns import Namespace
from sdwan.lab.server_process import OrchestratorProcess

PEER_ASN = 65000
START = grpc_floor.start_request(65001, "198.18.255.1")


def addresses(n: int) -> list[str]:
    return [f"198.18.{i // 250}.{i % 250 + 1}" for i in range(n)]


def start_bgp(daemon: GobgpdProcess) -> None:
    daemon.grpc_stub().StartBgp(START, timeout=10)


def peer_count(daemon: GobgpdProcess) -> int:
    return sum(1 for _ in daemon.grpc_stub().ListPeer(pb.ListPeerRequest(), timeout=30))


def has_peer(stub: object, address: str) -> bool:
    replies = stub.ListPeer(pb.ListPeerRequest(address=address), timeout=5)  # type: ignore[attr-defined]
    return any(True for _ in replies)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def direct(daemon: GobgpdProcess, addrs: list[str], way: grpc_floor.Way) -> float:
    """A floor of grpc_floor.py (StartBgp included) on ``daemon``."""
    peers = [grpc_floor.add_peer_request(address, PEER_ASN) for address in addrs]
    elapsed = way([daemon.grpc_stub()], [START], peers)
    assert peer_count(daemon) == len(addrs)
    return elapsed


def original(daemon: GobgpdProcess, addrs: list[str]) -> float:
    start_bgp(daemon)

    def run() -> None:
        for address in addrs:
            subprocess.run(
                [
                    "gobgp",
                    "--target",
                    daemon.api_address,
                    "neighbor",
                    "add",
                    address,
                    "as",
                    str(PEER_ASN),
                ],
                check=True,
                capture_output=True,
                timeout=30,
            )

    elapsed = timed(run)
    assert peer_count(daemon) == len(addrs)
    return elapsed


def make_router(
    api: httpx.Client, orch: OrchestratorProcess, name: str, daemon: GobgpdProcess
) -> None:
    body = {
        "name": name,
        "router_id": "198.18.255.1",
        "asn": 65001,
        "api_address": daemon.api_address,
        "listen_port": -1,
    }
    assert api.post("/v1/routers", json=body).status_code == 201
    wait_for(
        lambda: api.get(f"/v1/routers/{name}").json()["status"] == "ACTIVE",
        timeout=20,
        what=f"router {name} ACTIVE",
    )


def sdwan_bulk(
    api: httpx.Client, orch: OrchestratorProcess, daemon: GobgpdProcess, addrs: list[str]
) -> float:
    make_router(api, orch, "bulk", daemon)
    items = [{"router": "bulk", "address": a, "peer_asn": PEER_ASN} for a in addrs]
    stub = daemon.grpc_stub()
    last = max(addrs)  # the reconciler adds in sorted order

    def run() -> None:
        answer = api.post("/v1/neighbors/bulk", json={"items": items}, timeout=120)
        assert answer.status_code == 201, answer.text
        wait_for(lambda: has_peer(stub, last), timeout=120, what="last peer", interval=0.002)

    elapsed = timed(run)
    assert peer_count(daemon) == len(addrs)
    return elapsed


def sdwan_single(
    api: httpx.Client, orch: OrchestratorProcess, daemon: GobgpdProcess, addrs: list[str]
) -> tuple[float, list[float]]:
    make_router(api, orch, "single", daemon)
    stub = daemon.grpc_stub()
    latencies = []
    for address in addrs:
        start = time.perf_counter()
        answer = api.post(
            "/v1/neighbors", json={"router": "single", "address": address, "peer_asn": PEER_ASN}
        )
        assert answer.status_code == 201, answer.text
        wait_for(partial(has_peer, stub, address), timeout=10, what=address, interval=0.0005)
        latencies.append(time.perf_counter() - start)
    assert peer_count(daemon) == len(addrs)
    return sum(latencies), latencies


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="neighbors (default 1000)")
    args = parser.parse_args()
    addrs = addresses(args.n)
    # the daemons run in a namespace with nothing but lo: their peers' connection
    # attempts to 198.18.x.x fail there instead of leaving through a default route
    ns = Namespace(f"bn{secrets.token_hex(3)}")
    ns.create()
    with tempfile.TemporaryDirectory(prefix="sdwan-bench-") as tmp:
        work = Path(tmp)
        daemons = [GobgpdProcess(f"bench{i}", work, ns) for i in range(5)]
        orch = OrchestratorProcess(work / "orchestrator")
        try:
            for daemon in daemons:
                daemon.start()
            t_floor = direct(daemons[0], addrs, grpc_floor.pipelined)
            t_seq = direct(daemons[1], addrs, grpc_floor.sequential)
            t_cli = original(daemons[2], addrs)
            orch.start()
            with orch.client() as api:
                t_bulk = sdwan_bulk(api, orch, daemons[3], addrs)
                t_single, latencies = sdwan_single(api, orch, daemons[4], addrs)
            assert orch.pid is not None
            rss = rss_mib(orch.pid)
        finally:
            orch.stop()
            for daemon in daemons:
                daemon.close()
            ns.delete()
    n = args.n
    print(f"\n{n} neighbors on one gobgpd, until all are present on gobgpd\n")
    print(f"{'way':<42}{'seconds':>9}{'x floor':>9}{'x sequential':>14}{'x original':>12}")
    rows = [
        ("floor: direct gRPC, 32 AddPeer in flight", t_floor),
        ("sequential: direct gRPC AddPeer loop", t_seq),
        ("original: one gobgp CLI per peer", t_cli),
        ("sdwan: one bulk POST", t_bulk),
        ("sdwan: single POSTs, each waited", t_single),
    ]
    for label, seconds in rows:
        print(
            f"{label:<42}{seconds:>9.3f}{seconds / t_floor:>9.2f}{seconds / t_seq:>14.2f}"
            f"{seconds / t_cli:>12.3f}"
        )
    ms = [x * 1000 for x in latencies]
    print(
        f"\nsingle POST -> present on gobgpd: p50 {percentile(ms, 50):.1f} ms, "
        f"p90 {percentile(ms, 90):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
        f"max {max(ms):.1f} ms"
    )
    print(f"sdwan serve RSS after both runs ({2 * n} neighbors stored): {rss:.0f} MiB")
    print(
        f"targets: bulk <= 1.5x the sequential loop: "
        f"{'met' if t_bulk <= 1.5 * t_seq else 'MISSED'}; "
        f"single p50 < 15 ms: {'met' if percentile(ms, 50) < 15 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
