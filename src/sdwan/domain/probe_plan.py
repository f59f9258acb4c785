"""What each router's probe agent should measure: its uplinks, the target of each, and
the SLA classes that apply to it. Pure; the quality controller pushes the result to
the agents (``PUT /config``, docs/intent.md).

An uplink's **target** is its ``probe.target`` when set; otherwise the far site's probe
agent: among the uplinks of the sites this site's intents lead to (every other site of
the project when none does), one of the same transport if any (an MPLS uplink is
measured across MPLS), first by site and uplink name; its address is what that far
agent reports as its own on that uplink (``local_address``). Until one is known the
uplink is not probed, and its quality says why."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sdwan.domain.quality import ClassLimits
from sdwan.domain.values import IpText

__all__ = ["ProbeSettings", "ProbedUplink", "agent_configs", "default_target", "empty_config"]

DEFAULT_PORT = 862  # the TWAMP-light reflector's port (RFC 8545)


class ProbeSettings(BaseModel):
    """How one uplink is measured (``probe`` of an uplink)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    method: Literal["udp", "icmp", "none"] = Field(
        default="udp",
        description="udp: to a probe agent's reflector (TWAMP-light); icmp: echo to any "
        "host; none: not measured (never steered)",
    )
    target: IpText | None = Field(
        default=None,
        description="the address probed over this uplink; default: the far site's agent",
    )
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535, description="udp: reflector port")
    rate: float | None = Field(
        default=None, ge=1, le=1000, description="probes per second; default: the agent's"
    )


@dataclass(frozen=True)
class ProbedUplink:
    id: str
    site_id: str
    site: str  # name
    name: str
    router_id: str
    neighbor: str
    transport: str
    probe: ProbeSettings


def default_target(
    uplink: ProbedUplink,
    candidates: Iterable[ProbedUplink],
    local_addresses: Mapping[str, str],
) -> str | None:
    """The far agent's address for ``uplink`` among ``candidates`` (the uplinks of the
    sites it leads to), or None while none is known."""
    usable = [
        c
        for c in candidates
        if c.site_id != uplink.site_id and c.probe.method == "udp" and c.id in local_addresses
    ]
    usable.sort(key=lambda c: (c.transport != uplink.transport, c.site, c.name))
    return local_addresses[usable[0].id] if usable else None


def agent_configs(
    uplinks: Iterable[ProbedUplink],
    *,
    far_sites: Mapping[str, list[str]],
    classes: Mapping[str, list[ClassLimits]],
    local_addresses: Mapping[str, str],
) -> dict[str, dict[str, Any]]:
    """Router id -> the configuration of its agent (``generation``: a digest of the
    rest, so an unchanged configuration is never pushed again). ``far_sites``: site id
    -> the sites its uplinks probe towards; ``classes``: uplink id -> the classes of
    the intents that use it; ``local_addresses``: uplink id -> the address its own
    agent reports on it."""
    everything = list(uplinks)
    by_site: dict[str, list[ProbedUplink]] = {}
    for uplink in everything:
        by_site.setdefault(uplink.site_id, []).append(uplink)
    configs: dict[str, list[dict[str, Any]]] = {}
    for uplink in sorted(everything, key=lambda u: (u.site, u.name)):
        configs.setdefault(uplink.router_id, [])
        if uplink.probe.method == "none":
            continue
        target = uplink.probe.target
        if target is None and uplink.probe.method == "udp":
            candidates = [c for s in far_sites.get(uplink.site_id, []) for c in by_site.get(s, [])]
            target = default_target(uplink, candidates, local_addresses)
        configs[uplink.router_id].append(
            {
                "id": uplink.id,
                "name": f"{uplink.site}/{uplink.name}",
                "neighbor": uplink.neighbor,
                "method": uplink.probe.method,
                "target": target,
                "port": uplink.probe.port,
                "rate": uplink.probe.rate,
                "timeout_ms": None,
                "classes": [c.to_json() for c in classes.get(uplink.id, [])],
            }
        )
    return {router: _with_generation(items) for router, items in configs.items()}


def _with_generation(items: list[dict[str, Any]]) -> dict[str, Any]:
    digest = hashlib.sha256(json.dumps(items, sort_keys=True).encode()).digest()
    return {"generation": int.from_bytes(digest[:6], "big") or 1, "uplinks": items}


def empty_config() -> dict[str, Any]:
    """The configuration of an agent whose router has no uplink to measure."""
    return _with_generation([])
