"""Queries on the identity tables that other services need."""

from __future__ import annotations

from sqlalchemy import Connection, Table, select

from sdwan.store import policy_tables
from sdwan.store.identity_tables import projects
from sdwan.store.tables import neighbors, routers


def project_exists(conn: Connection, name: str) -> bool:
    return conn.execute(select(projects.c.name).where(projects.c.name == name)).first() is not None


def audited_tables() -> dict[str, Table]:
    """Resource type (as in events) -> its table, for the audit log's snapshots."""
    return {
        "router": routers,
        "neighbor": neighbors,
        "defined_set": policy_tables.defined_sets,
        "policy": policy_tables.policies,
        "policy_attachment": policy_tables.policy_attachments,
        "announcement": policy_tables.announcements,
    }
