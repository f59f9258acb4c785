"""Rows as typed records handed to the service layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from sdwan.domain.conditions import Conditions, parse


def _fields(cls: Any, row: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    """A record's fields from a row; ``conditions`` parsed from JSON (absent from the
    values of a row just inserted: none yet)."""
    fields = {k: row[k] for k in cls.__dataclass_fields__ if k != "conditions"}
    return {**fields, "conditions": parse(row.get("conditions"))}


@dataclass(frozen=True)
class RouterRecord:
    id: str
    project_id: str
    name: str
    router_id: str
    asn: int
    api_address: str
    listen_port: int
    listen_addresses: list[str]
    description: str
    status: str
    status_detail: str
    version: int
    created_at: datetime
    updated_at: datetime
    drift_mode: str = "repair"  # repair | report (store/live_tables.py, migration 0003)
    tls: bool = False  # gRPC to gobgpd over TLS (migration 0011)
    tls_ca: str | None = None  # PEM CA(s) to trust; None: SDWAN_GOBGPD_CA_FILE or system roots
    tls_server_name: str | None = None  # the name on gobgpd's certificate, if not the host
    conditions: Conditions = ()  # set by the reconciler (migration 0015)

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | RowMapping) -> RouterRecord:
        return cls(**_fields(cls, row))


@dataclass(frozen=True)
class NeighborRecord:
    id: str
    router_uuid: str
    address: str
    peer_asn: int
    description: str
    local_address: str | None
    hold_time: int
    keepalive_interval: int
    passive: bool
    ebgp_multihop_ttl: int
    password_sealed: bytes | None
    route_reflector_client: bool
    enabled: bool
    families: list[str]
    status: str
    status_detail: str
    version: int
    created_at: datetime
    updated_at: datetime
    conditions: Conditions = ()  # set by the reconciler (migration 0015)

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | RowMapping) -> NeighborRecord:
        return cls(**_fields(cls, row))


@dataclass(frozen=True)
class OwnedRecord:
    """A row a router owns by name (a defined set, policy, policy attachment or
    announcement): the columns every such table has, typed; the kind's own columns
    (name, members, statements, prefix, ...) in ``spec``, as stored."""

    id: str
    router_uuid: str
    description: str
    status: str
    status_detail: str
    version: int
    created_at: datetime
    updated_at: datetime
    spec: dict[str, Any]
    conditions: Conditions = ()  # set by the reconciler (migration 0016)

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | RowMapping) -> OwnedRecord:
        shared = {k: row[k] for k in _OWNED_SHARED}
        spec = {k: v for k, v in row.items() if k not in _OWNED_SHARED and k != "conditions"}
        return cls(**shared, spec=spec, conditions=parse(row.get("conditions")))


_OWNED_SHARED = tuple(
    k for k in OwnedRecord.__dataclass_fields__ if k not in ("spec", "conditions")
)
