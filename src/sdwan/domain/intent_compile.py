"""Compile a site's intents into ordinary policy objects on its routers. Pure.

Per router of the site, per intent that has uplinks on that router:

- ``i.<intent>.dst`` (prefix set): the destination's prefixes (none for ``any``);
- ``i.<intent>.u.<uplink>`` (neighbor set): the uplink's neighbor address;
- ``i.<intent>.in`` (policy + import attachment on the intent's uplinks there): one
  statement per uplink, matching the destination and that uplink, setting the tier's
  local preference (``local_pref_for``: 100 apart, the last tier at 200) and deciding
  nothing (``next``), so hand-written policy after it still filters;
- ``i.<intent>.lan`` + ``i.<intent>.out`` (export, with a return path): the site's own
  prefixes towards each non-primary uplink get the AS prepends / MED / communities.

Per router with iBGP neighbors (other than uplinks), when the site asks for it:
``s.nhs`` (policy + export attachment): next hop self towards them, so routes learned
on one router's uplink are usable from every router of the site.

Ordering: generated attachments run before every hand-written one (priorities below
0; the API allows 0-10000), the site's first, then intents for ``any``, for a site, for
prefixes (a more specific destination runs later, so its local preference wins), by
name within each. They decide nothing, so hand-written policy still accepts or rejects
and may override a local preference (the plan shows the result)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sdwan.domain.intent import local_pref_for, tiers_by_cost
from sdwan.domain.sla import Steered

SITE_PRIORITY = -1000
INTENT_PRIORITY = {"any": -900, "site": -800, "prefixes": -700}


@dataclass(frozen=True)
class RouterView:
    id: str
    name: str
    asn: int
    router_id: str
    neighbors: tuple[tuple[str, int], ...]  # (address, peer AS), not being deleted


@dataclass(frozen=True)
class UplinkView:
    name: str
    router_id: str  # the router's uuid
    address: str
    transport: str = "internet"
    cost: int = 100
    bandwidth_mbps: int | None = None


@dataclass(frozen=True)
class IntentView:
    id: str
    name: str
    destination: dict[str, Any]  # canonical Destination
    prefer: list[list[str]] | str  # tiers, or "cost"
    return_path: dict[str, Any]  # canonical ReturnPath
    destination_prefixes: tuple[dict[str, Any], ...] = ()  # resolved (site: its prefixes)
    steered: Steered | None = None  # its SLA class's steering; None: no class


@dataclass(frozen=True)
class SiteView:
    id: str
    name: str
    prefixes: tuple[dict[str, Any], ...]
    next_hop_self: bool
    routers: tuple[RouterView, ...]
    uplinks: tuple[UplinkView, ...]
    intents: tuple[IntentView, ...]


@dataclass
class Generated:
    """The objects one router should hold for its site, as rows of the policy tables."""

    sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)

    def empty(self) -> bool:
        return not (self.sets or self.policies or self.attachments)


def tiers_of(intent: IntentView, uplinks: tuple[UplinkView, ...]) -> list[list[str]]:
    """The tiers in force: the steered ones when an SLA class moved uplinks (demoted
    uplinks below the others), else the intent's own."""
    if intent.steered is not None:
        return [list(tier) for tier in intent.steered.tiers]
    return configured_tiers(intent, uplinks)


def configured_tiers(intent: IntentView, uplinks: tuple[UplinkView, ...]) -> list[list[str]]:
    """The tiers the intent names (``prefer``), or by uplink cost."""
    if intent.prefer == "cost":
        return tiers_by_cost([(u.name, u.cost) for u in uplinks])
    assert isinstance(intent.prefer, list)
    return [list(tier) for tier in intent.prefer]


def _generated_by(kind: str, ident: str) -> str:
    return f"{kind}:{ident}"


def _set(out: Generated, name: str, set_type: str, members: list[Any], by: str) -> None:
    out.sets[name] = {"name": name, "set_type": set_type, "members": members, "generated_by": by}


def _policy_and_attachment(
    out: Generated,
    name: str,
    direction: str,
    statements: list[dict[str, Any]],
    neighbors: list[str],
    priority: int,
    by: str,
) -> None:
    out.policies[name] = {"name": name, "statements": statements, "generated_by": by}
    out.attachments[name] = {
        "name": name,
        "direction": direction,
        "policies": [name],
        "default_action": "none",
        "neighbors": sorted(neighbors),
        "priority": priority,
        "generated_by": by,
    }


