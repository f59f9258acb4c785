"""A bulk request costs the same number of SQL statements whatever its item count
(up to the 500-per-query chunking): the store path is O(1) per request, not per item."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from sdwan.runtime import Runtime

# PostgreSQL: the lease thread and the change feed use the engine too, on their own
# schedule (a heartbeat, leases taken for the routers just created): not the request's
CLUSTER_THREADS = {"leases", "change-feed"}


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
