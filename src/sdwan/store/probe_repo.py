"""What the quality controller reads in bulk: every uplink and every intent, in one
query each (its configuration of the probe agents and its steering follow all sites at
once). Typed records of intent_repo; callers own the transaction."""

from __future__ import annotations

from sqlalchemy import Connection, select

from sdwan.store.intent_repo import IntentRecord, UplinkRecord
from sdwan.store.intent_tables import intents, uplinks
from sdwan.store.records import record_of

__all__ = ["all_intents", "all_uplinks"]


def all_uplinks(conn: Connection) -> list[UplinkRecord]:
    rows = conn.execute(select(uplinks).order_by(uplinks.c.site_id, uplinks.c.name)).mappings()
    return [record_of(UplinkRecord, r) for r in rows]


def all_intents(conn: Connection) -> list[IntentRecord]:
    rows = conn.execute(select(intents).order_by(intents.c.site_id, intents.c.name)).mappings()
    return [record_of(IntentRecord, r) for r in rows]
