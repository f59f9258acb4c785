"""Read a site from the store and from its gobgpds, predict every router's best path
for its intents' destinations, and check the intents against what the routers (and
their kernels, where a FIB agent runs) really use.

Two steps, so no transaction is held across network I/O: ``load_site`` reads the store
(possibly a throwaway copy with a proposed change applied: the plan) into plain
values; ``observe`` talks to the gobgpds and the FIB agents and runs the pure parts
(domain/intent_predict.py, domain/intent_verdict.py), within ``PlanLimits``: one
deadline for all the reads of one look (a router not read by then is unreachable, with
the reason) and a bound on the prediction's policy evaluation (past it, every intent's
verdict is unknown, with the reason)."""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from sqlalchemy import Connection

from sdwan.domain.endpoint import GobgpEndpoint
from sdwan.domain.intent_compile import IntentView, SiteView, tiers_of
from sdwan.domain.intent_predict import Peer, Prediction, Received, RouterState, predict_site
from sdwan.domain.intent_verdict import (
    Actual,
    IntentCheck,
    PathCheck,
    Verdict,
    available,
    check_path,
    summarize,
    with_steering,
)
from sdwan.domain.policy_compile import CompiledRouterPolicy
from sdwan.domain.policy_eval import Budget, WorkLimitExceeded, prefix_set_matches
from sdwan.domain.policy_rows import Row, compile_rows
from sdwan.domain.status import Status
from sdwan.errors import SpeakerError, SpeakerTimeout
from sdwan.fib.status import FibRoutes
from sdwan.gobgp.rib_calls import GlobalPath
from sdwan.service import intent_sync
from sdwan.service.intent_steering import IntentSteering
from sdwan.service.site_common import derived_status
from sdwan.store import owned_rows
from sdwan.store.intent_repo import SiteRecord
from sdwan.store.records import AttachmentRecord, DefinedSetRecord, OwnedRecord, PolicyRecord

MAX_ANY_PREFIXES = 100  # an intent for every route is checked on this many prefixes
FAMILIES = ("ipv4-unicast", "ipv6-unicast")


class RibSource(Protocol):
    """What a gobgpd must answer (GobgpClient's RibCalls)."""

    def peer_sessions(self, *, timeout: float | None = None) -> list[Peer]: ...
    def adj_in(
        self,
        neighbor: str,
        family: str,
        prefixes: list[str] | None,
        *,
        timeout: float | None = None,
    ) -> dict[str, list[Received]]: ...
    def global_paths(
        self, family: str, prefixes: list[str] | None, *, timeout: float | None = None
    ) -> dict[str, list[GlobalPath]]: ...
    def close(self) -> None: ...


RibSources = Callable[[GobgpEndpoint], RibSource]  # a gobgpd API (maybe TLS) -> a client
FibReader = Callable[[str, list[str]], FibRoutes | None]  # address, prefixes


@dataclass(frozen=True)
class PlanLimits:
    """What one look at a site may take: ``read_seconds`` for all its reads of the
    site's gobgpds and FIB agents together (SDWAN_RIB_TIMEOUT for a plan; None: each
    read its client's own timeout) and ``max_steps`` of policy evaluation for its
    prediction (SDWAN_PLAN_MAX_STEPS; None: unbounded)."""

    read_seconds: float | None = None
    max_steps: int | None = None


class _Deadline:
    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds if seconds is not None else None

    def passed(self) -> bool:
        return self._ends is not None and time.monotonic() >= self._ends

    def timeout(self) -> float | None:
        """Seconds the next read may take; SpeakerTimeout when none are left."""
        if self._ends is None:
            return None
        left = self._ends - time.monotonic()
        if left <= 0:
            raise SpeakerTimeout(f"not read: {self._budget()} ran out")
        return left

    def explain(self, error: SpeakerError, target: RouterTarget) -> str:
        if isinstance(error, SpeakerTimeout) or not self.passed():
            return error.message
        return f"gobgpd at {target.api_address} did not answer within {self._budget()}"

    def _budget(self) -> str:
        return f"the plan's {self.seconds:g} s for reading the routers (SDWAN_RIB_TIMEOUT)"


@dataclass(frozen=True)
class RouterTarget:
    id: str
    name: str
    asn: int
    router_id: str
    api_address: str
    fib_agent: str | None
    endpoint: GobgpEndpoint  # with the router's TLS (sources add the server's default CA)


@dataclass
class SiteSnapshot:
    """A site as the store says it should be, in plain values."""

    site: SiteView
    routers: list[RouterTarget]
    policy: dict[str, CompiledRouterPolicy]  # router uuid -> hand-written + generated
    status: dict[str, tuple[str, str]]  # intent id -> derived status
    steering: dict[str, IntentSteering] = field(default_factory=dict)  # intents with a class


@dataclass
class Observation:
    snapshot: SiteSnapshot
    predictions: dict[tuple[str, str], Prediction] = field(default_factory=dict)
    prefixes: dict[str, list[str]] = field(default_factory=dict)  # intent id -> prefixes
    actual: dict[tuple[str, str], Actual] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)  # router name -> why
    checks: dict[str, IntentCheck] = field(default_factory=dict)  # intent id -> check
    stopped: str | None = None  # why nothing was predicted (the evaluation bound)


