"""The store: desired state and status, one transaction per change."""

# Adds routers.drift_mode to the shared table before anything queries it.
# alert rules, alerts and webhooks: in the metadata wherever the store is
from sdwan.store import alert_tables as _alert_tables  # noqa: F401
from sdwan.store import live_tables as _live_tables  # noqa: F401

# intents.sla_class_id refers to sla_classes: both in the metadata wherever one is
from sdwan.store import quality_tables as _quality_tables  # noqa: F401

# rollouts: in the metadata wherever the store is (the schema test compares it)
from sdwan.store import rollout_tables as _rollout_tables  # noqa: F401
