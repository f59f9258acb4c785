"""A fake REST API for the CLI's tests (``httpx.MockTransport``): canned answers per
method and path, every request kept; a router and a neighbor as the API answers them;
and the helpers that run a command against it and read what it printed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from typer.testing import CliRunner, Result

from sdwan.cli.client import State
from sdwan.cli.main import app

URL = "http://api.test:9998"  # SDWAN_URL of the CLI's tests (the cli_env fixture)
Reply = tuple[int, Any]  # status, JSON body (a str: sent as text; None: no body)

# a router and a neighbor as the API answers them
SOCK = "unix:///run/sdwan/gobgp1.sock"
R1 = "11111111-1111-4111-8111-111111111111"
N1 = "22222222-2222-4222-8222-222222222222"


def router(**fields: Any) -> dict[str, Any]:
    base = {
        "id": R1,
        "name": "GoBGP-1",
        "router_id": "10.0.1.1",
        "asn": 65001,
        "api_address": SOCK,
        "listen_port": 179,
        "listen_addresses": [],
        "description": "",
        "status": "ACTIVE",
        "status_detail": None,
        "version": 1,
    }
    return {**base, **fields}


def neighbor(**fields: Any) -> dict[str, Any]:
    base = {
        "id": N1,
        "router": R1,
        "router_name": "GoBGP-1",
        "address": "198.18.11.11",
        "peer_asn": 65000,
        "enabled": True,
        "password_set": False,
        "families": ["ipv4-unicast"],
        "status": "ACTIVE",
        "status_detail": None,
        "version": 1,
    }
    return {**base, **fields}


class FakeApi:
    """Canned answers per (method, path); a list is served in order, its last item repeats."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], list[Reply] | Callable[[httpx.Request], Reply]] = {}
        self.answer_headers: dict[tuple[str, str], dict[str, str]] = {}  # sent with an answer

    def on(self, method: str, path: str, *replies: Reply) -> None:
        self.routes[(method, path)] = list(replies)

    def on_call(self, method: str, path: str, func: Callable[[httpx.Request], Reply]) -> None:
        self.routes[(method, path)] = func

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            error = {"status": 404, "code": "not_found", "message": f"no route {request.url.path}"}
            return httpx.Response(404, json={"error": error})
        status, body = (
            route(request) if callable(route) else (route.pop(0) if len(route) > 1 else route[0])
        )
        extra = self.answer_headers.get((request.method, request.url.path), {})
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers=extra)
        if body is None:
            return httpx.Response(status, headers=extra)
        return httpx.Response(status, json=body, headers=extra)

    def last(self, method: str | None = None) -> httpx.Request:
        return [r for r in self.requests if method in (None, r.method)][-1]

    def body(self, method: str) -> Any:
        return json.loads(self.last(method).content)

    def params(self, method: str = "GET") -> dict[str, str]:
        return dict(self.last(method).url.params)


def api_error(
    status: int, message: str, *, code: str = "invalid", field: str | None = None
) -> Reply:
    """The API's error body (api/errors.py)."""
    return status, {"error": {"status": status, "code": code, "message": message, "field": field}}


def page(*items: dict[str, Any], total: int | None = None, offset: int = 0) -> Reply:
    count = len(items) if total is None else total
    return 200, {"items": list(items), "total": count, "limit": 50, "offset": offset}


def run(api: FakeApi, *args: str, stdin: str | None = None) -> Result:
    """``sdwan ARGS`` against ``api`` (``--wait`` polls without sleeping)."""
    state = State(transport=httpx.MockTransport(api.handler), sleep=lambda _: None)
    return CliRunner().invoke(app, list(args), obj=state, input=stdin)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.stderr
    return result


def failed(result: Result) -> str:
    """The one ``error: ...`` line of a failed command."""
    assert result.exit_code == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def table_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("| ")]  # not |---+---|


def headers(output: str) -> list[str]:
    return [cell.strip() for cell in table_lines(output)[0].strip("|").split("|")]


def field_rows(output: str) -> dict[str, str]:
    """A ``show`` table as field -> value."""
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table_lines(output)[1:]]
    return {row[0]: row[1] for row in rows if row[0]}
