"""``sdwan audit``: who changed what (admins: everything; others: their project)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sdwan.cli.client import get_client
from sdwan.cli.output import OutputFormat, OutputOpt, page_hint, print_list
from sdwan.cli.values import given

COLUMNS = [
    ("ID", "id"),
    ("AT", "at"),
    ("ACTOR", "actor"),
    ("FROM", "source"),
    ("PROJECT", "project_id"),
    ("ACTION", "action"),
    ("TYPE", "resource_type"),
    ("NAME", "resource_name"),
    ("CHANGED", "changed"),
]


def _changed(entry: dict[str, Any]) -> str:
    before, after = entry.get("before") or {}, entry.get("after") or {}
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if entry.get("action") in ("create", "delete"):
        return ""
    return ", ".join(keys)


def audit(
    ctx: typer.Context,
    actor: Annotated[str | None, typer.Option("--actor", help="Who.")] = None,
    project: Annotated[str | None, typer.Option("--project")] = None,
    resource_type: Annotated[
        str | None, typer.Option("--type", help="router, neighbor, user, token...")
    ] = None,
    resource_id: Annotated[str | None, typer.Option("--id", help="One resource's id.")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="create, update, delete, login...")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="ISO 8601 time.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="ISO 8601 time.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """The audit log, newest first (-o json/yaml: with before and after, secrets masked)."""
    params = given(
        actor=actor,
        project=project,
        resource_type=resource_type,
        resource_id=resource_id,
        action=action,
        since=since,
        until=until,
    )
    page = get_client(ctx).get("/v1/audit", {**params, "limit": limit, "offset": offset}) or {}
    items = [dict(e, changed=_changed(e)) for e in page.get("items") or []]
    if output is not OutputFormat.table:
        items = [{k: v for k, v in e.items() if k != "changed"} for e in items]
    print_list(items, COLUMNS, output)
    page_hint(len(items), offset, int(page.get("total", len(items))), output)