def _live_values(conn: Connection, kind: type[OwnedRecord], router_id: str) -> list[Row]:
    rows = owned_rows.records_of_router(conn, kind, router_id=router_id, live_only=True)
    return [r.values() for r in rows]


def load_site(
    conn: Connection, site: SiteRecord, *, decide_at: float | None = None
) -> SiteSnapshot:
    """The site in plain values. With ``decide_at`` (a plan), intents with an SLA class
    carry the steering decision that would apply at that time, and the prediction
    uses its tiers; without, the tiers in force (the stored steering)."""
    view, steering = intent_sync.site_steering(conn, site, decide_at=decide_at)
    fib = {m.router_uuid: m.fib_agent for m in site.routers}
    routers = intent_sync.site_routers(conn, site)
    policy = {
        r.id: compile_rows(
            asn=r.asn,
            sets=_live_values(conn, DefinedSetRecord, r.id),
            policies=_live_values(conn, PolicyRecord, r.id),
            attachments=_live_values(conn, AttachmentRecord, r.id),
        )
        for r in routers
    }
    targets = [
        RouterTarget(
            r.id,
            r.name,
            r.asn,
            r.router_id,
            r.api_address,
            fib.get(r.id),
            r.endpoint(),
        )
        for r in routers
    ]
    status = {i.id: derived_status(conn, f"intent:{i.id}", 1) for i in view.intents}
    return SiteSnapshot(view, targets, policy, status, steering)


def default_fib_agent(api_address: str) -> str | None:
    """The FIB agent beside a gobgpd on a unix socket: ``<socket>.fib``, if it exists."""
    if not api_address.startswith("unix://"):
        return None
    path = api_address.removeprefix("unix://") + ".fib"
    return f"unix://{path}" if os.path.exists(path) else None


def _lookups(snapshot: SiteSnapshot) -> list[str] | None:
    """Prefixes to look up (each with what lies inside); None: read uplinks whole."""
    found: list[str] = []
    for intent in snapshot.site.intents:
        if intent.destination["type"] == "any":
            return None
        found.extend(m["prefix"] for m in intent.destination_prefixes)
    return sorted(set(found))


def _family(prefix: str) -> str:
    return "ipv6-unicast" if ":" in prefix else "ipv4-unicast"


def _read_router(
    source: RibSource, uplinks: set[str], lookups: list[str] | None, deadline: _Deadline
) -> tuple[list[Peer], dict[str, list[Received]], dict[str, list[GlobalPath]]]:
    peers = source.peer_sessions(timeout=deadline.timeout())
    received: dict[str, list[Received]] = {}
    global_paths: dict[str, list[GlobalPath]] = {}
    families = sorted({_family(p) for p in lookups}) if lookups else list(FAMILIES[:1])
    if lookups is None:
        discovered: set[str] = set()
        for peer in peers:
            if peer.established and peer.address in uplinks:
                for family in FAMILIES:
                    found = source.adj_in(peer.address, family, None, timeout=deadline.timeout())
                    discovered.update(found)
        lookups = sorted(discovered, key=lambda p: (":" in p, p))[:MAX_ANY_PREFIXES]
        families = sorted({_family(p) for p in lookups})
    for family in families:
        wanted = [p for p in lookups if _family(p) == family]
        if not wanted:
            continue
        for peer in peers:
            if peer.established:
                found = source.adj_in(peer.address, family, wanted, timeout=deadline.timeout())
                for prefix, paths in found.items():
                    received.setdefault(prefix, []).extend(paths)
        global_paths.update(source.global_paths(family, wanted, timeout=deadline.timeout()))
    return peers, received, global_paths


def _intent_prefixes(intent: IntentView, seen: set[str]) -> list[str]:
    if intent.destination["type"] == "any":
        return sorted(seen, key=lambda p: (":" in p, p))[:MAX_ANY_PREFIXES]
    members = tuple(intent.destination_prefixes)
    exact = {m["prefix"] for m in members if "ge" not in m and "le" not in m}
    inside = {p for p in seen if prefix_set_matches(members, p)}
    return sorted(exact | inside, key=lambda p: (":" in p, ipaddress.ip_network(p)))


