"""Rows as typed records handed to the service layer."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from sqlalchemy import RowMapping

from sdwan.domain.conditions import Conditions, parse
from sdwan.domain.endpoint import GobgpEndpoint

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


T = TypeVar("T", bound="DataclassInstance")


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _field_names(cls: type[DataclassInstance]) -> tuple[str, ...]:
    """A record's columns: its fields (``dataclasses.fields``, so never a ClassVar such
    as OwnedRecord.TABLE), listed once per class."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def record_of(cls: type[T], row: Mapping[str, Any] | RowMapping) -> T:
    """A record (a frozen dataclass) from a row: its fields by name; one the row lacks
    takes the field's default."""
    return cls(**{k: row[k] for k in _field_names(cls) if k in row})


def _fields(cls: type[DataclassInstance], row: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    """A record's fields from a row; ``conditions`` parsed from JSON (absent from the
    values of a row just inserted: none yet)."""
    fields = {k: row[k] for k in _field_names(cls) if k != "conditions"}
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
    tls: bool = False  # gRPC to gobgpd over TLS (migration 0007)
    tls_ca: str | None = None  # PEM CA(s) to trust; None: SDWAN_GOBGPD_CA_FILE or system roots
    tls_server_name: str | None = None  # the name on gobgpd's certificate, if not the host
    conditions: Conditions = ()  # set by the reconciler (migration 0010)

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | RowMapping) -> RouterRecord:
        return cls(**_fields(cls, row))

    def endpoint(self, default_ca: str | None = None) -> GobgpEndpoint:
        """How to reach its gobgpd; a TLS router without a CA of its own trusts
        ``default_ca`` (SDWAN_GOBGPD_CA_FILE)."""
        return GobgpEndpoint.of(
            self.api_address,
            tls=self.tls,
            ca_pem=self.tls_ca,
            server_name=self.tls_server_name,
            default_ca=default_ca,
        )


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
    conditions: Conditions = ()  # set by the reconciler (migration 0010)

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | RowMapping) -> NeighborRecord:
        return cls(**_fields(cls, row))


@dataclass(frozen=True, kw_only=True)
class OwnedRecord:
    """A row a router owns by a key (a defined set, policy, policy attachment or
    announcement): the columns every such table has. Each kind is a subclass that adds
    its own columns and says which table holds it and which column is its key (unique
    per router)."""

    TABLE: ClassVar[str]  # "defined_sets", "policies", "policy_attachments", "announcements"
    KEY: ClassVar[str]  # "name" or "prefix"

    id: str
    router_uuid: str
    description: str
    status: str
    status_detail: str
    version: int
    created_at: datetime
    updated_at: datetime
    conditions: Conditions = ()  # set by the reconciler (migration 0011)
    # the intent or site that compiled it ("intent:<id>", migration 0009); None: written
    # by hand (announcements are always)
    generated_by: str | None = None

    @property
    def key(self) -> str:
        return str(getattr(self, self.KEY))

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | RowMapping) -> Self:
        names = _field_names(cls)
        values = {k: row[k] for k in names if k != "conditions" and k in row}
        return cls(**values, conditions=parse(row.get("conditions")))

    def values(self) -> dict[str, Any]:
        """The kind's own columns (name, members, statements, prefix, ...), as stored;
        not the bookkeeping every kind has (status, version, generated_by, ...)."""
        return {k: getattr(self, k) for k in _field_names(type(self)) if k not in _SHARED}

    def row(self) -> dict[str, Any]:
        """Every column, conditions as the tuples they are."""
        return {k: getattr(self, k) for k in _field_names(type(self))}


_SHARED = frozenset(_field_names(OwnedRecord))


@dataclass(frozen=True, kw_only=True)
class DefinedSetRecord(OwnedRecord):
    TABLE: ClassVar[str] = "defined_sets"
    KEY: ClassVar[str] = "name"

    name: str
    set_type: str  # domain.policy.SetType
    members: list[str]


@dataclass(frozen=True, kw_only=True)
class PolicyRecord(OwnedRecord):
    TABLE: ClassVar[str] = "policies"
    KEY: ClassVar[str] = "name"

    name: str
    statements: list[dict[str, Any]]  # domain.policy.Statement, as JSON


@dataclass(frozen=True, kw_only=True)
class AttachmentRecord(OwnedRecord):
    TABLE: ClassVar[str] = "policy_attachments"
    KEY: ClassVar[str] = "name"

    name: str
    direction: str  # import | export
    policies: list[str]  # policy names, in order
    default_action: str  # accept | reject | none
    neighbors: list[str]  # addresses; empty: every neighbor
    priority: int


@dataclass(frozen=True, kw_only=True)
class AnnouncementRecord(OwnedRecord):
    TABLE: ClassVar[str] = "announcements"
    KEY: ClassVar[str] = "prefix"

    prefix: str
    next_hop: str | None
    origin: str
    med: int | None
    local_pref: int | None
    communities: list[str]
    large_communities: list[str]
    as_path_prepend: int


OWNED_RECORDS: tuple[type[OwnedRecord], ...] = (
    DefinedSetRecord,
    PolicyRecord,
    AttachmentRecord,
    AnnouncementRecord,
)
