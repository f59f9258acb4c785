"""The original demo, end to end, through the orchestrator only, its policy as intent.

``examples/original-demo/run`` (or ``python -m sdwan.lab.demo``): lab up; ``sdwan
serve`` on SQLite; the original's CLI steps in its order (routers, neighbors); GoBGP-3's
RIB with next hops it cannot reach; then, where the original typed next-hop-self
policyinfo router by router and relied on VyOS-2's AS-path prepend, one intent file
(``examples/original-demo/intent.yaml``: site hq, uplinks vyos1 and vyos2, "reach the
far LAN over vyos1, vyos2 as backup"), planned, applied and verified against gobgpd
and the kernel; pc1 pings and traceroutes the far LAN; VyOS-1 halts (its neighbor
turns DOWN, traffic takes the backup, the intent turns DEGRADED, the outage is
measured); VyOS-1 comes back (VERIFIED again); one intent change flips the preference
and traceroute takes the other upstream with no session reset. The lab and the
orchestrator keep running; ``run --down`` removes both.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sdwan import figures
from sdwan.lab import demo_tools
from sdwan.lab.builder import LabRunner, default_root
from sdwan.lab.demo_tools import LabTools, outage, say
from sdwan.lab.frr import vtysh
from sdwan.lab.resume import resume
from sdwan.lab.server_process import ADMIN_TOKEN, OrchestratorProcess, free_port
from sdwan.lab.topology import load_topology

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "original-demo"
TOPOLOGY = EXAMPLE / "topology.yaml"
INTENT_FILE = EXAMPLE / "intent.yaml"
INTENT = "hq/far-lan"
FAR_NET = "203.0.113.0/24"
LAN = "198.51.100.0/24"  # pc1's LAN: the site's own prefix
FAR_HOST = "203.0.113.3"  # VyOS-3 on the far LAN
PRIMARY_HOPS = ("198.18.31.1", "198.18.11.11")  # GoBGP-1, VyOS-1
BACKUP_HOPS = ("198.18.32.2", "198.18.22.22")  # GoBGP-2, VyOS-2
QUIET = False  # kept for bench/bench_failover.py: silences the demo


@dataclass
class DemoResult:
    prefix: str
    url: str
    rib_before: list[str] = field(default_factory=list)  # GoBGP-3's next hops
    rib_after: list[str] = field(default_factory=list)
    ping_before_policy: bool = True
    plan: dict[str, Any] = field(default_factory=dict)  # the fleet plan of intent.yaml
    verified: dict[str, Any] = field(default_factory=dict)  # the first VERIFIED
    kernel_gobgp3: str | None = None  # the FIB agent's gateway on GoBGP-3
    return_paths: dict[str, str] = field(default_factory=dict)  # AS path of the LAN
    vyos4_route: str = ""
    ping_ok: bool = False
    traceroute: list[str] = field(default_factory=list)
    neighbor_down: bool = False
    best_after_failover: str | None = None
    degraded: dict[str, Any] = field(default_factory=dict)
    ping_after_failover: bool = False
    traceroute_after: list[str] = field(default_factory=list)
    outage_s: float | None = None
    verified_again: dict[str, Any] = field(default_factory=dict)
    traceroute_back: list[str] = field(default_factory=list)
    flip_plan: str = ""
    traceroute_flipped: list[str] = field(default_factory=list)
    verified_flipped: dict[str, Any] = field(default_factory=dict)
    sessions_kept: bool = False  # no session reset by the flip


class Demo(LabTools):
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

    def run(self, *, stop_after_failover: bool = False) -> DemoResult:
        demo_tools.QUIET = QUIET
        result = self.setup()
        self.before_intent(result)
        self.apply_intent(result)
        self.checks(result)
        self.failover(result)
        if not stop_after_failover:
            self.recovery(result)
            self.flip(result)
        return result

    def setup(self) -> DemoResult:
        say(f"== lab up ({TOPOLOGY})")
        say(
            self.runner.up(load_topology(TOPOLOGY), str(TOPOLOGY), fast_failover=self.fast_failover)
        )
        state = self.runner.load()
        assert state is not None
        say("== orchestrator (sdwan serve, SQLite)")
        self.orch = OrchestratorProcess(self.runner.labdir / "orchestrator", port=self.port)
        self.orch.start()
        self.runner.adopt("orchestrator", self.orch.pid or 0, self.orch.process)
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
                state.sockets[node],
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
                state.sockets[node],
                *timer_flags,
            )
        self.sdwan("router", "list")
        self.wait(lambda: set(self.sessions().values()) == {"UP"}, "every neighbor UP")
        self.sdwan("neighbor", "list")
        return DemoResult(prefix=self.runner.prefix, url=self.orch.url)

    def before_intent(self, result: DemoResult) -> None:
        say("== GoBGP-3's RIB before any policy: next hops GoBGP-3 cannot reach")
        self.wait(
            lambda: len(self.next_hops("GoBGP-3", FAR_NET)) == 2, "GoBGP-3 holding both paths"
        )
        self.sdwan("rib", "show", "GoBGP-3")
        result.rib_before = self.next_hops("GoBGP-3", FAR_NET)
        result.ping_before_policy = self.ping("pc1", FAR_HOST)
        say(f"pc1 -> {FAR_HOST}: {'reply' if result.ping_before_policy else 'no reply'}")

    def apply_intent(self, result: DemoResult) -> None:
        say(f"== the policy as intent ({INTENT_FILE.name}): plan, then apply")
        self.sdwan("apply", "-f", str(INTENT_FILE), "--dry-run")
        result.plan = self._json("apply", "-f", str(INTENT_FILE), "--dry-run", "-o", "json")
        self.sdwan("apply", "-f", str(INTENT_FILE))
        self.wait(lambda: self.intent(INTENT)["status"] == "ACTIVE", "intent applied")
        self.wait(
            lambda: self.next_hops("GoBGP-3", FAR_NET) == sorted((BACKUP_HOPS[0], PRIMARY_HOPS[0])),
            "GoBGP-3's next hops rewritten to its iBGP peers (next hop self)",
        )
        self.sdwan("rib", "show", "GoBGP-3")
        result.rib_after = self.next_hops("GoBGP-3", FAR_NET)

    def checks(self, result: DemoResult) -> None:
        say("== prediction against gobgpd and the kernel")
        result.verified = self.wait_verdict(INTENT, "VERIFIED")
        self.sdwan("intent", "show", INTENT)
        result.kernel_gobgp3 = self.wait(
            lambda: self.kernel_route("gobgp3", FAR_NET), "GoBGP-3's kernel route"
        )
        say(
            f"$ sdwan lab exec gobgp3 -- ip route show {FAR_NET} proto 186"
            f": via {result.kernel_gobgp3}"
        )
        say("== the return direction: VyOS-2 sees the site's LAN with the prepends")
        for node, hops in (("vyos1", 2), ("vyos2", 4)):  # vyos2: two prepends
            result.return_paths[node] = self.wait(
                partial(self._as_path_of_length, node, hops), f"{node}: {LAN} over {hops} ASes"
            )
            say(f"{node}: {LAN} AS path {result.return_paths[node]}")
        vyos4 = self.runner.lab.name("vyos4")

        def vyos4_route() -> str:
            out = vtysh(vyos4, f"show ip route {FAR_NET}")
            return out if "198.18.34.3" in out else ""

        result.vyos4_route = self.wait(vyos4_route, "VyOS-4 route to the far LAN")
        say("== pc1 pings the far LAN")
        result.ping_ok = bool(self.wait(lambda: self.ping("pc1", FAR_HOST), f"pc1 ping {FAR_HOST}"))
        result.traceroute = self.traceroute("pc1", FAR_HOST)

    def failover(self, result: DemoResult) -> None:
        say("== VyOS-1 (the primary upstream) halts")
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
        self.wait(
            lambda: self.best_next_hop("GoBGP-3", FAR_NET) == BACKUP_HOPS[0],
            "GoBGP-3 best path via GoBGP-2",
        )
        result.best_after_failover = self.best_next_hop("GoBGP-3", FAR_NET)
        result.degraded = self.wait_verdict(INTENT, "DEGRADED")
        self.sdwan("intent", "list")
        result.ping_after_failover = bool(self.wait(lambda: self.ping("pc1", FAR_HOST), "ping"))
        result.traceroute_after = self.traceroute("pc1", FAR_HOST)
        pinger.wait(timeout=30)
        result.outage_s = outage(ping_log.read_text(), halted_at)
        say(f"== measured outage: {figures.seconds(result.outage_s)} (10 ms pings from pc1)")

    def recovery(self, result: DemoResult) -> None:
        say("== VyOS-1 comes back")
        resume(self.runner, "vyos1")
        self.wait(lambda: self.sessions().get("GoBGP-1/198.18.11.11") == "UP", "neighbor UP", 90)
        result.verified_again = self.wait_verdict(INTENT, "VERIFIED", timeout=90)
        self.sdwan("intent", "list")
        self.wait(
            lambda: self.traceroute("pc1", FAR_HOST, show=False)[2:4] == list(PRIMARY_HOPS),
            "traffic on the primary again",
        )
        result.traceroute_back = self.traceroute("pc1", FAR_HOST)

    def flip(self, result: DemoResult) -> None:
        say("== one intent change: prefer vyos2, vyos1 as backup")
        before = {
            k: (n.get("flap_count"), n.get("established_since"))
            for k, n in self.neighbors().items()
        }
        result.flip_plan = self.sdwan(
            "intent", "plan", INTENT, "--prefer", "vyos2", "--prefer", "vyos1"
        )
        self.sdwan("intent", "set", INTENT, "--prefer", "vyos2", "--prefer", "vyos1", "--wait")
        self.wait(
            lambda: self.traceroute("pc1", FAR_HOST, show=False)[2:4] == list(BACKUP_HOPS),
            "traffic on vyos2",
        )
        result.traceroute_flipped = self.traceroute("pc1", FAR_HOST)
        result.verified_flipped = self.wait_verdict(INTENT, "VERIFIED")
        after = {
            k: (n.get("flap_count"), n.get("established_since"))
            for k, n in self.neighbors().items()
        }
        result.sessions_kept = before == after
        say(f"sessions reset by the flip: {'none' if result.sessions_kept else 'SOME'}")

    def _as_path_of_length(self, node: str, hops: int) -> str | None:
        path = self.frr_as_path(node, LAN)
        return path if len(path.split()) == hops else None

    def _json(self, *args: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.sdwan(*args, show=False))
        return found


def teardown(prefix: str, root: Path) -> None:
    LabRunner(prefix, root).down()


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
    here = os.path.relpath(EXAMPLE / "run")
    say(f"""
== left running for you to explore (outage {result.outage_s}s)
dashboard: {result.url}/ui/ (log in with the token {ADMIN_TOKEN})
export SDWAN_URL={result.url} SDWAN_TOKEN={ADMIN_TOKEN}
sdwan intent show {INTENT} ; sdwan intent plan {INTENT} ; sdwan rib show GoBGP-3
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
