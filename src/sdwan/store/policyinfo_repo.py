"""Data access for policyinfo records (the original's policyinfo resource): typed
records, keyword-only arguments; callers own the transaction."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from sdwan.store.policy_tables import policyinfos
from sdwan.store.records import record_of


@dataclass(frozen=True)
class PolicyInfoRecord:
    id: str
    router_uuid: str
    policy_name: str
    statement_name: str
    statement_action: str
    route_disposition: str
    apply_direction: str
    apply_neighbor: str
    exist: str
    attachment_name: str  # the policy attachment it lives in
    created_at: datetime


def insert_policyinfo(conn: Connection, *, record: PolicyInfoRecord) -> None:
    conn.execute(insert(policyinfos).values(**asdict(record)))


def get_policyinfo(conn: Connection, *, record_id: str) -> PolicyInfoRecord | None:
    query = select(policyinfos).where(policyinfos.c.id == record_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else record_of(PolicyInfoRecord, row)


def list_policyinfos(conn: Connection, *, router_id: str | None = None) -> list[PolicyInfoRecord]:
    """Oldest first; only the router's when given."""
    query = select(policyinfos).order_by(policyinfos.c.created_at, policyinfos.c.id)
    if router_id is not None:
        query = query.where(policyinfos.c.router_uuid == router_id)
    return [record_of(PolicyInfoRecord, row) for row in conn.execute(query).mappings()]


def delete_policyinfo(conn: Connection, *, record_id: str) -> None:
    conn.execute(delete(policyinfos).where(policyinfos.c.id == record_id))


def policy_in_use(conn: Connection, *, router_id: str, policy_name: str) -> bool:
    """Whether any policyinfo record of the router names the policy."""
    query = select(policyinfos.c.id).where(
        policyinfos.c.router_uuid == router_id, policyinfos.c.policy_name == policy_name
    )
    return conn.execute(query).first() is not None
