"""Types shared by the resource schemas."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from sdwan.domain import values
from sdwan.domain.api_address import resolve_api_address
from sdwan.domain.conditions import Condition
from sdwan.errors import InvalidInput

T = TypeVar("T")

# The rules are in the JSON schema too (ranges, lengths, patterns, formats), so that
# generated clients check what the server checks.
Asn = Annotated[int, Field(ge=values.ASN_MIN, le=values.ASN_MAX), AfterValidator(values.check_asn)]
IpAddress = values.IpText
Name = Annotated[
    str,
    Field(min_length=1, max_length=63, pattern=values.NAME_PATTERN.pattern),
    AfterValidator(values.check_name),
]
RouterIdText = Annotated[
    str,
    Field(max_length=15),
    AfterValidator(values.check_router_id),
    WithJsonSchema({"type": "string", "format": "ipv4", "maxLength": 15}),
]
ApiAddressText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=270,
        description="host[:port] (default port 50051), [v6]:port or unix:///absolute/path",
    ),
    AfterValidator(resolve_api_address),
]
Families = Annotated[list[str], AfterValidator(values.check_families)]
Description = Annotated[str, Field(max_length=1024)]


class Input(BaseModel):
    """Request bodies: unknown fields and wrong types are errors, not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Patch(Input):
    """A PATCH body: every field optional; the fields it names are what may change
    in place (the others are fixed once created). ``nullable``: the fields null
    clears; null anywhere else is refused."""

    nullable: ClassVar[tuple[str, ...]] = ()

    def changes(self) -> dict[str, Any]:
        """The fields sent, as JSON values; 422 naming a field sent as null that
        may not be."""
        sent = self.model_dump(mode="json", exclude_unset=True)
        for name, value in sent.items():
            if value is None and name not in self.nullable:
                raise InvalidInput(f"{name}: may not be null", field=name)
        return sent


class Status(BaseModel):
    status: str
    status_detail: str
    version: int
    created_at: datetime
    updated_at: datetime


class ConditionPublic(BaseModel):
    """What the reconciler knows about a resource, as Kubernetes conditions say it
    (docs/architecture.md, "Conditions"). Read-only."""

    type: str = Field(
        description="Applied (every resource with conditions); Drifted (routers and "
        "neighbors); Reachable (routers)"
    )
    status: Literal["True", "False", "Unknown"]
    reason: str = Field(
        description="one CamelCase word: Applied, SessionReset, BgpRestarted, Rejected, "
        "Unreachable, Claimed, Pending; ReportOnly, Repaired, InSync; Answering"
    )
    message: str
    since: datetime = Field(description="when the status last changed")
    observed_version: int = Field(
        description="the resource version the condition was found for (0: not versioned)"
    )


def public_conditions(items: Iterable[Condition]) -> list[ConditionPublic]:
    return [ConditionPublic(**c._asdict()) for c in items]


def conditions_field() -> Any:
    return Field(default_factory=list, description="read-only; see ConditionPublic")


class ListOf(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class BulkOf(BaseModel, Generic[T]):
    items: list[T]
    total: int
