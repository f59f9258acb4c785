"""Resource events the services emit after a committed change. Field names only for
what changed: values could be secrets (a password) and the resource has the rest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection

from sdwan.events.log import EventLog
from sdwan.events.model import RESOURCE_CREATED, RESOURCE_DELETED, RESOURCE_UPDATED, Event
from sdwan.service import uow
from sdwan.service.revision_log import RevisionRecorder
from sdwan.store.records import NeighborRecord, OwnedRecord, RouterRecord

_BOOKKEEPING = {"status", "status_detail", "version", "updated_at"}


def _field_names(changed: Iterable[str]) -> list[str]:
    names = {"password" if f == "password_sealed" else f for f in changed}
    return sorted(names - _BOOKKEEPING)


class EventSink(Protocol):
    def emit(
        self, events: Sequence[Event], rows: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        """``rows``: the rows just written, by id, when the caller has them (a bulk
        create): the audit log takes them instead of reading them back."""
        ...

    def before_change(
        self, resource_type: str, ids: Sequence[str], *, silent: bool = False
    ) -> None:
        """Called before a write changes or removes these rows (the revision log keeps
        the state they had). ``silent``: no event will name them (rows a delete takes
        along); they belong to the change all the same."""
        ...


class TransactionalEvents:
    """Events written in the same transaction as the change they describe (no extra
    fsync, never lost on a crash), live readers woken after the commit; the audit log
    and the revision log record the change in that transaction too."""

    def __init__(
        self,
        log: EventLog,
        audit: AuditWriter | None = None,
        revisions: RevisionRecorder | None = None,
    ) -> None:
        self._log = log
        self._audit = audit  # writes the audit rows for these events, same transaction
        self._revisions = revisions

    def emit(
        self, events: Sequence[Event], rows: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        if not events:
            return
        work = uow.current()
        if work is None:
            self._log.emit(events)
            return
        self._log.record(work.conn, events)
        if self._audit is not None:
            self._audit(work.conn, events, rows)
        if self._revisions is not None:
            self._revisions.touched(events, rows)
        uow.after_commit(self._log.notify)

    def before_change(
        self, resource_type: str, ids: Sequence[str], *, silent: bool = False
    ) -> None:
        if self._revisions is not None:
            self._revisions.before_change(resource_type, ids, silent=silent)


class AuditWriter(Protocol):
    def __call__(
        self,
        conn: Connection,
        events: Sequence[Event],
        rows: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None: ...


class NoEvents:
    def emit(
        self, events: Sequence[Event], rows: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        pass

    def before_change(
        self, resource_type: str, ids: Sequence[str], *, silent: bool = False
    ) -> None:
        pass


def router_event(kind: str, router: RouterRecord, changed: Iterable[str] = ()) -> Event:
    verb = {RESOURCE_CREATED: "created", RESOURCE_UPDATED: "updated"}.get(
        kind, "deletion requested"
    )
    fields = _field_names(changed)
    text = f"router {router.name} {verb}" + (f": {', '.join(fields)}" if fields else "")
    return Event(
        kind,
        "router",
        router.id,
        router.name,
        text,
        {"status": router.status, "version": router.version, "changed": fields},
        router.project_id,
    )


def neighbor_events(
    kind: str,
    neighbors: Sequence[NeighborRecord],
    routers: Mapping[str, RouterRecord],
    changed: Iterable[str] = (),
) -> list[Event]:
    """``routers`` by id."""
    verb = {RESOURCE_CREATED: "created", RESOURCE_UPDATED: "updated"}.get(
        kind, "deletion requested"
    )
    fields = _field_names(changed)
    events = []
    for neighbor in neighbors:
        router = routers[neighbor.router_uuid]
        text = f"neighbor {router.name}/{neighbor.address} {verb}"
        events.append(
            Event(
                kind,
                "neighbor",
                neighbor.id,
                router.name,
                text + (f": {', '.join(fields)}" if fields else ""),
                {
                    "address": neighbor.address,
                    "router": router.id,
                    "status": neighbor.status,
                    "version": neighbor.version,
                    "changed": fields,
                },
                router.project_id,
            )
        )
    return events


__all__ = [
    "RESOURCE_CREATED",
    "RESOURCE_DELETED",
    "RESOURCE_UPDATED",
    "EventSink",
    "NoEvents",
    "neighbor_events",
    "router_event",
]


def owned_event(
    kind: str,
    resource_type: str,
    row: OwnedRecord,
    router: RouterRecord,
    changed: Iterable[str] = (),
) -> Event:
    """An event about a resource a router owns (defined set, policy, attachment,
    announcement)."""
    verb = {RESOURCE_CREATED: "created", RESOURCE_UPDATED: "updated"}.get(
        kind, "deletion requested"
    )
    fields = _field_names(changed)
    text = f"{resource_type} {router.name}/{row.key} {verb}"
    return Event(
        kind,
        resource_type.replace(" ", "_"),
        row.id,
        router.name,
        text + (f": {', '.join(fields)}" if fields else ""),
        {
            "key": row.key,
            "router": router.id,
            "status": row.status,
            "version": row.version,
            "changed": fields,
        },
        router.project_id,
    )
