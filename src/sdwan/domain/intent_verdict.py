"""What an intent expects of each router and prefix, and whether the network does it.
Pure: the planner and the verifier feed it predictions and what gobgpd (and the
kernel, where the FIB agent runs) really use.

For a prefix the **expected tier** is the first tier with an uplink that offers the
prefix (a path from that uplink's neighbor that its router's import policy accepts).
A router is as intended when its best path entered the site through an uplink of that
tier. Verdicts of an intent, worst first:

- ``UNKNOWN``  a router of the site did not answer;
- ``PENDING``  its generated objects are not on the routers yet;
- ``VIOLATED`` a router uses another path than predicted (gobgpd or the kernel), or
  the prediction itself is outside the expected tier (hand-written policy overrides);
- ``DEGRADED`` as intended, but on a lower tier (the preferred uplinks lack the route,
  e.g. their sessions are down) or with no route at all; or its SLA class demoted an
  uplink (the tiers in force are the steered ones: the detail says which uplink left
  and why); or the FIB agent beside a router moved the kernel off a dead uplink on its
  own and BGP has not followed yet;
- ``VERIFIED`` every router uses the first tier, as predicted."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sdwan.domain.intent_compile import UplinkView
from sdwan.domain.intent_predict import Prediction
from sdwan.domain.sla import DEAD_REASON, Steered

VERDICT_CHANGED = "intent.verdict"  # the event kind of a verdict change


class Verdict(StrEnum):
    VERIFIED = "VERIFIED"
    DEGRADED = "DEGRADED"
    VIOLATED = "VIOLATED"
    PENDING = "PENDING"
    UNKNOWN = "UNKNOWN"


_RANK = {v: i for i, v in enumerate(("VERIFIED", "DEGRADED", "VIOLATED", "PENDING", "UNKNOWN"))}


@dataclass(frozen=True)
class Actual:
    """What one router really uses for one prefix."""

    neighbor: str | None  # the best path's peer; None: originated, or no best path
    next_hop: str | None
    uplink: str | None  # traced to the uplink it entered the site by
    present: bool = True  # False: gobgpd has no best path for the prefix
    kernel: tuple[str, ...] | None = None  # gateways in the kernel; None: no FIB agent
    avoided: Mapping[str, float] = field(default_factory=dict)  # the agent's: hop -> since


@dataclass
class PathCheck:
    router: str  # name
    prefix: str
    state: str  # primary | backup | local | no-route | overridden | mismatch | agent
    verdict: Verdict
    expected: list[str]  # uplinks of the expected tier
    tier: int | None
    predicted: dict[str, Any]
    actual: dict[str, Any] | None = None
    reason: str = ""


@dataclass
class IntentCheck:
    verdict: Verdict
    detail: str
    paths: list[PathCheck] = field(default_factory=list)


def available(
    predictions: dict[tuple[str, str], Prediction], uplinks: Iterable[UplinkView], prefix: str
) -> set[str]:
    """Uplinks whose neighbor offers ``prefix`` through their router's import policy."""
    found = set()
    for uplink in uplinks:
        prediction = predictions.get((uplink.router_id, prefix))
        source = prediction.sources.get(uplink.address) if prediction else None
        if source is not None and source.uplink == uplink.name:
            found.add(uplink.name)
    return found


def expected_tier(tiers: list[list[str]], offered: set[str]) -> int | None:
    return next((i for i, tier in enumerate(tiers) if offered.intersection(tier)), None)


def describe(prediction: Prediction) -> dict[str, Any]:
    """The predicted winner for people: where from, its attributes, why it won."""
    decision = prediction.decision
    best = decision.best
    if best is None:
        return {"uplink": None, "via": None, "why": "no path"}
    source = prediction.sources[best.key]
    return {
        "uplink": source.uplink,
        "via": source.via,
        "neighbor": best.neighbor,
        "next_hop": best.attrs.next_hop,
        "local_pref": best.attrs.effective_local_pref(),
        "as_path": best.attrs.as_path_text(),
        "origin": best.attrs.origin,
        "med": best.attrs.med,
        "step": str(decision.step),
        "why": [f"beats {b.loser}: {b.step} ({b.detail})" for b in decision.beats] or ["only path"],
        "applied": list(source.applied),
        "multipath": [c.key for c in decision.multipath],
    }


def check_path(
    router: str,
    prediction: Prediction,
    tiers: list[list[str]],
    offered: set[str],
    actual: Actual | None,
) -> PathCheck:
    """``offered``: the uplinks offering the prefix anywhere in the site. A router is
    held to the best tier it can reach (directly or over iBGP); the site is degraded
    while the first tier offers nothing."""
    reachable = {s.uplink for s in prediction.sources.values() if s.uplink is not None}
    site_tier = expected_tier(tiers, offered)
    tier = expected_tier(tiers, reachable)
    expected = sorted(reachable.intersection(tiers[tier])) if tier is not None else []
    predicted = describe(prediction)
    check = PathCheck(
        router, prediction.prefix, "primary", Verdict.VERIFIED, expected, tier, predicted
    )
    uplink = prediction.uplink
    if tier is None:
        check.state, check.verdict = "no-route", Verdict.DEGRADED
        via = predicted["via"]
        check.reason = "no uplink of the intent offers it" + (f"; uses {via}" if via else "")
    elif uplink not in tiers[tier]:
        check.state, check.verdict = "overridden", Verdict.VIOLATED
        check.reason = f"expected uplink {' or '.join(expected)}, but {predicted['via']} wins"
    elif site_tier is not None and site_tier > 0:
        check.state, check.verdict = "backup", Verdict.DEGRADED
        lacking = " and ".join(tiers[0])
        check.reason = f"tier {tier + 1} via {predicted['via']}: {lacking} lacks the route"
    elif tier > 0:
        check.state = "local"
        check.reason = f"uses {predicted['via']}: no path to {' or '.join(tiers[0])} from here"
    if actual is not None:
        _compare(check, prediction, actual)
    return check


