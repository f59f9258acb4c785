"""The original demo, end to end, through the orchestrator only.

``examples/original-demo/run`` (or ``python -m sdwan.lab.demo``): lab up; ``sdwan
serve`` on SQLite; the original's CLI steps in its order (routers, neighbors, the
next-hop-self policyinfo); then the checks the original made by hand: GoBGP-3's RIB
before and after the policy, VyOS-4 holding the far network, pc1 pinging the far LAN,
traceroute; VyOS-1 halts, its neighbor turns DOWN, traffic takes the backup path; the
outage is measured. The lab and the orchestrator keep running; ``run --down`` removes
both. Every check polls with a deadline; nothing is retried blindly.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdwan.lab.builder import LabRunner, default_root
from sdwan.lab.frr import vtysh
from sdwan.lab.orchestrator import ADMIN_TOKEN, OrchestratorProcess, free_port
from sdwan.lab.topology import load_topology
from sdwan.polling import wait_for

TOPOLOGY = Path(__file__).resolve().parents[3] / "examples" / "original-demo" / "topology.yaml"
FAR_NET = "203.0.113.0/24"
FAR_HOST = "203.0.113.3"  # VyOS-3 on the far LAN
PRIMARY_HOPS = ("198.18.31.1", "198.18.11.11")  # GoBGP-1, VyOS-1
BACKUP_HOPS = ("198.18.32.2", "198.18.22.22")  # GoBGP-2, VyOS-2


@dataclass
class DemoResult:
    prefix: str
    url: str
    rib_before: list[str] = field(default_factory=list)  # GoBGP-3's next hops
    rib_after: list[str] = field(default_factory=list)
    ping_before_policy: bool = True
    vyos4_route: str = ""
    ping_ok: bool = False
    traceroute: list[str] = field(default_factory=list)
    neighbor_down: bool = False
    best_after_failover: str | None = None
    ping_after_failover: bool = False
    traceroute_after: list[str] = field(default_factory=list)
    outage_s: float | None = None


QUIET = False


def say(text: str) -> None:
    if not QUIET:
        print(text, flush=True)


class Demo:
    def __init__(
        self,
        prefix: str,
        root: Path,
        port: int | None,
        *,
        fast_failover: bool = True,
        timers: tuple[int, int] | None = None,
    ) -> None:
        """``timers`` (hold, keepalive) are added to every neighbor (the original
        used gobgpd's defaults); ``fast_failover`` is the FIB agents' carrier reset."""
        self.runner = LabRunner(prefix, root)
        self.port = port
        self.fast_failover = fast_failover
        self.timers = timers
        self.orch: OrchestratorProcess | None = None

    # -- helpers -------------------------------------------------------------

    def sdwan(self, *args: str, show: bool = True) -> str:
        assert self.orch is not None
        if show:
            say("$ sdwan " + " ".join(args))
        out = self.orch.cli(*args).stdout
        if show and out.strip():
            say(out.rstrip())
        return out

    def node_run(
        self, node: str, argv: list[str], timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        return self.runner.ns(node).run(argv, check=False, timeout=timeout)

    def ping(self, count: int = 1) -> bool:
        return (
            self.node_run("pc1", ["ping", "-n", "-c", str(count), "-W", "1", FAR_HOST]).returncode
            == 0
        )

    def traceroute(self) -> list[str]:
        out = self.node_run("pc1", ["traceroute", "-n", "-q", "3", "-w", "1", FAR_HOST]).stdout
        say("$ sdwan lab exec pc1 -- traceroute -n " + FAR_HOST)
        say(out.rstrip())
        hops = []
        for line in out.splitlines()[1:]:
            found = re.search(r"\d+\.\d+\.\d+\.\d+", line)  # first answer of the hop
            hops.append(found.group(0) if found else "*")
        return hops

    def gobgp3_paths(self) -> list[dict[str, Any]]:
        body = json.loads(
            self.sdwan("rib", "show", "GoBGP-3", "--prefix", FAR_NET, "-o", "json", show=False)
        )
        items = body.get("items", body) if isinstance(body, dict) else body
        paths: list[dict[str, Any]] = []
        for item in items:
            paths += item.get("paths", [item])
        return paths

    def next_hops(self) -> list[str]:
        return sorted(str(p.get("next_hop")) for p in self.gobgp3_paths())

    def best_next_hop(self) -> str | None:
        best = [p.get("next_hop") for p in self.gobgp3_paths() if p.get("best")]
        return str(best[0]) if best else None

    def sessions(self) -> dict[str, str]:
        body = json.loads(self.sdwan("neighbor", "list", "-o", "json", show=False))
        items = body.get("items", body) if isinstance(body, dict) else body
        return {f"{n['router_name']}/{n['address']}": str(n.get("session")) for n in items}

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
        return wait_for(condition, timeout=timeout, what=what, interval=0.2)

    # -- the scenario ----------------------------------------------------------

    def run(self) -> DemoResult:
        result = DemoResult(prefix=self.runner.prefix, url="")
        say(f"== lab up ({TOPOLOGY})")
        topology = load_topology(TOPOLOGY)
        say(self.runner.up(topology, str(TOPOLOGY), fast_failover=self.fast_failover))
        state = self.runner.load()
        assert state is not None
        sock = {n: a for n, a in state.sockets.items()}

        say("== orchestrator (sdwan serve, SQLite)")
        self.orch = OrchestratorProcess(self.runner.labdir / "orchestrator", port=self.port)
        self.orch.start()
        self.runner.adopt("orchestrator", self.orch.pid or 0)
        result.url = self.orch.url
        say(f"sdwan serve at {self.orch.url}, log {self.orch.log_path}")

        say("== the original's steps: routers, neighbors")
        timer_flags: list[str] = []
        if self.timers:
            timer_flags = ["--hold-time", str(self.timers[0]), "--keepalive", str(self.timers[1])]
        for name, node, rid in (
            ("GoBGP-1", "gobgp1", "198.18.0.1"),
            ("GoBGP-2", "gobgp2", "198.18.0.2"),
            ("GoBGP-3", "gobgp3", "198.18.0.3"),
        ):
            self.sdwan(
                "router",
                "create",
                "--host_name",
                name,
                "--router_id",
                rid,
                "--local_as",
                "65001",
                "--mgmt_addr",
                sock[node],
            )
        for name, node, address, asn in (
            ("GoBGP-1", "gobgp1", "198.18.11.11", "65000"),
            ("GoBGP-1", "gobgp1", "198.18.31.3", "65001"),
            ("GoBGP-2", "gobgp2", "198.18.22.22", "65000"),
            ("GoBGP-2", "gobgp2", "198.18.32.3", "65001"),
            ("GoBGP-3", "gobgp3", "198.18.31.1", "65001"),
            ("GoBGP-3", "gobgp3", "198.18.32.2", "65001"),
            ("GoBGP-3", "gobgp3", "198.18.34.4", "65002"),
        ):
            self.sdwan(
                "neighbor",
                "create",
                "--host_name",
                name,
                "--neighbor_addr",
                address,
                "--peer_as",
                asn,
                "--mgmt_addr",
                sock[node],
                *timer_flags,
            )
        self.sdwan("router", "list")
        self.wait(lambda: set(self.sessions().values()) == {"UP"}, "every neighbor UP")
        self.sdwan("neighbor", "list")

        say("== GoBGP-3's RIB before the policy: next hops GoBGP-3 cannot reach")
        self.wait(lambda: len(self.next_hops()) == 2, "GoBGP-3 holding both paths")
        self.sdwan("rib", "show", "GoBGP-3")
        result.rib_before = self.next_hops()
        result.ping_before_policy = self.ping()
        answer = "reply" if result.ping_before_policy else "no reply"
        say(f"pc1 -> {FAR_HOST} before the policy: {answer}")

        say("== the original's next-hop-self policyinfo")
        for name, neighbor, exist in (
            ("GoBGP-1", "198.18.31.3", "New"),
            ("GoBGP-2", "198.18.32.3", "New"),
            ("GoBGP-3", "198.18.31.1", "New"),  # pc1's LAN towards GoBGP-1 and GoBGP-2
            ("GoBGP-3", "198.18.32.2", "Existing"),
        ):
            self.sdwan(
                "policyinfo",
                "create",
                "--host_name",
                name,
                "--policy_name",
                "policy1",
                "--statement_name",
                "statement1",
                "--statement_action",
                "next-hop self",
                "--route_disposition",
                "accept",
                "--apply_direction",
                "export",
                "--apply_neighbor",
                neighbor,
                "--exist",
                exist,
            )
        self.sdwan("policyinfo", "list")
        self.wait(
            lambda: self.next_hops() == sorted(BACKUP_HOPS[:1] + PRIMARY_HOPS[:1]),
            "GoBGP-3's next hops rewritten to its iBGP peers",
        )
        self.sdwan("rib", "show", "GoBGP-3")
        result.rib_after = self.next_hops()

        say("== VyOS-4 holds the far network")
        vyos4 = self.runner.lab.name("vyos4")

        def vyos4_route() -> str:
            out = vtysh(vyos4, f"show ip route {FAR_NET}")
            return out if "198.18.34.3" in out else ""

        result.vyos4_route = self.wait(vyos4_route, "VyOS-4 route to the far LAN")
        say(f"$ vtysh -N {vyos4} -c 'show ip route {FAR_NET}'\n{result.vyos4_route.rstrip()}")

        say("== pc1 pings the far LAN")
        result.ping_ok = bool(self.wait(self.ping, f"pc1 ping {FAR_HOST}"))
        say(self.node_run("pc1", ["ping", "-n", "-c", "3", "-i", "0.2", FAR_HOST]).stdout.rstrip())
        result.traceroute = self.traceroute()

        say("== VyOS-1 (primary upstream) halts")
        ping_log = self.runner.labdir / "failover-ping.txt"
        with ping_log.open("w") as fh:
            pinger = self.runner.ns("pc1").exec(
                ["ping", "-n", "-D", "-i", "0.01", "-W", "0.1", "-w", "15", FAR_HOST],
                stdout=fh,
                stderr=subprocess.DEVNULL,
            )
        self.wait(lambda: "bytes from" in ping_log.read_text(), "pings flowing", timeout=5)
        halted_at = time.time()
        self.runner.halt("vyos1")
        say(f"vyos1: daemons stopped, links down at {halted_at:.3f}")
        self.wait(lambda: self.sessions().get("GoBGP-1/198.18.11.11") == "DOWN", "neighbor DOWN")
        result.neighbor_down = True
        self.sdwan("neighbor", "list")
        self.wait(lambda: self.best_next_hop() == BACKUP_HOPS[0], "GoBGP-3 best path via GoBGP-2")
        result.best_after_failover = self.best_next_hop()
        self.sdwan("rib", "show", "GoBGP-3")
        result.ping_after_failover = bool(self.wait(self.ping, "ping after the failover"))
        result.traceroute_after = self.traceroute()
        pinger.wait(timeout=30)
        result.outage_s = outage(ping_log.read_text(), halted_at)
        say(
            f"== measured outage: {result.outage_s:.3f} s (10 ms pings from pc1)"
            if result.outage_s is not None
            else "== outage: could not be measured"
        )
        return result


def outage(ping_output: str, since: float) -> float | None:
    """Longest gap between consecutive replies after ``since`` (ping -D timestamps)."""
    stamps = [float(m) for m in re.findall(r"^\[(\d+\.\d+)\] \d+ bytes from", ping_output, re.M)]
    before = [t for t in stamps if t <= since]
    after = [t for t in stamps if t > since]
    if not before or not after:
        return None
    points = [before[-1], *after]
    return max(b - a for a, b in itertools.pairwise(points))


def teardown(prefix: str, root: Path) -> None:
    runner = LabRunner(prefix, root)
    runner.down()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefix", default="demo")
    parser.add_argument("--lab-dir", type=Path, default=default_root())
    parser.add_argument("--port", type=int, default=None, help="API port (default 9998 if free)")
    parser.add_argument("--down", action="store_true", help="remove the lab and orchestrator")
    args = parser.parse_args(argv)
    if args.down:
        teardown(args.prefix, args.lab_dir)
        say(f"lab {args.prefix} and its orchestrator removed")
        return 0
    port = args.port or (9998 if _port_free(9998) else free_port())
    demo = Demo(args.prefix, args.lab_dir, port)
    try:
        result = demo.run()
    except BaseException:
        say("demo failed: removing the lab")
        teardown(args.prefix, args.lab_dir)
        raise
    here = os.path.relpath(Path(__file__).resolve().parents[3] / "examples/original-demo/run")
    say(f"""
== left running for you to explore (outage {result.outage_s}s)
dashboard: {result.url}/ui/ (log in with the token {ADMIN_TOKEN})
export SDWAN_URL={result.url} SDWAN_TOKEN={ADMIN_TOKEN}
sdwan neighbor list ; sdwan rib show GoBGP-3
sdwan lab exec pc1 -- traceroute -n {FAR_HOST}
vtysh -N {args.prefix}-vyos4 -c 'show ip bgp'
tear down: {here} --down""")
    return 0


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


if __name__ == "__main__":
    sys.exit(main())
