"""The routing-policy language: defined sets and policy statements, validated.

These models are the canonical form stored (as JSON) and accepted by the API and by
`sdwan apply`; sdwan.domain.policy_compile turns them into gobgpd objects."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sdwan.domain import gobgp_regex
from sdwan.domain.values import FAMILIES, check_ip, check_name

WELL_KNOWN_COMMUNITIES = {
    "no-export",
    "no-advertise",
    "no-export-subconfed",
    "no-peer",
    "blackhole",
    "graceful-shutdown",
    "accept-own",
    "llgr-stale",
    "no-llgr",
}
_COMMUNITY = re.compile(r"^(\d{1,5}):(\d{1,5})$")
_LARGE_COMMUNITY = re.compile(r"^(\d{1,10}):(\d{1,10}):(\d{1,10})$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SetType(StrEnum):
    PREFIX = "prefix"
    NEIGHBOR = "neighbor"
    COMMUNITY = "community"
    LARGE_COMMUNITY = "large-community"
    AS_PATH = "as-path"


def check_community(value: str) -> str:
    if value in WELL_KNOWN_COMMUNITIES:
        return value
    match = _COMMUNITY.fullmatch(value)
    if not match or any(int(part) > 65535 for part in match.groups()):
        raise ValueError(
            f"{value!r} is not a community: use ASN:VALUE (each 0-65535) or one of "
            f"{', '.join(sorted(WELL_KNOWN_COMMUNITIES))}"
        )
    return value


def check_large_community(value: str) -> str:
    match = _LARGE_COMMUNITY.fullmatch(value)
    if not match or any(int(part) > 4294967295 for part in match.groups()):
        raise ValueError(f"{value!r} is not a large community: use A:B:C (each 0-4294967295)")
    return value


def check_regex(value: str) -> str:
    """An AS-path member gobgpd 3.10 accepts (domain/gobgp_regex.py: Go's RE2 syntax,
    bounded in size: at most 256 characters, 32 nested groups, repetitions up to
    {1000}); ValueError naming the reason, lookarounds and backreferences included."""
    if len(value) <= gobgp_regex.MAX_LENGTH and gobgp_regex.single_as(value) is not None:
        return value
    return gobgp_regex.check_member(value, gobgp_regex.as_path_text(value))


class PrefixMember(Strict):
    """A prefix, optionally with a range of lengths it matches (ge..le)."""

    prefix: str
    ge: int | None = Field(default=None, ge=0, le=128)
    le: int | None = Field(default=None, ge=0, le=128)

    @model_validator(mode="after")
    def _range(self) -> PrefixMember:
        try:
            network = ipaddress.ip_network(self.prefix, strict=True)
        except ValueError as exc:
            raise ValueError(f"prefix {self.prefix!r}: {exc}") from None
        self.prefix = str(network)
        low = self.ge if self.ge is not None else network.prefixlen
        high = (
            self.le
            if self.le is not None
            else (network.max_prefixlen if self.ge is not None else low)
        )
        if not network.prefixlen <= low <= high <= network.max_prefixlen:
            raise ValueError(
                f"prefix {self.prefix}: impossible length range ge {low} le {high} (need "
                f"{network.prefixlen} <= ge <= le <= {network.max_prefixlen})"
            )
        return self

    @property
    def family(self) -> str:
        return "ipv6-unicast" if ":" in self.prefix else "ipv4-unicast"


def check_members(set_type: SetType, members: list[object]) -> list[object]:
    """Validated, canonical members of a set of ``set_type``."""
    if set_type == SetType.PREFIX:
        out: list[object] = []
        for index, member in enumerate(members):
            if isinstance(member, str):
                member = {"prefix": member}
            if not isinstance(member, dict):
                raise ValueError(f"members[{index}]: expected a prefix or {{prefix, ge, le}}")
            try:
                out.append(PrefixMember.model_validate(member).model_dump(exclude_none=True))
            except ValueError as exc:
                raise ValueError(f"members[{index}]: {_first_error(exc)}") from None
        return out
    checks = {
        SetType.NEIGHBOR: _neighbor_member,
        SetType.COMMUNITY: _community_member,
        SetType.LARGE_COMMUNITY: _large_community_member,
        SetType.AS_PATH: check_regex,
    }
    result: list[object] = []
    for index, member in enumerate(members):
        if not isinstance(member, str):
            raise ValueError(f"members[{index}]: expected a string")
        try:
            result.append(checks[set_type](member))
        except ValueError as exc:
            raise ValueError(f"members[{index}]: {exc}") from None
    return result


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return str(first.get("msg", exc)).removeprefix("Value error, ")
    return str(exc)


def _neighbor_member(value: str) -> str:
    if "/" in value:
        try:
            return str(ipaddress.ip_network(value, strict=True))
        except ValueError as exc:
            raise ValueError(f"{value!r}: {exc}") from None
    return check_ip(value)


def _community_member(value: str) -> str:
    """A community, or a regular expression over ASN:VALUE text."""
    if _COMMUNITY.fullmatch(value) or value in WELL_KNOWN_COMMUNITIES:
        return check_community(value)
    return gobgp_regex.check_member(value, gobgp_regex.community_text(value))


def _large_community_member(value: str) -> str:
    if _LARGE_COMMUNITY.fullmatch(value):
        return check_large_community(value)
    return gobgp_regex.check_member(value, gobgp_regex.large_community_text(value))


# --- statements -------------------------------------------------------------------

Match = Literal["any", "all", "invert"]
SetName = Annotated[str, Field(min_length=1, max_length=63)]


class SetMatch(Strict):
    name: SetName
    match: Match = "any"


class AsPathLength(Strict):
    op: Literal["eq", "ge", "le"]
    length: int = Field(ge=0, le=255)


class Conditions(Strict):
    prefix_set: SetMatch | None = None
    neighbor_set: SetMatch | None = None
    community_set: SetMatch | None = None
    large_community_set: SetMatch | None = None
    as_path_set: SetMatch | None = None
    as_path_length: AsPathLength | None = None
    family: list[Literal["ipv4-unicast", "ipv6-unicast"]] | None = None

    @field_validator(
        "prefix_set",
        "neighbor_set",
        "community_set",
        "large_community_set",
        "as_path_set",
        mode="before",
    )
    @classmethod
    def _bare_name(cls, value: object) -> object:
        return {"name": value} if isinstance(value, str) else value

    @field_validator("family", mode="before")
    @classmethod
    def _one_family(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    def set_references(self) -> list[tuple[str, SetType, SetMatch]]:
        pairs = [
            ("prefix_set", SetType.PREFIX, self.prefix_set),
            ("neighbor_set", SetType.NEIGHBOR, self.neighbor_set),
            ("community_set", SetType.COMMUNITY, self.community_set),
            ("large_community_set", SetType.LARGE_COMMUNITY, self.large_community_set),
            ("as_path_set", SetType.AS_PATH, self.as_path_set),
        ]
        return [(field, kind, ref) for field, kind, ref in pairs if ref is not None]


class MedAction(Strict):
    set: int | None = Field(default=None, ge=0, le=4294967295)
    add: int | None = Field(default=None, ge=1, le=4294967295)
    subtract: int | None = Field(default=None, ge=1, le=4294967295)

    @model_validator(mode="after")
    def _one(self) -> MedAction:
        if sum(v is not None for v in (self.set, self.add, self.subtract)) != 1:
            raise ValueError("med: give exactly one of set, add, subtract")
        return self


class PrependAction(Strict):
    asn: Literal["own"] | int = "own"
    times: int = Field(default=1, ge=1, le=16)

    @field_validator("asn")
    @classmethod
    def _asn(cls, value: object) -> object:
        if isinstance(value, int) and not 1 <= value <= 4294967295:
            raise ValueError("asn must be 'own' or 1..4294967295")
        return value


class CommunityAction(Strict):
    add: list[str] | None = None
    remove: list[str] | None = None
    replace: list[str] | None = None

    @model_validator(mode="after")
    def _one(self) -> CommunityAction:
        if sum(v is not None for v in (self.add, self.remove, self.replace)) != 1:
            raise ValueError("give exactly one of add, remove, replace")
        return self

    def operation(self) -> tuple[str, list[str]]:
        for op in ("add", "remove", "replace"):
            value = getattr(self, op)
            if value is not None:
                return op, value
        raise AssertionError("validated")


class Actions(Strict):
    disposition: Literal["accept", "reject", "next"] = "next"
    next_hop: str | None = Field(default=None, description="self, unchanged, or an address")
    local_pref: int | None = Field(default=None, ge=0, le=4294967295)
    med: MedAction | None = None
    as_path_prepend: PrependAction | None = None
    communities: CommunityAction | None = None
    large_communities: CommunityAction | None = None

    @field_validator("next_hop")
    @classmethod
    def _next_hop(cls, value: str | None) -> str | None:
        if value is None or value in ("self", "unchanged"):
            return value
        return check_ip(value)

    @model_validator(mode="after")
    def _community_values(self) -> Actions:
        if self.communities is not None:
            for value in self.communities.operation()[1]:
                check_community(value)
        if self.large_communities is not None:
            for value in self.large_communities.operation()[1]:
                check_large_community(value)
        return self


class Statement(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=63)
    conditions: Conditions = Field(default_factory=Conditions)
    actions: Actions = Field(default_factory=Actions)

    @model_validator(mode="after")
    def _next_hop_family(self) -> Statement:
        hop, families = self.actions.next_hop, self.conditions.family
        if hop not in (None, "self", "unchanged") and families:
            hop_family = "ipv6-unicast" if ":" in str(hop) else "ipv4-unicast"
            if hop_family not in families:
                raise ValueError(
                    f"next_hop {hop} is {hop_family} but the statement only matches "
                    f"{', '.join(families)}"
                )
        return self


def check_statements(statements: list[Statement]) -> list[Statement]:
    """Names default to s1, s2, ...; they must be unique within the policy."""
    seen: set[str] = set()
    for index, statement in enumerate(statements, start=1):
        if statement.name is None:
            statement.name = f"s{index}"
        check_name(statement.name)
        if statement.name in seen:
            raise ValueError(f"statement name {statement.name!r} appears twice")
        seen.add(statement.name)
    return statements


FAMILY_NAMES = FAMILIES
