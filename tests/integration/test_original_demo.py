"""The original demo end to end, through the orchestrator only (README's main command).

Asserts every fact the original showed by hand: GoBGP-3's next hops before and after
the next-hop-self policyinfo, VyOS-4 holding the far network, pc1 pinging the far LAN,
the path by traceroute; then VyOS-1 halts: its neighbor turns DOWN, the best path
moves to GoBGP-2, ping works again, traceroute shows the new hops; the outage is
measured (fast failover on carrier loss: well under the 0.5 s target).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sdwan.lab import list_namespaces
from sdwan.lab.demo import BACKUP_HOPS, FAR_HOST, PRIMARY_HOPS, Demo, DemoResult
from sdwan.lab.frr import frr_available
from sdwan.lab.orchestrator import free_port

ROOT = Path("/run/sdwan-lab-test")

pytestmark = pytest.mark.skipif(
    not frr_available(), reason="FRR not installed (apt-get install frr)"
)


@pytest.fixture
def demo(lab_prefix: str) -> Iterator[DemoResult]:
    the_demo = Demo(lab_prefix, ROOT, free_port())
    try:
        yield the_demo.run()
    finally:
        the_demo.runner.down()
        assert not [n for n in list_namespaces() if n.startswith(f"{lab_prefix}-")]
        assert the_demo.orch is not None and the_demo.orch.pid is None  # stopped by down


def test_original_demo(demo: DemoResult) -> None:
    # GoBGP-3's RIB: eBGP next hops it cannot reach, then its iBGP peers
    assert demo.rib_before == ["198.18.11.11", "198.18.22.22"]
    assert not demo.ping_before_policy
    assert demo.rib_after == ["198.18.31.1", "198.18.32.2"]
    # VyOS-4 holds the far network, via GoBGP-3
    assert "bgp" in demo.vyos4_route and "198.18.34.3" in demo.vyos4_route
    # pc1 pings the far LAN along the primary path
    assert demo.ping_ok
    assert demo.traceroute == ["198.51.100.1", "198.18.34.3", *PRIMARY_HOPS, FAR_HOST]
    # VyOS-1 halts: DOWN in `sdwan neighbor list`, backup path, ping again
    assert demo.neighbor_down
    assert demo.best_after_failover == BACKUP_HOPS[0]
    assert demo.ping_after_failover
    assert demo.traceroute_after == ["198.51.100.1", "198.18.34.3", *BACKUP_HOPS, FAR_HOST]
    assert demo.outage_s is not None and demo.outage_s < 0.5
