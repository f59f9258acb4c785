"""What the site, uplink and intent services share: the reads and writes of what a
site owns (each write recompiles the site's policy and emits its event), and the
status an object derives from the policy rows it generated."""

from __future__ import annotations

import builtins
from abc import abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from sdwan.auth.principal import Principal
from sdwan.domain.status import Status
from sdwan.errors import Conflict
from sdwan.events.model import RESOURCE_CREATED, RESOURCE_DELETED, RESOURCE_UPDATED, Event
from sdwan.service import intent_sync
from sdwan.service.common import ListQuery
from sdwan.service.resource import ResourceService
from sdwan.service.resource_events import EventSink
from sdwan.service.uow import reading
from sdwan.service.visibility import SITE, Scope, visible_owned, visible_owner
from sdwan.store import generated_repo, intent_repo, repo
from sdwan.store.intent_repo import IntentRecord, SiteRecord, UplinkRecord
from sdwan.store.records import OwnedRecord

RecordT = TypeVar("RecordT", UplinkRecord, IntentRecord)
InfoT = TypeVar("InfoT")


class SiteOwnedService(ResourceService[RecordT, SiteRecord, InfoT]):
    """What the services of a kind a site owns (uplinks, intents) share: the reads
    (one by id, a page, each answered as the service's ``info`` view; the caller sees
    a row when it may see the row's site), the site a new one names, and the writes
    (``insert``, ``write``, ``remove``)."""

    owner = SITE
    record: type[RecordT]  # its stored form, named to intent_repo
    most: ClassVar[int]  # a site has at most this many (what a plan of the site costs)

    @abstractmethod
    def infos(
        self, conn: Connection, rows: builtins.list[RecordT], sites: Mapping[str, SiteRecord]
    ) -> builtins.list[InfoT]:
        """The ``info`` view of each row (``sites``: theirs by id), reading the store
        a number of times that does not grow with the number of rows."""

    def info(self, conn: Connection, row: RecordT, site: SiteRecord) -> InfoT:
        return self.infos(conn, [row], {site.id: site})[0]

    def found(
        self, conn: Connection, principal: Principal, ident: str
    ) -> tuple[RecordT, SiteRecord]:
        """The row ``ident`` with its site; 404 naming the kind when either is missing
        or the caller may not see the site."""
        row = intent_repo.get_owned(conn, self.record, owned_id=ident)
        return visible_owned(
            conn, principal, SITE, row, lambda r: r.site_id, kind=self.kind, ident=ident
        )

    def get(self, principal: Principal, ident: str) -> InfoT:
        with reading(self._engine) as conn:
            return self.info(conn, *self.found(conn, principal, ident))

    def rows(
        self, conn: Connection, scope: Scope, query: ListQuery
    ) -> tuple[builtins.list[RecordT], int]:
        """The filter ``site`` (an id or a name) limits the page to one site (422
        naming it when the caller may not see that site)."""
        return intent_repo.list_owned(conn, self.record, **scope.store_args(query))

    def views(self, conn: Connection, rows: builtins.list[RecordT]) -> builtins.list[InfoT]:
        sites = intent_repo.sites_by_ids(conn, ids=sorted({r.site_id for r in rows}))
        return self.infos(conn, rows, sites)

    # --- the writes: each recompiles the site's policy and emits its event ---------

    def insert(
        self,
        conn: Connection,
        site: SiteRecord,
        fields: Mapping[str, Any],
        ident: str | None = None,
    ) -> RecordT:
        """A new row of ``site`` with ``fields`` (its name among them); ``ident``: its
        id (a rollback re-creating it), else a new one."""
        stamp = repo.now()
        row = {"id": ident or repo.new_id(), "site_id": site.id, **fields, "version": 1}
        try:
            intent_repo.insert_owned(
                conn, self.record, values={**row, "created_at": stamp, "updated_at": stamp}
            )
        except IntegrityError:
            raise Conflict(f"{self.kind} {fields['name']!r} was created concurrently") from None
        intent_sync.sync(conn, self._notifier, site_ids=[site.id])
        made = intent_repo.get_owned(conn, self.record, owned_id=row["id"])
        assert made is not None  # inserted in this transaction
        self._emit(RESOURCE_CREATED, made, site, version=1)
        return made

    def write(
        self,
        conn: Connection,
        site: SiteRecord,
        row: RecordT,
        values: Mapping[str, Any],
        if_match: int | None,
    ) -> tuple[RecordT, dict[str, builtins.list[str]]]:
        """``values`` written over ``row`` (guarded by its version): the row as stored,
        and the generated policy changes by router."""
        self.guarded(
            intent_repo.update_owned(
                conn, self.record, owned_id=row.id, expected_version=row.version, values=values
            ),
            row.name,
            if_match,
        )
        done = intent_sync.sync(conn, self._notifier, site_ids=[site.id])
        updated = intent_repo.get_owned(conn, self.record, owned_id=row.id)
        assert updated is not None  # updated in this transaction
        self._emit(RESOURCE_UPDATED, row, site, version=updated.version, changed=values)
        return updated, done

    def remove(
        self, conn: Connection, site: SiteRecord, row: RecordT, if_match: int | None
    ) -> None:
        """``row`` deleted (guarded by its version)."""
        self.guarded(
            intent_repo.delete_owned(
                conn, self.record, owned_id=row.id, expected_version=row.version
            ),
            row.name,
            if_match,
        )
        intent_sync.sync(conn, self._notifier, site_ids=[site.id])
        self._emit(RESOURCE_DELETED, row, site, version=row.version)

    def _emit(
        self,
        kind: str,
        row: RecordT,
        site: SiteRecord,
        *,
        version: int,
        changed: Iterable[str] = (),
    ) -> None:
        label = f"{self.kind} {site.name}/{row.name}"
        emit(
            self._events, kind, self.kind, row.id, site, label,
            version=version, changed=changed, key=row.name,
        )  # fmt: skip

    def site_for_new(
        self, conn: Connection, principal: Principal, key: str, name: str
    ) -> SiteRecord:
        """The site ``key`` a new row ``name`` names (422 naming "site" when the caller
        may not see it); 409 naming "name" when it has one by that name already,
        naming "site" when it has as many as a site may."""
        site = visible_owner(conn, principal, SITE, key, field="site")
        if intent_repo.owned_by_name(conn, self.record, site_id=site.id, name=name):
            raise Conflict(
                f"name: site {site.name} already has an {self.kind} {name!r}", field="name"
            )
        if len(intent_repo.owned_of(conn, self.record, site_id=site.id)) >= self.most:
            raise Conflict(
                f"site: site {site.name} has {self.most} {self.kind}s, the most a site may "
                f"have; delete one first",
                field="site",
            )
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
    """``derived_status`` from the rows read (``generated_repo.owned_by_each``)."""
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


def generated_summary(
    rows: Iterable[OwnedRecord], names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The generated objects for a public view: kind, router, name, status."""
    return sorted(
        (
            {
                "kind": generated_repo.LABELS[type(r)].replace(" ", "_"),  # defined_set
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
