"""The policy rows intents and sites generate: read, and made equal to what the intent
compiler wants for a router, in the caller's transaction. Rows change like the ones
the API writes (PENDING_CREATE/UPDATE/DELETE, version + 1), so the reconciler's policy
stage applies them as any other: content-addressed gobgpd objects, one atomic
assignment switch, a soft reset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, select

from sdwan.domain.status import Status, status_after_update
from sdwan.store import owned_rows
from sdwan.store.policy_tables import defined_sets, policies, policy_attachments
from sdwan.store.repo import new_id, now

Row = dict[str, Any]
GENERATED_TABLES: dict[str, Table] = {
    "sets": defined_sets,
    "policies": policies,
    "attachments": policy_attachments,
}
_COMPARED = {
    "sets": ("set_type", "members", "generated_by"),
    "policies": ("statements", "generated_by"),
    "attachments": (
        "direction",
        "policies",
        "default_action",
        "neighbors",
        "priority",
        "generated_by",
    ),
}


def generated_rows(conn: Connection, *, router_id: str) -> dict[str, list[Row]]:
    """kind (sets, policies, attachments) -> the router's generated rows."""
    out: dict[str, list[Row]] = {}
    for kind, table in GENERATED_TABLES.items():
        rows = conn.execute(
            select(table).where(table.c.router_uuid == router_id, table.c.generated_by.is_not(None))
        ).mappings()
        out[kind] = [dict(r) for r in rows]
    return out


def owned_by(conn: Connection, *, owner: str) -> list[Row]:
    """Every generated row of one intent or site ("intent:<id>"), with its kind."""
    found: list[Row] = []
    for kind, table in GENERATED_TABLES.items():
        rows = conn.execute(select(table).where(table.c.generated_by == owner)).mappings()
        found.extend({**dict(r), "kind": kind} for r in rows)
    return found


def sync_router(
    conn: Connection,
    *,
    router_id: str,
    desired: Mapping[str, Mapping[str, Mapping[str, Any]]],
    describe: Mapping[str, str],
) -> list[str]:
    """Make the router's generated rows equal ``desired`` (kind -> name -> values);
    ``describe``: generated_by -> description text. Returns what changed, for logs
    and plans ("+ policy i.far.in")."""
    stamp = now()
    changes: list[str] = []
    current = generated_rows(conn, router_id=router_id)
    for kind, table in GENERATED_TABLES.items():
        have = {r["name"]: r for r in current[kind]}
        want = desired.get(kind, {})
        for name, values in want.items():
            text = describe.get(str(values["generated_by"]), "")
            row = have.get(name)
            if row is None:
                owned_rows.insert_rows(
                    conn,
                    table.name,
                    rows=[
                        {
                            **values,
                            "id": new_id(),
                            "router_uuid": router_id,
                            "description": text,
                            "status": Status.PENDING_CREATE,
                            "status_detail": "",
                            "version": 1,
                            "created_at": stamp,
                            "updated_at": stamp,
                        }
                    ],
                )
                changes.append(f"+ {_singular(kind)} {name}")
                continue
            changed = {f: values[f] for f in _COMPARED[kind] if row[f] != values[f]}
            if row["description"] != text:
                changed["description"] = text
            deleting = row["status"] == Status.PENDING_DELETE
            if not changed and not deleting:
                continue
            changed["status"] = (
                Status.PENDING_UPDATE if deleting else status_after_update(row["status"])
            )
            changed["status_detail"] = ""
            owned_rows.update_row(
                conn, table.name, row_id=row["id"], expected_version=row["version"], values=changed
            )
            changes.append(f"~ {_singular(kind)} {name}")
        for name, row in have.items():
            if name not in want and row["status"] != Status.PENDING_DELETE:
                owned_rows.update_row(
                    conn,
                    table.name,
                    row_id=row["id"],
                    expected_version=row["version"],
                    values={"status": Status.PENDING_DELETE, "status_detail": ""},
                )
                changes.append(f"- {_singular(kind)} {name}")
    return changes


def _singular(kind: str) -> str:
    return {"sets": "defined set", "policies": "policy", "attachments": "attachment"}[kind]
