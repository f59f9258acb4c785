"""What one router's reconcile passes remember between runs: its gobgpd connection,
what the last pass found, and the peer changes of ours the watch stream will echo."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sdwan.domain.endpoint import GobgpEndpoint
from sdwan.domain.session import SessionObservation
from sdwan.gobgp.client import BgpSpeaker
from sdwan.reconcile.plan import PeerStep, UpdatePeer, step_address

OWN_CHANGE_WINDOW = 5.0  # seconds a peer change of ours is expected on the watch stream


@dataclass
class RouterState:
    """What one router's passes remember. Touched by one pool worker at a time (the
    queue never hands a key out twice); ``own_changes`` also by the watch loop, under
    ``lock``. Failures and their backoff are the work queue's (queue.py)."""

    router_id: str
    name: str = ""
    speaker: BgpSpeaker | None = None
    speaker_endpoint: GobgpEndpoint | None = None
    reachable: bool | None = None
    restarted: bool = False  # a new gobgpd instance answers (watch re-opened, empty)
    global_checked: bool = False  # the last pass found BGP running as declared
    claimed: bool = False  # a full pass made sure the gobgpd is this router's (claims.py)
    last_drift: dict[str, str] = field(default_factory=dict)
    own_changes: dict[str, float] = field(default_factory=dict)  # address -> expected until
    counters: dict[str, SessionObservation] = field(default_factory=dict)  # last read
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.name = self.name or self.router_id

    def expected_echo(self, address: str) -> bool:
        """True if a peer appearing/going at ``address`` is our own recent change."""
        with self.lock:
            return self.own_changes.pop(address, 0.0) >= time.monotonic()

    def note_own_changes(self, steps: list[PeerStep]) -> None:
        until = time.monotonic() + OWN_CHANGE_WINDOW
        with self.lock:
            now = time.monotonic()
            self.own_changes = {a: t for a, t in self.own_changes.items() if t > now}
            for step in steps:
                if not isinstance(step, UpdatePeer):
                    self.own_changes[step_address(step)] = until

    def close(self) -> None:
        if self.speaker is not None:
            self.speaker.close()
            self.speaker = None
