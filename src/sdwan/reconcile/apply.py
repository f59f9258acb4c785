"""One reconcile pass of one router: read gobgpd, diff, apply, report per neighbor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sdwan.domain.bgp import GlobalConfig, PeerConfig
from sdwan.domain.session import SessionObservation
from sdwan.errors import SpeakerRejected
from sdwan.gobgp.client import BgpSpeaker
from sdwan.reconcile.plan import (
    AddPeer,
    DeletePeer,
    PeerStep,
    RecreatePeer,
    UpdatePeer,
    global_differs,
    plan_global,
    plan_peers,
)

EXISTING_PEER = "existing peer"  # gobgpd: "can't overwrite the existing peer: <address>"


class Unread:
    """No value read yet (None is a value here: BGP not running)."""


UNREAD = Unread()


@dataclass
class PassResult:
    """What one pass did. ``peer_errors`` and ``peer_notes`` are keyed by address."""

    restarted_for: list[str] = field(default_factory=list)  # global fields that forced StopBgp
    started: bool = False
    steps: list[PeerStep] = field(default_factory=list)
    peer_errors: dict[str, str] = field(default_factory=dict)
    peer_notes: dict[str, str] = field(default_factory=dict)
    # Differences nobody asked for (drift), keyed by address ("global" for the router):
    # found on gobgpd for resources whose desired state was already applied.
    drift: dict[str, str] = field(default_factory=dict)
    repair: bool = True  # drift_mode=repair: drift is fixed; report: only recorded


def apply_global(
    speaker: BgpSpeaker,
    desired: GlobalConfig,
    *,
    user_change: bool = True,
    repair: bool = True,
    actual: GlobalConfig | Unread | None = UNREAD,
) -> PassResult:
    """Make gobgpd run BGP as ``desired`` (start, or stop and start again). Without a
    ``user_change`` pending, a difference is drift: recorded, and applied only with
    ``repair``. ``actual``: what GetBgp just answered, if the caller read it."""
    if isinstance(actual, Unread):
        actual = speaker.get_global()
    plan = plan_global(desired, actual)
    result = PassResult(repair=repair)
    if not plan.empty and not user_change:
        result.drift["global"] = (
            "BGP not running on gobgpd (restarted empty?)"
            if actual is None
            else f"gobgpd runs BGP with other {', '.join(global_differs(desired, actual))}"
        )
        if not repair:
            return result
    if plan.stop_bgp and actual is not None:
        result.restarted_for = global_differs(desired, actual)
        speaker.stop_bgp()
    if plan.start_bgp is not None:
        speaker.start_bgp(plan.start_bgp)
        result.started = True
    return result


def apply_peers(
    speaker: BgpSpeaker,
    desired: dict[str, PeerConfig],
    *,
    scope: set[str] | None,
    result: PassResult,
    managed: set[str] | None = None,
    before_apply: Callable[[list[PeerStep]], None] | None = None,
    sessions: dict[str, SessionObservation] | None = None,
    new: set[str] | None = None,
) -> None:
    """Diff and apply. SpeakerUnreachable propagates (the whole pass failed);
    SpeakerRejected is recorded against the one neighbor it concerns. Actual peers are
    always read, even right after StartBgp: nothing is assumed about gobgpd.

    ``managed``: the addresses with a change of the user's own still to apply; a step
    for any other address is drift (recorded; skipped unless ``result.repair``).
    None: every step is wanted (e.g. right after BGP was (re)started).

    ``sessions``: filled with gobgpd's session state and counters when the pass reads
    every peer (one ListPeer serves the diff and the live counters).

    ``new``: addresses just declared (a targeted pass): added without reading them
    first, one RPC instead of two; one gobgpd already has (added by hand before the
    user declared it) is read and converged like any other."""
    actual: dict[str, PeerConfig] = {}
    unread = (new or set()) & scope if scope is not None else set()
    if scope is not None and len(scope - unread) <= 16:
        for address in sorted(scope - unread):
            actual.update(speaker.list_peers(address))
    else:
        actual = speaker.list_peers(sessions=sessions)
        unread = set()
    steps = plan_peers(desired, actual, scope=scope)
    if managed is not None:
        for step in steps:
            address = step.address if isinstance(step, DeletePeer) else step.peer.address
            if address not in managed:
                result.drift[address] = describe_drift(step)
        if not result.repair:
            steps = [s for s in steps if _address(s) in managed]
    result.steps.extend(steps)
    if before_apply is not None:
        before_apply(steps)
    adds = [step.peer for step in steps if isinstance(step, AddPeer)]
    if len(adds) > 1:  # many new peers (a bulk create, a restarted gobgpd): pipelined
        result.peer_errors.update(speaker.add_peers(adds))
        steps = [step for step in steps if not isinstance(step, AddPeer)]
    for step in steps:
        address = step.address if isinstance(step, DeletePeer) else step.peer.address
        try:
            _apply_step(speaker, step, result)
        except SpeakerRejected as exc:
            result.peer_errors[address] = exc.message
    there = {a for a in unread if EXISTING_PEER in result.peer_errors.get(a, "")}
    if there:  # assumed absent, but gobgpd has them: read them and converge
        for address in there:
            del result.peer_errors[address]
        result.steps[:] = [s for s in result.steps if _address(s) not in there]
        apply_peers(
            speaker,
            {a: desired[a] for a in there},
            scope=there,
            result=result,
            managed=managed,
            before_apply=before_apply,
        )


def _apply_step(speaker: BgpSpeaker, step: PeerStep, result: PassResult) -> None:
    if isinstance(step, AddPeer):
        speaker.add_peer(step.peer)
    elif isinstance(step, DeletePeer):
        speaker.delete_peer(step.address)
    elif isinstance(step, UpdatePeer):
        speaker.update_peer(step.peer)
        if step.resets_session:
            result.peer_notes[step.peer.address] = (
                f"session reset by gobgpd to apply {', '.join(step.fields)}"
            )
    elif isinstance(step, RecreatePeer):
        speaker.delete_peer(step.peer.address)
        speaker.add_peer(step.peer)
        result.peer_notes[step.peer.address] = (
            f"peer re-created (session reset) to apply {', '.join(step.fields)}"
        )


def _address(step: PeerStep) -> str:
    return step.address if isinstance(step, DeletePeer) else step.peer.address


def describe_drift(step: PeerStep) -> str:
    """What differs on gobgpd, in the words of a status detail."""
    if isinstance(step, AddPeer):
        return f"peer {step.peer.address} missing on gobgpd"
    if isinstance(step, DeletePeer):
        return f"peer {step.address} on gobgpd is not declared here"
    return f"peer {step.peer.address}: {', '.join(step.fields)} changed on gobgpd"
