"""The reconciler: one reconcile of one router (``reconcile``), run by whichever pool
worker took its key (controller.py): read the store, read gobgpd, diff, apply the
smallest change, hand the status to the store writer, and tell the controller how it
ended (a ``Result``). What a router's passes must remember between runs lives in its
RouterState (router_state.py); the pool, the queue, its timers and the retries'
backoff are the controller's."""

from __future__ import annotations

import enum
import functools
import logging
import random
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy import Engine

from sdwan import logs
from sdwan.config import Settings
from sdwan.domain.endpoint import GobgpEndpoint
from sdwan.domain.session import SessionObservation
from sdwan.domain.status import Status
from sdwan.errors import SpeakerClaimed, SpeakerError, SpeakerRejected, SpeakerUnreachable
from sdwan.gobgp.client import BgpSpeaker
from sdwan.reconcile import claims, status_writes
from sdwan.reconcile.apply import PassResult, apply_global, apply_peers
from sdwan.reconcile.desired import global_of, peer_of
from sdwan.reconcile.live_hooks import LiveHooks
from sdwan.reconcile.plan import AddPeer, PeerStep, RecreatePeer, global_differs
from sdwan.reconcile.policy_stage import (
    declared_kinds,
    policy_unassigned,
    run_announcement_stage,
    run_policy_stage,
)
from sdwan.reconcile.queue import Request
from sdwan.reconcile.router_state import RouterState
from sdwan.secretbox import SecretBox
from sdwan.store import repo
from sdwan.store.batch_writer import JobSink
from sdwan.store.records import AnnouncementRecord, NeighborRecord, RouterRecord

log = logging.getLogger(__name__)
SpeakerFactory = Callable[[GobgpEndpoint], BgpSpeaker]
_USER_CHANGES = {Status.PENDING_CREATE, Status.PENDING_UPDATE, Status.PENDING_DELETE}
RESYNC_SPREAD = 0.25  # each full read-back comes after interval x uniform(0.75, 1.25)


class Outcome(enum.Enum):
    CONVERGED = "converged"  # applied what is declared (or recorded per object why not)
    READ = "read"  # only read: counters, or a probe that found nothing to do
    FAILED = "failed"  # gobgpd unreachable or refused the router: retry after a backoff
    GONE = "gone"  # the router was deleted


@dataclass(frozen=True)
class Result:
    """How a pass ended, and when the router wants its next full read-back (after a
    full pass: the interval, jittered so a fleet's read-backs spread over it)."""

    outcome: Outcome
    requeue_after: float | None = None


CONVERGED = Result(Outcome.CONVERGED)
READ = Result(Outcome.READ)
FAILED = Result(Outcome.FAILED)
GONE = Result(Outcome.GONE)


@dataclass
class Context:
    """What every pass needs; built once by the controller."""

    engine: Engine  # reads (the store writer does the writes)
    writer: JobSink
    secrets: SecretBox
    settings: Settings
    speaker_factory: SpeakerFactory
    hooks: LiveHooks | None = None
    follow: Callable[[str, GobgpEndpoint], None] = lambda _router, _to: None  # watch it
    guard: Callable[[BgpSpeaker], BgpSpeaker] = lambda speaker: speaker  # fencing (replicas)
    default_ca: str | None = None  # SDWAN_GOBGPD_CA_FILE: trusted for TLS routers without one
    retry_in: Callable[[str], float] = lambda _router: 0.0  # the queue's next backoff


def reconcile(ctx: Context, state: RouterState, request: Request) -> Result:
    """Probe, counters read or pass, as ``request`` says; never raises for gobgpd's
    sake."""
    router = _load_router(ctx, state.router_id)
    if router is None:
        return GONE
    state.name = router.name
    with logs.bound(router=router.name):  # router_id: bound by the controller
        return _reconcile(ctx, state, router, request)


def _reconcile(ctx: Context, state: RouterState, router: RouterRecord, request: Request) -> Result:
    if request.counters_only:
        return read_counters(ctx, state, router)
    if request.probe and not probe_says_full_pass(ctx, state, router):
        if state.reachable is False:
            return FAILED
        return read_counters(ctx, state, router) if request.counters else READ
    scope = None if request.probe else request.scope
    result = _pass(ctx, state, router, scope)
    if result.outcome is Outcome.CONVERGED and request.counters and scope is not None:
        counted = read_counters(ctx, state, router)  # a full pass read them already
        return result if counted.outcome is Outcome.READ else counted
    return result


