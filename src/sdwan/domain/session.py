"""Live BGP session values: what a gobgpd reports about one peer, and the rules
that turn two observations into a transition (flap, down reason). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

UNKNOWN = "UNKNOWN"  # gobgpd unreachable, or the peer is not (yet) on gobgpd
ESTABLISHED = "ESTABLISHED"


def up_down(state: str) -> str:
    """The original system's neighbor status: UP when Established, DOWN otherwise."""
    return "UP" if state == ESTABLISHED else "DOWN"


@dataclass(frozen=True)
class SessionObservation:
    """One peer as gobgpd reported it (a WatchEvent or a ListPeer answer).

    Counters are None when the source does not carry them (watch events)."""

    address: str
    state: str
    admin_down: bool = False
    removed: bool = False  # gobgpd deleted the peer (WatchEvent type UNKNOWN)
    established_at: datetime | None = None  # gobgpd's timers.state.uptime
    received: int | None = None
    accepted: int | None = None
    notifications_received: int | None = None
    notifications_sent: int | None = None
    remote_router_id: str | None = None  # the BGP identifier in the peer's OPEN, once up


@dataclass(frozen=True)
class SessionRecord:
    """The live state the store keeps per neighbor."""

    state: str
    admin_down: bool
    established_at: datetime | None
    state_since: datetime
    last_down_at: datetime | None
    last_down_reason: str
    flap_count: int
    prefixes_received: int | None
    prefixes_accepted: int | None
    remote_router_id: str | None = None  # the peer's BGP identifier, while Established


def down_reason(obs: SessionObservation, before: SessionObservation | None) -> str:
    """Why a session left ESTABLISHED, from what gobgpd tells over gRPC (it does not
    expose its FSM's own reason): admin down, peer removed, NOTIFICATION counters."""
    if obs.removed:
        return "peer removed from gobgpd"
    if obs.admin_down:
        return "administratively down (neighbor disabled)"
    if before is not None and obs.notifications_received is not None:
        if (obs.notifications_received or 0) > (before.notifications_received or 0):
            return "NOTIFICATION received from the peer"
        if (obs.notifications_sent or 0) > (before.notifications_sent or 0):
            return "NOTIFICATION sent to the peer (hold timer expired or protocol error)"
    return f"connection lost (session went {obs.state})"


def advance(
    current: SessionRecord | None,
    obs: SessionObservation,
    *,
    now: datetime,
    reason: str,
) -> SessionRecord:
    """The record after ``obs``; ``reason`` is used when the session leaves ESTABLISHED
    (or is observed down for the first time)."""
    state = obs.state
    if current is None:
        established = (obs.established_at or now) if state == ESTABLISHED else None
        return SessionRecord(
            state=state,
            admin_down=obs.admin_down,
            established_at=established,
            state_since=established or now,
            last_down_at=None,
            last_down_reason="" if state == ESTABLISHED else reason,
            flap_count=0,
            prefixes_received=obs.received,
            prefixes_accepted=obs.accepted,
            remote_router_id=remote_router_id(None, obs),
        )
    established_at = current.established_at
    last_down_at, last_reason, flaps = (
        current.last_down_at,
        current.last_down_reason,
        current.flap_count,
    )
    since = current.state_since
    if state != current.state:
        since = now
        if state == ESTABLISHED:
            established_at = obs.established_at or now
            since = established_at
        elif current.state == ESTABLISHED:
            established_at = None
            last_down_at, last_reason, flaps = now, reason, flaps + 1
        elif reason and not last_reason:
            last_reason = reason
    elif state == ESTABLISHED and obs.established_at is not None:
        established_at = obs.established_at  # gobgpd's own clock wins over our guess
        since = established_at
    received: int | None
    accepted: int | None
    if state != ESTABLISHED and obs.received is None and current.prefixes_received:
        received, accepted = 0, 0  # a session that went down holds no routes
    else:
        received = obs.received if obs.received is not None else current.prefixes_received
        accepted = obs.accepted if obs.accepted is not None else current.prefixes_accepted
    return SessionRecord(
        state=state,
        admin_down=obs.admin_down,
        established_at=established_at,
        state_since=since,
        last_down_at=last_down_at,
        last_down_reason=last_reason,
        flap_count=flaps,
        prefixes_received=received,
        prefixes_accepted=accepted,
        remote_router_id=remote_router_id(current, obs),
    )


def remote_router_id(current: SessionRecord | None, obs: SessionObservation) -> str | None:
    """The peer's BGP identifier while the session is Established (an observation
    without one keeps the one already known for the same session); None otherwise: an
    identifier from a session that is down may no longer be the peer's."""
    if obs.state != ESTABLISHED:
        return None
    if obs.remote_router_id is not None:
        return obs.remote_router_id
    if current is not None and current.state == ESTABLISHED:
        return current.remote_router_id
    return None
