"""Queries on the identity tables that other services need."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from sdwan.store.identity_tables import projects


def project_exists(conn: Connection, name: str) -> bool:
    return conn.execute(select(projects.c.name).where(projects.c.name == name)).first() is not None


def project_allowlist(conn: Connection, name: str) -> list[str] | None:
    """The project's own allowlist of gobgpd API addresses (None: none of its own)."""
    row = conn.execute(select(projects.c.api_address_allow).where(projects.c.name == name)).first()
    return None if row is None or row.api_address_allow is None else list(row.api_address_allow)


def project_allowlists(conn: Connection, names: Iterable[str]) -> dict[str, list[str] | None]:
    """name -> its own allowlist (None: none of its own), for the projects that exist."""
    rows = conn.execute(
        select(projects.c.name, projects.c.api_address_allow).where(projects.c.name.in_(set(names)))
    )
    return {
        row.name: None if row.api_address_allow is None else list(row.api_address_allow)
        for row in rows
    }
