"""The revision log's recorder: every unit of work that changes the desired state
leaves one numbered revision, written in its own transaction just before it commits
(a crash never leaves a change without its revision; a failed change leaves none).

How changes reach it, through the seam that already records audit entries and events
(``resource_events.TransactionalEvents``), so the services do nothing of their own:

- before a write changes or removes rows, ``before_change(kind, ids)``: every update
  and delete calls it (``ResourceService.target``), and so do the deletes that take
  other rows with them (a router's neighbors and policy objects, a site's uplinks and
  intents); the state each object had before the unit of work first touched it is kept;
- every write emits resource events: they name the objects that changed (a created
  one had no state before);
- just before the outermost unit of work commits, each touched object's state is read
  again; those that differ from before are the revision's changes. None: no revision.

Who, why and from where: the API sets ``current_actor`` (service/audit.py) and
``current_message`` (X-Sdwan-Message) per request; whoever opens the unit of work may
``describe`` it (fleet apply: source "fleet"; a rollback: "rollback", the revision it
restores and the latest revision it was planned against, checked under the lock that
orders revision numbers). Retention: the newest ``keep`` revisions, none older than
``days`` (docs/revisions.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from sdwan.errors import Conflict, PreconditionFailed
from sdwan.events.model import RESOURCE_CREATED, Event
from sdwan.service import uow
from sdwan.service.audit import current_actor
from sdwan.store import intent_repo, object_state, repo, revision_repo
from sdwan.store.db import REVISIONS_LOCK, one_at_a_time
from sdwan.store.object_state import ObjectState
from sdwan.store.revision_repo import ChangeScope

API, FLEET, ROLLBACK = "api", "fleet", "rollback"
MAX_MESSAGE = 1000  # characters

# why, for changes made below the API (set per request from X-Sdwan-Message)
current_message: ContextVar[str] = ContextVar("sdwan_revision_message", default="")
# keep the change only if confirmed within this many seconds (X-Sdwan-Confirm-Within)
current_confirm: ContextVar[float | None] = ContextVar("sdwan_confirm_within", default=None)
# the ids of the rollouts awaiting confirmation a request's writes made (the API sets
# a list per request and answers the last in X-Sdwan-Rollout); None: nobody asks
made_rollouts: ContextVar[list[int] | None] = ContextVar("sdwan_made_rollouts", default=None)
# what makes a revision confirmable: (transaction, number, its change rows, seconds)
# -> the id of the rollout awaiting its confirmation
Confirmations = Callable[[Connection, int, Sequence[Mapping[str, Any]], float], int]

Key = tuple[str, str]  # (kind, object id)
Change = tuple[Key, ObjectState | None, ObjectState | None]  # (key, before, after)
_NOTE = "revision"


@dataclass(frozen=True)
class Retention:
    keep: int = 10_000  # SDWAN_REVISION_KEEP: the newest revisions kept
    days: float = 90.0  # SDWAN_REVISION_DAYS: none older than this is kept


@dataclass(frozen=True)
class Expected:
    """A change planned against revision ``latest`` as ``scope`` sees it: refused when
    another one in that scope committed since: 412 when the caller named ``latest``
    (If-Match), else 409 (retry)."""

    latest: int
    scope: ChangeScope
    if_match: bool = True


@dataclass
class Draft:
    """What one unit of work has changed so far, and how its revision is described."""

    before: dict[Key, ObjectState | None] = field(default_factory=dict)
    touched: dict[Key, None] = field(default_factory=dict)  # in the order first touched
    written: dict[Key, Mapping[str, Any]] = field(default_factory=dict)  # rows as created
    source: str = API
    message: str | None = None  # None: the request's
    rollback_of: int | None = None
    expected: Expected | None = None
    number: int | None = None  # the revision written, once it is
    registered: bool = False


def draft_of(work: uow.UnitOfWork) -> Draft:
    found = work.notes.get(_NOTE)
    if not isinstance(found, Draft):
        found = work.notes[_NOTE] = Draft()
    return found


def describe(
    work: uow.UnitOfWork,
    *,
    source: str,
    message: str | None = None,
    rollback_of: int | None = None,
    expected: Expected | None = None,
) -> Draft:
    """How the revision ``work`` makes (if it changes anything) is described."""
    draft = draft_of(work)
    draft.source, draft.rollback_of, draft.expected = source, rollback_of, expected
    if message is not None:
        draft.message = message
    return draft


class RevisionRecorder:
    def __init__(self, retention: Retention | None = None) -> None:
        self.retention = retention or Retention()
        self.confirmations: Confirmations | None = None  # the rollouts, once built

    def before_change(self, kind: str, ids: Sequence[str], *, silent: bool = False) -> None:
        """Keep the state of these objects as it is now, unless this unit of work kept
        it already. ``silent``: no event will name them (rows a delete takes along),
        they belong to the revision all the same."""
        work = uow.current()
        if work is None or kind not in object_state.kinds():
            return
        draft = draft_of(work)
        missing = [i for i in ids if (kind, i) not in draft.before]
        if missing:
            found = object_state.states(work.conn, kind, missing)
            for ident in missing:
                draft.before[(kind, ident)] = found.get(ident)
        for ident in ids:
            draft.written.pop((kind, ident), None)  # about to change: read it at the end
        if silent:
            self._touch(work, draft, [(kind, i) for i in ids])

    def touched(
        self, events: Sequence[Event], rows: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        """The objects resource events name changed in the current unit of work.
        ``rows``: rows the caller just created, by id (a bulk create): their state is
        taken from them instead of read back, unless something changes them later."""
        work = uow.current()
        if work is None:
            return
        draft = draft_of(work)
        known = object_state.kinds()
        keys = [(e.resource_type, e.resource_id) for e in events if e.resource_type in known]
        for event in events:
            key = (event.resource_type, event.resource_id)
            if event.kind != RESOURCE_CREATED:
                draft.written.pop(key, None)
                continue
            draft.before.setdefault(key, None)
            row = rows.get(event.resource_id) if rows is not None else None
            if row is not None and event.resource_type in known:
                draft.written[key] = row
        self._touch(work, draft, keys)

    def _touch(self, work: uow.UnitOfWork, draft: Draft, keys: Iterable[Key]) -> None:
        for key in keys:
            draft.touched.setdefault(key)
        if not draft.registered and draft.touched:
            draft.registered = True
            work.finishing.append(lambda: self._finish(work.conn, draft))

    # --- at the commit -----------------------------------------------------------

    def _finish(self, conn: Connection, draft: Draft) -> None:
        changes = _changes(conn, draft)
        if not changes:
            return
        one_at_a_time(conn, REVISIONS_LOCK)  # numbers in commit order (PostgreSQL)
        if draft.expected is not None:
            check_latest(conn, draft.expected)
        actor = current_actor.get()
        stamp = repo.now()
        number = revision_repo.insert_revision(
            conn,
            values={
                "at": stamp,
                "author": actor.name[:63] if actor else "system",
                "author_role": str(actor.role)[:16] if actor else "system",
                "source": draft.source,
                "message": _message(draft)[:MAX_MESSAGE],
                "rollback_of": draft.rollback_of,
                "change_count": len(changes),
            },
        )
        labels = _Labels(conn, draft, changes)
        rows = [labels.row(number, key, old, new) for key, old, new in changes]
        revision_repo.insert_changes(conn, rows=rows)
        seconds = current_confirm.get()
        if seconds is not None and self.confirmations is not None:
            rollout_id = self.confirmations(conn, number, rows, seconds)
            made = made_rollouts.get()
            if made is not None:
                made.append(rollout_id)
        keep = self.retention
        revision_repo.prune(conn, keep=keep.keep, older_than=stamp - timedelta(days=keep.days))
        draft.number = number


def _message(draft: Draft) -> str:
    return draft.message if draft.message is not None else current_message.get()


def check_latest(conn: Connection, expected: Expected) -> None:
    latest = revision_repo.latest_number(conn, scope=expected.scope)
    if latest == expected.latest:
        return
    text = (
        f"the desired state changed since revision {expected.latest} (the latest is now {latest})"
    )
    if expected.if_match:
        raise PreconditionFailed(f"{text}: plan again and retry")
    raise Conflict(f"{text} while this change was made; retry")


def _changes(conn: Connection, draft: Draft) -> list[Change]:
    """(key, before, after) of every touched object whose state changed."""
    by_kind: dict[str, list[str]] = {}
    now: dict[Key, ObjectState] = {}
    for key in draft.touched:
        row = draft.written.get(key)
        if row is not None and object_state.complete(key[0], row):
            now[key] = object_state.state_of(row)
        else:
            by_kind.setdefault(key[0], []).append(key[1])
    for kind, ids in by_kind.items():
        now.update({(kind, i): s for i, s in object_state.states(conn, kind, ids).items()})
    out = []
    for key in draft.touched:
        before = draft.before[key] if key in draft.before else _last_recorded(conn, key)
        after = now.get(key)
        if before != after:
            out.append((key, before, after))
    return out


def _last_recorded(conn: Connection, key: Key) -> ObjectState | None:
    """A touched object whose earlier state nobody kept (a write that did not call
    before_change): its state after its last recorded change."""
    kind, ident = key
    found = revision_repo.last_change(conn, kind=kind, object_id=ident)
    return None if found is None else stored_state(found.after, found.sealed, "after")


def stored_state(
    values: dict[str, Any] | None, sealed: dict[str, dict[str, str]] | None, side: str
) -> ObjectState | None:
    """A change row's ``before`` or ``after`` (``side``) as a state."""
    if values is None:
        return None
    return ObjectState(dict(values), dict((sealed or {}).get(side) or {}))


