"""The second intent example, end to end: two sites, two uplinks each
(``examples/two-sites``), through the orchestrator only.

``python -m sdwan.lab.two_sites [--down]``: lab up; ``sdwan serve``; the two routers,
their neighbors and their LANs (announcements); the intent file (plan, apply; Tokyo's
intent with the SLA class gold); both intents verified against gobgpd and the
kernels, traffic over MPLS both ways and the Internet uplinks' exports prepended; the
MPLS provider halts (both intents DEGRADED, traffic over the Internet provider), comes
back (VERIFIED); one change makes Tokyo prefer the Internet: traceroute follows; then
both sites put both uplinks in one tier: the FIB agent installs both (equal cost); no
session reset on the way.

For SLA steering (tests/integration/test_two_sites_sla.py, bench/bench_sla.py),
``setup`` and ``apply_intents`` bring it up to the first verification; then
``impair_primary`` / ``clear_primary`` degrade Tokyo's MPLS link (``sdwan lab
impair``), ``tokyo_provider`` says which provider Tokyo's kernel sends Osaka's LAN to,
``tokyo_best`` which one gobgpd's best path uses (and LabTools' ``steering_events``
what the orchestrator moved and why)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sdwan.lab import demo_tools
from sdwan.lab.builder import LabRunner, default_root
from sdwan.lab.demo_tools import LabTools, say
from sdwan.lab.impair import Applied
from sdwan.lab.resume import resume
from sdwan.lab.server_process import OrchestratorProcess, free_port
from sdwan.lab.topology import load_topology

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "two-sites"
TOKYO_LAN, OSAKA_LAN = "198.51.100.0/24", "203.0.113.0/24"
TOKYO_PC, OSAKA_PC = "198.51.100.10", "203.0.113.10"
ROUTERS = {  # name: (router id, AS, LAN, neighbors)
    "tk": ("198.18.0.10", 65010, TOKYO_LAN, (("198.18.41.100", 65100), ("198.18.51.200", 65200))),
    "os": ("198.18.0.20", 65020, OSAKA_LAN, (("198.18.42.100", 65100), ("198.18.52.200", 65200))),
}
MPLS_HOP, INET_HOP = "198.18.41.100", "198.18.51.200"  # Tokyo's next hops
PROVIDERS = {MPLS_HOP: "mpls", INET_HOP: "inet"}
TO_OSAKA, TO_TOKYO = "tokyo/to-osaka", "osaka/to-tokyo"
PRIMARY = ("tk", "mpls")  # Tokyo's interface towards the MPLS provider


@dataclass
class TwoSitesResult:
    plan: dict[str, Any] = field(default_factory=dict)
    verified: dict[str, dict[str, Any]] = field(default_factory=dict)
    kernel: dict[str, str | None] = field(default_factory=dict)  # router -> gateway
    traceroute: list[str] = field(default_factory=list)  # Tokyo's PC to Osaka's
    return_paths: dict[str, str] = field(default_factory=dict)  # provider -> AS path
    degraded: dict[str, dict[str, Any]] = field(default_factory=dict)
    traceroute_degraded: list[str] = field(default_factory=list)
    verified_again: dict[str, dict[str, Any]] = field(default_factory=dict)
    traceroute_flipped: list[str] = field(default_factory=list)
    verified_flipped: dict[str, Any] = field(default_factory=dict)
    sessions_kept: bool = False
    ecmp: dict[str, Any] = field(default_factory=dict)  # both uplinks in one tier
    ecmp_gateways: list[str] = field(default_factory=list)  # Tokyo's kernel route to Osaka


class TwoSites(LabTools):
    def __init__(self, prefix: str, root: Path, port: int | None = None) -> None:
        self.runner = LabRunner(prefix, root)
        self.port = port
        self.orch: OrchestratorProcess | None = None

    def run(self) -> TwoSitesResult:
        demo_tools.QUIET = False
        result = TwoSitesResult()
        self.setup()
        self.apply_intents(result)
        result.traceroute = self.wait_trace(MPLS_HOP)
        for node in ("mpls", "inet"):
            result.return_paths[node] = self.frr_as_path(node, TOKYO_LAN)
        say(f"Tokyo's LAN as the providers see it: {result.return_paths}")
        say("== the MPLS provider halts")
        self.runner.halt("mpls")
        for ref in (TO_OSAKA, TO_TOKYO):
            result.degraded[ref] = self.wait_verdict(ref, "DEGRADED")
        self.sdwan("intent", "list")
        result.traceroute_degraded = self.wait_trace(INET_HOP)
        say("== the MPLS provider is back")
        resume(self.runner, "mpls")
        for ref in (TO_OSAKA, TO_TOKYO):
            result.verified_again[ref] = self.wait_verdict(ref, "VERIFIED", timeout=120)
        self.wait_trace(MPLS_HOP)
        say("== one change: Tokyo prefers the Internet")
        before = {
            k: (n.get("flap_count"), n.get("established_since"))
            for k, n in self.neighbors().items()
        }
        self.sdwan("intent", "plan", TO_OSAKA, "--prefer", "inet", "--prefer", "mpls")
        self.sdwan("intent", "set", TO_OSAKA, "--prefer", "inet", "--prefer", "mpls", "--wait")
        result.traceroute_flipped = self.wait_trace(INET_HOP)
        result.verified_flipped = self.wait_verdict(TO_OSAKA, "VERIFIED")
        say("== one tier of both uplinks, both sites: equal cost, both in the kernel route")
        # Osaka too: its Internet export loses the backup prepend, so Tokyo's two
        # paths have AS paths of one length (gobgpd's multipath needs that)
        self.sdwan("intent", "set", TO_TOKYO, "--prefer", "mpls,inet", "--wait")
        self.sdwan("intent", "set", TO_OSAKA, "--prefer", "mpls,inet", "--wait")
        result.ecmp = self.wait_verdict(TO_OSAKA, "VERIFIED")
        result.ecmp_gateways = self.wait(self._ecmp_gateways, "a route with two next hops")
        say(f"Tokyo's kernel route to {OSAKA_LAN}: via {' and '.join(result.ecmp_gateways)}")
        after = {
            k: (n.get("flap_count"), n.get("established_since"))
            for k, n in self.neighbors().items()
        }
        result.sessions_kept = before == after
        return result

    def apply_intents(self, result: TwoSitesResult | None = None) -> TwoSitesResult:
        """The intent file: plan, apply, both intents VERIFIED, both kernels routing
        the other site's LAN."""
        result = result or TwoSitesResult()
        say("== the intents: plan, apply, verify")
        intent_file = str(EXAMPLE / "intent.yaml")
        self.sdwan("apply", "-f", intent_file, "--dry-run")
        result.plan = json.loads(
            self.sdwan("apply", "-f", intent_file, "--dry-run", "-o", "json", show=False)
        )
        self.sdwan("apply", "-f", intent_file)
        for ref in (TO_OSAKA, TO_TOKYO):
            result.verified[ref] = self.wait_verdict(ref, "VERIFIED")
        self.sdwan("intent", "list")
        for node, lan in (("tk", OSAKA_LAN), ("os", TOKYO_LAN)):
            result.kernel[node] = self.wait(partial(self.kernel_route, node, lan), f"{node} route")
        return result

    # --- SLA steering: what a test or a benchmark drives and reads ------------------

    def impair_primary(self, **values: Any) -> Applied:
        """Impair Tokyo's MPLS link (``loss_pct``, ``delay_ms``, ``jitter_ms``,
        ``blackhole``, ``direction``, ``include_bgp``: sdwan.lab.impairment); returns
        when it is in effect, and since when."""
        return self.runner.impair(*PRIMARY, **values)

    def clear_primary(self) -> Applied:
        return self.runner.clear_impairment(*PRIMARY)

    def tokyo_provider(self) -> str | None:
        """The provider (mpls, inet) Tokyo's kernel sends Osaka's LAN to; with several
        next hops (equal cost), the first."""
        gateway = self.kernel_route("tk", OSAKA_LAN)
        return PROVIDERS.get(gateway) if gateway else None

    def tokyo_best(self) -> str | None:
        """The provider of Tokyo's gobgpd's best path to Osaka's LAN."""
        hop = self.best_next_hop("tk", OSAKA_LAN)
        return PROVIDERS.get(hop) if hop else None

    def _ecmp_gateways(self) -> list[str] | None:
        gateways = self.kernel_gateways("tk", OSAKA_LAN)
        return gateways if len(gateways) == 2 else None

    def wait_trace(self, hop: str) -> list[str]:
        """Traceroute from Tokyo's PC to Osaka's once it passes ``hop``."""
        self.wait(
            lambda: hop in self.traceroute("tkpc", OSAKA_PC, show=False), f"traffic via {hop}"
        )
        return self.traceroute("tkpc", OSAKA_PC)

    def setup(self) -> None:
        topology = EXAMPLE / "topology.yaml"
        say(f"== lab up ({topology})")
        say(self.runner.up(load_topology(topology), str(topology)))
        state = self.runner.load()
        assert state is not None
        self.orch = OrchestratorProcess(self.runner.labdir / "orchestrator", port=self.port)
        self.orch.start()
        self.runner.adopt("orchestrator", self.orch.pid or 0, self.orch.process)
        say(f"== orchestrator at {self.orch.url}: routers, neighbors, LANs")
        for name, (router_id, asn, lan, neighbors) in ROUTERS.items():
            self.sdwan(
                "router",
                "create",
                "--name",
                name,
                "--router-id",
                router_id,
                "--asn",
                str(asn),
                "--api-address",
                state.sockets[name],
            )
            for address, peer_asn in neighbors:
                self.sdwan(
                    "neighbor",
                    "create",
                    "--router",
                    name,
                    "--address",
                    address,
                    "--peer-asn",
                    str(peer_asn),
                    "--hold-time",
                    "9",
                    "--keepalive",
                    "3",
                )
            self.sdwan("announcement", "create", f"{name}/{lan}")
        self.wait(lambda: set(self.sessions().values()) == {"UP"}, "every session UP")
        # a plan predicts from what gobgpd received: wait until each site has the other's
        # LAN from both providers (a session is up a moment before its routes arrive)
        for name, lan in (("tk", OSAKA_LAN), ("os", TOKYO_LAN)):
            uplinks = sorted(address for address, _asn in ROUTERS[name][3])
            self.wait(
                partial(self._has_paths, name, lan, uplinks), f"{name}: {lan} from both uplinks"
            )

    def _has_paths(self, router: str, prefix: str, next_hops: list[str]) -> bool:
        return self.next_hops(router, prefix) == next_hops


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefix", default="ts")
    parser.add_argument("--lab-dir", type=Path, default=default_root())
    parser.add_argument("--down", action="store_true", help="remove the lab and orchestrator")
    args = parser.parse_args(argv)
    runner = TwoSites(args.prefix, args.lab_dir, free_port())
    if args.down:
        runner.runner.down()
        return 0
    try:
        runner.run()
    except BaseException:
        runner.runner.down()
        raise
    assert runner.orch is not None
    say(f"left running: export SDWAN_URL={runner.orch.url}; `--down` removes it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
