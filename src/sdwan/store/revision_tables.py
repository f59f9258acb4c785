"""Tables of the revision log (migration 0014_revisions).

Every committed change to the desired state is one row of ``revisions`` (a number
that only grows, who, when, why, from where) with one row of ``revision_changes`` per
object it changed: the object's stored state before and after (``before``/``after``,
secrets replaced by "set"), the sealed secrets apart (``sealed``: the Fernet tokens
as the object's own table keeps them, for a rollback to give back), and what the
change belongs to (router, site, project) for the filters. Both are written in the
transaction of the change itself; retention removes whole revisions, oldest first."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text

from sdwan.store.tables import SerialId, UtcDateTime, metadata

revisions = Table(
    "revisions",
    metadata,
    # AUTOINCREMENT on SQLite: a number is never handed out twice, even once pruned
    Column("number", SerialId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False, index=True),
    Column("author", String(63), nullable=False, index=True),
    Column("author_role", String(16), nullable=False),
    Column("source", String(16), nullable=False),  # api | fleet | rollback
    Column("message", Text, nullable=False),
    Column("rollback_of", Integer, nullable=True),  # source rollback: the revision restored
    Column("change_count", Integer, nullable=False),
    sqlite_autoincrement=True,
)

revision_changes = Table(
    "revision_changes",
    metadata,
    Column("id", SerialId, primary_key=True, autoincrement=True),
    Column(
        "revision",
        SerialId,
        ForeignKey("revisions.number", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("kind", String(32), nullable=False),  # router, neighbor, defined_set, ...
    Column("object_id", String(36), nullable=False),
    Column("name", String(255), nullable=False),  # router/key, site/name, or its name
    Column("action", String(8), nullable=False),  # create | update | delete
    Column("router_id", String(36), nullable=True, index=True),  # the router it belongs to
    Column("site_id", String(36), nullable=True, index=True),  # the site it belongs to
    Column("project_id", String(64), nullable=True, index=True),
    Column("before", JSON, nullable=True),  # None: it did not exist
    Column("after", JSON, nullable=True),  # None: it was deleted
    Column("sealed", JSON, nullable=True),  # {"before": {field: token}, "after": {...}}
    Index("ix_revision_changes_object", "kind", "object_id", "revision"),
)
