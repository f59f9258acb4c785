"""Databases stamped by the old tree of migrations, restamped onto the linear chain.

Until the chain in versions/, each feature's migration branched off the one it needed,
and a database recorded every head of that tree (up to eight rows in
``alembic_version``). The same migrations now form one chain with new revision ids;
an old id never names a chain revision, so a row with one is unambiguous. Before
Alembic runs, ``restamp`` turns the old rows into the one chain revision that covers
exactly what they had applied. The chain keeps the order in which the migrations were
added, so every database the old code made is a prefix of it; any other set is
refused, since Alembic would run a migration twice or skip one.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, inspect, text

from sdwan.errors import StartupRefused

log = logging.getLogger(__name__)

# old revision id -> (the old revision it branched off, the same migration's chain id)
OLD_TREE: dict[str, tuple[str | None, str]] = {
    "0001": (None, "0001_initial"),
    "0002": ("0001", "0002_policy"),
    "0003": ("0001", "0003_live_state"),
    "0004": ("0001", "0004_identity"),
    "0010": ("0004", "0005_audit_lookup"),
    "0005_security": ("0004", "0006_security"),
    "0011": ("0001", "0007_gobgpd_tls"),
    "0012": ("0001", "0008_cluster"),
    "0014_intent": ("0002", "0009_intent"),
    "0015_conditions": ("0001", "0010_conditions"),
    "0016_owned_conditions": ("0002", "0011_owned_conditions"),
}
# the chain's first revisions, in order: the old tree's migrations in the order added
CHAIN_START = sorted(new for _parent, new in OLD_TREE.values())


def applied_by(old_heads: set[str]) -> set[str]:
    """The chain ids of every migration a database stamped ``old_heads`` has run."""
    applied: set[str] = set()
    for head in old_heads:
        at: str | None = head
        while at is not None:
            parent, new = OLD_TREE[at]
            applied.add(new)
            at = parent
    return applied


def chain_stamp(old_heads: set[str]) -> str:
    """The chain revision that stands for ``old_heads``: the last of a prefix of the
    chain that holds exactly the migrations they had run."""
    applied = applied_by(old_heads)
    prefix = CHAIN_START[: len(applied)]
    if set(prefix) != applied:
        missing = sorted(set(prefix) - applied)
        raise StartupRefused(
            f"this database's schema (migrations {', '.join(sorted(old_heads))}) has "
            f"migrations applied out of order: {', '.join(missing)} never ran; "
            "restore it from a backup made by a released version"
        )
    return prefix[-1]


def restamp(connection: Connection) -> None:
    """Rewrite ``alembic_version`` from old-tree ids to the one chain revision they
    stand for; a database already on the chain (or new) is left alone."""
    if not inspect(connection).has_table("alembic_version"):
        return
    stamped = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    old = stamped & OLD_TREE.keys()
    if not old:
        return
    if old != stamped:
        raise StartupRefused(
            f"alembic_version mixes old and new migration ids: {', '.join(sorted(stamped))}"
        )
    stamp = chain_stamp(old)
    connection.execute(text("DELETE FROM alembic_version"))
    connection.execute(
        text("INSERT INTO alembic_version (version_num) VALUES (:stamp)"), {"stamp": stamp}
    )
    log.info("restamped migrations %s as %s", ", ".join(sorted(old)), stamp)
