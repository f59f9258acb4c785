"""The plan: what applying a fleet file would create, update and delete, field by
field, and which BGP sessions it would reset. Read-only. Passwords are write-only and
never compared: a password in the file is always a change (its session resets unless
gobgpd has that password already), one left out is kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection

from sdwan.domain.status import Status
from sdwan.fleet.model import OWNED_KINDS, ROUTER, Kind, RouterSpec, normalize
from sdwan.service.neighbors import RESET_FIELDS
from sdwan.service.policy_specs import BY_SECTION
from sdwan.service.routers import RESTART_FIELDS
from sdwan.store import owned_rows, repo


@dataclass
class Change:
    action: str  # create | update | delete
    kind: str
    router: str
    key: str
    id: str | None = None  # the existing object's id (update, delete)
    fields: dict[str, list[Any]] = field(default_factory=dict)  # name: [old, new]
    values: dict[str, Any] = field(default_factory=dict)  # create: everything
    effect: str | None = None  # what it does to BGP sessions

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def answer(changes: Sequence[Change], *, dry_run: bool, revision: int | None) -> dict[str, Any]:
    """What planning or applying changes answers: the changes, the effects on BGP
    sessions, whether they were applied, and the revision that applying them made."""
    return {
        "changes": [c.as_dict() for c in changes],
        "effects": sorted({c.effect for c in changes if c.effect}),
        "applied": bool(changes) and not dry_run,
        "dry_run": dry_run,
        "revision": revision,
    }


# section -> key -> (id, fields)
State = dict[str, dict[str, tuple[str, dict[str, Any]]]]
PASSWORD_SET = "(secret)"  # a neighbor's password in the current state: set, never read


def current_state(conn: Connection, name: str) -> tuple[dict[str, Any] | None, State]:
    """The router's fields and, per section, key -> (id, fields) as the schemas dump
    them; objects being deleted are left out."""
    router = repo.get_router_by_name(conn, name=name)  # by name only: never by a guessed id
    if router is None or router.status == Status.PENDING_DELETE:
        return None, {}
    values = normalize(ROUTER, {f: getattr(router, f) for f in ROUTER.fields()}, name)
    state: State = {}
    for kind in OWNED_KINDS:
        rows: list[dict[str, Any]]
        if kind.section == "neighbors":
            rows = [
                {**n.__dict__, "password": PASSWORD_SET if n.password_sealed else None}
                for n in repo.neighbors_of(conn, router_id=router.id)
                if n.status != Status.PENDING_DELETE
            ]
        else:
            spec = BY_SECTION[kind.section]
            rows = [
                spec.to_api({**r.values(), "id": r.id, "description": r.description})
                for r in owned_rows.records_of_router(
                    conn, spec.record, router_id=router.id, live_only=True
                )
                if r.generated_by is None
            ]  # generated objects belong to their intent (the file's sites section)
        state[kind.section] = {str(r[kind.key]): (r["id"], normalize(kind, r, name)) for r in rows}
    return values, state


def _diff(
    kind: Kind, old: dict[str, Any], new: dict[str, Any], given: set[str]
) -> dict[str, list[Any]]:
    changed: dict[str, list[Any]] = {}
    for name in kind.fields():
        if name == "password":
            if "password" in given and (new.get(name) or old.get(name)):
                changed[name] = [PASSWORD_SET, PASSWORD_SET]
            continue
        if old.get(name) != new.get(name):
            changed[name] = [old.get(name), new.get(name)]
    return changed


def plan_router(conn: Connection, spec: RouterSpec, *, prune: bool) -> list[Change]:
    name = spec.values["name"]
    current, state = current_state(conn, name)
    changes: list[Change] = []
    if current is None:
        changes.append(Change("create", "router", name, name, values=spec.values))
    else:
        diff = _diff(ROUTER, current, spec.values, set(spec.values))
        if diff:
            router = repo.get_router_by_name(conn, name=name)
            effect = router_effect(name, diff)
            changes.append(
                Change(
                    "update",
                    "router",
                    name,
                    name,
                    id=router.id if router else None,
                    fields=diff,
                    effect=effect,
                )
            )
    for kind in OWNED_KINDS:
        have = state.get(kind.section, {})
        want = spec.owned.get(kind.section, {})
        for key, values in want.items():
            if key not in have:
                changes.append(
                    Change(
                        "create",
                        kind.name,
                        name,
                        key,
                        values={k: v for k, v in values.items() if k != "password"},
                    )
                )
                continue
            row_id, old = have[key]
            diff = _diff(kind, old, values, spec.given[kind.section][key])
            if diff:
                changes.append(
                    Change(
                        "update",
                        kind.name,
                        name,
                        key,
                        id=row_id,
                        fields=diff,
                        effect=update_effect(kind, name, key, diff),
                    )
                )
        if prune:
            for key, (row_id, _old) in have.items():
                if key not in want:
                    effect = delete_effect(kind, name, key)
                    changes.append(Change("delete", kind.name, name, key, id=row_id, effect=effect))
    return changes


def router_effect(name: str, diff: dict[str, list[Any]]) -> str | None:
    restart = [f for f in RESTART_FIELDS if f in diff]
    if not restart:
        return None
    return f"BGP restarts on {name}: all its sessions reset ({', '.join(restart)})"


def update_effect(kind: Kind, router: str, key: str, diff: dict[str, list[Any]]) -> str | None:
    if kind.section == "neighbors":
        resets = sorted(RESET_FIELDS.intersection(diff))
        if resets == ["password"]:  # never compared: gobgpd may have it already
            return f"session with {key} on {router} resets unless gobgpd has that password"
        return f"session with {key} on {router} resets ({', '.join(resets)})" if resets else None
    return soft_effect(kind, router)


def delete_effect(kind: Kind, router: str, key: str) -> str | None:
    if kind.section == "neighbors":
        return f"session with {key} on {router} goes away"
    return soft_effect(kind, router)


def soft_effect(kind: Kind, router: str) -> str | None:
    if kind.section in ("defined_sets", "policies", "attachments"):
        return f"soft reset of the affected neighbors on {router} (no session reset)"
    return None
