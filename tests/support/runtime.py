"""A runtime whose routers are in-memory FakeSpeakers, for API and service unit tests."""

from __future__ import annotations

from sdwan.config import Settings
from sdwan.runtime import Runtime, build_runtime
from tests.support.speaker import FakeSpeaker


def fake_runtime(settings: Settings, speakers: dict[str, FakeSpeaker] | None = None) -> Runtime:
    """``build_runtime`` with one FakeSpeaker per gobgpd address (kept in ``speakers``,
    keyed by the gRPC target) and no WatchEvent streams: a fake has none, so the
    reconciler probes each router with GetBgp instead."""
    found: dict[str, FakeSpeaker] = {} if speakers is None else speakers
    return build_runtime(
        settings,
        speaker_factory=lambda endpoint: found.setdefault(endpoint.target, FakeSpeaker()),
        watch_streams=False,
    )