def read_counters(ctx: Context, state: RouterState, router: RouterRecord) -> Result:
    """Prefix counters for the live state (gobgpd's watch stream does not carry them),
    read after sessions changed. BGP found not running calls for a full pass."""
    if ctx.hooks is None or router.status == Status.PENDING_DELETE:
        return READ
    sessions: dict[str, SessionObservation] = {}
    try:
        _speaker_for(ctx, state, router).list_peers(sessions=sessions)
    except SpeakerUnreachable:
        return READ  # the watch stream reports it, and the next pass handles it
    except SpeakerRejected:  # answers, but runs no BGP (stopped by hand?)
        return _pass(ctx, state, router, None)
    _report_counters(ctx, state, router, sessions)
    return READ


def _report_counters(
    ctx: Context, state: RouterState, router: RouterRecord, seen: dict[str, SessionObservation]
) -> None:
    """Hand the live writer the sessions whose counters moved since the last read."""
    if ctx.hooks is None or not seen:
        return
    moved = [obs for address, obs in seen.items() if state.counters.get(address) != obs]
    state.counters = dict(seen)
    if moved:
        ctx.hooks.writer.counters(router.id, moved)


def probe_says_full_pass(ctx: Context, state: RouterState, router: RouterRecord) -> bool:
    """Cheap GetBgp (used where no watch stream tells us): a gobgpd that came back,
    restarted empty or lost its global config needs a full pass."""
    try:
        actual = _speaker_for(ctx, state, router).get_global()
    except SpeakerUnreachable as exc:
        _mark_unreachable(ctx, state, router, exc)
        return False
    except SpeakerError:
        return True
    if not state.reachable or actual is None or global_differs(global_of(router), actual):
        if state.reachable and actual is None:
            state.restarted = True
        return True
    return False


def _load_router(ctx: Context, router_id: str) -> RouterRecord | None:
    with ctx.engine.connect() as conn:
        return repo.get_router(conn, key=router_id)


def _speaker_for(ctx: Context, state: RouterState, router: RouterRecord) -> BgpSpeaker:
    endpoint = router.endpoint(ctx.default_ca)
    if state.speaker is None or state.speaker_endpoint != endpoint:
        state.close()
        state.speaker = ctx.speaker_factory(endpoint)
        if state.speaker_endpoint != endpoint:
            ctx.follow(router.id, endpoint)
        state.speaker_endpoint = endpoint
    return ctx.guard(state.speaker)


def _before_apply(
    ctx: Context, state: RouterState, router: RouterRecord, neighbors: list[NeighborRecord]
) -> Callable[[list[PeerStep]], None]:
    """Before gobgpd is written: the steps' echo on the watch stream is ours, and the
    live writer learns the ids of the peers added (no store lookup per echo)."""

    def note(steps: list[PeerStep]) -> None:
        state.note_own_changes(steps)
        if ctx.hooks is not None:
            added = {s.peer.address for s in steps if isinstance(s, AddPeer | RecreatePeer)}
            ids = {n.address: n.id for n in neighbors if n.address in added}
            ctx.hooks.writer.expect_peers(router.id, ids)

    return note


def _pass(ctx: Context, state: RouterState, router: RouterRecord, scope: set[str] | None) -> Result:
    started = time.perf_counter()
    repair = router.drift_mode != "report"
    neighbors: list[NeighborRecord] = []
    try:
        speaker = _speaker_for(ctx, state, router)
        if router.status == Status.PENDING_DELETE:
            return GONE if _delete_router(ctx, speaker, router) else CONVERGED
        if scope is not None and not state.claimed:
            scope = None  # no full pass has made sure this gobgpd is ours yet
        trust_global = scope is not None and state.global_checked and router.status == Status.ACTIVE
        if trust_global:  # a neighbor change: the last pass saw BGP run as declared, and
            result = PassResult(repair=repair)  # a restart since would have told us
        else:
            result = _apply_global_claimed(ctx, state, speaker, router, repair=repair)
        with ctx.engine.connect() as conn:
            neighbors = repo.neighbors_of(conn, router_id=router.id, addresses=scope)
        desired = {
            n.address: peer_of(n, ctx.secrets)
            for n in neighbors
            if n.status != Status.PENDING_DELETE
        }
        managed = {n.address for n in neighbors if n.status in _USER_CHANGES | {Status.ERROR}}
        sessions: dict[str, SessionObservation] = {}
        apply_peers(
            speaker,
            desired,
            scope=scope,
            result=result,
            managed=None if result.started else managed,
            before_apply=_before_apply(ctx, state, router, neighbors),
            sessions=sessions,
            new={n.address for n in neighbors if n.status == Status.PENDING_CREATE},
        )
        _report_counters(ctx, state, router, sessions)  # the same read gives them
        if scope is None:  # policy and announcements: on full passes
            declared = declared_kinds(ctx.engine, router.id)
            if declared - {AnnouncementRecord} or not policy_unassigned(speaker):
                enabled = [a for a, p in desired.items() if p.enabled]
                run_policy_stage(
                    ctx.engine,
                    ctx.writer,
                    router,
                    speaker,
                    peers=enabled,
                    repair=repair,
                    drift=result.drift,
                )
            if AnnouncementRecord in declared:
                run_announcement_stage(
                    ctx.engine, ctx.writer, router, speaker, repair=repair, drift=result.drift
                )
    except SpeakerUnreachable as exc:
        state.global_checked = False
        _mark_unreachable(ctx, state, router, exc)
        return FAILED
    except (SpeakerRejected, SpeakerClaimed) as exc:
        state.global_checked = False
        state.claimed = not isinstance(exc, SpeakerClaimed) and state.claimed
        _fail(ctx, router, exc)
        return FAILED
    if trust_global and result.peer_errors:  # BGP stopped by hand since? look at all of it
        state.global_checked = False
        return _pass(ctx, state, router, None)
    state.global_checked = True
    hooks = ctx.hooks
    if hooks is not None and (not state.reachable or state.restarted):
        hooks.writer.reachability(router.id, reachable=True, error="", restarted=state.restarted)
    state.reachable = True
    state.restarted = False
    drift_events = status_writes.note_drift(state, hooks, router, result, scope is None)
    job = status_writes.pass_status_job(
        router, neighbors, result, full=scope is None, events=drift_events, hooks=hooks
    )
    if job is not None:
        ctx.writer.write(job)
    if hooks is not None:
        kind = "full" if scope is None else "targeted"
        hooks.metrics.inc("sdwan_reconcile_runs_total", router=router.name, kind=kind)
        hooks.metrics.observe(
            "sdwan_reconcile_duration_seconds", time.perf_counter() - started, router=router.name
        )
    if scope is not None:
        return CONVERGED
    spread = random.uniform(1 - RESYNC_SPREAD, 1 + RESYNC_SPREAD)
    return Result(Outcome.CONVERGED, requeue_after=ctx.settings.reconcile_interval * spread)


