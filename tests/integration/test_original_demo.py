"""The original demo end to end, through the orchestrator only (README's main command),
its policy expressed as intent (examples/original-demo/intent.yaml) with VyOS-2's
AS-path prepend gone (its SLA class: test_original_demo_sla.py).

Asserts every fact the demo shows: GoBGP-3's next hops before and after the intent
(next hop self, generated), the plan's prediction and the verification against gobgpd
and the kernel, the return direction (VyOS-2 sees the site's LAN prepended), pc1
pinging the far LAN along the primary; VyOS-1 halts: DOWN, backup path, DEGRADED,
ping again within the fast-failover target; VyOS-1 back: VERIFIED, primary again; one
intent change flips the preference: traceroute over VyOS-2, VERIFIED, no session reset.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sdwan.lab import list_namespaces
from sdwan.lab.demo import BACKUP_HOPS, FAR_HOST, FAR_NET, PRIMARY_HOPS, Demo, DemoResult
from sdwan.lab.server_process import free_port

ROOT = Path("/run/sdwan-lab-test")

pytestmark = pytest.mark.usefixtures("frr_environment")


@pytest.fixture
def demo(lab_prefix: str) -> Iterator[DemoResult]:
    the_demo = Demo(lab_prefix, ROOT, free_port())
    try:
        yield the_demo.run()
    finally:
        the_demo.runner.down()
        assert not [n for n in list_namespaces() if n.startswith(f"{lab_prefix}-")]
        assert the_demo.orch is not None and the_demo.orch.pid is None  # stopped by down


def _via(check: dict[str, Any], router: str) -> str:
    path = next(p for p in check["paths"] if p["router"] == router and p["prefix"] == FAR_NET)
    via: str = path["predicted"]["via"]
    return via


def test_original_demo(demo: DemoResult) -> None:
    # GoBGP-3's RIB: eBGP next hops it cannot reach, then its iBGP peers (intent's s.nhs)
    assert demo.rib_before == ["198.18.11.11", "198.18.22.22"]
    assert not demo.ping_before_policy
    assert demo.rib_after == ["198.18.31.1", "198.18.32.2"]
    # the plan predicted GoBGP-3's path before anything was applied...
    prediction = demo.plan["predictions"][0]
    assert prediction["intent"] == "far-lan"
    assert _via(prediction, "GoBGP-3") == "GoBGP-1 (iBGP) <- uplink vyos1"
    # ...and verification found gobgpd and the kernel doing it
    assert _via(demo.verified, "GoBGP-3") == "GoBGP-1 (iBGP) <- uplink vyos1"
    g3 = next(p for p in demo.verified["paths"] if p["router"] == "GoBGP-3")
    assert g3["actual"]["neighbor"] == "198.18.31.1" and g3["actual"]["kernel"] == ["198.18.31.1"]
    assert demo.kernel_gobgp3 == "198.18.31.1"
    assert g3["predicted"]["step"] == "local preference"  # not the router id any more
    # the return direction: VyOS-2 gets the site's LAN with two prepends
    assert demo.return_paths == {"vyos1": "65001 65002", "vyos2": "65001 65001 65001 65002"}
    assert "bgp" in demo.vyos4_route and "198.18.34.3" in demo.vyos4_route
    assert demo.ping_ok
    assert demo.traceroute == ["198.51.100.1", "198.18.34.3", *PRIMARY_HOPS, FAR_HOST]
    # VyOS-1 halts: DOWN, backup path, DEGRADED with the active path, ping again
    assert demo.neighbor_down
    assert demo.best_after_failover == BACKUP_HOPS[0]
    # seen twice, in either order: the session drops (vyos1 lacks the route), and the
    # probe agent finds vyos1 dead, which demotes it below gold's other uplink
    detail = demo.degraded["detail"]
    assert "vyos1 lacks the route" in detail or detail.startswith(
        "vyos1 is dead (probes unanswered), traffic on vyos2"
    ), detail
    assert _via(demo.degraded, "GoBGP-3") == "GoBGP-2 (iBGP) <- uplink vyos2"
    assert demo.ping_after_failover
    assert demo.traceroute_after == ["198.51.100.1", "198.18.34.3", *BACKUP_HOPS, FAR_HOST]
    # the FIB agents' carrier reset, not the 3 s hold timer (2.4 s): bench_failover.py
    # measures the outage against its 0.5 s target
    assert demo.outage_s is not None and demo.outage_s < 1.5
    # VyOS-1 is back: verified, on the primary again
    assert _via(demo.verified_again, "GoBGP-3") == "GoBGP-1 (iBGP) <- uplink vyos1"
    assert demo.traceroute_back == ["198.51.100.1", "198.18.34.3", *PRIMARY_HOPS, FAR_HOST]
    # one intent change: the plan said so, traceroute follows, no session reset
    assert "GoBGP-2 (iBGP) <- uplink vyos2" in demo.flip_plan and "(moves)" in demo.flip_plan
    assert demo.traceroute_flipped == ["198.51.100.1", "198.18.34.3", *BACKUP_HOPS, FAR_HOST]
    assert _via(demo.verified_flipped, "GoBGP-3") == "GoBGP-2 (iBGP) <- uplink vyos2"
    assert demo.sessions_kept
