"""Benchmark: a fleet of R gobgpd x N neighbors each, from empty, side by side in one run.

For each scenario, on the same daemons (reset with StopBgp between ways):
  floor       direct gRPC, every router at once with 32 AddPeer in flight each (the
              fastest direct client: grpc_floor.py)
  sequential  direct gRPC from a tight loop, routers one after another (StartBgp, then
              AddPeer per neighbor): the simplest client, a second reference
  original    one `gobgp` CLI process per operation (the 2016 system's way)
  sdwan     the orchestrator: POST /v1/routers/bulk and POST /v1/neighbors/bulk, timed
            until answered, until every peer is present on its gobgpd (read over gRPC
            by this script), and until every neighbor is ACTIVE in the API
plus the server's peak RSS, peak thread count and CPU seconds, and the CPU it costs
once the fleet is converged: a window of --steady seconds opened 10 s after the last
neighbor turned ACTIVE, as long as the read-back interval (default 60: every router's
jittered read-back, due 45-75 s after its last pass, runs about once in it).

Scenarios (default all): 100x100, 300x10, and "unreachable": a third of 100 routers
point at a gobgpd that does not run; the reachable two thirds are timed against the
same two thirds declared alone.

    .venv/bin/python bench/bench_fleet.py [--scenario 100x100 --scenario unreachable]
        [--workers 8] [--steady 60] [--no-original] [--db postgresql [--replicas 3]]

With --db (a URL, or "postgresql": a throwaway PostgreSQL 15 this run starts), the
orchestrator runs three ways on the same daemons and the figures are printed side by
side: SQLite (one process), PostgreSQL with one replica, and with --replicas of them
(the POSTs go to the first; CPU and RSS are the sum over the replicas, threads the
largest process). See bench/fleet_db.py.

Every gobgpd runs inside one network namespace of this run that has nothing but `lo`,
so the peers' connection attempts never leave it. Needs root (scripts/setup installs
gobgpd). Not a test: absolute times on a shared 2-core machine are noise; ratios are not.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import grpc_floor
from fleet_db import SQLITE, Backend, Databases, backends, compare, processes

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp._pb import gobgp_pb2_grpc as pb_grpc
from sdwan.lab import GobgpdProcess, wait_for
from sdwan.lab.netns import Namespace

PEER_ASN = 65000
LOCAL_ASN = 65001
SETTLE = 10.0  # seconds after convergence before the steady window opens


def neighbor_address(index: int) -> str:
    return f"198.18.{index // 250}.{index % 250 + 1}"


def router_id(index: int) -> str:
    return f"198.19.{index // 250}.{index % 250 + 1}"


@dataclass
class Scenario:
    name: str
    routers: int
    neighbors: int
    unreachable: int = 0  # routers declared with an address where no gobgpd answers


SCENARIOS = {
    "100x100": Scenario("100x100", 100, 100),
    "300x10": Scenario("300x10", 300, 10),
    "unreachable": Scenario("unreachable", 100, 100, unreachable=33),
}


# --- the daemons ------------------------------------------------------------------


class Fleet:
    """R gobgpd in one namespace, a gRPC stub per daemon (channels reused)."""

    def __init__(self, workdir: Path, namespace: Namespace, count: int) -> None:
        self.daemons = [
            GobgpdProcess(f"f{i}", workdir, namespace, log_level="warn") for i in range(count)
        ]
        self._channels: list[grpc.Channel] = []
        self.stubs: list[Any] = []

    def start(self) -> None:
        for daemon in self.daemons:
            daemon.launch()
        for daemon in self.daemons:
            daemon.wait_ready(timeout=60)
        for daemon in self.daemons:
            channel = grpc.insecure_channel(daemon.api_address)
            self._channels.append(channel)
            self.stubs.append(pb_grpc.GobgpApiStub(channel))

    def reset(self) -> None:
        """Every gobgpd back to empty (no BGP, no peers)."""
        for stub in self.stubs:
            stub.StopBgp(pb.StopBgpRequest(), timeout=30)
        for index in range(len(self.stubs)):
            assert self.peer_count(index) == 0

    def has_peer(self, index: int, address: str) -> bool:
        """One peer asked for by address: gobgpd sends one message, not all of them."""
        try:
            replies = self.stubs[index].ListPeer(pb.ListPeerRequest(address=address), timeout=30)
            return any(True for _ in replies)
        except grpc.RpcError:
            return False  # BGP not started yet, or no such peer

    def peer_count(self, index: int) -> int:
        try:
            replies = self.stubs[index].ListPeer(pb.ListPeerRequest(), timeout=30)
            return sum(1 for _ in replies)
        except grpc.RpcError:
            return 0  # BGP not started yet

    def close(self) -> None:
        for channel in self._channels:
            channel.close()
        for daemon in self.daemons:
            daemon.close()


def direct(fleet: Fleet, routers: list[int], n: int, way: grpc_floor.Way) -> float:
    """A floor of grpc_floor.py over ``routers``, each given the same n peers."""
    stubs = [fleet.stubs[index] for index in routers]
    starts = [grpc_floor.start_request(LOCAL_ASN, router_id(index)) for index in routers]
    peers = [grpc_floor.add_peer_request(neighbor_address(j), PEER_ASN) for j in range(n)]
    elapsed = way(stubs, starts, peers)
    assert all(fleet.peer_count(i) == n for i in routers)
    return elapsed


def original(fleet: Fleet, routers: list[int], n: int) -> float:
    def gobgp(target: str, *args: str) -> None:
        subprocess.run(
            ["gobgp", "--target", target, *args], check=True, capture_output=True, timeout=30
        )

    start = time.perf_counter()
    for index in routers:
        target = fleet.daemons[index].api_address
        # the CLI cannot say "do not listen" (-1): a port of its own in the namespace
        gobgp(target, "global", "as", str(LOCAL_ASN), "router-id", router_id(index),
              "listen-port", str(20000 + index))  # fmt: skip
        for j in range(n):
            gobgp(target, "neighbor", "add", neighbor_address(j), "as", str(PEER_ASN))
    elapsed = time.perf_counter() - start
    assert all(fleet.peer_count(i) == n for i in routers)
    return elapsed


# --- the server -------------------------------------------------------------------


@dataclass
class ProcessSample:
    peak_threads: int = 0
    peak_rss_mib: float = 0.0
    cpu_seconds: float = 0.0


def _status(pid: int) -> dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def cpu_seconds(pid: int) -> float:
    parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(parts[11]) + int(parts[12])) / ticks  # utime + stime


def total_cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


@contextmanager
def sampled(pids: list[int]) -> Iterator[ProcessSample]:
    """Peak threads of the busiest process and RSS (sampled every 50 ms), CPU seconds
    used inside, all processes together (replicas)."""
    sample = ProcessSample()
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            threads = max(int(_status(pid)["Threads"]) for pid in pids)
            sample.peak_threads = max(sample.peak_threads, threads)
            stop.wait(0.05)

    thread = threading.Thread(target=run, daemon=True)
    before = total_cpu(pids)
    thread.start()
    try:
        yield sample
    finally:
        stop.set()
        thread.join()
        sample.cpu_seconds = total_cpu(pids) - before
        sample.peak_rss_mib = sum(int(_status(pid)["VmHWM"].split()[0]) / 1024 for pid in pids)


@dataclass
class SdwanRun:
    answered: float = 0.0  # both bulk POSTs answered
    routers_answered: float = 0.0  # the first of them (the routers)
    present: float = 0.0  # every peer of a reachable router present on its gobgpd
    active: float = 0.0  # every neighbor of a reachable router ACTIVE in the API
    process: ProcessSample = field(default_factory=ProcessSample)
    steady_cpu_share: float | None = None  # of one core, once converged


def sdwan(
    fleet: Fleet,
    workdir: Path,
    reachable: list[int],
    unreachable: list[int],
    n: int,
    *,
    workers: int | None,
    steady: float,
    backend: Backend = SQLITE,
    databases: Databases | None = None,
) -> SdwanRun:
    args = ["--workers", str(workers)] if workers else []
    servers, replicas = processes(backend, workdir, databases, args)
    orch = servers[0]
    run = SdwanRun()
    routers = [
        {
            "name": f"r{i}",
            "router_id": router_id(i),
            "asn": LOCAL_ASN,
            "api_address": fleet.daemons[i].api_address
            if i in reachable
            else f"unix://{workdir}/absent-{i}.sock",
            "listen_port": -1,
        }
        for i in sorted(reachable + unreachable)
    ]
    neighbors = [
        {"router": f"r{i}", "address": neighbor_address(j), "peer_asn": PEER_ASN}
        for i in sorted(reachable + unreachable)
        for j in range(n)
    ]
    if replicas is not None:
        replicas.start()
    else:
        orch.start()
    try:
        pids = [p.pid for p in servers if p.pid is not None]
        assert len(pids) == len(servers)
        with orch.client() as api, sampled(pids) as process:
            start = time.perf_counter()
            answer = api.post("/v1/routers/bulk", json={"items": routers}, timeout=300)
            assert answer.status_code == 201, answer.text
            run.routers_answered = time.perf_counter() - start
            answer = api.post("/v1/neighbors/bulk", json={"items": neighbors}, timeout=300)
            assert answer.status_code == 201, answer.text
            run.answered = time.perf_counter() - start
            waiting = set(reachable)

            # the reconciler adds a router's peers in the order the store returns them
            # (declaration or address order): a router is counted in full only once
            # the last of either order is there, so that polling 100 gobgpd every
            # 10 ms does not stream them every peer they hold (CPU taken from the
            # server under test); the full count still decides
            last = {neighbor_address(n - 1), max(neighbor_address(j) for j in range(n))}

            def all_present() -> bool:
                for index in sorted(waiting):
                    near = all(fleet.has_peer(index, a) for a in last)
                    if near and fleet.peer_count(index) == n:
                        waiting.discard(index)
                return not waiting

            wait_for(all_present, timeout=600, what="every peer on its gobgpd", interval=0.01)
            run.present = time.perf_counter() - start

            def active_count() -> int:
                page = api.get("/v1/neighbors", params={"status": "ACTIVE", "limit": 1})
                total: int = page.json()["total"]
                return total

            wait_for(
                lambda: active_count() == len(reachable) * n,
                timeout=600,
                what="every reachable neighbor ACTIVE",
                interval=0.05,
            )
            run.active = time.perf_counter() - start
        run.process = process
        if steady > 0:
            time.sleep(SETTLE)  # counters read after the last session changes
            before = total_cpu(pids)
            time.sleep(steady)  # the measurement window itself, not a wait for a condition
            run.steady_cpu_share = (total_cpu(pids) - before) / steady
    finally:
        for server in servers:
            server.stop()
    return run


# --- report -----------------------------------------------------------------------


def ratio(value: float, base: float | None) -> str:
    return f"{value / base:.2f}x" if base else "-"


def report(
    scenario: Scenario,
    peers: int,
    t_floor: float,
    t_seq: float,
    t_cli: float | None,
    run: SdwanRun,
    control: SdwanRun | None,
) -> None:
    print(
        f"\n== {scenario.name}: {scenario.routers} gobgpd x {scenario.neighbors} neighbors", end=""
    )
    if scenario.unreachable:
        print(f", {scenario.unreachable} of them unreachable", end="")
    print(f" ({peers} peers to place)\n")
    print(f"{'':<52}{'seconds':>9}{'x floor':>9}{'x sequential':>14}{'x original':>12}")
    rows: list[tuple[str, float]] = [
        ("floor: direct gRPC, every router at once", t_floor),
        ("sequential: direct gRPC, one router after another", t_seq),
    ]
    if t_cli is not None:
        rows.append(("original: one gobgp CLI process per operation", t_cli))
    rows += [
        ("sdwan: both bulk POSTs answered", run.answered),
        ("sdwan: every peer present on its gobgpd", run.present),
        ("sdwan: every neighbor ACTIVE in the API", run.active),
    ]
    for label, seconds in rows:
        print(
            f"{label:<52}{seconds:>9.2f}{ratio(seconds, t_floor):>9}"
            f"{ratio(seconds, t_seq):>14}{ratio(seconds, t_cli):>12}"
        )
    p = run.process
    print(
        f"\nserver: peak threads {p.peak_threads}, peak RSS {p.peak_rss_mib:.0f} MiB, "
        f"CPU {p.cpu_seconds:.1f} s until all ACTIVE"
    )
    print(
        f"the bulk POSTs: routers answered in {run.routers_answered:.2f} s, neighbors "
        f"{run.answered - run.routers_answered:.2f} s after"
    )
    if run.steady_cpu_share is not None:
        print(f"server once converged: {100 * run.steady_cpu_share:.1f} % of one core")
    if control is not None:
        # from the answer of the bulk POSTs on: the POSTs themselves carry the unreachable
        # routers' neighbors too (stored, audited), work the reachable ones never wait for
        alone, beside = control.present - control.answered, run.present - run.answered
        print(
            f"the reachable {scenario.routers - scenario.unreachable} routers alone: answered "
            f"{control.answered:.2f} s, present {control.present:.2f} s, ACTIVE "
            f"{control.active:.2f} s\nwith the unreachable ones beside them: answered "
            f"{run.answered:.2f} s, present {run.present:.2f} s, ACTIVE {run.active:.2f} s\n"
            f"from the answer to every peer present: {alone:.2f} s alone, {beside:.2f} s "
            f"beside the unreachable ones ({100 * (beside / alone - 1):+.0f} %)"
        )
    if not scenario.unreachable:
        targets = [
            ("present <= 1.0x sequential", run.present <= t_seq),
            ("ACTIVE <= 1.5x sequential", run.active <= 1.5 * t_seq),
            ("bulk answered < 2 s", run.answered < 2.0),
            ("threads < 64", p.peak_threads < 64),
            ("RSS < 250 MiB", p.peak_rss_mib < 250),
        ]
        if run.steady_cpu_share is not None:
            targets.append(("converged < 5 % of a core", run.steady_cpu_share < 0.05))
        print("targets: " + "; ".join(f"{t}: {'met' if ok else 'MISSED'}" for t, ok in targets))
    elif control is not None:
        alone, beside = control.present - control.answered, run.present - run.answered
        ok = beside / alone - 1 < 0.20
        print(f"target: unreachable routers slow the rest < 20 %: {'met' if ok else 'MISSED'}")


def figures(run: SdwanRun, t_floor: float) -> dict[str, float | None]:
    steady = run.steady_cpu_share
    return {
        "answered": run.answered,
        "present": run.present,
        "active": run.active,
        "present_x": run.present / t_floor,
        "threads": run.process.peak_threads,
        "rss": run.process.peak_rss_mib,
        "cpu": run.process.cpu_seconds,
        "steady": None if steady is None else 100 * steady,
    }


def run_scenario(
    scenario: Scenario,
    work: Path,
    ns: Namespace,
    args: argparse.Namespace,
    databases: Databases | None,
) -> None:
    fleet = Fleet(work / scenario.name, ns, scenario.routers - scenario.unreachable)
    others: list[tuple[str, SdwanRun]] = []
    fleet.start()
    try:
        reachable = list(range(len(fleet.daemons)))
        peers = len(reachable) * scenario.neighbors
        t_floor = direct(fleet, reachable, scenario.neighbors, grpc_floor.pipelined)
        fleet.reset()
        t_seq = direct(fleet, reachable, scenario.neighbors, grpc_floor.sequential)
        t_cli = None
        if args.original:
            fleet.reset()
            t_cli = original(fleet, reachable, scenario.neighbors)
        control = None
        unreachable: list[int] = []
        if scenario.unreachable:
            fleet.reset()
            control = sdwan(
                fleet, work / f"{scenario.name}-alone", reachable, [], scenario.neighbors,
                workers=args.workers, steady=0,
            )  # fmt: skip
            unreachable = list(range(len(reachable), scenario.routers))
        fleet.reset()
        run = sdwan(
            fleet, work / f"{scenario.name}-sdwan", reachable, unreachable, scenario.neighbors,
            workers=args.workers, steady=0 if scenario.unreachable else args.steady,
        )  # fmt: skip
        for backend in backends(args.db, args.replicas)[1:]:
            if scenario.unreachable:
                break  # compared on the full fleets only
            fleet.reset()
            other = sdwan(
                fleet, work / f"{scenario.name}-{backend.replicas}", reachable, [],
                scenario.neighbors, workers=args.workers, steady=args.steady,
                backend=backend, databases=databases,
            )  # fmt: skip
            others.append((backend.label, other))
    finally:
        fleet.close()
    report(scenario, peers, t_floor, t_seq, t_cli, run, control)
    if others:
        runs = [(SQLITE.label, run), *others]
        compare(scenario.name, t_floor, [(label, figures(r, t_floor)) for label, r in runs])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--routers", type=int, help="a custom scenario: R routers ...")
    parser.add_argument("--neighbors", type=int, help="... with N neighbors each")
    parser.add_argument("--workers", type=int, help="sdwan serve --workers (default: its own)")
    parser.add_argument(
        "--steady", type=float, default=60.0, help="seconds of converged CPU measured (0: skip)"
    )
    parser.add_argument("--no-original", dest="original", action="store_false")
    parser.add_argument(
        "--db",
        help='PostgreSQL too: a URL, or "postgresql" for a throwaway server (bench/fleet_db.py)',
    )
    parser.add_argument("--replicas", type=int, default=3, help="replicas on PostgreSQL")
    args = parser.parse_args()
    chosen = [SCENARIOS[name] for name in args.scenario or SCENARIOS]
    if args.routers and args.neighbors:
        chosen = [Scenario(f"{args.routers}x{args.neighbors}", args.routers, args.neighbors)]
    ns = Namespace(f"bf{secrets.token_hex(3)}")
    ns.create()
    databases = Databases(args.db) if args.db else None
    try:
        with tempfile.TemporaryDirectory(prefix="sdwan-fleet-") as tmp:
            for scenario in chosen:
                run_scenario(scenario, Path(tmp), ns, args, databases)
    finally:
        if databases is not None:
            databases.close()
        ns.delete()


if __name__ == "__main__":
    main()
