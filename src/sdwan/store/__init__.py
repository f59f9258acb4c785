"""The store: desired state and status, one transaction per change."""
