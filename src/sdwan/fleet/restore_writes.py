"""A rollback's writes: one object brought to a state the revision log kept, through
its own service (fleet/restore.py plans which and in what order).

The stored state is turned back into the API's bodies (create and patch: the column
names the API spells otherwise, a site's members, an intent's destination site, a
password opened from its sealed copy) and handed to the service as a request would,
with three twists only a rollback needs: a created object gets its old id back, an
object whose deletion is still under way is kept (``revive``) instead of created
anew, and a router is deleted with its neighbors (``cascade``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection

from sdwan.auth.principal import Principal
from sdwan.domain.intent import SiteRouter
from sdwan.errors import Conflict, InvalidInput
from sdwan.fleet.model import OWNED_KINDS, Kind, create_body, patch_body
from sdwan.schemas.intents import (
    IntentCreate,
    IntentUpdate,
    SiteCreate,
    SiteUpdate,
    UplinkCreate,
    UplinkUpdate,
)
from sdwan.schemas.neighbors import NeighborCreate, NeighborUpdate
from sdwan.schemas.routers import RouterCreate, RouterUpdate
from sdwan.secretbox import SecretBox
from sdwan.service.intent_services import IntentServices
from sdwan.service.neighbors import NeighborService
from sdwan.service.owned import OwnedService
from sdwan.service.policy_specs import BY_SECTION
from sdwan.service.policyinfo import PolicyInfoService
from sdwan.service.routers import RouterService
from sdwan.store import object_state
from sdwan.store.object_state import ObjectState

SECTIONS = {  # revision kind -> the fleet file's section (its services and bodies)
    "neighbor": "neighbors",
    "defined_set": "defined_sets",
    "policy": "policies",
    "policy_attachment": "attachments",
    "announcement": "announcements",
}
KINDS: dict[str, Kind] = {k.section: k for k in OWNED_KINDS}
_RENAMED = {  # stored column -> the API's field
    "router_uuid": "router",
    "site_id": "site",
    "neighbor_address": "neighbor",
    "sla_class_id": "sla_class",
    "project_id": "project",
}


@dataclass(frozen=True)
class ObjectWriter:
    """The services a rollback writes through."""

    secrets: SecretBox
    routers: RouterService
    neighbors: NeighborService
    owned: Mapping[str, OwnedService[Any]]  # by the fleet file's section
    policyinfo: PolicyInfoService
    intent: IntentServices

    def restore(
        self,
        conn: Connection,
        principal: Principal,
        kind: str,
        ident: str,
        wanted: ObjectState | None,
        name: str,
    ) -> None:
        """Bring the object ``ident`` to ``wanted`` (None: gone), looking at it again
        first (an earlier step may have brought it back already: the policy objects of
        a router kept from deletion). Errors name the object (``name``)."""
        try:
            if wanted is None:
                if object_state.states(conn, kind, [ident]):
                    self._delete(principal, kind, ident)
                return
            now = object_state.states(conn, kind, [ident]).get(ident)
            if self.same(now, wanted):
                return
            if now is not None:
                self._update(principal, kind, ident, wanted, now, revive=False)
                return
            marked = object_state.states(conn, kind, [ident], deleting=True).get(ident)
            if marked is not None:  # its deletion is still under way: keep it
                self._update(principal, kind, ident, wanted, marked, revive=True)
            else:
                self._create(principal, kind, ident, wanted)
        except (InvalidInput, Conflict) as exc:
            what = f"restoring {kind.replace('_', ' ')} {name}"
            raise type(exc)(f"{what}: {exc.message}", field=exc.field) from None

    def same(self, one: ObjectState | None, other: ObjectState | None) -> bool:
        """Whether two states are one: the same values and secrets (compared opened: a
        password written again is sealed anew)."""
        if one is None or other is None:
            return one is other
        return one.values == other.values and self._opened(one) == self._opened(other)

    def _opened(self, state: ObjectState) -> dict[str, str]:
        opened = {}
        for name, token in state.sealed.items():
            try:
                opened[name] = self.secrets.open(token.encode())
            except ValueError:  # sealed under another key: only its token can tell
                opened[name] = token
        return opened

    # --- the three writes, per kind -----------------------------------------------------

    def _create(self, p: Principal, kind: str, ident: str, state: ObjectState) -> None:
        values = self._api(kind, state)
        section = SECTIONS.get(kind)
        if kind == "router":
            self.routers.create_many(p, items=[_body(RouterCreate, values)], ids=[ident])
        elif kind == "neighbor":
            self.neighbors.create_many(p, items=[_body(NeighborCreate, values)], ids=[ident])
        elif section is not None:
            body = _body(KINDS[section].schema, values)
            self.owned[section].create_many(p, items=[body], ids=[ident])
        elif kind == "site":
            self.intent.sites.create(p, _body(SiteCreate, values), ident=ident)
        elif kind == "uplink":
            self.intent.uplinks.create(p, _body(UplinkCreate, values), ident=ident)
        elif kind == "intent":
            self.intent.intents.create(p, _body(IntentCreate, values), ident=ident)
        elif kind == "policyinfo":
            self.policyinfo.restore(p, ident, state.values)
        else:
            raise unsupported(kind)

    def _update(
        self,
        p: Principal,
        kind: str,
        ident: str,
        state: ObjectState,
        now: ObjectState,
        *,
        revive: bool,
    ) -> None:
        section = SECTIONS.get(kind)
        changes = self._changes(kind, state, now)
        if kind == "router":
            router = patch_body(RouterUpdate, changes)
            self.routers.update(p, ident, changes=router, if_match=None, revive=revive)
        elif kind == "neighbor":
            neighbor = patch_body(NeighborUpdate, changes)
            self.neighbors.update(p, ident, changes=neighbor, if_match=None, revive=revive)
        elif section is not None:
            patch = patch_body(KINDS[section].patch, changes)
            self.owned[section].update(p, ident, changes=patch, if_match=None, revive=revive)
        elif kind == "site":
            site = patch_body(SiteUpdate, changes)
            self.intent.sites.update(p, ident, changes=site, if_match=None)
        elif kind == "uplink":
            uplink = patch_body(UplinkUpdate, changes)
            self.intent.uplinks.update(p, ident, changes=uplink, if_match=None)
        elif kind == "intent":
            intent = patch_body(IntentUpdate, changes)
            self.intent.intents.update(p, ident, changes=intent, if_match=None)
        elif kind == "policyinfo":
            self.policyinfo.restore(p, ident, state.values)
        else:
            raise unsupported(kind)

    def _delete(self, p: Principal, kind: str, ident: str) -> None:
        section = SECTIONS.get(kind)
        deletes: dict[str, Callable[[], object]] = {
            "router": lambda: self.routers.delete(
                p, ident, cascade=True, force=False, if_match=None
            ),
            "neighbor": lambda: self.neighbors.delete(p, ident, if_match=None),
            "site": lambda: self.intent.sites.delete(p, ident, if_match=None),
            "uplink": lambda: self.intent.uplinks.delete(p, ident, if_match=None),
            "intent": lambda: self.intent.intents.delete(p, ident, if_match=None),
            "policyinfo": lambda: self.policyinfo.restore(p, ident, None),
        }
        if kind in deletes:
            deletes[kind]()
        elif section is not None:
            self.owned[section].delete(p, ident, if_match=None)
        else:
            raise unsupported(kind)

    # --- stored state -> the API's bodies -------------------------------------------------

    def _api(self, kind: str, state: ObjectState, *, secrets: bool = True) -> dict[str, Any]:
        """The state by the API's field names; a secret opened again (``secrets``)."""
        values = {_RENAMED.get(k, k): v for k, v in state.values.items() if k != "id"}
        section = SECTIONS.get(kind)
        if section in BY_SECTION:
            values = BY_SECTION[section].to_api(values)
        if kind == "site":
            values["routers"] = [_member(m) for m in values.get("routers") or []]
        destination = values.get("destination")
        if kind == "intent" and isinstance(destination, dict) and "site_id" in destination:
            values["destination"] = {"type": "site", "site": destination["site_id"]}
        for name, token in state.sealed.items() if secrets else ():
            try:
                values[name] = self.secrets.open(token.encode())
            except ValueError as exc:
                raise Conflict(f"{name}: {exc}") from None
        return values

    def _changes(self, kind: str, state: ObjectState, now: ObjectState) -> dict[str, Any]:
        """What a patch sends: the fields whose value differs; a secret whose sealed
        copy differs (its value again, or null to clear it)."""
        wanted, have = self._api(kind, state), self._api(kind, now, secrets=False)
        secret = set(state.sealed) | set(now.sealed)
        changes = {k: v for k, v in wanted.items() if k not in secret and have.get(k) != v}
        opened, opened_now = self._opened(state), self._opened(now)
        for name in secret:
            if opened.get(name) != opened_now.get(name):
                changes[name] = wanted.get(name) if name in state.sealed else None
        return changes


def unsupported(kind: str) -> Conflict:
    return Conflict(f"rolling back a change of a {kind} is not supported")


def _member(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A site member as the site's body takes it."""
    member = {"router": stored.get("router_uuid"), **stored}
    return {k: v for k, v in member.items() if k in SiteRouter.model_fields and v is not None}


def _body(schema: type[BaseModel], values: Mapping[str, Any]) -> Any:
    """The create body of ``schema`` from the fields it knows."""
    return create_body(schema, {k: v for k, v in values.items() if k in schema.model_fields})
