"""gobgpd's peer state over grpc.aio: the WatchEvent stream and plain ListPeer, as
SessionObservation values. grpc errors never leave this module."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc

from sdwan.domain.endpoint import GobgpEndpoint
from sdwan.domain.session import ESTABLISHED, UNKNOWN, SessionObservation
from sdwan.errors import SpeakerRejected, SpeakerUnreachable
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.channel import aio_channel
from sdwan.gobgp.stub import gobgp_stub

END_OF_INIT = "END_OF_INIT"
_STATE_NAMES = {
    pb.PeerState.IDLE: "IDLE",
    pb.PeerState.CONNECT: "CONNECT",
    pb.PeerState.ACTIVE: "ACTIVE",
    pb.PeerState.OPENSENT: "OPENSENT",
    pb.PeerState.OPENCONFIRM: "OPENCONFIRM",
    pb.PeerState.ESTABLISHED: "ESTABLISHED",
}
_PeerEvent = pb.WatchEventResponse.PeerEvent


def _timestamp(value: Any) -> datetime | None:
    if value.seconds <= 0:
        return None
    return datetime.fromtimestamp(value.seconds + value.nanos / 1e9, tz=UTC)


def _bgp_identifier(value: str) -> str | None:
    """gobgpd's ``PeerState.router_id``: the identifier of the peer's OPEN, as a dotted
    quad; empty (or ``<nil>``, ``0.0.0.0``) before any OPEN was received."""
    try:
        identifier = ipaddress.IPv4Address(value)
    except ValueError:
        return None
    return None if int(identifier) == 0 else str(identifier)


def observation_from_peer(peer: pb.Peer, *, removed: bool = False) -> SessionObservation:
    """A ListPeer peer (with counters and timers) or a watch event's peer (without)."""
    state = _STATE_NAMES.get(peer.state.session_state, UNKNOWN)
    has_counters = peer.HasField("timers")
    received = accepted = None
    if has_counters:
        received = sum(a.state.received for a in peer.afi_safis)
        accepted = sum(a.state.accepted for a in peer.afi_safis)
    messages = peer.state.messages
    return SessionObservation(
        address=peer.state.neighbor_address or peer.conf.neighbor_address,
        state=state,
        admin_down=peer.state.admin_state == pb.PeerState.DOWN,
        removed=removed,
        established_at=_timestamp(peer.timers.state.uptime)
        if has_counters and state == ESTABLISHED
        else None,
        received=received,
        accepted=accepted,
        notifications_received=messages.received.notification if has_counters else None,
        notifications_sent=messages.sent.notification if has_counters else None,
        remote_router_id=_bgp_identifier(peer.state.router_id) if state == ESTABLISHED else None,
    )


_NO_ANSWER = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,  # the channel was closed under the call
)


def _reraise_if_cancelling() -> None:
    """A call cancelled because its channel closed is a broken link; a task being
    cancelled (the hub stopping) must end."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class PeerWatch:
    """One grpc.aio channel to one gobgpd, used on the watch loop: ``events()`` follows
    WatchEvent, ``sessions()`` reads every peer (or one) with plain ListPeer (never
    enableAdvertised, which walks the RIB). Costs no thread."""

    def __init__(self, endpoint: GobgpEndpoint | str, *, timeout: float = 5.0) -> None:
        if isinstance(endpoint, str):
            endpoint = GobgpEndpoint(endpoint)
        self.target = endpoint.target
        self.timeout = timeout
        self._channel = aio_channel(endpoint)
        self._stub = gobgp_stub(self._channel)

    async def events(self) -> AsyncIterator[SessionObservation | str]:
        """Observations, and END_OF_INIT once gobgpd has listed its current peers.
        Ends with SpeakerUnreachable when the stream breaks."""
        request = pb.WatchEventRequest(peer=pb.WatchEventRequest.Peer())
        call = self._stub.WatchEvent(request)
        try:
            async for reply in call:
                if not reply.HasField("peer"):
                    continue
                event = reply.peer
                if event.type == _PeerEvent.END_OF_INIT:
                    yield END_OF_INIT
                    continue
                removed = event.type == _PeerEvent.UNKNOWN
                yield observation_from_peer(event.peer, removed=removed)
        except grpc.aio.AioRpcError as exc:
            reason = (exc.details() or "stream closed").rsplit("error: ", 1)[-1].strip()
            raise SpeakerUnreachable(
                f"gobgpd at {self.target}: watch stream broke: {reason}"
            ) from None
        except asyncio.CancelledError:
            _reraise_if_cancelling()
            raise SpeakerUnreachable(f"gobgpd at {self.target}: channel closed") from None
        finally:
            call.cancel()
        raise SpeakerUnreachable(f"gobgpd at {self.target}: watch stream ended")

    async def sessions(self, address: str = "") -> dict[str, SessionObservation]:
        """SpeakerUnreachable when gobgpd does not answer; SpeakerRejected when it
        answers no (for example BGP is not running: "bgp server hasn't started")."""
        request = pb.ListPeerRequest(address=address)
        try:
            call = self._stub.ListPeer(request, timeout=self.timeout)
            peers = [observation_from_peer(reply.peer) async for reply in call]
        except grpc.aio.AioRpcError as exc:
            message = f"gobgpd at {self.target} (ListPeer): {exc.details()}"
            if exc.code() in _NO_ANSWER:
                raise SpeakerUnreachable(message) from None
            raise SpeakerRejected(message) from None
        except asyncio.CancelledError:
            _reraise_if_cancelling()
            raise SpeakerUnreachable(f"gobgpd at {self.target}: channel closed") from None
        return {p.address: p for p in peers}

    async def close(self) -> None:
        await self._channel.close()
