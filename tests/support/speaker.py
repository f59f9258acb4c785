"""An in-memory BgpSpeaker for unit tests of the reconciler. It records every call.
Claims about gobgpd itself are proven against a real gobgpd, never this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sdwan.domain.bgp import GlobalConfig, PeerConfig
from sdwan.domain.session import SessionObservation
from sdwan.errors import SpeakerRejected, SpeakerUnreachable
from sdwan.gobgp.client import BgpSpeaker
from tests.support.speaker_policy import FakePolicyCalls, FakePolicyState


@dataclass
class FakeSpeaker(FakePolicyCalls):
    global_config: GlobalConfig | None = None
    peers: dict[str, PeerConfig] = field(default_factory=dict)
    reachable: bool = True
    refuse: dict[str, str] = field(default_factory=dict)  # peer address -> gobgpd's error
    calls: list[str] = field(default_factory=list)
    policy_state: FakePolicyState = field(default_factory=FakePolicyState)

    def _check(self, call: str) -> None:
        if not self.reachable:
            raise SpeakerUnreachable(f"fake speaker unreachable ({call})")
        self.calls.append(call)

    def get_global(self) -> GlobalConfig | None:
        self._check("GetBgp")
        return self.global_config

    def start_bgp(self, config: GlobalConfig) -> None:
        self._check("StartBgp")
        if self.global_config is not None:
            raise SpeakerRejected("already started")
        self.global_config = config

    def stop_bgp(self) -> None:
        self._check("StopBgp")
        self.global_config = None
        self.peers.clear()

    def list_peers(
        self, address: str | None = None, *, sessions: dict[str, SessionObservation] | None = None
    ) -> dict[str, PeerConfig]:
        self._check("ListPeer")
        found = dict(self.peers) if address is None else {}
        if address is not None and address in self.peers:
            found[address] = self.peers[address]
        if sessions is not None:  # a fake has no sessions: every peer idle, no prefixes
            for a in found:
                sessions[a] = SessionObservation(a, "IDLE", received=0, accepted=0)
        return found

    def add_peer(self, peer: PeerConfig) -> None:
        self._check(f"AddPeer {peer.address}")
        if self.global_config is None:
            raise SpeakerRejected("bgp not started")
        if peer.address in self.peers:
            raise SpeakerRejected(f"can't overwrite the existing peer: {peer.address}")
        self._refused(peer)
        self.peers[peer.address] = replace(peer)

    def add_peers(self, peers: Sequence[PeerConfig]) -> dict[str, str]:
        errors = {}
        for peer in peers:
            try:
                self.add_peer(peer)
            except SpeakerRejected as exc:
                errors[peer.address] = exc.message
        return errors

    def update_peer(self, peer: PeerConfig) -> None:
        self._check(f"UpdatePeer {peer.address}")
        if peer.address not in self.peers:
            raise SpeakerRejected(f"no peer {peer.address}")
        self._refused(peer)
        self.peers[peer.address] = replace(peer)

    def _refused(self, peer: PeerConfig) -> None:
        if peer.address in self.refuse:
            raise SpeakerRejected(self.refuse[peer.address])

    def delete_peer(self, address: str) -> None:
        self._check(f"DeletePeer {address}")
        if address not in self.peers:
            raise SpeakerRejected(f"no peer {address}")
        del self.peers[address]

    def close(self) -> None:
        pass


def _checked_against_the_protocol(fake: FakeSpeaker) -> BgpSpeaker:
    """mypy holds the fake to the protocol it stands for: a method the reconciler may
    call that the fake lacks, or with another signature, is a type error here."""
    return fake
