"""gobgpd's peer state over gRPC: the WatchEvent stream and plain ListPeer, as
SessionObservation values. grpc.RpcError never leaves this module."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import grpc

from sdwan.domain.session import UNKNOWN, SessionObservation
from sdwan.errors import SpeakerUnreachable
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp._pb import gobgp_pb2_grpc as pb_grpc

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
        if has_counters and state == "ESTABLISHED"
        else None,
        received=received,
        accepted=accepted,
        notifications_received=messages.received.notification if has_counters else None,
        notifications_sent=messages.sent.notification if has_counters else None,
    )


class PeerWatch:
    """One channel to one gobgpd: ``events()`` follows WatchEvent, ``sessions()``
    reads every peer with plain ListPeer (never enableAdvertised, which walks the RIB)."""

    def __init__(self, target: str, *, timeout: float = 5.0) -> None:
        self.target = target
        self.timeout = timeout
        self._channel = grpc.insecure_channel(target)
        self._stub = pb_grpc.GobgpApiStub(self._channel)
        self._call: Any = None

    def events(self) -> Iterator[SessionObservation | str]:
        """Observations, and END_OF_INIT once gobgpd has listed its current peers.
        Ends with SpeakerUnreachable when the stream breaks (also when cancelled)."""
        request = pb.WatchEventRequest(peer=pb.WatchEventRequest.Peer())
        self._call = self._stub.WatchEvent(request)
        try:
            for reply in self._call:
                if not reply.HasField("peer"):
                    continue
                event = reply.peer
                if event.type == _PeerEvent.END_OF_INIT:
                    yield END_OF_INIT
                    continue
                removed = event.type == _PeerEvent.UNKNOWN
                yield observation_from_peer(event.peer, removed=removed)
        except grpc.RpcError as exc:
            details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
            reason = (details or "stream closed").rsplit("error: ", 1)[-1].strip()
            raise SpeakerUnreachable(
                f"gobgpd at {self.target}: watch stream broke: {reason}"
            ) from None
        raise SpeakerUnreachable(f"gobgpd at {self.target}: watch stream ended")

    def sessions(self, address: str = "") -> dict[str, SessionObservation]:
        try:
            replies = self._stub.ListPeer(pb.ListPeerRequest(address=address), timeout=self.timeout)
            peers = [observation_from_peer(r.peer) for r in replies]
        except grpc.RpcError as exc:
            details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
            raise SpeakerUnreachable(f"gobgpd at {self.target} (ListPeer): {details}") from None
        return {p.address: p for p in peers}

    def cancel(self) -> None:
        if self._call is not None:
            self._call.cancel()

    def close(self) -> None:
        self.cancel()
        self._channel.close()
