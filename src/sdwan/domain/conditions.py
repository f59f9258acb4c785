"""Conditions: what the reconciler knows about a resource, as Kubernetes states it.

A condition is (type, status "True" | "False" | "Unknown", reason (a CamelCase word),
message, since, observed_version). ``since`` is the time of its last *transition*
(its status changed), not of the last write: a new message or reason keeps it.
``observed_version`` is the resource version the reconciler had read when it set the
condition. Routers and neighbors store theirs in a JSON column (migration 0010), the
objects a router owns (defined sets, policies, attachments, announcements: ``Applied``
only) in one of their own (0016), each condition an array in field order;
``status_detail``, kept for the original's clients, is derived from them
(``detail_of``); nothing reads it back to decide.

Types and reasons (docs/architecture.md, "Conditions"):

- ``Applied``: the declared version was pushed to gobgpd and gobgpd took it.
  True: ``Applied``, ``SessionReset`` (a neighbor: gobgpd reset the session, or the
  peer was re-created, to apply it), ``BgpRestarted`` (a router: BGP was stopped and
  started again). False: ``Rejected`` (gobgpd refused it), ``Unreachable`` (gobgpd
  did not answer), ``Claimed`` (the gobgpd belongs to another router). Unknown:
  ``Pending`` (shown, never stored: a version the reconciler has not applied yet).
- ``Drifted``: the last read-back found gobgpd differing from what was applied.
  True: ``ReportOnly`` (drift_mode report: left as found). False: ``Repaired`` (the
  differences were found and undone), ``InSync`` (nothing differs).
- ``Reachable`` (routers, shown from the live state, not stored here): True
  ``Answering``, False ``Unreachable``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

APPLIED = "Applied"
DRIFTED = "Drifted"
REACHABLE = "Reachable"
TYPES = (APPLIED, DRIFTED, REACHABLE)  # the order they are listed in

TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"

# reasons
APPLIED_OK = "Applied"
SESSION_RESET = "SessionReset"
BGP_RESTARTED = "BgpRestarted"
REJECTED = "Rejected"
UNREACHABLE = "Unreachable"
CLAIMED = "Claimed"
PENDING = "Pending"
REPORT_ONLY = "ReportOnly"
REPAIRED = "Repaired"
IN_SYNC = "InSync"
ANSWERING = "Answering"

REPORT_ONLY_PREFIX = "drift (report-only)"
REPAIRED_PREFIX = "drift repaired"


class Condition(NamedTuple):
    type: str
    status: str
    reason: str
    message: str
    since: datetime
    observed_version: int = 0


Conditions = tuple[Condition, ...]


def parse(data: Iterable[Sequence[Any]] | None) -> Conditions:
    """From the JSON column (None or [] on rows no reconciler wrote yet). Stored as
    arrays in field order, not objects: every read of a fleet's neighbors decodes them,
    and arrays decode in a fraction of the time."""
    return tuple(
        Condition(t, s, r, m, datetime.fromisoformat(since), v)
        for t, s, r, m, since, v in data or ()
    )


def dump(conditions: Conditions) -> list[list[Any]]:
    return [
        [c.type, c.status, c.reason, c.message, c.since.isoformat(), c.observed_version]
        for c in conditions
    ]


def find(conditions: Sequence[Condition], type_: str) -> Condition | None:
    return next((c for c in conditions if c.type == type_), None)


def put(
    conditions: Conditions,
    type_: str,
    status: str,
    reason: str,
    message: str = "",
    *,
    at: datetime,
    version: int,
) -> Conditions:
    """``conditions`` with ``type_`` set; ``since`` moves only when the status changes,
    so setting what is already there gives back an equal tuple (nothing to write)."""
    old = find(conditions, type_)
    if old is not None and old.status == status:
        new = old._replace(reason=reason, message=message, observed_version=version)
    else:
        new = Condition(type_, status, reason, message, at, version)
    rest = [c for c in conditions if c.type != type_]
    return tuple(sorted([*rest, new], key=lambda c: _rank(c.type)))


def _rank(type_: str) -> int:
    return TYPES.index(type_) if type_ in TYPES else len(TYPES)


def detail_of(conditions: Sequence[Condition], *, drift_first: bool) -> str:
    """The original's ``status_detail``: a failure to apply, else a report-only drift,
    else the note of the last apply (a reset) or of the last repair; the router puts
    its drift note before its restart note (``drift_first``)."""
    applied = find(conditions, APPLIED)
    drifted = find(conditions, DRIFTED)
    if applied is not None and applied.status == FALSE:
        return applied.message
    drift = ""
    if drifted is not None and drifted.message:
        prefix = REPORT_ONLY_PREFIX if drifted.status == TRUE else REPAIRED_PREFIX
        drift = f"{prefix}: {drifted.message}"
    note = applied.message if applied is not None else ""
    if drifted is not None and drifted.status == TRUE:
        return drift
    return (drift or note) if drift_first else (note or drift)


class Tracked(Protocol):
    """A resource with conditions (the router, neighbor and owned records)."""

    @property
    def conditions(self) -> Conditions: ...
    @property
    def status(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def updated_at(self) -> datetime: ...


def shown(resource: Tracked) -> Conditions:
    """What the API shows: a version the reconciler has not applied yet (status
    PENDING_*) is ``Applied`` Unknown/Pending since the change, whatever the last
    pass said about an older version."""
    conditions, version = resource.conditions, resource.version
    applied = find(conditions, APPLIED)
    if not resource.status.startswith("PENDING_") or (
        applied is not None and applied.observed_version == version
    ):
        return conditions
    message = f"version {version} not applied yet"
    pending = Condition(APPLIED, UNKNOWN, PENDING, message, resource.updated_at, version)
    rest = [c for c in conditions if c.type != APPLIED]
    return tuple(sorted([*rest, pending], key=lambda c: _rank(c.type)))


def reachable(live: Mapping[str, Any]) -> Condition | None:
    """The ``Reachable`` condition from a router's live state (None: never tried)."""
    if live.get("reachable") is None or not live.get("reachable_since"):
        return None
    since = datetime.fromisoformat(str(live["reachable_since"]))
    if live["reachable"]:
        return Condition(REACHABLE, TRUE, ANSWERING, "", since)
    return Condition(REACHABLE, FALSE, UNREACHABLE, str(live.get("last_error") or ""), since)
