"""The second intent example (examples/two-sites): two sites, two uplinks each, in
the lab, through the orchestrator only. Each site reaches the other over MPLS (AS path
ties with the Internet path: only the intent decides), verified against gobgpd and the
kernel; the MPLS provider halts: both intents DEGRADED, traffic over the Internet;
back: VERIFIED; one change makes Tokyo prefer the Internet, another puts both uplinks
in one tier (equal cost: both next hops in the kernel), with no session reset. (Tokyo's
SLA class on degraded links: test_two_sites_sla.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sdwan.lab import list_namespaces
from sdwan.lab.server_process import free_port
from sdwan.lab.two_sites import (
    INET_HOP,
    MPLS_HOP,
    OSAKA_PC,
    TO_OSAKA,
    TO_TOKYO,
    TwoSites,
    TwoSitesResult,
)

ROOT = Path("/run/sdwan-lab-test")

pytestmark = pytest.mark.usefixtures("frr_environment")


@pytest.fixture
def run(lab_prefix: str) -> Iterator[TwoSitesResult]:
    example = TwoSites(lab_prefix, ROOT, free_port())
    try:
        yield example.run()
    finally:
        example.runner.down()
        assert not [n for n in list_namespaces() if n.startswith(f"{lab_prefix}-")]
        assert example.orch is not None and example.orch.pid is None  # stopped by down


def _path(check: dict[str, Any], router: str) -> dict[str, Any]:
    return next(p for p in check["paths"] if p["router"] == router)


def test_two_sites(run: TwoSitesResult) -> None:
    predictions = {f"{p['site']}/{p['intent']}": p for p in run.plan["predictions"]}
    assert _path(predictions[TO_OSAKA], "tk")["predicted"]["uplink"] == "mpls"
    assert _path(predictions[TO_TOKYO], "os")["predicted"]["uplink"] == "mpls"
    # verified: gobgpd's best and the kernel route go to the MPLS provider
    tk = _path(run.verified[TO_OSAKA], "tk")
    assert tk["actual"]["neighbor"] == MPLS_HOP and tk["actual"]["kernel"] == [MPLS_HOP]
    assert tk["predicted"]["step"] == "local preference"
    assert run.kernel == {"tk": MPLS_HOP, "os": "198.18.42.100"}
    assert run.traceroute == ["198.51.100.1", MPLS_HOP, "198.18.42.1", OSAKA_PC]
    # the return direction: the Internet provider sees Tokyo's LAN prepended twice
    assert run.return_paths == {"mpls": "65010", "inet": "65010 65010 65010"}
    # MPLS down: DEGRADED with the active path, traffic over the Internet. Tokyo's
    # class demotes the dead uplink at once; Osaka's intent has none: its FIB agent
    # moves the kernel alone until the hold timer ends the session (then the route
    # is simply gone), whichever the verification saw first
    assert run.degraded[TO_OSAKA]["detail"] == "mpls is dead (probes unanswered), traffic on inet"
    osaka = run.degraded[TO_TOKYO]["detail"]
    assert "mpls lacks the route" in osaka or "the agent on os moved traffic off mpls" in osaka
    assert _path(run.degraded[TO_OSAKA], "tk")["predicted"]["uplink"] == "inet"
    assert _path(run.degraded[TO_TOKYO], "os")["state"] == "backup"
    assert run.traceroute_degraded == ["198.51.100.1", INET_HOP, "198.18.52.1", OSAKA_PC]
    assert all(
        _path(v, r)["state"] == "primary"
        for v, r in zip(run.verified_again.values(), ("tk", "os"), strict=True)
    )
    # one change: Tokyo over the Internet, no session reset anywhere. Osaka still
    # prefers MPLS, so its router's answer comes back (and is sourced) over MPLS
    assert run.traceroute_flipped == ["198.51.100.1", INET_HOP, "198.18.42.1", OSAKA_PC]
    assert _path(run.verified_flipped, "tk")["predicted"]["uplink"] == "inet"
    # one tier of both: gobgpd keeps one best, its multipath set holds both, and the
    # FIB agent (--multipath) installs both as one kernel route
    ecmp = _path(run.ecmp, "tk")
    assert ecmp["expected"] == ["inet", "mpls"] and len(ecmp["predicted"]["multipath"]) == 2
    assert sorted(ecmp["actual"]["kernel"]) == sorted([MPLS_HOP, INET_HOP])
    assert run.ecmp_gateways == sorted([MPLS_HOP, INET_HOP])
    assert run.sessions_kept
