"""A bulk request costs the same number of SQL statements whatever its item count
(up to the 500-per-query chunking): the store path is O(1) per request, not per item."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from sdwan.domain.intent import ReturnPath
from sdwan.runtime import Runtime
from sdwan.service import intent_sync
from sdwan.service.common import NoNotifier
from sdwan.store import intent_repo, repo
from sdwan.store.intent_repo import IntentRecord, SiteMember, UplinkRecord

# Threads that use the engine too, on their own schedule, not the request's: on
# PostgreSQL the lease thread and the change feed (a heartbeat, leases taken for the
# routers just created); on both stores the rollout controller's rounds
CLUSTER_THREADS = {"leases", "change-feed", "rollouts"}


@contextmanager
def _counting(runtime: Runtime) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread().name not in CLUSTER_THREADS:
            statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)


def _routers(start: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "name": f"R{i}",
            "router_id": f"198.19.0.{i + 1}",
            "asn": 65001,
            "api_address": f"unix:///run/sdwan/r{i}.sock",
        }
        for i in range(start, start + count)
    ]


def _neighbors(routers: range, per_router: int, first: int) -> list[dict[str, Any]]:
    return [
        {"router": f"R{r}", "address": f"198.18.{r}.{first + j}", "peer_asn": 65000}
        for r in routers
        for j in range(per_router)
    ]


def test_bulk_creates_cost_the_same_statements_for_2_or_400_items(
    client: TestClient, runtime: Runtime
) -> None:
    with _counting(runtime) as few:
        assert client.post("/v1/routers/bulk", json={"items": _routers(0, 2)}).status_code == 201
    with _counting(runtime) as many:
        answer = client.post("/v1/routers/bulk", json={"items": _routers(2, 48)})
        assert answer.status_code == 201
    assert len(many) == len(few), (len(few), len(many))

    with _counting(runtime) as few:
        items = _neighbors(range(2), 1, first=1)
        assert client.post("/v1/neighbors/bulk", json={"items": items}).status_code == 201
    with _counting(runtime) as many:
        items = _neighbors(range(50), 8, first=10)  # 400 neighbors on 50 routers
        assert client.post("/v1/neighbors/bulk", json={"items": items}).status_code == 201
    assert len(many) == len(few), (len(few), len(many))


SITES = 50


def _sites(client: TestClient, runtime: Runtime, count: int) -> None:
    """``count`` sites of 2 routers, each with an mpls and an internet uplink and an
    intent (SLA class gold) towards the next site, with their generated policy: every
    related read a list makes. The routers, neighbors and class through the API; the
    sites, uplinks and intents written in one transaction (fast) and compiled once."""
    assert (
        client.post("/v1/routers/bulk", json={"items": _routers(0, 2 * count)}).status_code == 201
    )
    items = _neighbors(range(2 * count), 1, first=1)
    assert client.post("/v1/neighbors/bulk", json={"items": items}).status_code == 201
    gold = {"name": "gold", "loss_pct": 1, "latency_ms": 50}
    answer = client.post("/v1/sla-classes", json=gold)
    assert answer.status_code == 201
    gold_id = answer.json()["id"]
    routers = {r["name"]: r["id"] for r in client.get("/v1/routers?limit=1000").json()["items"]}
    site_ids = [repo.new_id() for _ in range(count)]
    stamp = repo.now()
    made = {"version": 1, "created_at": stamp, "updated_at": stamp, "description": ""}
    with runtime.engine.begin() as conn:
        for s, ident in enumerate(site_ids):
            site: dict[str, Any] = {"id": ident, "project_id": "default", "name": f"site{s:03d}"}
            site |= {"prefixes": [{"prefix": f"203.0.113.{s}/32"}], "next_hop_self": False}
            members = [SiteMember(routers[f"R{2 * s + r}"]) for r in range(2)]
            intent_repo.insert_site(conn, values={**site, **made}, members=members)
            for r, transport in enumerate(("mpls", "internet")):
                uplink = {"id": repo.new_id(), "site_id": ident, "name": transport, "cost": 10}
                uplink |= {"router_uuid": members[r].router_uuid, "transport": transport}
                uplink |= {"neighbor_address": f"198.18.{2 * s + r}.1", "bandwidth_mbps": None}
                intent_repo.insert_owned(conn, UplinkRecord, values={**uplink, **made})
            intent: dict[str, Any] = {"id": repo.new_id(), "site_id": ident, "name": "far"}
            intent |= {"destination": {"type": "site", "site_id": site_ids[(s + 1) % count]}}
            intent |= {"prefer": [["mpls"], ["internet"]], "sla_class_id": gold_id}
            intent |= {"return_path": ReturnPath().model_dump(mode="json")}
            intent_repo.insert_owned(conn, IntentRecord, values={**intent, **made})
        assert intent_sync.sync(conn, NoNotifier(), site_ids=site_ids)


def test_lists_of_sites_uplinks_intents_cost_the_same_statements_for_1_or_50(
    client: TestClient, runtime: Runtime
) -> None:
    _sites(client, runtime, SITES)
    for path, per_site in (("/v1/sites", 1), ("/v1/uplinks", 2), ("/v1/intents", 1)):
        with _counting(runtime) as few:
            answer = client.get(path, params={"limit": 1})
            assert answer.status_code == 200 and len(answer.json()["items"]) == 1
        with _counting(runtime) as many:
            answer = client.get(path, params={"limit": SITES * per_site})
            assert answer.status_code == 200
            items = answer.json()["items"]
            assert len(items) == SITES * per_site
        if path == "/v1/intents":  # what each related read found
            assert all(i["sla_class"] == "gold" and i["generated"] for i in items)
            assert all(i["destination"]["type"] == "site" for i in items)
        assert len(many) == len(few), (path, len(few), len(many))
