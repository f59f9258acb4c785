"""Data access for the revision log: keyword-only arguments; callers own the
transaction (a revision commits or rolls back with the change it records)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, exists, func, insert, or_, select

from sdwan.store.bulk import insert_rows
from sdwan.store.revision_tables import revision_changes, revisions


@dataclass(frozen=True)
class RevisionRecord:
    number: int
    at: datetime
    author: str
    author_role: str
    source: str
    message: str
    rollback_of: int | None
    change_count: int


@dataclass(frozen=True)
class ChangeRecord:
    id: int
    revision: int
    kind: str
    object_id: str
    name: str
    action: str  # create | update | delete
    router_id: str | None
    site_id: str | None
    project_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    sealed: dict[str, dict[str, str]] | None  # "before"/"after" -> secret field -> token


@dataclass(frozen=True)
class ChangeScope:
    """Which changes a reader may see and asked for: a project (None: every one), and
    when given, only those of these routers or sites (by id; either matches)."""

    project_id: str | None = None
    router_ids: Collection[str] | None = None
    site_ids: Collection[str] | None = None

    def where(self) -> list[ColumnElement[bool]]:
        c = revision_changes.c
        where: list[ColumnElement[bool]] = []
        if self.project_id is not None:
            where.append(c.project_id == self.project_id)
        owners: list[ColumnElement[bool]] = []
        if self.router_ids is not None:
            owners.append(c.router_id.in_(sorted(self.router_ids)))
        if self.site_ids is not None:
            owners.append(c.site_id.in_(sorted(self.site_ids)))
        if owners:
            where.append(or_(*owners))
        return where


def insert_revision(conn: Connection, *, values: Mapping[str, Any]) -> int:
    """The new revision's number."""
    result = conn.execute(insert(revisions).values(**values).returning(revisions.c.number))
    return int(result.scalar_one())


def insert_changes(conn: Connection, *, rows: Sequence[Mapping[str, Any]]) -> None:
    insert_rows(conn, revision_changes, rows)


def latest_number(conn: Connection, *, scope: ChangeScope = ChangeScope()) -> int:
    """The newest revision with a change in ``scope``; 0 when there is none."""
    where = scope.where()
    if not where:
        return int(
            conn.execute(select(func.coalesce(func.max(revisions.c.number), 0))).scalar_one()
        )
    query = select(func.coalesce(func.max(revision_changes.c.revision), 0)).where(*where)
    return int(conn.execute(query).scalar_one())


def oldest_number(conn: Connection) -> int | None:
    """The oldest revision kept; None when none is."""
    value = conn.execute(select(func.min(revisions.c.number))).scalar_one()
    return None if value is None else int(value)


def get_revision(conn: Connection, *, number: int) -> RevisionRecord | None:
    row = conn.execute(select(revisions).where(revisions.c.number == number)).mappings().first()
    return None if row is None else RevisionRecord(**row)


def list_revisions(
    conn: Connection,
    *,
    scope: ChangeScope,
    author: str | None,
    source: str | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[RevisionRecord], int]:
    """Newest first: the revisions with a change in ``scope``; and how many in all."""
    where: list[ColumnElement[bool]] = []
    if author is not None:
        where.append(revisions.c.author == author)
    if source is not None:
        where.append(revisions.c.source == source)
    if since is not None:
        where.append(revisions.c.at >= since)
    scoped = scope.where()
    if scoped:
        where.append(exists().where(revision_changes.c.revision == revisions.c.number, *scoped))
    total = conn.execute(select(func.count()).select_from(revisions).where(*where))
    rows = conn.execute(
        select(revisions)
        .where(*where)
        .order_by(revisions.c.number.desc())
        .limit(limit)
        .offset(offset)
    ).mappings()
    return [RevisionRecord(**row) for row in rows], int(total.scalar_one())


def changes_of(
    conn: Connection, *, numbers: Collection[int], scope: ChangeScope = ChangeScope()
) -> list[ChangeRecord]:
    """The changes of these revisions within ``scope``, in the order they were made."""
    if not numbers:
        return []
    c = revision_changes.c
    query = (
        select(revision_changes)
        .where(c.revision.in_(sorted(numbers)), *scope.where())
        .order_by(c.revision, c.id)
    )
    return [ChangeRecord(**row) for row in conn.execute(query).mappings()]


def change_counts(
    conn: Connection, *, numbers: Collection[int], scope: ChangeScope
) -> dict[int, int]:
    """Revision -> how many of its changes ``scope`` holds."""
    if not numbers:
        return {}
    c = revision_changes.c
    query = (
        select(c.revision, func.count())
        .where(c.revision.in_(sorted(numbers)), *scope.where())
        .group_by(c.revision)
    )
    return {int(number): int(count) for number, count in conn.execute(query)}


def changes_after(
    conn: Connection, *, number: int, scope: ChangeScope = ChangeScope()
) -> list[ChangeRecord]:
    """Every change of the revisions after ``number`` within ``scope``, oldest first."""
    c = revision_changes.c
    query = (
        select(revision_changes)
        .where(c.revision > number, *scope.where())
        .order_by(c.revision, c.id)
    )
    return [ChangeRecord(**row) for row in conn.execute(query).mappings()]


def last_change(conn: Connection, *, kind: str, object_id: str) -> ChangeRecord | None:
    """The newest recorded change of one object (index ix_revision_changes_object)."""
    c = revision_changes.c
    query = (
        select(revision_changes)
        .where(c.kind == kind, c.object_id == object_id)
        .order_by(c.revision.desc(), c.id.desc())
        .limit(1)
    )
    row = conn.execute(query).mappings().first()
    return None if row is None else ChangeRecord(**row)


def object_names(conn: Connection, *, kind: str, key: str, project_id: str | None) -> set[str]:
    """Ids of the objects of ``kind`` whose id is ``key``, or whose recorded name is
    (a router deleted since, named as it was)."""
    c = revision_changes.c
    query = select(c.object_id).where(c.kind == kind, or_(c.object_id == key, c.name == key))
    if project_id is not None:
        query = query.where(c.project_id == project_id)
    return set(conn.execute(query.distinct()).scalars())


def prune(conn: Connection, *, keep: int, older_than: datetime) -> int:
    """Remove the revisions beyond the newest ``keep`` and those made before
    ``older_than`` (never the newest one); their changes go with them. How many went."""
    newest = conn.execute(select(func.max(revisions.c.number))).scalar_one()
    if newest is None:
        return 0
    condition = or_(revisions.c.number <= newest - keep, revisions.c.at < older_than)
    result = conn.execute(delete(revisions).where(condition, revisions.c.number < newest))
    return int(result.rowcount or 0)