class _Labels:
    """What each change belongs to (router, site, project) and its name, from the
    objects' own states or their router's or site's (read once for all the changes:
    a bulk request costs the same statements whatever its size)."""

    def __init__(self, conn: Connection, draft: Draft, changes: Sequence[Change]) -> None:
        wanted: dict[str, set[str]] = {"router": set(), "site": set()}
        for (kind, _ident), before, after in changes:
            values = (after or before or ObjectState({})).values
            if kind in wanted:
                continue
            if values.get("site_id") is not None:
                wanted["site"].add(values["site_id"])
            elif values.get("router_uuid") is not None:
                wanted["router"].add(values["router_uuid"])
        self._owners = {kind: _owners(conn, draft, kind, ids) for kind, ids in wanted.items()}

    def row(
        self, number: int, key: Key, before: ObjectState | None, after: ObjectState | None
    ) -> dict[str, Any]:
        kind, ident = key
        values = (after or before or ObjectState({})).values
        router_id = site_id = None
        project = values.get("project_id")
        name = str(_key_of(values))
        if kind == "router":
            router_id = ident
        elif kind == "site":
            site_id = ident
        elif "site_id" in values:
            site_id = values["site_id"]
            site_name, project = self._owner("site", site_id)
            name = f"{site_name}/{name}"
        elif "router_uuid" in values:
            router_id = values["router_uuid"]
            router_name, project = self._owner("router", router_id)
            name = f"{router_name}/{name}"
        sealed = {
            side: state.sealed
            for side, state in (("before", before), ("after", after))
            if state is not None and state.sealed
        }
        return {
            "revision": number,
            "kind": kind,
            "object_id": ident,
            "name": name[:255],
            "action": "create" if before is None else "delete" if after is None else "update",
            "router_id": router_id,
            "site_id": site_id,
            "project_id": project,
            "before": None if before is None else before.values,
            "after": None if after is None else after.values,
            "sealed": sealed or None,
        }

    def _owner(self, kind: str, ident: str | None) -> tuple[str, str]:
        return self._owners[kind].get(ident or "", (str(ident), ""))


def _owners(conn: Connection, draft: Draft, kind: str, ids: set[str]) -> dict[str, tuple[str, str]]:
    """id -> (name, project) of routers or sites: as stored now (also while being
    deleted), else as this unit of work first saw them (deleted by it)."""
    found: dict[str, tuple[str, str]] = {}
    if kind == "router":
        for router in repo.get_routers_by_ids(conn, ids=sorted(ids)):
            found[router.id] = (router.name, router.project_id)
    else:
        for site in intent_repo.sites_by_ids(conn, ids=sorted(ids)).values():
            found[site.id] = (site.name, site.project_id)
    for ident in ids - found.keys():
        state = draft.before.get((kind, ident))
        values = state.values if state is not None else {}
        found[ident] = (str(values.get("name", ident)), str(values.get("project_id", "")))
    return found


def _key_of(values: dict[str, Any]) -> str:
    for name in ("name", "address", "prefix"):
        if name in values:
            return str(values[name])
    if "policy_name" in values:  # a policyinfo record
        return f"{values['policy_name']} {values['apply_direction']} {values['apply_neighbor']}"
    return str(values.get("id", ""))
