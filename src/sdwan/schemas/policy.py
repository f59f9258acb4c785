"""Bodies of the policy resources: defined sets, policies, attachments, announcements."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from sdwan.domain.policy import (
    SetType,
    Statement,
    check_community,
    check_large_community,
    check_members,
    check_statements,
)
from sdwan.schemas.common import (
    ConditionPublic,
    Description,
    Input,
    IpAddress,
    Patch,
    Status,
    conditions_field,
)

MAX_MEMBERS = 10_000  # members of one defined set
_POLICY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


def check_policy_name(value: str) -> str:
    if not _POLICY_NAME.fullmatch(value):
        raise ValueError(
            "must be 1-63 letters, digits, '_' or '-', starting with a letter or "
            "digit (no dots: gobgpd object names are built from it)"
        )
    return value


def check_prefix(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(f"not a prefix: {exc}") from None


PolicyName = Annotated[str, AfterValidator(check_policy_name)]
PrefixText = Annotated[str, AfterValidator(check_prefix)]
Community = Annotated[str, AfterValidator(check_community)]
LargeCommunity = Annotated[str, AfterValidator(check_large_community)]
RouterRef = Annotated[str, Field(min_length=1, description="router id or name")]


class Owned(Status):
    id: str
    router: str
    router_name: str
    description: str
    generated_by: str | None = Field(
        default=None,
        description="the intent or site that generated it (read-only here), e.g. "
        "/v1/intents/ID; null: written by hand",
    )
    conditions: list[ConditionPublic] = conditions_field()  # Applied only

    @field_validator("generated_by", mode="before")
    @classmethod
    def _pointer(cls, value: object) -> object:
        """Stored as "intent:<id>" / "site:<id>"; shown as that object's path."""
        if isinstance(value, str) and ":" in value:
            kind, ident = value.split(":", 1)
            return f"/v1/{kind}s/{ident}"
        return value


# --- defined sets ---------------------------------------------------------------------

SetTypeName = Literal["prefix", "neighbor", "community", "large-community", "as-path"]


class DefinedSetCreate(Input):
    router: RouterRef
    name: PolicyName
    type: SetTypeName
    members: list[Any] = Field(default_factory=list, max_length=MAX_MEMBERS)
    description: Description = ""

    @field_validator("members")
    @classmethod
    def _members(cls, members: list[Any], info: ValidationInfo) -> list[Any]:
        if "type" not in info.data:
            return members  # the type itself is wrong: reported on its own
        return check_members(SetType(info.data["type"]), members)


class DefinedSetUpdate(Patch):
    members: list[Any] | None = Field(default=None, max_length=MAX_MEMBERS)
    description: Description | None = None


class DefinedSetPublic(Owned):
    name: str
    type: str
    members: list[Any]


# --- policies -------------------------------------------------------------------------


class PolicyCreate(Input):
    router: RouterRef
    name: PolicyName
    statements: list[Statement] = Field(min_length=1, max_length=1000)
    description: Description = ""

    @model_validator(mode="after")
    def _names(self) -> PolicyCreate:
        check_statements(self.statements)
        return self


class PolicyUpdate(Patch):
    statements: list[Statement] | None = Field(default=None, min_length=1, max_length=1000)
    description: Description | None = None

    @model_validator(mode="after")
    def _names(self) -> PolicyUpdate:
        if self.statements is not None:
            check_statements(self.statements)
        return self


class PolicyPublic(Owned):
    name: str
    statements: list[dict[str, Any]]


# --- attachments ----------------------------------------------------------------------

Direction = Literal["import", "export"]
DefaultAction = Literal["accept", "reject", "none"]


class AttachmentCreate(Input):
    router: RouterRef
    name: PolicyName
    direction: Direction
    policies: list[PolicyName] = Field(min_length=1, max_length=100)
    default_action: DefaultAction = Field(
        default="none", description="accept/reject what no statement decided; none: go on"
    )
    neighbors: list[IpAddress] = Field(
        default_factory=list, max_length=10000, description="empty: every neighbor"
    )
    priority: int = Field(default=100, ge=0, le=10000, description="lower runs first")
    description: Description = ""


class AttachmentUpdate(Patch):
    policies: list[PolicyName] | None = Field(default=None, min_length=1, max_length=100)
    default_action: DefaultAction | None = None
    neighbors: list[IpAddress] | None = Field(default=None, max_length=10000)
    priority: int | None = Field(default=None, ge=0, le=10000)
    description: Description | None = None


class AttachmentPublic(Owned):
    name: str
    direction: str
    policies: list[str]
    default_action: str
    neighbors: list[str]
    priority: int


# --- announcements --------------------------------------------------------------------

Origin = Literal["igp", "egp", "incomplete"]


class AnnouncementFields(Input):
    next_hop: IpAddress | None = Field(default=None, description="default: the router itself")
    origin: Origin = "igp"
    med: int | None = Field(default=None, ge=0, le=4294967295)
    local_pref: int | None = Field(default=None, ge=0, le=4294967295)
    communities: list[Community] = Field(default_factory=list, max_length=100)
    large_communities: list[LargeCommunity] = Field(default_factory=list, max_length=100)
    as_path_prepend: int = Field(default=0, ge=0, le=16, description="own AS, n times")
    description: Description = ""


class AnnouncementCreate(AnnouncementFields):
    """The next hop's family is checked against the prefix by the service."""

    router: RouterRef
    prefix: PrefixText


class AnnouncementUpdate(Patch):
    nullable = ("next_hop", "med", "local_pref")  # null: none (the router's own next hop)

    next_hop: IpAddress | None = None
    origin: Origin | None = None
    med: int | None = Field(default=None, ge=0, le=4294967295)
    local_pref: int | None = Field(default=None, ge=0, le=4294967295)
    communities: list[Community] | None = Field(default=None, max_length=100)
    large_communities: list[LargeCommunity] | None = Field(default=None, max_length=100)
    as_path_prepend: int | None = Field(default=None, ge=0, le=16)
    description: Description | None = None


class AnnouncementPublic(Owned):
    prefix: str
    next_hop: str | None
    origin: str
    med: int | None
    local_pref: int | None
    communities: list[str]
    large_communities: list[str]
    as_path_prepend: int
