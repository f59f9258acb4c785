"""What the reconciler writes back on any resource table with ``id``, ``version``,
``status``, ``status_detail`` and ``conditions``:
status for the version it applied, and the rows gobgpd confirmed gone, each in one
UPDATE or DELETE per row. A row whose version moved on since the pass read it (the
user changed it meanwhile) is left alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Table, Update, bindparam, delete, update

from sdwan.store.bulk import execute_many

# id, version read, status, detail and the conditions (their JSON: domain.conditions.dump)
ConditionsUpdate = tuple[str, int, str, str, list[list[Any]]]


def _guarded(table: Table) -> Update:
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
        .values(status=bindparam("b_status"), status_detail=bindparam("b_detail"))
    )


def set_statuses_and_conditions(
    conn: Connection, table: Table, *, updates: Sequence[ConditionsUpdate]
) -> None:
    """Status, detail and conditions, in one UPDATE per row."""
    execute_many(
        conn,
        _guarded(table).values(conditions=bindparam("b_conditions", type_=JSON)),
        [
            {"b_id": i, "b_version": v, "b_status": s, "b_detail": d, "b_conditions": c}
            for i, v, s, d, c in updates
        ],
    )


def delete_rows(conn: Connection, table: Table, *, ids_versions: Sequence[tuple[str, int]]) -> None:
    execute_many(
        conn,
        delete(table).where(
            table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version")
        ),
        [{"b_id": i, "b_version": v} for i, v in ids_versions],
    )
