"""Filtered, sorted, paged listing shared by every resource."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, Table, func, select

from sdwan.errors import InvalidInput
from sdwan.store.tables import routers

MAX_LIMIT = 1000


def in_project(router_column: Any, project_id: str) -> ColumnElement[bool]:
    """Rows whose router (``router_column``: a router id) belongs to ``project_id``."""
    owned = select(routers.c.id).where(routers.c.project_id == project_id)
    result: ColumnElement[bool] = router_column.in_(owned)
    return result


def list_rows(
    conn: Connection,
    table: Table,
    *,
    where: Sequence[ColumnElement[bool]] = (),
    sort: str | None,
    sortable: Mapping[str, Any],
    default_sort: str,
    limit: int,
    offset: int,
) -> tuple[list[RowMapping], int]:
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
        order.append(column.desc() if key.strip().startswith("-") else column.asc())
    order.append(table.c.id.asc())  # stable pages
    total = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    rows = (
        conn.execute(select(table).where(*where).order_by(*order).limit(limit).offset(offset))
        .mappings()
        .all()
    )
    return list(rows), int(total)
