"""The rules of the policy resources that need the store: references between sets,
policies, attachments and neighbors, and what still refers to a thing being deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from sdwan.domain.policy import SetType, Statement
from sdwan.domain.status import Status
from sdwan.errors import InvalidInput
from sdwan.service.children import ChildSpec
from sdwan.store import children, repo
from sdwan.store.children import Row
from sdwan.store.policy_tables import announcements, defined_sets, policies, policy_attachments
from sdwan.store.records import RouterRecord


def _live(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r["status"] != Status.PENDING_DELETE]


def _check_policy(
    conn: Connection, router: RouterRecord, values: dict[str, Any], where: str
) -> None:
    sets = {
        r["name"]: r
        for r in _live(children.rows_of_router(conn, defined_sets, router_id=router.id))
    }
    for index, raw in enumerate(values["statements"]):
        statement = Statement.model_validate(raw)
        for field, kind, ref in statement.conditions.set_references():
            found = sets.get(ref.name)
            path = f"{where}statements[{index}].conditions.{field}"
            if found is None:
                raise InvalidInput(
                    f"{path}: router {router.name} has no defined set {ref.name!r}", field=path
                )
            if found["set_type"] != kind:
                raise InvalidInput(
                    f"{path}: {ref.name!r} is a {found['set_type']} set, not a {kind} set",
                    field=path,
                )
            if ref.match == "all" and kind in (SetType.PREFIX, SetType.NEIGHBOR):
                raise InvalidInput(
                    f"{path}: match 'all' is for community and AS-path sets", field=path
                )


def _check_attachment(
    conn: Connection, router: RouterRecord, values: dict[str, Any], where: str
) -> None:
    known = {r["name"] for r in _live(children.rows_of_router(conn, policies, router_id=router.id))}
    for index, name in enumerate(values["policies"]):
        if name not in known:
            raise InvalidInput(
                f"{where}policies[{index}]: router {router.name} has no policy {name!r}",
                field=f"{where}policies[{index}]",
            )
    if len(set(values["policies"])) != len(values["policies"]):
        raise InvalidInput(f"{where}policies: a policy is listed twice", field=f"{where}policies")
    neighbors = {
        n.address
        for n in repo.neighbors_of(conn, router_id=router.id)
        if n.status != Status.PENDING_DELETE
    }
    for index, address in enumerate(values["neighbors"]):
        if address not in neighbors:
            raise InvalidInput(
                f"{where}neighbors[{index}]: router {router.name} has no neighbor {address}",
                field=f"{where}neighbors[{index}]",
            )
    if not values["neighbors"] and values["default_action"] != "none":
        for other in _live(children.rows_of_router(conn, policy_attachments, router_id=router.id)):
            if (
                other["name"] != values["name"]
                and other["direction"] == values["direction"]
                and not other["neighbors"]
                and other["default_action"] not in ("none", values["default_action"])
            ):
                raise InvalidInput(
                    f"{where}default_action: attachment {other['name']!r} already makes "
                    f"{other['default_action']} the default for all {values['direction']}ed "
                    "routes; gobgpd has one default per direction",
                    field=f"{where}default_action",
                )


def _check_announcement(
    conn: Connection, router: RouterRecord, values: dict[str, Any], where: str
) -> None:
    """The schema checked each field; an update can still pair a prefix with a next hop
    of the other family."""
    hop = values.get("next_hop")
    if hop is not None and (":" in values["prefix"]) != (":" in hop):
        raise InvalidInput(
            f"{where}next_hop: {hop} is not of the same family as prefix {values['prefix']}",
            field=f"{where}next_hop",
        )


def _set_referenced(conn: Connection, router: RouterRecord, row: Row) -> str | None:
    for policy in _live(children.rows_of_router(conn, policies, router_id=router.id)):
        for raw in policy["statements"]:
            statement = Statement.model_validate(raw)
            if any(ref.name == row["name"] for _, _, ref in statement.conditions.set_references()):
                return (
                    f"defined set {row['name']} is used by policy {policy['name']}; "
                    "change or delete the policy first"
                )
    return None


def _policy_referenced(conn: Connection, router: RouterRecord, row: Row) -> str | None:
    for attachment in _live(children.rows_of_router(conn, policy_attachments, router_id=router.id)):
        if row["name"] in attachment["policies"]:
            return f"policy {row['name']} is attached by {attachment['name']}; detach it first"
    return None


def attachments_naming(conn: Connection, router_id: str, address: str) -> list[str]:
    return [
        a["name"]
        for a in _live(children.rows_of_router(conn, policy_attachments, router_id=router_id))
        if address in a["neighbors"]
    ]


SETS = ChildSpec(
    kind="defined set",
    table=defined_sets,
    key_field="name",
    sortable=("name", "set_type", "status", "created_at"),
    defaults={"description": ""},
    immutable=("set_type",),
    referenced=_set_referenced,
)
POLICIES = ChildSpec(
    kind="policy",
    table=policies,
    key_field="name",
    sortable=("name", "status", "created_at"),
    defaults={"description": ""},
    check=_check_policy,
    referenced=_policy_referenced,
)
ATTACHMENTS = ChildSpec(
    kind="policy attachment",
    table=policy_attachments,
    key_field="name",
    sortable=("name", "direction", "priority", "status", "created_at"),
    defaults={"description": "", "default_action": "none", "neighbors": [], "priority": 100},
    check=_check_attachment,
)
ANNOUNCEMENTS = ChildSpec(
    kind="announcement",
    table=announcements,
    key_field="prefix",
    sortable=("prefix", "status", "created_at"),
    defaults={
        "description": "",
        "next_hop": None,
        "origin": "igp",
        "med": None,
        "local_pref": None,
        "communities": [],
        "large_communities": [],
        "as_path_prepend": 0,
    },
    check=_check_announcement,
)
