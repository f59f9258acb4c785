"""What the site, uplink and intent services share: visibility by project, events,
and the status an object derives from the policy rows it generated."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection

from sdwan.auth.principal import Principal
from sdwan.domain.status import Status
from sdwan.errors import InvalidInput, NotFound
from sdwan.events.model import RESOURCE_CREATED, RESOURCE_UPDATED, Event
from sdwan.service.resource_events import EventSink
from sdwan.store import generated_repo, intent_repo
from sdwan.store.intent_repo import SiteRecord
from sdwan.store.records import DefinedSetRecord, OwnedRecord, PolicyRecord


def visible_site(
    conn: Connection, principal: Principal, key: str, *, field: str | None = None
) -> SiteRecord:
    """404 (or, with ``field``, 422 naming it) for a site that does not exist or that
    the caller may not see."""
    site = intent_repo.get_site(conn, key=key)
    if site is None or (
        principal.project_id is not None and site.project_id != principal.project_id
    ):
        if field is not None:
            raise InvalidInput(f"{field}: no site {key!r}", field=field)
        raise NotFound(f"site {key!r} not found")
    return site


def emit(
    events: EventSink,
    kind: str,
    resource_type: str,
    ident: str,
    site: SiteRecord,
    label: str,
    *,
    version: int,
    changed: Iterable[str] = (),
    key: str | None = None,
) -> None:
    """A resource event about a site or something of it (``router_name`` holds the
    site's name); the audit log records it in the same transaction."""
    verb = {RESOURCE_CREATED: "created", RESOURCE_UPDATED: "updated"}.get(kind, "deleted")
    fields = sorted(set(changed) - {"version", "updated_at"})
    text = f"{label} {verb}" + (f": {', '.join(fields)}" if fields else "")
    data: dict[str, Any] = {"site": site.id, "version": version, "changed": fields}
    if key is not None:
        data["key"] = key
    events.emit([Event(kind, resource_type, ident, site.name, text, data, site.project_id)])


def derived_status(conn: Connection, owner: str, version: int) -> tuple[str, str]:
    """(status, detail) of an intent or site from the rows it generated: ERROR if
    gobgpd refused one, PENDING_* while the reconciler has not applied them all."""
    rows = generated_repo.owned_by(conn, owner=owner)
    return status_of(rows, version)


def status_of(rows: Iterable[OwnedRecord], version: int) -> tuple[str, str]:
    rows = list(rows)
    errors = [r for r in rows if r.status == Status.ERROR]
    if errors:
        first = errors[0]
        label = generated_repo.LABELS[type(first)]
        return Status.ERROR, f"{label} {first.key}: {first.status_detail}"
    pending = [r for r in rows if r.status != Status.ACTIVE]
    if pending:
        wanted = Status.PENDING_CREATE if version == 1 else Status.PENDING_UPDATE
        names = ", ".join(sorted({r.key for r in pending})[:3])
        return wanted, f"{len(pending)} generated object(s) not applied yet ({names})"
    return Status.ACTIVE, ""


_PUBLIC_KIND = {DefinedSetRecord: "defined_set", PolicyRecord: "policy"}


def generated_summary(
    rows: Iterable[OwnedRecord], names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The generated objects for a public view: kind, router, name, status."""
    return sorted(
        (
            {
                "kind": _PUBLIC_KIND.get(type(r), "attachment"),
                "id": r.id,
                "router": r.router_uuid,
                "router_name": names.get(r.router_uuid, ""),
                "name": r.key,
                "status": r.status,
            }
            for r in rows
        ),
        key=lambda item: (item["router_name"], item["kind"], item["name"]),
    )
