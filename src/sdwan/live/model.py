"""What the live writer (writer.py) works on: the items producers queue for the store
writer's thread, and what it remembers of each router between batches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sdwan.domain.session import SessionObservation, SessionRecord


@dataclass
class Item:
    router_id: str
    at: datetime
    observations: list[SessionObservation] = field(default_factory=list)
    complete: bool = False  # a full ListPeer: store neighbors missing from it are not on gobgpd
    counters_only: bool = False  # read by a pass: may be older than the stream's last event
    unreachable: str | None = None  # gobgpd went away: every session is unknown
    reachability: tuple[bool, str, bool] | None = None  # reachable, error, new gobgpd instance
    drift: list[str] | None = None
    known_ids: dict[str, str] | None = None  # address -> neighbor id, from the reconciler


@dataclass
class RouterCache:
    neighbor_ids: dict[str, str]  # address -> neighbor id
    records: dict[str, SessionRecord]  # neighbor id -> live record
    last: dict[str, SessionObservation] = field(default_factory=dict)  # by address, with counters
    reachable: bool | None = None