def _apply_global_claimed(
    ctx: Context, state: RouterState, speaker: BgpSpeaker, router: RouterRecord, *, repair: bool
) -> PassResult:
    """The global config, on a gobgpd this router may own (claims.py): a gobgpd running
    BGP is claimed before anything changes on it; one this pass starts (StartBgp wipes
    defined sets) is claimed right after."""
    actual = speaker.get_global()
    lookup = functools.partial(_routers_by_id, ctx)
    if actual is not None:
        claims.claim(speaker, router, lookup)
    result = apply_global(
        speaker,
        global_of(router),
        user_change=router.status in _USER_CHANGES,
        repair=repair,
        actual=actual,
    )
    if result.started:
        claims.claim(speaker, router, lookup)
    state.claimed = result.started or actual is not None
    return result


def _routers_by_id(ctx: Context, ids: Iterable[str]) -> dict[str, RouterRecord]:
    with ctx.engine.connect() as conn:
        found = repo.get_routers_by_keys(conn, keys=ids)
    return {key: router for key, router in found.items() if key == router.id}


def _delete_router(ctx: Context, speaker: BgpSpeaker, router: RouterRecord) -> bool:
    """Whether the row went: not when the router was kept meanwhile (a rollback revived
    it: a new version, whose change queued the next pass)."""
    if speaker.get_global() is not None:
        with suppress(SpeakerRejected):  # another router's gobgpd keeps its claim
            claims.release(speaker, router)
        speaker.stop_bgp()
    ctx.writer.write(status_writes.delete_router_job(router.id, router.version))
    if _routers_by_id(ctx, [router.id]):
        log.info("router %s was kept while being deleted; applying it again", router.name)
        return False
    log.info("router %s deleted; its gobgpd is left stopped", router.name)
    return True


def _mark_unreachable(
    ctx: Context, state: RouterState, router: RouterRecord, exc: SpeakerError
) -> None:
    hooks = ctx.hooks
    if state.reachable is not False and hooks is not None:
        hooks.writer.reachability(router.id, reachable=False, error=exc.message, restarted=False)
    state.reachable = False
    state.close()  # a fresh channel reconnects at once when gobgpd is back
    _fail(ctx, router, exc)


def _fail(ctx: Context, router: RouterRecord, exc: SpeakerError) -> None:
    """Router ERROR with the reason; the controller retries after the queue's backoff."""
    detail = f"{exc.message}; retrying in {ctx.retry_in(router.id):g}s"
    hooks = ctx.hooks
    if hooks is not None:
        hooks.metrics.inc("sdwan_reconcile_errors_total", router=router.name)
    failed, news = status_writes.router_failure(router, exc, detail)
    if news:
        ctx.writer.write(status_writes.router_error_job(router, failed, hooks))
    level = logging.WARNING if router.status != Status.ERROR else logging.DEBUG
    log.log(level, "router %s: %s", router.name, detail)
