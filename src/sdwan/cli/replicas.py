"""``sdwan replica list``: the orchestrator's replicas (one with SQLite), their
heartbeats and how many routers each drives."""

from __future__ import annotations

from typing import Any

import typer

from sdwan.cli.commands import add_list
from sdwan.cli.resource import Resource

app = typer.Typer(help="The orchestrator's replicas.", no_args_is_help=True)

COLUMNS = [
    ("NAME", "name"),
    ("ADDRESS", "address"),
    ("HEARTBEAT", "heartbeat"),
    ("STATE", "state"),
    ("ROUTERS", "routers"),
    ("VERSION", "version"),
    ("", "this"),
]


def _row(replica: dict[str, Any]) -> dict[str, Any]:
    age = float(replica.get("heartbeat_age") or 0.0)
    return {
        **replica,
        "heartbeat": f"{age:.1f}s ago",
        "state": "live" if replica.get("live") else "gone",
        "this": "(answered)" if replica.get("this") else "",
    }


REPLICAS = Resource("replicas", "replica", COLUMNS, row=_row)
add_list(
    app, REPLICAS, "List replicas: heartbeat age, live or gone, routers each drives.", paging=()
)
