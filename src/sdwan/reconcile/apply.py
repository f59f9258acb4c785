"""One reconcile pass of one router: read gobgpd, diff, apply, report per neighbor."""

from __future__ import annotations

from dataclasses import dataclass, field

from sdwan.domain.bgp import GlobalConfig, PeerConfig
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


@dataclass
class PassResult:
    """What one pass did. ``peer_errors`` and ``peer_notes`` are keyed by address."""

    restarted_for: list[str] = field(default_factory=list)  # global fields that forced StopBgp
    started: bool = False
    steps: list[PeerStep] = field(default_factory=list)
    peer_errors: dict[str, str] = field(default_factory=dict)
    peer_notes: dict[str, str] = field(default_factory=dict)


def apply_global(speaker: BgpSpeaker, desired: GlobalConfig) -> PassResult:
    """Make gobgpd run BGP as ``desired`` (start, or stop and start again)."""
    actual = speaker.get_global()
    plan = plan_global(desired, actual)
    result = PassResult()
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
) -> None:
    """Diff and apply. SpeakerUnreachable propagates (the whole pass failed);
    SpeakerRejected is recorded against the one neighbor it concerns. Actual peers are
    always read, even right after StartBgp: nothing is assumed about gobgpd."""
    actual: dict[str, PeerConfig] = {}
    if scope is not None and len(scope) <= 16:
        for address in scope:
            actual.update(speaker.list_peers(address))
    else:
        actual = speaker.list_peers()
    steps = plan_peers(desired, actual, scope=scope)
    result.steps.extend(steps)
    for step in steps:
        address = step.address if isinstance(step, DeletePeer) else step.peer.address
        try:
            _apply_step(speaker, step, result)
        except SpeakerRejected as exc:
            result.peer_errors[address] = exc.message


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
