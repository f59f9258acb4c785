"""Report-only mode cannot write by omission: every speaker method is declared a read
or a write, writes are only recorded, and anything undeclared is refused."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from sdwan.gobgp.client import (
    BgpSpeaker,
    GobgpClient,
    SpeakerReads,
    SpeakerWrites,
    protocol_methods,
)
from sdwan.gobgp.paths import PathSource
from sdwan.gobgp.rib_calls import RibCalls
from sdwan.reconcile.dry_speaker import PASSED_THROUGH, WRITES, RecordingSpeaker


def _public_methods(cls: type) -> set[str]:
    return {
        name
        for name, value in inspect.getmembers(cls, callable)
        if not name.startswith("_") and name not in {"mro"}
    }


def test_every_speaker_method_is_a_read_or_a_write_never_both() -> None:
    reads, writes = protocol_methods(SpeakerReads), protocol_methods(SpeakerWrites)
    assert reads and writes
    assert not reads & writes
    declared = reads | writes | protocol_methods(BgpSpeaker)
    assert declared == reads | writes | {"close"}


def test_the_client_has_no_public_method_outside_the_protocol() -> None:
    """A call added to GobgpClient must be declared a read or a write (or belong to the
    read-only RIB interfaces: the RIB views' PathSource, the intent planner's RibCalls),
    or report-only routers could not tell whether it changes gobgpd."""
    rib_reads = protocol_methods(PathSource) | protocol_methods(RibCalls)
    undeclared = _public_methods(GobgpClient) - WRITES - PASSED_THROUGH - rib_reads
    assert undeclared == set()


class _Refuses:
    """An inner speaker that fails the test on any write and answers reads."""

    def __getattr__(self, name: str) -> Any:
        if name in WRITES:
            raise AssertionError(f"{name} reached gobgpd in report-only mode")
        return lambda *args, **kwargs: f"read {name}"


def test_writes_are_recorded_not_sent_and_reads_pass_through() -> None:
    recording = RecordingSpeaker(_Refuses())
    for name in sorted(WRITES):
        getattr(recording, name)("any", "arguments")
    assert sorted(recording.writes) == sorted(WRITES)
    assert recording.get_global() == "read get_global"


def test_an_undeclared_call_is_refused() -> None:
    recording = RecordingSpeaker(_Refuses())
    with pytest.raises(AttributeError, match="neither a read nor a write"):
        recording.reset_everything  # noqa: B018
