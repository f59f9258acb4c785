"""A runtime whose routers are in-memory FakeSpeakers, for API and service unit tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sdwan.config import Settings
from sdwan.runtime import Runtime, build_runtime
from tests.support.api import ADMIN_TOKEN
from tests.support.speaker import FakeSpeaker


def unit_settings(tmp_path: Path, database_url: str, **more: Any) -> Settings:
    """The settings of an in-process runtime: short retries, any gobgpd address (the
    allowlists have their own tests), ``more`` on top."""
    return Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        secret_key_file=tmp_path / "secret.key",
        probe_interval=0.05,
        backoff_initial=0.05,
        backoff_max=0.2,
        api_address_allow=("*",),
        **more,
    )


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
