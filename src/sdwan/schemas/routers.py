"""Router bodies: RouterCreate, RouterUpdate, RouterPublic."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from sdwan.domain.tls import MAX_CA_PEM, check_ca_pem
from sdwan.schemas.common import (
    ApiAddressText,
    Asn,
    ConditionPublic,
    Description,
    Input,
    IpAddress,
    Name,
    Patch,
    RouterIdText,
    Status,
    conditions_field,
)
from sdwan.schemas.live import RouterLive

DriftMode = Annotated[
    Literal["repair", "report"],
    Field(description="drift found on gobgpd: repair it, or only report it"),
]
ListenPort = Annotated[int, Field(ge=-1, le=65535, description="-1: do not listen")]


def _ca(value: str) -> str:
    check_ca_pem(value)
    return value


TlsCa = Annotated[
    str,
    AfterValidator(_ca),
    Field(
        max_length=MAX_CA_PEM,
        description="PEM CA certificate(s) to trust for gobgpd's gRPC over TLS "
        "(default: the server's SDWAN_GOBGPD_CA_FILE, else the system's roots)",
    ),
]
TlsServerName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=253,
        pattern=r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$",
        description="the DNS name on gobgpd's certificate, when not the address's host",
    ),
]
Tls = Annotated[bool, Field(description="talk to gobgpd's gRPC API over TLS (gobgpd --tls)")]


class RouterCreate(Input):
    name: Name = Field(description="unique; the original's host_name")
    router_id: RouterIdText = Field(description="BGP router-id, IPv4 dotted")
    asn: Asn = Field(description="local AS (the original's local_as)")
    api_address: ApiAddressText = Field(
        description="gobgpd gRPC: host[:port] (default 50051) or unix:///path (mgmt_addr)"
    )
    tls: Tls = False
    tls_ca: TlsCa | None = None
    tls_server_name: TlsServerName | None = None
    listen_port: ListenPort = 179
    listen_addresses: list[IpAddress] = Field(default_factory=list, max_length=16)
    description: Description = ""
    drift_mode: DriftMode = "repair"
    project: Name | None = Field(
        default=None, description="admins: the project to create it in (default: default)"
    )


class RouterUpdate(Patch):
    nullable = ("tls_ca", "tls_server_name")  # null clears them

    name: Name | None = None
    router_id: RouterIdText | None = None
    asn: Asn | None = None
    api_address: ApiAddressText | None = None
    tls: Tls | None = None
    tls_ca: TlsCa | None = None
    tls_server_name: TlsServerName | None = None
    listen_port: ListenPort | None = None
    listen_addresses: list[IpAddress] | None = Field(default=None, max_length=16)
    description: Description | None = None
    drift_mode: DriftMode | None = None


class RouterBulkCreate(Input):
    items: list[RouterCreate] = Field(min_length=1, max_length=10000)


class RouterPublic(Status, RouterLive):
    id: str
    project_id: str
    name: str
    router_id: str
    asn: int
    api_address: str
    tls: bool = False
    tls_ca: str | None = None
    tls_server_name: str | None = None
    listen_port: int
    listen_addresses: list[str]
    description: str
    drift_mode: str
    conditions: list[ConditionPublic] = conditions_field()
    warnings: list[str] = Field(default_factory=list)


class RouterWritten(BaseModel):
    """DELETE with force answers this: the router is already gone."""

    deleted: bool
    warnings: list[str]
