"""The FIB agent's status socket: GET /routes, GET/PUT /avoid and the errors a caller
can act on (the HTTP server is real; the agent behind it is a recording fake)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdwan.fib.status import FibRoutes, StatusServer, put_avoid, read_routes


class FakeAgent:
    def __init__(self) -> None:
        self.avoided: dict[str, float] = {}
        self.calls: list[tuple[list[str], str | None]] = []

    def routes_status(self, prefixes: Sequence[str]) -> dict[str, Any]:
        routes = {"203.0.113.0/24": ["198.18.51.200"], "198.51.100.0/24": ["198.18.41.100"]}
        shown = {p: routes[p] for p in prefixes if p in routes} if prefixes else routes
        lone = ["198.51.100.0/24"] if "198.18.41.100" in self.avoided else []
        return {"routes": shown, "synced_at": 1.0, "avoided": self.avoided, "no_alternative": lone}

    def avoid_status(self) -> dict[str, Any]:
        return {"next_hops": sorted(self.avoided), "since": self.avoided, "source": None}

    def set_avoid(self, next_hops: Sequence[str], source: str | None) -> dict[str, Any]:
        self.calls.append((list(next_hops), source))
        self.avoided = {h: 5.0 for h in next_hops}
        return self.avoid_status()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, FakeAgent]]:
    agent = FakeAgent()
    address = f"unix://{tmp_path}/agent.fib"
    server = StatusServer(address, agent)
    server.start()
    yield address, agent
    server.stop()


def request(address: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.HTTPTransport(uds=address.removeprefix("unix://"))
    with httpx.Client(transport=transport, base_url="http://fib-agent") as client:
        return client.request(method, path, **kwargs)


def test_put_avoid_sets_the_whole_set_and_routes_show_it(served: tuple[str, FakeAgent]) -> None:
    address, agent = served
    answer = put_avoid(address, ["198.18.41.100", "2001:DB8::1"], source="probe-agent")
    assert answer["next_hops"] == ["198.18.41.100", "2001:db8::1"]  # canonical spelling
    assert agent.calls == [(["198.18.41.100", "2001:db8::1"], "probe-agent")]
    assert request(address, "GET", "/avoid").json()["since"] == {
        "198.18.41.100": 5.0,
        "2001:db8::1": 5.0,
    }
    routes = request(address, "GET", "/routes").json()
    assert routes["avoided"] == {"198.18.41.100": 5.0, "2001:db8::1": 5.0}
    # what verification reads: the routes, the avoid set and what has no other path
    assert read_routes(address, ["203.0.113.0/24"]) == FibRoutes(
        {"203.0.113.0/24": ["198.18.51.200"]},
        {"198.18.41.100": 5.0, "2001:db8::1": 5.0},
        ["198.51.100.0/24"],
    )
    put_avoid(address, [])
    assert agent.calls[-1] == ([], "sdwan")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"next_hops": ["198.18.41.300"]}, "next_hops[0]"),
        ({"next_hops": [7]}, "next_hops[0]"),
        ({"next_hops": "198.18.41.100"}, "next_hops"),
        ({}, "next_hops"),
        ({"next_hops": [], "sorce": "x"}, "sorce"),
        ({"next_hops": [], "source": 3}, "source"),
        (["198.18.41.100"], ""),
    ],
)
def test_bad_avoid_bodies_get_a_422_naming_the_field(
    served: tuple[str, FakeAgent], body: object, field: str
) -> None:
    address, agent = served
    answer = request(address, "PUT", "/avoid", json=body)
    assert answer.status_code == 422
    assert answer.json()["field"] == field and answer.json()["error"]
    assert agent.calls == []


def test_other_mistakes_get_clear_errors(served: tuple[str, FakeAgent]) -> None:
    address, agent = served
    assert request(address, "PUT", "/avoid", content=b"{nope").status_code == 400
    assert request(address, "GET", "/nothing").status_code == 404
    assert request(address, "PUT", "/routes", json={}).status_code == 404
    assert request(address, "POST", "/avoid", json={}).status_code == 405
    assert request(address, "PUT", "/avoid", content=b"x" * 70000).status_code == 413
    assert agent.calls == []
