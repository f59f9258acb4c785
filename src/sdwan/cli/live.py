"""``sdwan watch`` (a live table of sessions) and ``sdwan events`` (the event log)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich import box
from rich.live import Live
from rich.table import Table

from sdwan.cli import sse
from sdwan.cli.client import ApiClient, get_client, list_items
from sdwan.cli.errors import CliError
from sdwan.cli.output import OutputFormat, OutputOpt, _console, cell, print_data
from sdwan.cli.values import given

WATCH_COLUMNS = [
    ("ROUTER", "router_name"),
    ("ADDRESS", "address"),
    ("PEER ASN", "peer_asn"),
    ("SESSION", "session_state"),
    ("UP/DOWN", "session"),
    ("UPTIME", "uptime"),
    ("RCVD/ACPT", "prefixes"),
    ("FLAPS", "flap_count"),
    ("LAST DOWN REASON", "last_down_reason"),
]
RouterFilter = Annotated[str | None, typer.Option("--router", help="Only this router.")]


def duration(seconds: Any) -> str:
    """``3d04h``, ``2h05m``, ``4m07s``, ``12s``; empty when not up."""
    if seconds is None or seconds == "":
        return ""
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def prefixes(item: Mapping[str, Any]) -> str:
    received, accepted = item.get("prefixes_received"), item.get("prefixes_accepted")
    if received is None and accepted is None:
        return ""
    return f"{cell(received)}/{cell(accepted)}"


def session_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """A neighbor with its live fields formatted for a table."""
    return {
        **item,
        "router_name": item.get("router_name") or item.get("router"),
        "uptime": duration(item.get("uptime")),
        "prefixes": prefixes(item),
    }


def _fetch(client: ApiClient, router: str | None) -> list[dict[str, Any]]:
    query = {"router": router} if router else {}
    items, _total = list_items(client, "/v1/neighbors", query, fetch_all=True)
    return items


def _table(items: list[dict[str, Any]], note: str = "") -> Table:
    table = Table(box=box.ASCII, show_header=True, header_style="bold", caption=note or None)
    for header, _key in WATCH_COLUMNS:
        table.add_column(header, overflow="fold")
    for item in items:
        row = session_row(item)
        table.add_row(*(cell(row.get(key)) for _header, key in WATCH_COLUMNS))
    return table


def _refetch(
    client: ApiClient, router: str | None, items: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], str]:
    """The table again; while the server answers 503 (its database restarting), the
    last one with a note, instead of giving up."""
    try:
        return _fetch(client, router), "sdwan watch: Ctrl-C to quit"
    except CliError as exc:
        if exc.status != 503:
            raise
        return items, f"sdwan watch: {exc.message} (showing the last answer)"


def watch(
    ctx: typer.Context,
    router: RouterFilter = None,
    once: Annotated[bool, typer.Option("--once", help="Print the table once and exit.")] = False,
) -> None:
    """A live table of every BGP session; refreshed on each event. Ctrl-C quits."""
    client = get_client(ctx)
    if once:
        _console().print(_table(_fetch(client, router)))
        return
    changed = threading.Event()
    failure: list[str] = []

    def listen() -> None:
        params = {"router": router} if router else {}
        try:
            for _event in sse.follow(client, params):
                changed.set()
        except CliError as exc:
            failure.append(exc.message)
            changed.set()

    threading.Thread(target=listen, name="sse", daemon=True).start()
    items = _fetch(client, router)
    note = "sdwan watch: Ctrl-C to quit"
    try:
        with Live(_table(items), console=_console(), auto_refresh=False) as live:
            while not failure:
                if changed.wait(1.0):  # uptimes tick between events
                    changed.clear()
                    time.sleep(0.05)  # let a burst of events settle into one refresh
                    changed.clear()
                    items, note = _refetch(client, router, items)
                live.update(_table(items, note), refresh=True)
    except KeyboardInterrupt:
        return
    raise CliError(failure[0])


def _line(event: Mapping[str, Any]) -> str:
    return f"{event['id']:>6} {event['time']} {event['kind']:<18} {event['message']}"


def events(
    ctx: typer.Context,
    since: Annotated[
        int | None, typer.Option("--since", min=0, help="Events after this id (default: latest).")
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events as they happen.")
    ] = False,
    router: RouterFilter = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="A kind or prefix, e.g. session. or drift.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Print the event log (-o json: one JSON object per line with --follow)."""
    client = get_client(ctx)
    params = given(router=router, kind=kind)
    page = (
        client.get(
            "/v1/events",
            {**params, "limit": limit, **({"since": since} if since is not None else {})},
        )
        or {}
    )
    items = list(page.get("items") or [])
    if output is not OutputFormat.table and not follow:
        print_data(items, output)
        return
    for event in items:
        _print(event, output)
    if not follow:
        return
    last = int(page.get("last_id") or 0)
    try:
        for event in sse.follow(client, params, last_event_id=last):
            _print(event, output)
    except KeyboardInterrupt:
        return


def _print(event: Mapping[str, Any], output: OutputFormat) -> None:
    if output is OutputFormat.table:
        typer.echo(_line(event))
    else:
        typer.echo(json.dumps(event, ensure_ascii=False))