def _return_actions(rank: int, return_path: dict[str, Any]) -> dict[str, Any]:
    actions: dict[str, Any] = {}
    method = return_path.get("method", "none")
    if method == "prepend" and rank > 0:
        actions["as_path_prepend"] = {"asn": "own", "times": rank * return_path["prepend"]}
    if method == "med":
        actions["med"] = {"set": rank * return_path["med_step"]}
    if rank > 0 and return_path.get("communities"):
        actions["communities"] = {"add": list(return_path["communities"])}
    return actions


def _compile_intent(out: Generated, site: SiteView, router: RouterView, intent: IntentView) -> None:
    tiers = tiers_of(intent, site.uplinks)
    rank = {name: index for index, tier in enumerate(tiers) for name in tier}
    mine = [u for u in site.uplinks if u.router_id == router.id and u.name in rank]
    if not mine:
        return
    mine.sort(key=lambda u: (rank[u.name], u.name))
    by = _generated_by("intent", intent.id)
    base = f"i.{intent.name}"
    kind = intent.destination["type"]
    own = Generated()
    destination: dict[str, Any] = {}
    if intent.destination_prefixes:
        _set(own, f"{base}.dst", "prefix", list(intent.destination_prefixes), by)
        destination = {"prefix_set": {"name": f"{base}.dst", "match": "any"}}
    statements = []
    for uplink in mine:
        _set(own, f"{base}.u.{uplink.name}", "neighbor", [uplink.address], by)
        statements.append(
            {
                "name": uplink.name,
                "conditions": {
                    **destination,
                    "neighbor_set": {"name": f"{base}.u.{uplink.name}", "match": "any"},
                },
                "actions": {
                    "disposition": "next",
                    "local_pref": local_pref_for(rank[uplink.name], len(tiers)),
                },
            }
        )
    if kind == "any" or intent.destination_prefixes:
        neighbors = [u.address for u in mine]
        priority = INTENT_PRIORITY[kind]
        _policy_and_attachment(own, f"{base}.in", "import", statements, neighbors, priority, by)
    exports = []
    for uplink in mine:
        actions = _return_actions(rank[uplink.name], intent.return_path)
        if actions and site.prefixes:
            exports.append(
                {
                    "name": uplink.name,
                    "conditions": {
                        "prefix_set": {"name": f"{base}.lan", "match": "any"},
                        "neighbor_set": {"name": f"{base}.u.{uplink.name}", "match": "any"},
                    },
                    "actions": {"disposition": "next", **actions},
                }
            )
    if exports:
        _set(own, f"{base}.lan", "prefix", list(site.prefixes), by)
        neighbors = [u.address for u in mine]
        priority = INTENT_PRIORITY[kind]
        _policy_and_attachment(own, f"{base}.out", "export", exports, neighbors, priority, by)
    if own.policies:  # sets only where a policy uses them
        out.sets.update(own.sets)
        out.policies.update(own.policies)
        out.attachments.update(own.attachments)


def internal_neighbors(site: SiteView, router: RouterView) -> list[str]:
    """iBGP neighbors of ``router`` that are not uplinks: where next-hop-self goes."""
    uplinks = {u.address for u in site.uplinks if u.router_id == router.id}
    return sorted(a for a, asn in router.neighbors if asn == router.asn and a not in uplinks)


def compile_site(site: SiteView) -> dict[str, Generated]:
    """Router uuid -> the objects it should hold (every router of the site, maybe none)."""
    result: dict[str, Generated] = {}
    for router in site.routers:
        out = Generated()
        internal = internal_neighbors(site, router)
        if site.next_hop_self and internal:
            statement = {"name": "self", "actions": {"disposition": "next", "next_hop": "self"}}
            by = _generated_by("site", site.id)
            _policy_and_attachment(out, "s.nhs", "export", [statement], internal, SITE_PRIORITY, by)
        for intent in sorted(site.intents, key=lambda i: i.name):
            _compile_intent(out, site, router, intent)
        result[router.id] = out
    return result
