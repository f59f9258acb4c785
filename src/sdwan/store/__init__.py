"""The store: desired state and status, one transaction per change."""

# Adds routers.drift_mode to the shared table before anything queries it.
from sdwan.store import live_tables as _live_tables  # noqa: F401
