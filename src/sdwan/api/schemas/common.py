"""Types shared by the resource schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sdwan.domain import values

T = TypeVar("T")

Asn = Annotated[int, AfterValidator(values.check_asn)]
IpAddress = Annotated[str, AfterValidator(values.check_ip)]
Name = Annotated[str, AfterValidator(values.check_name)]
RouterIdText = Annotated[str, AfterValidator(values.check_router_id)]
ApiAddressText = Annotated[str, AfterValidator(values.normalize_api_address)]
Families = Annotated[list[str], AfterValidator(values.check_families)]
Description = Annotated[str, Field(max_length=1024)]


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
