"""``sdwan replica list``: the orchestrator's replicas (one with SQLite), their
heartbeats and how many routers each drives."""

from __future__ import annotations

from typing import Any

import typer

from sdwan.cli.client import get_client
from sdwan.cli.output import OutputFormat, OutputOpt, print_list

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


@app.command("list")
def list_(ctx: typer.Context, output: OutputOpt = OutputFormat.table) -> None:
    """List replicas: heartbeat age, live or gone, routers each drives."""
    page = get_client(ctx).get("/v1/replicas") or {}
    items = page.get("items") or []
    if output is OutputFormat.table:
        items = [_row(r) for r in items]
    print_list(items, COLUMNS, output)
