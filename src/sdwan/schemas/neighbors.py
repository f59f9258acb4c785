"""Neighbor bodies: NeighborCreate, NeighborUpdate, NeighborPublic."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sdwan.domain.bgp import DEFAULT_HOLD_TIME, DEFAULT_KEEPALIVE
from sdwan.schemas.common import (
    ApiAddressText,
    Asn,
    ConditionPublic,
    Description,
    Families,
    Input,
    IpAddress,
    Patch,
    Status,
    conditions_field,
)
from sdwan.schemas.live import SessionLive

HoldTime = Annotated[int, Field(ge=0, le=65535, description="0 or 3..65535 seconds")]
Keepalive = Annotated[int, Field(ge=0, le=21845)]
Ttl = Annotated[int, Field(ge=0, le=255, description="0: multihop off")]
Password = Annotated[str, Field(max_length=80, description="TCP-MD5 key; write-only")]


class NeighborCreate(Input):
    router: str = Field(min_length=1, description="router id or name")
    address: IpAddress
    peer_asn: Asn
    description: Description = ""
    local_address: IpAddress | None = None
    hold_time: HoldTime = DEFAULT_HOLD_TIME
    keepalive_interval: Keepalive = DEFAULT_KEEPALIVE
    passive: bool = False
    ebgp_multihop_ttl: Ttl = 0
    password: Password | None = None
    route_reflector_client: bool = False
    enabled: bool = True
    families: Families | None = None
    api_address: ApiAddressText | None = Field(
        default=None, description="checked against the router's (the original's mgmt_addr)"
    )


class NeighborUpdate(Patch):
    nullable = ("local_address", "password")  # null clears them

    peer_asn: Asn | None = None
    description: Description | None = None
    local_address: IpAddress | None = None
    hold_time: HoldTime | None = None
    keepalive_interval: Keepalive | None = None
    passive: bool | None = None
    ebgp_multihop_ttl: Ttl | None = None
    password: Password | None = None
    route_reflector_client: bool | None = None
    enabled: bool | None = None
    families: Families | None = None


class NeighborBulkCreate(Input):
    items: list[NeighborCreate] = Field(min_length=1, max_length=10000)


class NeighborPublic(Status, SessionLive):
    id: str
    router: str
    router_name: str
    address: str
    peer_asn: int
    description: str
    local_address: str | None
    hold_time: int
    keepalive_interval: int
    passive: bool
    ebgp_multihop_ttl: int
    password_set: bool
    route_reflector_client: bool
    enabled: bool
    families: list[str]
    conditions: list[ConditionPublic] = conditions_field()
    warnings: list[str] = Field(default_factory=list)
