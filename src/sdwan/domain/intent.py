"""The SD-WAN intent model: sites, uplinks and path intents, validated.

A **site** groups routers (each in at most one site) and the prefixes it owns (its
LANs). An **uplink** is a named role on one neighbor of a site router: the transport
(internet, mpls, lte, ...), a cost and optionally a bandwidth. A **path intent** says,
for a site and a destination (a list of prefixes, another site's prefixes, or every
route), which uplinks to use in which order: tiers, the first preferred, the uplinks of
one tier sharing (equal cost); or ``cost``: tiers by uplink cost. For the return
direction it may make the site's own prefixes less attractive over the backup uplinks
(AS-path prepend or MED) and tag them with communities a provider honours.

These models are the canonical form the API accepts and stores, and the fleet file's
``sites``/``intents`` sections (after ``normalize_intent``, which also takes the short
spellings). Pure: references between objects are checked by the service."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from sdwan.domain.policy import PrefixMember, check_community
from sdwan.domain.probe_plan import ProbeSettings
from sdwan.domain.values import IpText

Transport = Literal["internet", "mpls", "lte", "5g", "satellite", "private", "other"]
TRANSPORTS: tuple[str, ...] = get_args(Transport)
MAX_TIERS = 8
MAX_PREFIXES = 1000
MAX_UPLINKS_PER_SITE = 256
MAX_INTENTS_PER_SITE = 256
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$")
NAME_RULE = "1-24 letters, digits, '_' or '-', starting with a letter or digit"


def check_intent_name(value: str) -> str:
    """Names of sites, uplinks and intents: short, no dots (generated gobgpd object
    names are built from them: ``i.<intent>.u.<uplink>``)."""
    if not _NAME.fullmatch(value):
        raise ValueError(f"must be {NAME_RULE}")
    return value


IntentName = Annotated[
    str,
    Field(min_length=1, max_length=24, pattern=_NAME.pattern),
    AfterValidator(check_intent_name),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def canonical_prefixes(members: list[PrefixMember]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for member in members:
        dumped = member.model_dump(exclude_none=True)
        if dumped not in out:
            out.append(dumped)
    return out


class Destination(Strict):
    """``prefixes``: those (with ge/le ranges); ``site``: that site's prefixes;
    ``any``: every route."""

    type: Literal["prefixes", "site", "any"]
    prefixes: list[PrefixMember] | None = Field(default=None, max_length=MAX_PREFIXES)
    site: IntentName | None = None

    @model_validator(mode="after")
    def _shape(self) -> Destination:
        if self.type == "prefixes" and not self.prefixes:
            raise ValueError("type prefixes needs a non-empty 'prefixes' list")
        if self.type != "prefixes" and self.prefixes is not None:
            raise ValueError(f"'prefixes' is only for type prefixes, not {self.type}")
        if (self.type == "site") != (self.site is not None):
            raise ValueError("'site' names the destination site, and only for type site")
        return self

    def canonical(self) -> dict[str, Any]:
        if self.type == "prefixes":
            return {"type": "prefixes", "prefixes": canonical_prefixes(self.prefixes or [])}
        if self.type == "site":
            return {"type": "site", "site": self.site}
        return {"type": "any"}


Tier = Annotated[list[IntentName], Field(min_length=1, max_length=16)]
Tiers = Annotated[list[Tier], Field(min_length=1, max_length=MAX_TIERS)]


class ReturnPath(Strict):
    """How the rest of the world should reach the site: on the exports of the site's
    prefixes over the non-primary uplinks, ``prepend`` adds the router's own AS
    (``prepend`` times per tier below the first), ``med`` sets MED ``med_step`` per tier
    (0 on the first); ``communities`` are added over every non-primary uplink."""

    method: Literal["none", "prepend", "med"] = "none"
    prepend: int = Field(default=2, ge=1, le=8)
    med_step: int = Field(default=100, ge=1, le=100000)
    communities: list[Annotated[str, AfterValidator(check_community)]] = Field(
        default_factory=list, max_length=16
    )

    def shapes(self) -> bool:
        return self.method != "none" or bool(self.communities)


def check_tiers(tiers: list[list[str]]) -> list[list[str]]:
    seen: set[str] = set()
    for index, tier in enumerate(tiers):
        for name in tier:
            if name in seen:
                raise ValueError(f"tier {index + 1}: uplink {name!r} is already in an earlier tier")
            seen.add(name)
    return tiers


Preference = Annotated[Tiers, AfterValidator(check_tiers)] | Literal["cost"]


def local_pref_for(tier: int, tiers: int) -> int:
    """Local preference of tier ``tier`` (0: primary) of ``tiers``: 100 apart, the last
    at 200, so every tier beats a path outside the intent (default 100)."""
    return 100 + 100 * (tiers - tier)


def tiers_by_cost(uplinks: list[tuple[str, int]]) -> list[list[str]]:
    """(name, cost) pairs as tiers: cheapest first, equal costs share a tier."""
    tiers: dict[int, list[str]] = {}
    for name, cost in sorted(uplinks, key=lambda pair: (pair[1], pair[0])):
        tiers.setdefault(cost, []).append(name)
    return [tiers[cost] for cost in sorted(tiers)][:MAX_TIERS]


def normalize_intent(values: dict[str, Any]) -> dict[str, Any]:
    """The fleet file's short spellings in canonical form: ``destination: any``,
    ``destination: {site: x}`` / ``{prefixes: [...]}`` without a type, and ``prefer``
    tiers given as bare uplink names (one uplink per tier)."""
    out = dict(values)
    destination = out.get("destination")
    if destination == "any":
        out["destination"] = {"type": "any"}
    elif isinstance(destination, dict) and "type" not in destination:
        kind = "site" if "site" in destination else "prefixes"
        out["destination"] = {"type": kind, **destination}
    prefer = out.get("prefer")
    if isinstance(prefer, list):
        out["prefer"] = [[item] if isinstance(item, str) else item for item in prefer]
    if isinstance(out.get("destination"), dict):
        prefixes = out["destination"].get("prefixes")
        if isinstance(prefixes, list):
            out["destination"] = {
                **out["destination"],
                "prefixes": [{"prefix": p} if isinstance(p, str) else p for p in prefixes],
            }
    return out


def normalize_prefixes(values: list[Any]) -> list[Any]:
    """Prefix lists may give bare prefixes for ``{prefix: ...}``."""
    return [{"prefix": p} if isinstance(p, str) else p for p in values]


Ref = Annotated[str, Field(min_length=1, max_length=63, description="id or name")]
Description = Annotated[str, Field(max_length=1024)]


class SiteRouter(Strict):
    router: Ref
    fib_agent: str | None = Field(
        default=None,
        max_length=270,
        description="the FIB agent's status address (unix:///path); default: beside a "
        "gobgpd on a unix socket, <socket>.fib if it answers",
    )
    probe_agent: str | None = Field(
        default=None,
        max_length=270,
        description="the probe agent's control address (unix:///path); default: beside a "
        "gobgpd on a unix socket, <socket>.probe",
    )


class SiteSpec(Strict):
    """A site's own fields, as POST /v1/sites and the fleet file's ``sites`` take them."""

    name: IntentName
    routers: list[SiteRouter] = Field(default_factory=list, max_length=64)
    prefixes: list[PrefixMember] = Field(
        default_factory=list, max_length=MAX_PREFIXES, description="the site's own LANs"
    )
    next_hop_self: bool = Field(
        default=True,
        description="its routers rewrite the next hop to themselves towards their iBGP "
        "neighbors, so uplink routes are usable across the site",
    )
    description: Description = ""


NeighborAddress = Annotated[IpText, Field(description="the neighbor's address on that router")]


class UplinkSpec(Strict):
    name: IntentName
    router: Ref
    neighbor: NeighborAddress
    transport: Transport = "internet"
    cost: int = Field(default=100, ge=0, le=65535, description="lower is cheaper")
    bandwidth_mbps: int | None = Field(default=None, ge=1, le=10_000_000)
    probe: ProbeSettings = Field(
        default_factory=ProbeSettings,
        description="how the uplink is measured (path quality, docs/intent.md)",
    )
    description: Description = ""


class IntentSpec(Strict):
    name: IntentName
    destination: Destination
    prefer: Preference = Field(
        description="tiers of uplink names, primary first (an uplink per tier, or several "
        "sharing one tier), or 'cost': tiers by uplink cost"
    )
    return_path: ReturnPath = Field(default_factory=ReturnPath)
    sla_class: Ref | None = Field(
        default=None,
        description="the SLA class its uplinks are steered on (name or id, in the site's "
        "project); null: none, steered on reachability only",
    )
    description: Description = ""


def normalize_site(values: dict[str, Any]) -> dict[str, Any]:
    """Short spellings of the fleet file: router names and bare prefixes."""
    out = dict(values)
    if isinstance(out.get("routers"), list):
        out["routers"] = [{"router": r} if isinstance(r, str) else r for r in out["routers"]]
    if isinstance(out.get("prefixes"), list):
        out["prefixes"] = normalize_prefixes(out["prefixes"])
    return out


def strip_none(value: Any) -> Any:
    """A JSON value without null members: the stored, canonical form."""
    if isinstance(value, dict):
        return {k: strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_none(v) for v in value]
    return value
