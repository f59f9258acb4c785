"""What the quality controller needs of the store, read in one go into plain values:
the probe agents (one beside each site router), the uplinks they measure and their
configurations' inputs, the intents with an SLA class and their stored steering, and
the last stored report of every uplink (so a restart emits no event for a state that
did not change)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from sdwan.domain.intent import tiers_by_cost
from sdwan.domain.probe_plan import ProbedUplink, ProbeSettings, agent_configs
from sdwan.domain.quality import ClassLimits
from sdwan.domain.sla import SlaClass, Steering
from sdwan.service.intent_steering import sla_of, stored_steering
from sdwan.store import intent_repo, probe_repo, quality_repo, repo, sla_repo
from sdwan.store.intent_repo import IntentRecord, SiteRecord, UplinkRecord
from sdwan.store.quality_repo import UplinkQualityRecord

__all__ = ["Agent", "QualityInputs", "SteeredIntent", "UplinkInfo", "default_probe_agent"]

log = logging.getLogger(__name__)


def default_probe_agent(api_address: str) -> str | None:
    """The probe agent beside a gobgpd on a unix socket: ``<socket>.probe``, if it
    exists (the FIB agent's is ``<socket>.fib``)."""
    if not api_address.startswith("unix://"):
        return None
    path = api_address.removeprefix("unix://") + ".probe"
    return f"unix://{path}" if os.path.exists(path) else None


@dataclass(frozen=True)
class Agent:
    router_id: str
    router_name: str
    address: str  # unix:///path of its control socket


@dataclass(frozen=True)
class UplinkInfo:
    id: str
    site_id: str
    site: str  # name
    name: str
    router_id: str
    router_name: str
    project_id: str

    @property
    def label(self) -> str:
        return f"{self.site}/{self.name}"


@dataclass(frozen=True)
class SteeredIntent:
    """An intent with an SLA class, as the steering reads it."""

    id: str
    site_id: str
    site: str  # name
    name: str
    project_id: str
    tiers: list[list[str]]  # its own tiers (prefer, or by cost)
    sla: SlaClass
    class_id: str
    uplinks: dict[str, str]  # uplink name -> id, in its site
    first_router: str | None  # the site's first router (by id): its owner steers it

    @property
    def label(self) -> str:
        return f"{self.site}/{self.name}"


@dataclass
class QualityInputs:
    agents: dict[str, Agent] = field(default_factory=dict)  # router id -> its agent
    uplinks: dict[str, UplinkInfo] = field(default_factory=dict)  # by id
    probed: list[ProbedUplink] = field(default_factory=list)
    far_sites: dict[str, list[str]] = field(default_factory=dict)  # site -> sites probed to
    classes: dict[str, list[ClassLimits]] = field(default_factory=dict)  # uplink id -> ...
    intents: list[SteeredIntent] = field(default_factory=list)
    steering: dict[str, Steering] = field(default_factory=dict)  # intent id -> stored
    stored: dict[str, UplinkQualityRecord] = field(default_factory=dict)  # uplink id -> last

    def configs(self, local_addresses: dict[str, str]) -> dict[str, dict[str, Any]]:
        """Router id -> its agent's configuration (``generation``: a digest)."""
        return agent_configs(
            self.probed,
            far_sites=self.far_sites,
            classes=self.classes,
            local_addresses=local_addresses,
        )


def _settings(uplink: UplinkRecord) -> ProbeSettings:
    try:
        return ProbeSettings.model_validate(uplink.probe or {})
    except ValidationError as exc:  # stored by the API's own model: not expected
        log.warning("uplink %s: probe settings unreadable, defaults used: %s", uplink.id, exc)
        return ProbeSettings()


def _tiers(intent: IntentRecord, uplinks: list[UplinkRecord]) -> list[list[str]]:
    if intent.prefer == "cost":
        return tiers_by_cost([(u.name, u.cost) for u in uplinks])
    return [list(tier) for tier in intent.prefer]


def _far_sites(sites: dict[str, SiteRecord], intents: list[IntentRecord]) -> dict[str, list[str]]:
    """Site -> the sites its uplinks probe towards: where its intents lead (a site
    destination: that site; prefixes or any: every other site of its project); every
    other site of its project when it has no intent."""
    others = {
        s.id: [o.id for o in sites.values() if o.project_id == s.project_id and o.id != s.id]
        for s in sites.values()
    }
    found: dict[str, list[str]] = {}
    for intent in intents:
        if intent.site_id not in sites:
            continue
        destination = intent.destination
        wanted = (
            [str(destination.get("site_id"))]
            if destination.get("type") == "site"
            else others[intent.site_id]
        )
        have = found.setdefault(intent.site_id, [])
        have.extend(s for s in wanted if s in sites and s not in have and s != intent.site_id)
    return {s: found[s] if s in found else others[s] for s in sites}


def load_inputs(conn: Connection) -> QualityInputs:
    sites = intent_repo.sites_by_ids(conn, ids=intent_repo.all_site_ids(conn))
    members = {m.router_uuid: (s, m) for s in sites.values() for m in s.routers}
    routers = repo.get_routers_by_keys(conn, keys=list(members))
    inputs = QualityInputs()
    for router_id, (_site, member) in members.items():
        router = routers.get(router_id)
        if router is None:
            continue
        address = member.probe_agent or default_probe_agent(router.api_address)
        if address is not None:
            inputs.agents[router_id] = Agent(router_id, router.name, address)
    by_site: dict[str, list[UplinkRecord]] = {}
    for uplink in probe_repo.all_uplinks(conn):
        site = sites.get(uplink.site_id)
        router = routers.get(uplink.router_uuid)
        if site is None or router is None or uplink.router_uuid not in members:
            continue  # an uplink on a router that left the site is not compiled either
        by_site.setdefault(site.id, []).append(uplink)
        inputs.uplinks[uplink.id] = UplinkInfo(
            uplink.id, site.id, site.name, uplink.name, router.id, router.name, site.project_id
        )
        inputs.probed.append(
            ProbedUplink(
                uplink.id,
                site.id,
                site.name,
                uplink.name,
                router.id,
                uplink.neighbor_address,
                uplink.transport,
                _settings(uplink),
            )
        )
    intents = [i for i in probe_repo.all_intents(conn) if i.site_id in sites]
    inputs.far_sites = _far_sites(sites, intents)
    classed = [i for i in intents if i.sla_class_id is not None]
    classes = sla_repo.classes_by_ids(conn, ids=sorted({str(i.sla_class_id) for i in classed}))
    stored = quality_repo.get_steering(conn, intent_ids=[i.id for i in classed])
    for intent in classed:
        record = classes.get(str(intent.sla_class_id))
        if record is None:
            continue
        site = sites[intent.site_id]
        mine = by_site.get(site.id, [])
        ids = {u.name: u.id for u in mine}
        tiers = _tiers(intent, mine)
        sla = sla_of(record)
        for name in (n for tier in tiers for n in tier):
            if name in ids:
                limits = inputs.classes.setdefault(ids[name], [])
                if all(c.name != sla.name for c in limits):
                    limits.append(sla.limits())
        first = sorted(m.router_uuid for m in site.routers)
        inputs.intents.append(
            SteeredIntent(
                intent.id,
                site.id,
                site.name,
                intent.name,
                site.project_id,
                tiers,
                sla,
                record.id,
                ids,
                first[0] if first else None,
            )
        )
        inputs.steering[intent.id] = stored_steering(stored.get(intent.id), record.id)
    inputs.stored = quality_repo.quality_of(conn, uplink_ids=list(inputs.uplinks))
    return inputs
