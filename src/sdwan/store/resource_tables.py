"""Which table holds each kind of resource, by the name events and the audit log use."""

from __future__ import annotations

from sqlalchemy import Table

from sdwan.store import alert_tables, intent_tables, policy_tables, quality_tables
from sdwan.store.tables import neighbors, routers


def audited_tables() -> dict[str, Table]:
    """Resource type (as in events) -> its table, for the audit log's snapshots."""
    return {
        "router": routers,
        "neighbor": neighbors,
        "defined_set": policy_tables.defined_sets,
        "policy": policy_tables.policies,
        "policy_attachment": policy_tables.policy_attachments,
        "announcement": policy_tables.announcements,
        "site": intent_tables.sites,
        "uplink": intent_tables.uplinks,
        "intent": intent_tables.intents,
        "alert_rule": alert_tables.alert_rules,
        "webhook": alert_tables.webhooks,
        "sla_class": quality_tables.sla_classes,
    }
