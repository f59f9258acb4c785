"""The ``sdwan`` command-line client: talks to the orchestrator's REST API only."""
