"""Types shared by the resource schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sdwan.domain import values
from sdwan.service.api_addresses import resolve_api_address

T = TypeVar("T")

Asn = Annotated[int, AfterValidator(values.check_asn)]
IpAddress = Annotated[str, AfterValidator(values.check_ip)]
Name = Annotated[str, AfterValidator(values.check_name)]
RouterIdText = Annotated[str, AfterValidator(values.check_router_id)]
ApiAddressText = Annotated[str, AfterValidator(resolve_api_address)]
Families = Annotated[list[str], AfterValidator(values.check_families)]
Description = Annotated[str, Field(max_length=1024)]

# Query parameters: bounded, so that no value reaches the database as an integer it
# cannot hold (SQLite's are 64-bit); out of range is a 422 naming the parameter.
MAX_OFFSET = 10**9
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")]
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="items per page")]
AsnQuery = Annotated[int | None, Query(ge=values.ASN_MIN, le=values.ASN_MAX)]


class Input(BaseModel):
    """Request bodies: unknown fields and wrong types are errors, not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Status(BaseModel):
    status: str
    status_detail: str
    version: int
    created_at: datetime
    updated_at: datetime


class ListOf(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class BulkOf(BaseModel, Generic[T]):
    items: list[T]
    total: int
