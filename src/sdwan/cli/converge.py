"""``sdwan apply --wait``: after the store took a fleet file, wait until the reconciler
has pushed what it created or changed (every such router and neighbor ACTIVE, or in
ERROR), with a progress bar on the way."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sdwan.cli.client import ApiClient, list_items
from sdwan.cli.errors import CliError
from sdwan.cli.progress import Progress

POLL_INTERVAL = 0.5
SETTLED = ("ACTIVE", "ERROR")
Key = tuple[str, str, str]  # kind, router name, key (the router's name, a neighbor's address)


def awaited(changes: Iterable[Mapping[str, Any]]) -> set[Key]:
    """The routers and neighbors the apply created or changed (a deletion is done in
    the store already, or waits on gobgpd without blocking anything)."""
    return {
        (c["kind"], c["router"], c["key"])
        for c in changes
        if c["kind"] in ("router", "neighbor") and c["action"] in ("create", "update")
    }


def statuses(client: ApiClient, keys: set[Key]) -> dict[Key, tuple[str, str]]:
    """The status and detail of each of ``keys`` found now (one listing per kind; a
    single router's neighbors only when all are on one)."""
    found: dict[Key, tuple[str, str]] = {}
    routers, _ = list_items(client, "/v1/routers", {}, fetch_all=True)
    for item in routers:
        found[("router", item["name"], item["name"])] = _status(item)
    owners = {router for kind, router, _key in keys if kind == "neighbor"}
    if owners:
        params = {"router": next(iter(owners))} if len(owners) == 1 else {}
        neighbors, _ = list_items(client, "/v1/neighbors", params, fetch_all=True)
        for item in neighbors:
            found[("neighbor", item.get("router_name") or "", item["address"])] = _status(item)
    return {key: found[key] for key in keys if key in found}


def _status(item: Mapping[str, Any]) -> tuple[str, str]:
    return str(item.get("status") or ""), str(item.get("status_detail") or "")


def wait_converged(
    client: ApiClient,
    changes: Iterable[Mapping[str, Any]],
    *,
    timeout: float,
    quiet: bool,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Until every awaited object is ACTIVE or in ERROR; CliError names those in ERROR,
    or those still pending at the deadline."""
    keys = awaited(changes)
    if not keys:
        return
    deadline = time.monotonic() + timeout
    with Progress("converging", len(keys), quiet=quiet) as progress:
        while True:
            now = statuses(client, keys)
            settled = {k: v for k, v in now.items() if v[0] in SETTLED}
            progress.update(len(settled), f"{sum(v[0] == 'ERROR' for v in settled.values())} ERROR")
            if len(settled) == len(keys) or time.monotonic() >= deadline:
                break
            sleep(POLL_INTERVAL)
    failed = sorted((k, v[1]) for k, v in settled.items() if v[0] == "ERROR")
    if failed:
        named = [
            f"{kind} {_name(kind, router, key)} ({detail})"
            for (kind, router, key), detail in failed
        ]
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        raise CliError(f"{len(failed)} of {len(keys)} in ERROR: {'; '.join(named[:5])}{more}")
    pending = sorted(keys - settled.keys())
    if pending:
        names = ", ".join(f"{kind} {_name(kind, router, key)}" for kind, router, key in pending[:5])
        more = f" and {len(pending) - 5} more" if len(pending) > 5 else ""
        raise CliError(
            f"timed out after {timeout:g}s: {len(pending)} of {len(keys)} not pushed yet "
            f"({names}{more})"
        )


def _name(kind: str, router: str, key: str) -> str:
    return router if kind == "router" else f"{router}/{key}"
