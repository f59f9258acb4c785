"""Business rules between the API and the store: references, uniqueness, status
transitions, warnings, and telling the reconciler what changed."""
