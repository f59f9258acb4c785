"""Data access for projects, users and role assignments: typed records, keyword-only
arguments (the older project look-ups take the name positionally); callers own the
transaction. A duplicate name raises SQLAlchemy's IntegrityError for the caller to
turn into a Conflict."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from sdwan.store.identity_tables import projects, role_assignments, users
from sdwan.store.records import record_of


@dataclass(frozen=True)
class ProjectRecord:
    name: str
    description: str
    created_at: datetime
    api_address_allow: list[str] | None
    webhook_allow: list[str] | None = None  # where its webhooks may post (None: the server's)


@dataclass(frozen=True)
class UserRecord:
    id: str
    name: str
    password_hash: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AssignmentRecord:
    """A row of role_assignments: ``user_id`` has ``role`` in ``project``."""

    user_id: str
    project: str
    role: str
    created_at: datetime


@dataclass(frozen=True)
class RoleRecord:
    """An assignment with its user's name, as listings show it."""

    user_id: str
    user: str
    project: str
    role: str
    created_at: datetime


# --- projects ------------------------------------------------------------------------


def project_exists(conn: Connection, name: str) -> bool:
    return conn.execute(select(projects.c.name).where(projects.c.name == name)).first() is not None


def project_allowlist(conn: Connection, name: str) -> list[str] | None:
    """The project's own allowlist of gobgpd API addresses (None: none of its own)."""
    row = conn.execute(select(projects.c.api_address_allow).where(projects.c.name == name)).first()
    return None if row is None or row.api_address_allow is None else list(row.api_address_allow)


def webhook_allowlist(conn: Connection, name: str) -> list[str] | None:
    """The project's own allowlist of webhook addresses (None: none of its own)."""
    row = conn.execute(select(projects.c.webhook_allow).where(projects.c.name == name)).first()
    return None if row is None or row.webhook_allow is None else list(row.webhook_allow)


def project_allowlists(conn: Connection, names: Iterable[str]) -> dict[str, list[str] | None]:
    """name -> its own allowlist (None: none of its own), for the projects that exist."""
    rows = conn.execute(
        select(projects.c.name, projects.c.api_address_allow).where(projects.c.name.in_(set(names)))
    )
    return {
        row.name: None if row.api_address_allow is None else list(row.api_address_allow)
        for row in rows
    }


def insert_project(conn: Connection, *, project: ProjectRecord) -> None:
    conn.execute(insert(projects).values(asdict(project)))


def get_project(conn: Connection, *, name: str) -> ProjectRecord | None:
    row = conn.execute(select(projects).where(projects.c.name == name)).mappings().first()
    return None if row is None else record_of(ProjectRecord, row)


def list_projects(conn: Connection, *, name: str | None = None) -> list[ProjectRecord]:
    """Every project by name, or only ``name`` (when it exists)."""
    query = select(projects).order_by(projects.c.name)
    if name is not None:
        query = query.where(projects.c.name == name)
    return [record_of(ProjectRecord, row) for row in conn.execute(query).mappings()]


def update_project(conn: Connection, *, name: str, values: dict[str, Any]) -> None:
    conn.execute(update(projects).where(projects.c.name == name).values(**values))


def delete_project(conn: Connection, *, name: str) -> None:
    conn.execute(delete(projects).where(projects.c.name == name))


# --- users ---------------------------------------------------------------------------


def insert_user(conn: Connection, *, user: UserRecord) -> None:
    conn.execute(insert(users).values(asdict(user)))


def find_user(conn: Connection, *, key: str) -> UserRecord | None:
    """The user named ``key``, or with id ``key``."""
    query = select(users).where((users.c.name == key) | (users.c.id == key))
    row = conn.execute(query).mappings().first()
    return None if row is None else record_of(UserRecord, row)


def user_by_name(conn: Connection, *, name: str) -> UserRecord | None:
    row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
    return None if row is None else record_of(UserRecord, row)


def list_users(conn: Connection) -> list[UserRecord]:
    rows = conn.execute(select(users).order_by(users.c.name)).mappings()
    return [record_of(UserRecord, row) for row in rows]


def replace_password_hash(
    conn: Connection,
    *,
    user_id: str,
    expected: str,
    password_hash: str,
    updated_at: datetime | None,
) -> bool:
    """Store a new hash if the stored one is still ``expected``; False if it changed
    meanwhile. ``updated_at`` None leaves the user's timestamp (a rehash)."""
    values: dict[str, Any] = {"password_hash": password_hash}
    if updated_at is not None:
        values["updated_at"] = updated_at
    changed = conn.execute(
        update(users)
        .where(users.c.id == user_id, users.c.password_hash == expected)
        .values(**values)
    )
    return changed.rowcount == 1


def delete_user(conn: Connection, *, user_id: str) -> None:
    """The user and its role assignments (its tokens: token_repo.revoke_user_tokens)."""
    conn.execute(delete(role_assignments).where(role_assignments.c.user_id == user_id))
    conn.execute(delete(users).where(users.c.id == user_id))


# --- role assignments ----------------------------------------------------------------


def list_roles(
    conn: Connection, *, user_id: str | None = None, project: str | None = None
) -> list[RoleRecord]:
    """Assignments with their users' names, by user name and project; only those of
    ``user_id`` and in ``project`` when given."""
    query = select(
        role_assignments.c.user_id,
        users.c.name.label("user"),
        role_assignments.c.project,
        role_assignments.c.role,
        role_assignments.c.created_at,
    ).join(users, users.c.id == role_assignments.c.user_id)
    if user_id is not None:
        query = query.where(role_assignments.c.user_id == user_id)
    if project is not None:
        query = query.where(role_assignments.c.project == project)
    query = query.order_by(users.c.name, role_assignments.c.project)
    return [record_of(RoleRecord, row) for row in conn.execute(query).mappings()]


def assignments_of(
    conn: Connection, *, user_id: str, project: str | None = None
) -> list[AssignmentRecord]:
    """The user's assignments (only the one in ``project`` when given)."""
    query = select(role_assignments).where(role_assignments.c.user_id == user_id)
    if project is not None:
        query = query.where(role_assignments.c.project == project)
    return [record_of(AssignmentRecord, row) for row in conn.execute(query).mappings()]


def put_assignment(conn: Connection, *, assignment: AssignmentRecord) -> None:
    """Give the user the role in the project, replacing the one it had there."""
    delete_assignment(conn, user_id=assignment.user_id, project=assignment.project)
    conn.execute(
        insert(role_assignments).values(
            user_id=assignment.user_id,
            project=assignment.project,
            role=assignment.role,
            created_at=assignment.created_at,
        )
    )


def delete_assignment(conn: Connection, *, user_id: str, project: str) -> None:
    conn.execute(
        delete(role_assignments).where(
            role_assignments.c.user_id == user_id, role_assignments.c.project == project
        )
    )
