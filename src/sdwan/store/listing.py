"""Filtered, sorted, paged listing shared by every resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, Table, func, select

from sdwan.errors import InvalidInput
from sdwan.store.tables import routers

MAX_LIMIT = 1000


def in_project(
    owner_column: Any, project_id: str | None, owners: Table = routers
) -> ColumnElement[bool] | None:
    """Rows whose owner (``owner_column``: an id in ``owners``, a router unless said)
    belongs to ``project_id``; None (every row) when ``project_id`` is None."""
    if project_id is None:
        return None
    owned = select(owners.c.id).where(owners.c.project_id == project_id)
    result: ColumnElement[bool] = owner_column.in_(owned)
    return result


def of_project(table: Table, project_id: str | None) -> ColumnElement[bool] | None:
    """Rows of ``table`` in ``project_id`` (its own ``project_id`` column); None (every
    row) when ``project_id`` is None."""
    return None if project_id is None else table.c.project_id == project_id


def list_rows(
    conn: Connection,
    table: Table,
    *,
    filters: Mapping[str, Any],
    scope: ColumnElement[bool] | None,
    sort: str | None,
    sortable: Mapping[str, Any],
    default_sort: str,
    limit: int,
    offset: int,
) -> tuple[list[RowMapping], int]:
    """One page of ``table``: the rows whose columns equal ``filters`` and that lie in
    ``scope`` (the caller's project, from :func:`of_project` or :func:`in_project`;
    None: every row), sorted by ``sort`` (``-asn,name``: keys of ``sortable``), and
    how many rows match in all."""
    where = [table.c[name] == value for name, value in filters.items()]
    if scope is not None:
        where.append(scope)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if offset < 0:
        raise InvalidInput("offset must not be negative", field="offset")
    order = []
    for key in (sort or default_sort).split(","):
        name = key.strip().lstrip("-")
        if name not in sortable:
            raise InvalidInput(
                f"cannot sort by {name!r}; sortable fields: {', '.join(sorted(sortable))}",
                field="sort",
            )
        column = sortable[name]
        ordered = column.desc() if key.strip().startswith("-") else column.asc()
        order.append(ordered.nulls_last())  # both stores alike (PostgreSQL: first in desc)
    order.append(table.c.id.asc())  # stable pages
    total = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    rows = (
        conn.execute(select(table).where(*where).order_by(*order).limit(limit).offset(offset))
        .mappings()
        .all()
    )
    return list(rows), int(total)


def project_rows(
    conn: Connection,
    table: Table,
    *,
    project_id: str | None,
    filters: Mapping[str, Any],
    sort: str | None,
    sortable: Mapping[str, Any],
    default_sort: str,
    limit: int,
    offset: int,
) -> tuple[list[RowMapping], int]:
    """A page of a table whose rows belong to a project (its ``project_id`` column):
    ``filters`` by column, the one project (None: every project), as ``list_rows``."""
    return list_rows(
        conn,
        table,
        filters=filters,
        scope=None if project_id is None else table.c.project_id == project_id,
        sort=sort,
        sortable=sortable,
        default_sort=default_sort,
        limit=limit,
        offset=offset,
    )
