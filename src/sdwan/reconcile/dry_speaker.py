"""A speaker that reads from gobgpd but only records writes: used to find out what a
stage would change (drift) without changing it (report-only routers).

Which calls are writes is not a list kept here: it is the methods of SpeakerWrites,
and a name that is neither a read nor a write is refused, so a write method added to
the client without being declared in SpeakerWrites cannot reach gobgpd through here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sdwan.gobgp.client import BgpSpeaker, SpeakerReads, SpeakerWrites, protocol_methods

WRITES = protocol_methods(SpeakerWrites)
PASSED_THROUGH = protocol_methods(SpeakerReads) | {"close"}


class RecordingSpeaker:
    def __init__(self, inner: BgpSpeaker) -> None:
        self._inner = inner
        self.writes: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name in WRITES:

            def record(*_args: object, **_kwargs: object) -> None:
                self.writes.append(name)

            return record
        if name in PASSED_THROUGH:
            return getattr(self._inner, name)  # type: ignore[no-any-return]
        raise AttributeError(
            f"{name!r} is neither a read nor a write of the speaker protocol "
            "(sdwan.gobgp.client.SpeakerReads / SpeakerWrites): declare it there"
        )
