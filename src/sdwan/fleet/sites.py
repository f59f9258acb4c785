"""The fleet file's ``sites`` section: sites with their uplinks and intents nested,
planned against the store, applied through the intent services in the fleet's one
transaction, and exported. References are by name: routers, uplinks, a destination
site. ``--prune`` deletes uplinks and intents a named site no longer lists; sites
themselves are never deleted by a file (``sdwan site delete``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection

from sdwan.auth.principal import Principal
from sdwan.domain.intent import (
    IntentSpec,
    SiteSpec,
    UplinkSpec,
    normalize_intent,
    normalize_site,
)
from sdwan.errors import Conflict, InvalidInput
from sdwan.fleet.model import create_body, model_of, patch_body
from sdwan.fleet.plan import Change
from sdwan.schemas.intents import (
    IntentCreate,
    IntentUpdate,
    SiteCreate,
    SiteUpdate,
    UplinkCreate,
    UplinkUpdate,
)
from sdwan.service.intent_services import IntentServices
from sdwan.service.intents import public_destination
from sdwan.store import intent_repo, repo, sla_repo
from sdwan.store.intent_repo import IntentRecord, UplinkRecord

MAX_SITES = 1000
SITE_EFFECT = "policy objects regenerated on the site's routers: soft resets, no session reset"
SECTIONS = (("uplinks", "uplink", UplinkSpec), ("intents", "intent", IntentSpec))


@dataclass
class SiteFile:
    index: int
    values: dict[str, Any]  # SiteSpec as dumped, routers by name
    owned: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    order: dict[str, list[str]] = field(default_factory=dict)  # section -> keys in file order


def _validate(schema: type[BaseModel], data: Any, where: str) -> dict[str, Any]:
    return model_of(schema, data, where).model_dump(mode="json", exclude_none=True)


def parse_sites(document: Any) -> list[SiteFile]:
    items = document.get("sites") or [] if isinstance(document, Mapping) else []
    if not isinstance(items, list):
        raise InvalidInput("sites: expected a list", field="sites")
    if len(items) > MAX_SITES:
        raise InvalidInput(f"sites: at most {MAX_SITES} per file", field="sites")
    out: list[SiteFile] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(items):
        where = f"sites[{index}]"
        if not isinstance(raw, Mapping):
            raise InvalidInput(f"{where}: expected a mapping", field=where)
        top = normalize_site({k: v for k, v in raw.items() if k not in ("uplinks", "intents")})
        spec = SiteFile(index, _validate(SiteSpec, top, where))
        name = spec.values["name"]
        if name in seen:
            raise InvalidInput(
                f"{where}.name: site {name} also appears as sites[{seen[name]}]",
                field=f"{where}.name",
            )
        seen[name] = index
        for section, kind, schema in SECTIONS:
            entries = raw.get(section) or []
            if not isinstance(entries, list):
                raise InvalidInput(
                    f"{where}.{section}: expected a list", field=f"{where}.{section}"
                )
            found: dict[str, dict[str, Any]] = {}
            for position, item in enumerate(entries):
                at = f"{where}.{section}[{position}]"
                data = (
                    normalize_intent(dict(item))
                    if kind == "intent" and isinstance(item, Mapping)
                    else item
                )
                values = _validate(schema, data, at)
                if values["name"] in found:
                    raise InvalidInput(
                        f"{at}.name: {kind} {values['name']!r} appears twice", field=f"{at}.name"
                    )
                found[values["name"]] = values
            spec.owned[section] = found
            spec.order[section] = list(found)
        out.append(spec)
    return out


def current_site(
    conn: Connection, name: str
) -> tuple[str | None, dict[str, Any] | None, dict[str, dict[str, tuple[str, dict[str, Any]]]]]:
    """(id, fields, section -> name -> (id, fields)) of a stored site, in file form."""
    site = intent_repo.get_site(conn, key=name)
    if site is None or site.name != name:
        return None, None, {}
    names = repo.router_names(conn, router_ids=[m.router_uuid for m in site.routers])
    values = _validate(
        SiteSpec,
        {
            "name": site.name,
            "routers": [
                {
                    "router": names.get(m.router_uuid, m.router_uuid),
                    **({"fib_agent": m.fib_agent} if m.fib_agent else {}),
                    **({"probe_agent": m.probe_agent} if m.probe_agent else {}),
                }
                for m in site.routers
            ],
            "prefixes": site.prefixes,
            "next_hop_self": site.next_hop_self,
            "description": site.description,
        },
        "site",
    )
    state: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {"uplinks": {}, "intents": {}}
    for uplink in intent_repo.owned_of(conn, UplinkRecord, site_id=site.id):
        router = repo.router_names(conn, router_ids=[uplink.router_uuid]).get(
            uplink.router_uuid, ""
        )
        data = {
            "name": uplink.name,
            "router": router,
            "neighbor": uplink.neighbor_address,
            "transport": uplink.transport,
            "cost": uplink.cost,
            "bandwidth_mbps": uplink.bandwidth_mbps,
            "probe": uplink.probe,
            "description": uplink.description,
        }
        state["uplinks"][uplink.name] = (
            uplink.id,
            _validate(UplinkSpec, {k: v for k, v in data.items() if v is not None}, "uplink"),
        )
    intents = intent_repo.owned_of(conn, IntentRecord, site_id=site.id)
    classes = sla_repo.classes_by_ids(
        conn, ids=sorted({i.sla_class_id for i in intents if i.sla_class_id})
    )
    for intent in intents:
        data = {
            "name": intent.name,
            "destination": public_destination(conn, intent.destination),
            "prefer": intent.prefer,
            "return_path": intent.return_path,
            "sla_class": classes[intent.sla_class_id].name if intent.sla_class_id else None,
            "description": intent.description,
        }
        state["intents"][intent.name] = (intent.id, _validate(IntentSpec, data, "intent"))
    return site.id, values, state


def _diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        k: [old.get(k), new.get(k)]
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k) and k != "name"
    }


def plan_sites(conn: Connection, specs: list[SiteFile], *, prune: bool) -> list[Change]:
    changes: list[Change] = []
    effect = SITE_EFFECT
    for spec in specs:
        name = spec.values["name"]
        site_id, current, state = current_site(conn, name)
        if current is None:
            changes.append(Change("create", "site", name, name, values=spec.values, effect=effect))
        else:
            diff = _diff(current, spec.values)
            if diff:
                changes.append(
                    Change("update", "site", name, name, id=site_id, fields=diff, effect=effect)
                )
        for section, kind, _schema in SECTIONS:
            have = state.get(section, {})
            for key, values in spec.owned[section].items():
                if key not in have:
                    changes.append(Change("create", kind, name, key, values=values, effect=effect))
                    continue
                diff = _diff(have[key][1], values)
                if diff:
                    changes.append(
                        Change(
                            "update", kind, name, key, id=have[key][0], fields=diff, effect=effect
                        )
                    )
            if prune:
                for key, (ident, _values) in have.items():
                    if key not in spec.owned[section]:
                        changes.append(Change("delete", kind, name, key, id=ident, effect=effect))
    return changes


class SiteApplier:
    """Runs a plan's site changes through the services (inside the fleet's unit of work)."""

    def __init__(self, services: IntentServices) -> None:
        self._services = services

    def upserts(self, principal: Principal, changes: list[Change], specs: list[SiteFile]) -> None:
        by_name = {s.values["name"]: s for s in specs}
        for kind in ("site", "uplink", "intent"):
            for change in changes:
                if change.kind != kind or change.action == "delete":
                    continue
                spec = by_name[change.router]
                section = {"uplink": "uplinks", "intent": "intents"}.get(kind)
                where = f"sites[{spec.index}]"
                if section is not None:
                    where += f".{section}[{spec.order[section].index(change.key)}]"
                try:
                    self._one(principal, change, spec, section)
                except (InvalidInput, Conflict) as exc:
                    path = f"{where}.{exc.field}" if exc.field else where
                    raise type(exc)(
                        f"{path}: {exc.message.split(': ', 1)[-1]}", field=path
                    ) from None

    def _one(
        self, principal: Principal, change: Change, spec: SiteFile, section: str | None
    ) -> None:
        services = self._services
        if section is None:
            values = spec.values
            if change.action == "create":
                services.sites.create(principal, site=create_body(SiteCreate, values))
            else:
                updates = patch_body(SiteUpdate, {k: values.get(k) for k in change.fields})
                services.sites.update(principal, change.router, changes=updates, if_match=None)
            return
        values = {**spec.owned[section][change.key], "site": change.router}
        changed = {k: values.get(k) for k in change.fields}
        if section == "uplinks" and change.action == "create":
            services.uplinks.create(principal, uplink=create_body(UplinkCreate, values))
        elif section == "uplinks":
            uplink = patch_body(UplinkUpdate, changed)
            services.uplinks.update(principal, _id(change), changes=uplink, if_match=None)
        elif change.action == "create":
            services.intents.create(principal, intent=create_body(IntentCreate, values))
        else:
            intent = patch_body(IntentUpdate, changed)
            services.intents.update(principal, _id(change), changes=intent, if_match=None)

    def deletes(self, principal: Principal, changes: list[Change]) -> None:
        for kind in ("intent", "uplink"):
            for change in changes:
                if change.kind == kind and change.action == "delete":
                    service = self._services.intents if kind == "intent" else self._services.uplinks
                    service.delete(principal, _id(change), if_match=None)


def _id(change: Change) -> str:
    assert change.id is not None  # an update or a delete: of a stored object
    return change.id


def export_sites(
    conn: Connection, principal: Principal, routers: list[str] | None = None
) -> list[dict[str, Any]]:
    """The visible sites (with ``routers``: those with one of these routers)."""
    out = []
    for site_id in intent_repo.all_site_ids(conn):
        site = intent_repo.get_site(conn, key=site_id)
        if site is None or (
            principal.project_id is not None and site.project_id != principal.project_id
        ):
            continue
        if routers is not None:
            names = repo.router_names(conn, router_ids=[m.router_uuid for m in site.routers])
            if not set(names.values()) & set(routers):
                continue
        _ident, values, state = current_site(conn, site.name)
        assert values is not None
        entry = _trim(SiteSpec, values)
        for section, _kind, schema in SECTIONS:
            items = [
                _trim(schema, v)
                for _i, v in sorted(state[section].values(), key=lambda p: p[1]["name"])
            ]
            if items:
                entry[section] = items
        out.append(entry)
    return out


def _trim(schema: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """Defaults left out, as the rest of an export; within a nested setting too
    (``probe: {method: icmp}``)."""
    out = {}
    for name, value in values.items():
        info = schema.model_fields.get(name)
        default = info.get_default(call_default_factory=True) if info is not None else None
        if isinstance(default, BaseModel) and isinstance(value, dict):
            value = _trim(type(default), value)
            default = {}
        if name == "name" or value != default:
            out[name] = value
    return out
