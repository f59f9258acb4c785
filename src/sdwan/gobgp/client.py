"""Typed facade over gobgpd's gRPC API. grpc.RpcError never leaves this module:
it becomes SpeakerUnreachable (no answer) or SpeakerRejected (gobgpd said no)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

import grpc
from google.protobuf.empty_pb2 import Empty
from grpc.experimental import ChannelOptions

from sdwan.domain.bgp import GlobalConfig, PeerConfig
from sdwan.domain.endpoint import GobgpEndpoint
from sdwan.domain.policy import SetType
from sdwan.domain.policy_compile import CompiledPolicy
from sdwan.domain.session import SessionObservation
from sdwan.errors import SpeakerRejected, SpeakerUnreachable
from sdwan.gobgp import convert
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.announce_client import OriginationCalls
from sdwan.gobgp.announce_convert import Announcement
from sdwan.gobgp.channel import sync_channel
from sdwan.gobgp.paths import Route
from sdwan.gobgp.policy_client import PolicyCalls
from sdwan.gobgp.policy_convert import ActualSet
from sdwan.gobgp.rib_calls import RibCalls
from sdwan.gobgp.stub import gobgp_stub
from sdwan.gobgp.watch import observation_from_peer

T = TypeVar("T")
PIPELINE = 32  # AddPeer requests in flight at once
# Streamed replies (ListPeer, ListPath, ...) read on the calling thread: without it,
# grpc hands every message over from a helper thread, ~90 us per message (a ListPeer
# of 100 peers cost 13 ms of CPU instead of 4 ms).
CHANNEL_OPTIONS = [(ChannelOptions.SingleThreadedUnaryStream, 1)]
_UNREACHABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


class SpeakerReads(Protocol):
    """What the reconciler reads from a gobgpd. Everything here may be called on a
    report-only router (reconcile/dry_speaker.py passes it through)."""

    def get_global(self) -> GlobalConfig | None: ...
    def list_peers(
        self, address: str | None = None, *, sessions: dict[str, SessionObservation] | None = None
    ) -> dict[str, PeerConfig]:
        """The peers' configuration; ``sessions``, when given, is filled from the same
        reply with what gobgpd reports about each session (state and counters)."""
        ...

    # routing policy (sdwan.gobgp.policy_client)
    def list_sets(self, only: SetType | None = None) -> dict[str, ActualSet]: ...
    def list_policies(self) -> dict[str, tuple[str, ...]]: ...
    def get_assignment(self, direction: str) -> tuple[tuple[str, ...], str]: ...
    # origination (sdwan.gobgp.announce_client)
    def local_paths(self, family: str, prefixes: Sequence[str]) -> dict[str, Route]: ...


class SpeakerWrites(Protocol):
    """What the reconciler changes on a gobgpd. Only recorded, never sent, where
    nothing may change (reconcile/dry_speaker.py): a write declared anywhere else could
    slip through, so every method of BgpSpeaker is in exactly one of the two."""

    def start_bgp(self, config: GlobalConfig) -> None: ...
    def stop_bgp(self) -> None: ...
    def add_peer(self, peer: PeerConfig) -> None: ...
    def add_peers(self, peers: Sequence[PeerConfig]) -> dict[str, str]: ...
    def update_peer(self, peer: PeerConfig) -> None: ...
    def delete_peer(self, address: str) -> None: ...
    # routing policy (sdwan.gobgp.policy_client)
    def add_set_members(self, name: str, set_type: SetType, members: tuple[Any, ...]) -> None: ...
    def remove_set_members(
        self, name: str, set_type: SetType, members: tuple[Any, ...]
    ) -> None: ...
    def delete_set(self, name: str, set_type: SetType) -> None: ...
    def add_policy(self, policy: CompiledPolicy) -> None: ...
    def delete_policy(self, name: str) -> None: ...
    def set_assignment(self, direction: str, names: tuple[str, ...], default: str) -> None: ...
    def soft_reset(self, address: str, direction: str) -> None: ...
    # origination (sdwan.gobgp.announce_client)
    def add_path(self, item: Announcement) -> None: ...
    def delete_path(self, item: Announcement) -> None: ...


class BgpSpeaker(SpeakerReads, SpeakerWrites, Protocol):
    """What the reconciler needs from a gobgpd; GobgpClient provides it (and, in unit
    tests, tests/support/speaker.py)."""

    def close(self) -> None: ...


def protocol_methods(protocol: type) -> frozenset[str]:
    """The public methods a protocol class declares itself (not inherited)."""
    return frozenset(
        name for name, value in vars(protocol).items() if callable(value) and name[0] != "_"
    )


class GobgpClient(PolicyCalls, OriginationCalls, RibCalls):
    def __init__(self, endpoint: GobgpEndpoint | str, *, timeout: float = 5.0) -> None:
        if isinstance(endpoint, str):
            endpoint = GobgpEndpoint(endpoint)
        self.endpoint = endpoint
        self.target = endpoint.target
        self.timeout = timeout
        self._channel = sync_channel(endpoint, CHANNEL_OPTIONS)
        self._stub = gobgp_stub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except grpc.RpcError as exc:
            code = exc.code() if isinstance(exc, grpc.Call) else None
            details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
            if code in _UNREACHABLE:
                # grpc's text nests the OS error at the end: "... error: Connection refused"
                reason = (details or "no answer").rsplit("error: ", 1)[-1].strip()
                raise SpeakerUnreachable(
                    f"gobgpd at {self.target} unreachable ({what}): {reason}"
                ) from exc
            raise SpeakerRejected(f"gobgpd at {self.target} refused {what}: {details}") from exc

    def get_global(self) -> GlobalConfig | None:
        reply = self._call(
            "GetBgp", lambda: self._stub.GetBgp(pb.GetBgpRequest(), timeout=self.timeout)
        )
        return convert.global_from_proto(reply.__getattribute__("global"))

    def start_bgp(self, config: GlobalConfig) -> None:
        request = pb.StartBgpRequest(**{"global": convert.global_to_proto(config)})
        self._call("StartBgp", lambda: self._stub.StartBgp(request, timeout=self.timeout))

    def stop_bgp(self) -> None:
        self._call("StopBgp", lambda: self._stub.StopBgp(pb.StopBgpRequest(), timeout=self.timeout))

    def _raw_peers(self, address: str | None) -> list[pb.Peer]:
        request = pb.ListPeerRequest(address=address or "")
        return self._call(
            "ListPeer",
            lambda: [r.peer for r in self._stub.ListPeer(request, timeout=self.timeout)],
        )

    def list_peers(
        self, address: str | None = None, *, sessions: dict[str, SessionObservation] | None = None
    ) -> dict[str, PeerConfig]:
        raw = self._raw_peers(address)
        if sessions is not None:
            sessions.update((o.address, o) for o in map(observation_from_peer, raw))
        peers = (convert.peer_from_proto(p) for p in raw)
        return {p.address: p for p in peers}

    def add_peer(self, peer: PeerConfig) -> None:
        request = pb.AddPeerRequest(peer=convert.overlay_peer(peer))
        self._call(
            f"AddPeer {peer.address}", lambda: self._stub.AddPeer(request, timeout=self.timeout)
        )

    def add_peers(self, peers: Sequence[PeerConfig]) -> dict[str, str]:
        """AddPeer for many peers, up to PIPELINE requests in flight (gobgpd applies
        them in order; the round trips overlap). Returns gobgpd's refusals by address;
        SpeakerUnreachable if it stops answering."""
        errors: dict[str, str] = {}
        in_flight: deque[tuple[str, grpc.Future[Empty]]] = deque()

        for peer in peers:
            request = pb.AddPeerRequest(peer=convert.overlay_peer(peer))
            in_flight.append(
                (peer.address, self._stub.AddPeer.future(request, timeout=self.timeout))
            )
            if len(in_flight) >= PIPELINE:
                self._settle(*in_flight.popleft(), errors)
        while in_flight:
            self._settle(*in_flight.popleft(), errors)
        return errors

    def _settle(self, address: str, future: grpc.Future[Empty], errors: dict[str, str]) -> None:
        try:
            self._call(f"AddPeer {address}", future.result)
        except SpeakerRejected as exc:
            errors[address] = exc.message

    def update_peer(self, peer: PeerConfig) -> None:
        """UpdatePeer replaces the whole peer: read it, change our fields, write it back."""
        current = self._raw_peers(peer.address)
        if not current:
            raise SpeakerRejected(f"gobgpd at {self.target} has no peer {peer.address} to update")
        request = pb.UpdatePeerRequest(peer=convert.overlay_peer(peer, current[0]))
        self._call(
            f"UpdatePeer {peer.address}",
            lambda: self._stub.UpdatePeer(request, timeout=self.timeout),
        )

    def delete_peer(self, address: str) -> None:
        request = pb.DeletePeerRequest(address=address)
        self._call(
            f"DeletePeer {address}", lambda: self._stub.DeletePeer(request, timeout=self.timeout)
        )

    def list_path(
        self, request: pb.ListPathRequest, *, timeout: float = 120.0
    ) -> Iterator[pb.Destination]:
        """ListPath's destinations as they arrive; closing the iterator early (or an
        error) cancels the stream. ``timeout`` bounds the whole stream."""
        what = f"ListPath {pb.TableType.Name(request.table_type)} {request.name}".rstrip()
        stream = self._call(what, lambda: self._stub.ListPath(request, timeout=timeout))
        try:
            while True:
                reply = self._call(what, lambda: next(stream, None))
                if reply is None:
                    return
                yield reply.destination
        finally:
            stream.cancel()