def observe(
    snapshot: SiteSnapshot,
    sources: RibSources,
    *,
    fib: FibReader | None = None,
    compare: bool = True,
    limits: PlanLimits | None = None,
) -> Observation:
    """Predict (always) and, with ``compare``, check against what the routers use."""
    limits = limits or PlanLimits()
    deadline = _Deadline(limits.read_seconds)
    result = Observation(snapshot)
    uplinks = {(u.router_id, u.address): u.name for u in snapshot.site.uplinks}
    lookups = _lookups(snapshot)
    states: list[RouterState] = []
    globals_: dict[str, dict[str, list[GlobalPath]]] = {}
    seen: set[str] = set()
    for target in snapshot.routers:
        state = RouterState(
            target.id, target.name, target.asn, target.router_id, snapshot.policy[target.id]
        )
        source = sources(target.endpoint)
        try:
            mine = {a for (r, a) in uplinks if r == target.id}
            peers, received, global_paths = _read_router(source, mine, lookups, deadline)
        except SpeakerError as exc:
            result.unreachable[target.name] = deadline.explain(exc, target)
            continue
        finally:
            source.close()
        state.peers = {p.address: p for p in peers}
        state.received = received
        state.originated = {
            prefix: [g.attrs for g in paths if g.neighbor is None]
            for prefix, paths in global_paths.items()
        }
        globals_[target.id] = global_paths
        seen.update(received)
        seen.update(global_paths)
        states.append(state)
    for intent in snapshot.site.intents:
        result.prefixes[intent.id] = _intent_prefixes(intent, seen)
    wanted = sorted({p for ps in result.prefixes.values() for p in ps})
    budget = Budget(limits.max_steps) if limits.max_steps is not None else None
    try:
        result.predictions = predict_site(states, wanted, uplinks, budget=budget)
    except WorkLimitExceeded as exc:
        result.stopped = f"{exc} (SDWAN_PLAN_MAX_STEPS)"
    if compare:
        _actuals(result, states, globals_, uplinks, fib, deadline)
    recheck(result, compare)
    return result


def _actuals(
    result: Observation,
    states: list[RouterState],
    globals_: dict[str, dict[str, list[GlobalPath]]],
    uplinks: dict[tuple[str, str], str],
    fib: FibReader | None,
    deadline: _Deadline,
) -> None:
    by_router_id = {s.router_id: s for s in states}
    targets = {t.id: t for t in result.snapshot.routers}
    prefixes = sorted({p for (_r, p) in result.predictions})
    for state in states:
        kernel: FibRoutes | None = None
        address = targets[state.id].fib_agent or default_fib_agent(targets[state.id].api_address)
        if fib is not None and address is not None and not deadline.passed():
            kernel = fib(address, prefixes)
        for prefix in prefixes:
            best = next((g for g in globals_[state.id].get(prefix, []) if g.best), None)
            gateways = tuple(kernel.routes.get(prefix, [])) if kernel is not None else None
            result.actual[(state.id, prefix)] = Actual(
                best.neighbor if best else None,
                best.attrs.next_hop if best else None,
                None,
                best is not None,
                gateways,
                kernel.avoided if kernel is not None else {},
            )
    for (router_id, prefix), actual in list(result.actual.items()):
        result.actual[(router_id, prefix)] = _traced(
            router_id, prefix, actual, result, by_router_id, uplinks
        )


def _traced(
    router_id: str,
    prefix: str,
    actual: Actual,
    result: Observation,
    by_router_id: dict[str, RouterState],
    uplinks: dict[tuple[str, str], str],
    depth: int = 0,
) -> Actual:
    """The uplink a router's real best path entered the site by: its own uplink, or
    the uplink of the site router it learned the path from (followed over iBGP)."""
    if actual.neighbor is None or depth > 8:
        return actual
    name = uplinks.get((router_id, actual.neighbor))
    if name is None:
        state = next((s for s in by_router_id.values() if s.id == router_id), None)
        peer = state.peers.get(actual.neighbor) if state else None
        sender = by_router_id.get(peer.remote_router_id or "") if peer else None
        upstream = result.actual.get((sender.id, prefix)) if sender else None
        if sender is not None and upstream is not None:
            name = _traced(
                sender.id, prefix, upstream, result, by_router_id, uplinks, depth + 1
            ).uplink
    return replace(actual, uplink=name)


def recheck(result: Observation, compare: bool) -> None:
    """The intents' checks from the prediction (and, with ``compare``, what the routers
    really use)."""
    snapshot = result.snapshot
    names = {t.id: t.name for t in snapshot.routers}
    for intent in snapshot.site.intents:
        if result.stopped is not None:
            result.checks[intent.id] = IntentCheck(Verdict.UNKNOWN, result.stopped)
            continue
        if result.unreachable:
            who = ", ".join(f"{n}: {why}" for n, why in sorted(result.unreachable.items()))
            result.checks[intent.id] = IntentCheck(Verdict.UNKNOWN, who)
            continue
        tiers = tiers_of(intent, snapshot.site.uplinks)
        checks: list[PathCheck] = []
        for prefix in result.prefixes[intent.id]:
            offered = available(result.predictions, snapshot.site.uplinks, prefix)
            for router in snapshot.routers:
                prediction = result.predictions.get((router.id, prefix))
                if prediction is None:
                    continue
                actual = result.actual.get((router.id, prefix)) if compare else None
                checks.append(check_path(names[router.id], prediction, tiers, offered, actual))
        check = with_steering(summarize(checks), intent.steered)
        status, detail = snapshot.status.get(intent.id, (Status.ACTIVE, ""))
        if compare and status == Status.ERROR:
            check = IntentCheck(Verdict.VIOLATED, f"not applied: {detail}", check.paths)
        elif compare and status != Status.ACTIVE:
            check = IntentCheck(Verdict.PENDING, detail or status, check.paths)
        result.checks[intent.id] = check
