"""The policy rows intents and sites generate: read, and made equal to what the intent
compiler wants for a router, in the caller's transaction. Rows change like the ones
the API writes (PENDING_CREATE/UPDATE/DELETE, version + 1), so the reconciler's policy
stage applies them as any other: content-addressed gobgpd objects, one atomic
assignment switch, a soft reset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from sdwan.domain.status import Status, status_after_update
from sdwan.store import owned_rows
from sdwan.store.records import AttachmentRecord, DefinedSetRecord, OwnedRecord, PolicyRecord
from sdwan.store.repo import new_id, now

GeneratedKind = type[DefinedSetRecord] | type[PolicyRecord] | type[AttachmentRecord]
GENERATED_KINDS: tuple[GeneratedKind, ...] = (DefinedSetRecord, PolicyRecord, AttachmentRecord)
LABELS: dict[type[OwnedRecord], str] = {
    DefinedSetRecord: "defined set",
    PolicyRecord: "policy",
    AttachmentRecord: "attachment",
}
# what the intent compiler decides; the rest is bookkeeping
_COMPARED: dict[type[OwnedRecord], tuple[str, ...]] = {
    DefinedSetRecord: ("set_type", "members", "generated_by"),
    PolicyRecord: ("statements", "generated_by"),
    AttachmentRecord: (
        "direction",
        "policies",
        "default_action",
        "neighbors",
        "priority",
        "generated_by",
    ),
}
Desired = Mapping[type[OwnedRecord], Mapping[str, Mapping[str, Any]]]


def generated_rows(conn: Connection, *, router_id: str) -> list[OwnedRecord]:
    """The router's generated defined sets, policies and attachments."""
    return [
        row
        for kind in GENERATED_KINDS
        for row in owned_rows.generated_of_router(conn, kind, router_id=router_id)
    ]


def owned_by(conn: Connection, *, owner: str) -> list[OwnedRecord]:
    """Every generated object of one intent or site ("intent:<id>")."""
    return owned_by_each(conn, owners=[owner])[owner]


def owned_by_each(conn: Connection, *, owners: Sequence[str]) -> dict[str, list[OwnedRecord]]:
    """Owner -> its generated objects (defined sets, policies, attachments, in that
    order), for a page of intents or sites: a query per kind whatever their number."""
    found: dict[str, list[OwnedRecord]] = {owner: [] for owner in owners}
    for kind in GENERATED_KINDS:
        for row in owned_rows.generated_by(conn, kind, owners=list(found)):
            found[str(row.generated_by)].append(row)
    return found


def sync_router(
    conn: Connection, *, router_id: str, desired: Desired, describe: Mapping[str, str]
) -> list[str]:
    """Make the router's generated rows equal ``desired`` (record kind -> name ->
    values); ``describe``: generated_by -> description text. Returns what changed, for
    logs and plans ("+ policy i.far.in")."""
    stamp = now()
    changes: list[str] = []
    for kind in GENERATED_KINDS:
        have = {r.key: r for r in owned_rows.generated_of_router(conn, kind, router_id=router_id)}
        want = desired.get(kind, {})
        label = LABELS[kind]
        for name, values in want.items():
            text = describe.get(str(values["generated_by"]), "")
            row = have.get(name)
            if row is None:
                owned_rows.insert_rows(
                    conn,
                    kind,
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
                changes.append(f"+ {label} {name}")
                continue
            changed = {f: values[f] for f in _COMPARED[kind] if getattr(row, f) != values[f]}
            if row.description != text:
                changed["description"] = text
            deleting = row.status == Status.PENDING_DELETE
            if not changed and not deleting:
                continue
            changed["status"] = (
                Status.PENDING_UPDATE if deleting else status_after_update(row.status)
            )
            changed["status_detail"] = ""
            owned_rows.update_row(
                conn, kind, row_id=row.id, expected_version=row.version, values=changed
            )
            changes.append(f"~ {label} {name}")
        for name, row in have.items():
            if name not in want and row.status != Status.PENDING_DELETE:
                owned_rows.update_row(
                    conn,
                    kind,
                    row_id=row.id,
                    expected_version=row.version,
                    values={"status": Status.PENDING_DELETE, "status_detail": ""},
                )
                changes.append(f"- {label} {name}")
    return changes
