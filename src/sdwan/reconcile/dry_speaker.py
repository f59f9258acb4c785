"""A speaker that reads from gobgpd but only records writes: used to find out what a
stage would change (drift) without changing it (report-only routers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sdwan.gobgp.client import BgpSpeaker

WRITES = frozenset(
    {
        "start_bgp",
        "stop_bgp",
        "add_peer",
        "update_peer",
        "delete_peer",
        "add_set_members",
        "remove_set_members",
        "delete_set",
        "add_policy",
        "delete_policy",
        "set_assignment",
        "soft_reset",
        "add_path",
        "delete_path",
    }
)


class RecordingSpeaker:
    def __init__(self, inner: BgpSpeaker) -> None:
        self._inner = inner
        self.writes: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._inner, name)
        if name not in WRITES:
            return method  # type: ignore[no-any-return]

        def record(*args: object, **_kwargs: object) -> None:
            self.writes.append(name)

        return record
