"""Path quality on the orchestrator's side: the probe agents' configuration and
reports, and steering intents on them (docs/intent.md)."""