def _compare(check: PathCheck, prediction: Prediction, actual: Actual) -> None:
    best = prediction.decision.best
    check.actual = {
        "uplink": actual.uplink,
        "neighbor": actual.neighbor,
        "next_hop": actual.next_hop,
        "kernel": list(actual.kernel) if actual.kernel is not None else None,
    }
    if best is None and not actual.present:
        return
    if _agent_moved(actual) and best is not None and actual.neighbor == best.neighbor:
        since = actual.avoided[str(actual.next_hop)]
        check.state, check.verdict = "agent", Verdict.DEGRADED
        check.reason = (
            f"the agent on {check.router} moved traffic off {actual.uplink or actual.next_hop} "
            f"(dead since {_clock(since)}); BGP follows"
        )
        return
    wrong = None
    if best is None or not actual.present:
        wrong = "gobgpd has no best path" if best is not None else "predicted no path"
    elif actual.neighbor != best.neighbor:
        wrong = f"gobgpd's best path is from {actual.neighbor or 'itself'}, not {best.key}"
    elif actual.kernel is not None and actual.next_hop not in actual.kernel:
        got = ", ".join(actual.kernel) or "no route"
        wrong = f"the kernel routes it via {got}, not {actual.next_hop}"
    elif actual.kernel is not None and len(actual.kernel) > 1:
        # a FIB agent with --multipath: the kernel shares exactly the equal-cost set
        shared = sorted({str(c.attrs.next_hop) for c in prediction.decision.multipath})
        if sorted(actual.kernel) != shared:
            got, want = ", ".join(sorted(actual.kernel)), ", ".join(shared)
            wrong = f"the kernel shares it over {got}, not the equal-cost set {want}"
    if wrong is not None:
        check.state, check.verdict = "mismatch", Verdict.VIOLATED
        check.reason = wrong


def _agent_moved(actual: Actual) -> bool:
    """The kernel left gobgpd's best next hop because the FIB agent avoids it."""
    return (
        actual.kernel is not None
        and actual.next_hop is not None
        and actual.next_hop not in actual.kernel
        and actual.next_hop in actual.avoided
    )


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(epoch))


def demotion_text(uplink: str, reason: str, sla: str) -> str:
    """``mpls violates gold (loss 6.1 % > 2 %)``, or ``mpls is dead (probes unanswered)``."""
    if reason == DEAD_REASON:
        return f"{uplink} is dead (probes unanswered)"
    return f"{uplink} violates {sla} ({reason})"


def with_steering(check: IntentCheck, steered: Steered | None) -> IntentCheck:
    """An intent whose SLA class demoted an uplink is at best DEGRADED, and says why:
    ``mpls violates gold (loss 6.1 % > 2 %), traffic on inet``."""
    if steered is None or not steered.demoted:
        return check
    if check.verdict not in (Verdict.VERIFIED, Verdict.DEGRADED):
        return check
    reasons = "; ".join(demotion_text(n, r, steered.sla) for n, r in steered.demoted.items())
    primary = [p for p in check.paths if p.state == "primary"] or check.paths
    used = sorted({str(p.predicted["uplink"]) for p in primary if p.predicted.get("uplink")})
    if steered.note:
        text = f"{reasons}; {steered.note}"
    else:
        text = reasons + (f", traffic on {', '.join(used)}" if used else "")
    if check.verdict == Verdict.DEGRADED:
        text += f"; {check.detail}"
    return IntentCheck(Verdict.DEGRADED, text, check.paths)


def summarize(paths: list[PathCheck]) -> IntentCheck:
    if not paths:
        return IntentCheck(Verdict.DEGRADED, "no prefix of the destination is known", paths)
    # the worst verdict; among equals, one that names the path in use
    worst = max(paths, key=lambda p: (_RANK[p.verdict], p.predicted.get("via") is not None))
    if worst.verdict == Verdict.VERIFIED:
        used = sorted({str(p.predicted.get("uplink")) for p in paths if p.state == "primary"})
        text = f"as intended: over {', '.join(used)}" if used else "as intended"
        return IntentCheck(Verdict.VERIFIED, text, paths)
    others = sum(1 for p in paths if p.verdict == worst.verdict) - 1
    more = f" (and {others} more)" if others else ""
    detail = f"{worst.router} {worst.prefix}: {worst.reason}{more}"
    return IntentCheck(worst.verdict, detail, paths)


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    return max(verdicts, key=lambda v: _RANK[v], default=Verdict.VERIFIED)
