"""A router's own live row (``router_live``): whether its gobgpd answers, since when,
and the drift a pass found; a ``router.reachability`` event when that changed. Runs
on the store writer's thread, inside the live writer's batch (writer.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from sdwan.events.model import ROUTER_REACHABILITY, Event
from sdwan.live.model import Item, RouterCache
from sdwan.store import live_repo


def write_router_live(
    conn: Connection, item: Item, cache: RouterCache, name: str, project: str | None
) -> list[Event]:
    """Write the item's drift or reachability; the event it makes, if any."""
    if item.drift is not None:
        if live_repo.router_lives(conn, ids=[item.router_id]):
            drift = {"drift": item.drift, "updated_at": item.at}
            live_repo.write_router_live(conn, router_id=item.router_id, values=drift)
        return []
    assert item.reachability is not None
    reachable, error, restarted = item.reachability
    values: dict[str, Any] = {
        "reachable": reachable,
        "last_error": error,
        "updated_at": item.at,
    }
    if reachable != cache.reachable:
        values["reachable_since"] = item.at
    if reachable and (restarted or cache.reachable is not True):
        values["gobgpd_up_since"] = item.at
    if not reachable:
        values["gobgpd_up_since"] = None
    existing = live_repo.router_lives(conn, ids=[item.router_id]).get(item.router_id)
    if existing is None:
        values.setdefault("reachable_since", item.at)
        values.setdefault("gobgpd_up_since", item.at if reachable else None)
        values["drift"] = []
    elif reachable and existing["reachable"] and not restarted:
        values.pop("gobgpd_up_since", None)  # the same gobgpd, seen again after our restart
        values.pop("reachable_since", None)
    live_repo.write_router_live(conn, router_id=item.router_id, values=values)
    was = (
        cache.reachable
        if cache.reachable is not None
        else (existing["reachable"] if existing is not None else None)
    )
    cache.reachable = reachable
    if was == reachable and not restarted:
        return []
    if reachable:
        message = f"gobgpd of router {name} {'restarted' if restarted else 'reachable'}"
    else:
        message = f"gobgpd of router {name} unreachable: {error}"
    return [
        Event(
            ROUTER_REACHABILITY,
            "router",
            item.router_id,
            name,
            message,
            {"reachable": reachable, "restarted": restarted, "error": error},
            project,
        )
    ]
