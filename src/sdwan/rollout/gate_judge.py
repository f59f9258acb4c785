"""The gate's verdict: two health snapshots (before a wave, after it) in, the failures
out. Pure. Only what got worse fails: a session that was not up, an intent that was
already violated, a prefix not announced before are not judged; what the change
itself removed (a neighbor, an announcement, an intent, a router) is not a failure."""

from __future__ import annotations

from collections.abc import Sequence

from sdwan.domain.intent_verdict import Verdict
from sdwan.domain.session import ESTABLISHED
from sdwan.rollout.gate_model import (
    CustomCheck,
    GateFailure,
    HealthSnapshot,
    IntentHealth,
    RouterHealth,
)

_RANK = {v: i for i, v in enumerate(("VERIFIED", "DEGRADED", "VIOLATED", "PENDING", "UNKNOWN"))}
_JUDGED = (Verdict.VERIFIED, Verdict.DEGRADED)  # an intent worse than these was not healthy


def judge(
    before: HealthSnapshot, after: HealthSnapshot, *, checks: Sequence[CustomCheck] = ()
) -> list[GateFailure]:
    failures: list[GateFailure] = []
    for router_id, old in sorted(before.routers.items(), key=lambda i: i[1].name):
        new = after.routers.get(router_id)
        if new is not None:  # else deleted by the change, or not captured after
            failures.extend(_router(old, new))
    for intent_id, was in sorted(before.intents.items(), key=lambda i: i[1].name):
        now = after.intents.get(intent_id)
        if now is not None:
            failures.extend(_intent(was, now))
    failures.extend(f for c in checks if (f := _custom(c, after)) is not None)
    return failures


def _router(old: RouterHealth, new: RouterHealth) -> list[GateFailure]:
    failures: list[GateFailure] = []
    if new.error is not None:
        also = " (nor before the wave)" if old.error is not None else ""
        failures.append(
            GateFailure(new.name, "reachable", f"router unreachable{also}: {new.error}", new.error)
        )
    by_address = {n.address: n for n in new.neighbors.values()}
    for neighbor_id, was in sorted(old.neighbors.items(), key=lambda i: i[1].address):
        now = new.neighbors.get(neighbor_id) or by_address.get(was.address)  # or made anew
        if was.state != ESTABLISHED or now is None or not now.enabled:
            continue  # not up before; deleted or disabled by the change
        if now.state != ESTABLISHED:
            moved = f" (now {now.address})" if now.address != was.address else ""  # same id
            failures.append(
                GateFailure(
                    new.name,
                    "session",
                    f"neighbor {was.address}{moved} was ESTABLISHED, now {now.state}",
                    observed=now.state,
                    predicted=ESTABLISHED,
                )
            )
    if new.error is None and old.error is None:
        for prefix in sorted(old.originated & new.announcements):
            if prefix in new.looked_up and prefix not in new.originated:
                failures.append(
                    GateFailure(
                        new.name,
                        "announced",
                        f"{prefix} was announced, now it is not (not in the global RIB as a "
                        "path of its own)",
                        observed=None,
                        predicted=prefix,
                    )
                )
    return failures


def _intent(was: IntentHealth, now: IntentHealth) -> list[GateFailure]:
    failures: list[GateFailure] = []
    if was.verdict in _JUDGED and _RANK.get(now.verdict, 99) > _RANK[was.verdict]:
        failures.append(
            GateFailure(
                None,
                "intent",
                f"intent {now.name} was {was.verdict}, now {now.verdict}: {now.detail}",
                observed=now.verdict,
                predicted=was.verdict,
            )
        )
    held = {(p.router, p.prefix): p for p in was.paths if p.verdict == Verdict.VERIFIED}
    for path in now.paths:
        before = held.get((path.router, path.prefix))
        if before is not None and path.verdict != Verdict.VERIFIED:
            failures.append(
                GateFailure(
                    path.router,
                    "prediction",
                    f"intent {now.name}: {path.prefix} on {path.router} held its prediction, "
                    f"now {path.verdict}: {path.reason}",
                    observed=path.actual,  # what the router uses now
                    predicted=before.predicted,  # the prediction that held before the wave
                )
            )
    return failures


def _custom(check: CustomCheck, after: HealthSnapshot) -> GateFailure | None:
    router = after.router(check.router)
    if router is None:
        text = f"{check}: router {check.router} was not captured by the gate"
        return GateFailure(check.router, check.kind, text)
    if router.error is not None:
        return GateFailure(router.name, check.kind, f"{check}: not read: {router.error}")
    if check.prefix not in router.looked_up:
        text = f"{check}: {check.prefix} was not read (the check was not given to capture)"
        return GateFailure(router.name, check.kind, text)
    present = check.prefix in router.best
    if present == (check.kind == "rib_has"):
        return None
    state = "has a best path" if present else "has no best path"
    return GateFailure(
        router.name,
        check.kind,
        f"{check.prefix} {state} in {router.name}'s RIB",
        observed=present,
        predicted=not present,
    )
