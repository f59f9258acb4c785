"""Per-router reconciliation: read gobgpd, diff against the store, apply the smallest change."""
