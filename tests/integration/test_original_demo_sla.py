"""SLA steering on the original demo (examples/original-demo), real daemons end to end:
the intent hq/far-lan steers on the class gold (loss 2 %, round trip 50 ms, hold-down
10 s); the probe agents beside GoBGP-1 and GoBGP-2 measure their upstreams with ICMP
echo to VyOS-1's and VyOS-2's addresses on the far LAN. One lab for the module; GoBGP-1's
link to VyOS-1 (the primary) is impaired in this order:

- 1 % random loss, under the 2 % class, and 10 +- 5 ms of delay, inside its 50 ms:
  nothing moves;
- 5 % loss: GoBGP-3's traffic to the far LAN moves to GoBGP-2 (VyOS-2), the verdict
  says why; cleared: back after the hold-down, exactly once;
- +150 ms one way: moves, and back;
- a silent blackhole (the BGP session stays up): moves, and back.

GoBGP-1 has no other path to the far LAN (its only upstream is VyOS-1), so here it is
the orchestrator's demotion (policy, soft resets) that moves GoBGP-3's traffic, also
for the blackhole; the two-sites example shows the FIB agent's own move."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sdwan.lab import demo_tools, list_namespaces
from sdwan.lab.demo import BACKUP_HOPS, FAR_NET, INTENT, PRIMARY_HOPS, Demo
from sdwan.lab.server_process import free_port
from tests.support.lab import LabSession

ROOT = Path("/run/sdwan-lab-test")
HOLD_DOWN = 10.0  # gold's, in examples/original-demo/intent.yaml
NOISE_S = 25.0  # the benchmark (bench/bench_sla.py) watches ten minutes
PRIMARY = ("gobgp1", "v1")  # GoBGP-1's interface towards VyOS-1

pytestmark = pytest.mark.usefixtures("frr_environment")


@pytest.fixture(scope="module")
def demo(lab_environment: LabSession) -> Iterator[Demo]:
    prefix = "t" + secrets.token_hex(3)
    lab_environment.prefixes.append(prefix)
    the_demo = Demo(prefix, ROOT, free_port())
    demo_tools.QUIET = True
    try:
        result = the_demo.setup()
        the_demo.apply_intent(result)
        the_demo.wait_verdict(INTENT, "VERIFIED", timeout=120)
        yield the_demo
    finally:
        the_demo.runner.down()
        assert not [n for n in list_namespaces() if n.startswith(f"{prefix}-")]
        assert the_demo.orch is not None and the_demo.orch.pid is None  # stopped by down


def gateway(demo: Demo) -> str | None:
    """Where GoBGP-3's kernel sends the far LAN: GoBGP-1 (primary) or GoBGP-2."""
    return demo.kernel_route("gobgp3", FAR_NET)


def both_met(demo: Demo) -> bool:
    states, moves = demo.sla_states(INTENT)
    return states == {"vyos1": "met", "vyos2": "met"} and not moves


def moved_and_said(demo: Demo, since: int, detail: str) -> None:
    """Traffic on the backup in GoBGP-3's kernel, one demotion, the verdict's reason."""
    demo.wait(lambda: gateway(demo) == BACKUP_HOPS[0], "GoBGP-3's kernel via GoBGP-2", 60)
    verdict = demo.wait_verdict(INTENT, "DEGRADED", timeout=60)
    assert verdict["detail"].startswith(detail), verdict["detail"]
    assert "traffic on vyos2" in verdict["detail"]
    demoted = demo.steering_moves(INTENT, since, "demote")
    assert len(demoted) == 1 and demoted[0].startswith(f"intent {INTENT}: vyos1 demoted")


def back_on_primary(demo: Demo, since: int) -> None:
    """The impairment cleared: traffic returns after the hold-down, exactly once."""
    cleared = demo.runner.clear_impairment(*PRIMARY)
    demo.wait(lambda: gateway(demo) == PRIMARY_HOPS[0], "GoBGP-3's kernel via GoBGP-1", 120)
    assert time.monotonic() - cleared.effective >= HOLD_DOWN
    # met for the hold-down first (from the moment it was heard to meet gold again)
    assert demo.returned_after_hold_down(INTENT, "vyos1", since) >= HOLD_DOWN
    demo.wait_verdict(INTENT, "VERIFIED", timeout=60)
    demo.wait(lambda: both_met(demo), "both uplinks within gold", 60)
    assert len(demo.steering_moves(INTENT, since, "return")) == 1
    assert len(demo.steering_moves(INTENT, since, "demote")) == 1


def test_random_loss_and_jitter_inside_the_class_move_nothing(demo: Demo) -> None:
    demo.wait(lambda: both_met(demo), "both uplinks within gold", 90)
    assert gateway(demo) == PRIMARY_HOPS[0]
    since = demo.last_event()
    demo.runner.impair(*PRIMARY, loss_pct=1.0, delay_ms=10.0, jitter_ms=5.0, direction="out")
    try:
        ends = time.monotonic() + NOISE_S
        while time.monotonic() < ends:  # watched all along, not slept through
            assert gateway(demo) == PRIMARY_HOPS[0]
            time.sleep(1.0)
        assert demo.steering_events(since) == []
        plan = demo.sla_states(INTENT)
        assert plan == ({"vyos1": "met", "vyos2": "met"}, [])
    finally:
        demo.runner.clear_impairment(*PRIMARY)


@pytest.mark.parametrize(
    ("impairment", "detail"),
    [
        ({"loss_pct": 5.0, "direction": "out"}, "vyos1 violates gold (loss "),
        ({"delay_ms": 150.0, "direction": "out"}, "vyos1 violates gold (latency "),
        ({"blackhole": True, "direction": "both"}, "vyos1 is dead (probes unanswered)"),
    ],
    ids=["loss-5", "delay-150", "blackhole"],
)
def test_an_impaired_primary_moves_the_far_lan_and_back_once(
    demo: Demo, impairment: dict[str, Any], detail: str
) -> None:
    demo.wait(lambda: both_met(demo), "both uplinks within gold", 60)
    since = demo.last_event()
    demo.runner.impair(*PRIMARY, **impairment)
    moved_and_said(demo, since, detail)
    assert demo.sessions()["GoBGP-1/198.18.11.11"] == "UP"  # BGP spared: the session stays
    back_on_primary(demo, since)
