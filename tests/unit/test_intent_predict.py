"""Intent compilation, prediction and verdicts on the original demo's site, pure.

GoBGP-1 and GoBGP-2 each have one upstream (VyOS-1: uplink ``vyos1``, VyOS-2:
``vyos2``), both announcing the far LAN with the same AS path (VyOS-2's prepend gone);
GoBGP-3 reaches them over iBGP and has the customer edge below it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sdwan.domain.intent_compile import (
    IntentView,
    RouterView,
    SiteView,
    UplinkView,
    compile_site,
)
from sdwan.domain.intent_predict import Peer, Received, RouterState, predict_site
from sdwan.domain.intent_verdict import (
    Actual,
    Verdict,
    available,
    check_path,
    summarize,
    with_steering,
)
from sdwan.domain.policy_rows import compile_rows
from sdwan.domain.route import PathAttrs
from sdwan.domain.sla import DEAD_REASON, Demotion, Steered, Steering
from tests.support.rib import as_path_from_text

FAR = "203.0.113.0/24"
LAN = "198.51.100.0/24"
G1 = RouterView(
    "r1", "GoBGP-1", 65001, "198.18.0.1", (("198.18.11.11", 65000), ("198.18.31.3", 65001))
)
G2 = RouterView(
    "r2", "GoBGP-2", 65001, "198.18.0.2", (("198.18.22.22", 65000), ("198.18.32.3", 65001))
)
G3 = RouterView(
    "r3",
    "GoBGP-3",
    65001,
    "198.18.0.3",
    (("198.18.31.1", 65001), ("198.18.32.2", 65001), ("198.18.34.4", 65002)),
)
UPLINKS = (
    UplinkView("vyos1", "r1", "198.18.11.11", "mpls", 10),
    UplinkView("vyos2", "r2", "198.18.22.22", "internet", 20),
)
PEERS = {  # router -> (address, AS, remote router id, local address)
    "r1": [
        ("198.18.11.11", 65000, "198.18.0.11", "198.18.11.1"),
        ("198.18.31.3", 65001, "198.18.0.3", "198.18.31.1"),
    ],
    "r2": [
        ("198.18.22.22", 65000, "198.18.0.12", "198.18.22.2"),
        ("198.18.32.3", 65001, "198.18.0.3", "198.18.32.2"),
    ],
    "r3": [
        ("198.18.31.1", 65001, "198.18.0.1", "198.18.31.3"),
        ("198.18.32.2", 65001, "198.18.0.2", "198.18.32.3"),
        ("198.18.34.4", 65002, "198.18.0.4", "198.18.34.3"),
    ],
}


def intent(prefer: Any, **return_path: Any) -> IntentView:
    return IntentView(
        "i1",
        "far",
        {"type": "prefixes", "prefixes": [{"prefix": FAR}]},
        prefer,
        {"method": "none", "prepend": 2, "med_step": 100, "communities": [], **return_path},
        destination_prefixes=({"prefix": FAR},),
    )


def site(*intents: IntentView) -> SiteView:
    return SiteView("s1", "hq", ({"prefix": LAN},), True, (G1, G2, G3), UPLINKS, intents)


def states(the_site: SiteView, down: set[str] = frozenset()) -> list[RouterState]:  # type: ignore[assignment]
    generated = compile_site(the_site)
    out = []
    for view in (G1, G2, G3):
        objects = generated[view.id]
        state = RouterState(
            view.id,
            view.name,
            view.asn,
            view.router_id,
            compile_rows(
                asn=view.asn,
                sets=objects.sets.values(),
                policies=objects.policies.values(),
                attachments=objects.attachments.values(),
            ),
        )
        for address, asn, rid, local in PEERS[view.id]:
            state.peers[address] = Peer(address, asn, rid, local, established=address not in down)
        out.append(state)
    r1, r2, r3 = out
    for state, upstream in ((r1, "198.18.11.11"), (r2, "198.18.22.22")):
        if upstream not in down:
            attrs = PathAttrs(FAR, next_hop=upstream, as_path=as_path_from_text("65000"))
            state.received[FAR] = [Received(upstream, attrs, received_at=1.0)]
    lan = PathAttrs(LAN, next_hop="198.18.34.4", as_path=as_path_from_text("65002"))
    r3.received[LAN] = [Received("198.18.34.4", lan, 1.0)]
    # what GoBGP-3 holds from its iBGP peers today is ignored: simulated instead
    stale = PathAttrs(FAR, next_hop="198.18.99.99", local_pref=999)
    r3.received[FAR] = [Received("198.18.31.1", stale, 1.0)]
    return out


def test_compiled_objects_for_the_demo_site() -> None:
    generated = compile_site(site(intent([["vyos1"], ["vyos2"]], method="prepend")))
    one, three = generated["r1"], generated["r3"]
    assert set(one.sets) == {"i.far.dst", "i.far.u.vyos1"}  # no return shaping on the primary
    assert one.attachments["i.far.in"]["neighbors"] == ["198.18.11.11"]
    assert one.attachments["i.far.in"]["priority"] < 0  # before hand-written policy
    statement = one.policies["i.far.in"]["statements"][0]
    assert statement["actions"] == {"disposition": "next", "local_pref": 300}
    assert "i.far.out" not in one.policies  # the primary's exports are left alone
    backup = generated["r2"].policies["i.far.out"]["statements"][0]["actions"]
    assert backup["as_path_prepend"] == {"asn": "own", "times": 2}
    assert generated["r2"].policies["i.far.in"]["statements"][0]["actions"]["local_pref"] == 200
    # next hop self towards the site's iBGP neighbors only; nothing of the intent on r3
    assert one.attachments["s.nhs"]["neighbors"] == ["198.18.31.3"]
    assert three.attachments["s.nhs"]["neighbors"] == ["198.18.31.1", "198.18.32.2"]
    assert set(three.policies) == {"s.nhs"}
    assert {row["generated_by"] for row in one.sets.values()} == {"intent:i1"}


def test_prediction_follows_local_preference_across_ibgp() -> None:
    the_site = site(intent([["vyos1"], ["vyos2"]]))
    predictions = predict_site(
        states(the_site), [FAR], {("r1", "198.18.11.11"): "vyos1", ("r2", "198.18.22.22"): "vyos2"}
    )
    g3 = predictions[("r3", FAR)]
    best = g3.decision.best
    assert best is not None and best.key == "198.18.31.1" and g3.uplink == "vyos1"
    assert best.attrs.local_pref == 300 and best.attrs.next_hop == "198.18.31.1"  # nhs
    assert str(g3.decision.step) == "local preference"
    assert g3.sources[best.key].via == "GoBGP-1 (iBGP) <- uplink vyos1"
    assert predictions[("r2", FAR)].uplink == "vyos2"  # its only path, local-pref 200


def test_flipping_the_preference_moves_every_router() -> None:
    the_site = site(intent([["vyos2"], ["vyos1"]]))
    uplinks = {("r1", "198.18.11.11"): "vyos1", ("r2", "198.18.22.22"): "vyos2"}
    predictions = predict_site(states(the_site), [FAR], uplinks)
    assert predictions[("r3", FAR)].uplink == "vyos2"


def test_verdicts_verified_then_degraded_then_violated() -> None:
    the_site = site(intent([["vyos1"], ["vyos2"]]))
    uplinks = {("r1", "198.18.11.11"): "vyos1", ("r2", "198.18.22.22"): "vyos2"}
    tiers = [["vyos1"], ["vyos2"]]

    def verdict(down: set[str], actual_neighbor: str | None = None) -> Any:
        predictions = predict_site(states(the_site, down), [FAR], uplinks)
        offered = available(predictions, UPLINKS, FAR)
        checks = []
        for router in ("r1", "r2", "r3"):
            prediction = predictions[(router, FAR)]
            best = prediction.decision.best
            neighbor = best.neighbor if best else None
            if router == "r3" and actual_neighbor is not None:
                neighbor = actual_neighbor
            actual = Actual(neighbor, best.attrs.next_hop if best else None, None, best is not None)
            checks.append(check_path(router, prediction, tiers, offered, actual))
        return summarize(checks)

    assert verdict(set()).verdict == Verdict.VERIFIED
    degraded = verdict({"198.18.11.11"})  # VyOS-1's session down
    assert degraded.verdict == Verdict.DEGRADED
    assert "vyos1 lacks the route" in degraded.detail
    g3 = next(p for p in degraded.paths if p.router == "r3")
    assert g3.state == "backup" and g3.predicted["via"] == "GoBGP-2 (iBGP) <- uplink vyos2"
    mismatch = verdict(set(), actual_neighbor="198.18.32.2")
    assert mismatch.verdict == Verdict.VIOLATED and "not 198.18.31.1" in mismatch.detail


def test_a_shared_tier_is_verified_against_the_whole_equal_cost_set_in_the_kernel() -> None:
    tiers = [["vyos1", "vyos2"]]
    the_site = site(intent(tiers))
    uplinks = {("r1", "198.18.11.11"): "vyos1", ("r2", "198.18.22.22"): "vyos2"}
    predictions = predict_site(states(the_site), [FAR], uplinks)
    offered = available(predictions, UPLINKS, FAR)
    g3 = predictions[("r3", FAR)]
    best = g3.decision.best
    assert best is not None
    hops = sorted(str(c.attrs.next_hop) for c in g3.decision.multipath)
    assert hops == ["198.18.31.1", "198.18.32.2"]  # both iBGP paths tie up to the router id

    def verdict(kernel: tuple[str, ...]) -> Any:
        actual = Actual(best.neighbor, best.attrs.next_hop, None, True, kernel)
        return check_path("r3", g3, tiers, offered, actual)

    assert verdict(("198.18.31.1", "198.18.32.2")).verdict == Verdict.VERIFIED
    assert verdict((str(best.attrs.next_hop),)).verdict == Verdict.VERIFIED  # no --multipath
    wrong = verdict((str(best.attrs.next_hop), "198.18.34.4"))
    assert wrong.verdict == Verdict.VIOLATED and "equal-cost set" in wrong.reason


# --- intents steered by their SLA class: the compile and the prediction follow the
# steered tiers, the verdict says which uplink left and why; a kernel the FIB agent
# moved off a dead next hop is DEGRADED (BGP follows), not VIOLATED

STEERED_TIERS = [["vyos1"], ["vyos2"]]
UPLINK_NAMES = {("r1", "198.18.11.11"): "vyos1", ("r2", "198.18.22.22"): "vyos2"}
T = 1_765_022_401.0  # 12:00:01 UTC


def demoted(*names: str, reason: str = "loss 6.1 % > 2 %") -> Steered:
    steering = Steering({n: Demotion(n, T, reason, 30.0) for n in names}, order=names)
    return Steered.of(STEERED_TIERS, steering, "gold")


def verdict(steered: Steered | None) -> Any:
    the_site = site(replace(intent(STEERED_TIERS), steered=steered))
    predictions = predict_site(states(the_site), [FAR], UPLINK_NAMES)
    offered = available(predictions, UPLINKS, FAR)
    tiers = steered.tiers if steered is not None else STEERED_TIERS
    checks = []
    for router in ("r1", "r2", "r3"):
        prediction = predictions[(router, FAR)]
        best = prediction.decision.best
        actual = Actual(
            best.neighbor if best else None, best.attrs.next_hop if best else None, None, True
        )
        checks.append(check_path(router, prediction, tiers, offered, actual))
    return with_steering(summarize(checks), steered), predictions


def test_a_demoted_primary_compiles_below_the_backup_and_the_verdict_says_why() -> None:
    steered = demoted("vyos1")
    assert steered.tiers == [["vyos2"], ["vyos1"]]
    generated = compile_site(site(replace(intent(STEERED_TIERS), steered=steered)))
    local_pref = {
        router: generated[router].policies["i.far.in"]["statements"][0]["actions"]["local_pref"]
        for router in ("r1", "r2")
    }
    assert local_pref == {"r1": 200, "r2": 300}
    check, predictions = verdict(steered)
    assert predictions[("r3", FAR)].uplink == "vyos2"
    assert check.verdict == Verdict.DEGRADED
    assert check.detail == "vyos1 violates gold (loss 6.1 % > 2 %), traffic on vyos2"
    assert verdict(None)[0].verdict == Verdict.VERIFIED  # the same network, no class


def test_when_nothing_meets_the_class_the_verdict_names_the_best_measured() -> None:
    steering = Steering(
        {
            "vyos1": Demotion("vyos1", T, DEAD_REASON, 30.0),
            "vyos2": Demotion("vyos2", T, "latency 80 ms > 50 ms", 30.0),
        },
        order=("vyos2", "vyos1"),
    )
    steered = Steered.of(STEERED_TIERS, steering, "gold")
    check, _ = verdict(steered)
    assert check.verdict == Verdict.DEGRADED
    assert check.detail == (
        "vyos1 is dead (probes unanswered); vyos2 violates gold (latency 80 ms > 50 ms); "
        "no uplink meets gold: the best measured, vyos2, carries the traffic"
    )


def test_the_fib_agent_moving_off_a_dead_next_hop_is_degraded_until_bgp_follows() -> None:
    the_site = site(intent(STEERED_TIERS))
    predictions = predict_site(states(the_site), [FAR], UPLINK_NAMES)
    offered = available(predictions, UPLINKS, FAR)
    g1 = predictions[("r1", FAR)]
    best = g1.decision.best
    assert best is not None and best.neighbor == "198.18.11.11"

    def check(avoided: dict[str, float]) -> Any:
        actual = Actual(
            best.neighbor, best.attrs.next_hop, "vyos1", True, ("198.18.31.3",), avoided
        )
        return check_path("GoBGP-1", g1, STEERED_TIERS, offered, actual)

    moved = check({"198.18.11.11": T})
    assert (moved.verdict, moved.state) == (Verdict.DEGRADED, "agent")
    assert moved.reason == (
        "the agent on GoBGP-1 moved traffic off vyos1 (dead since 12:00:01); BGP follows"
    )
    assert check({}).verdict == Verdict.VIOLATED  # nobody avoids it: the kernel is wrong
