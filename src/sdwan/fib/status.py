"""The FIB agent's status socket: a tiny HTTP service on a unix socket (``sdwan
fib-agent --status unix:///path``; the lab puts it beside gobgpd's socket as
``<socket>.fib``), and its clients.

- ``GET /routes?prefix=P&prefix=Q`` answers ``{"routes": {P: [gateway, ...]},
  "synced_at": <epoch>, "avoided": {next_hop: <since epoch>}, "no_alternative": [P]}``
  from the agent's memory (no netlink work per request): the gateways each route uses
  in the kernel now, the avoid set, and the routes whose every path is avoided (they
  keep their best path: nothing better exists). Only the prefixes asked for (at most
  1000), or every route without ``prefix``.
- ``PUT /avoid`` ``{"next_hops": ["198.18.41.100"], "source": "probe-agent"}``: the whole
  set of BGP next hops whose paths the kernel must not use now (level-triggered; an
  empty list clears it). Answers 200 with what ``GET /avoid`` gives once the kernel
  follows: ``{"next_hops": [...], "since": {next_hop: <epoch>}, "source": ...}``; 422
  with ``{"error": ..., "field": ...}`` for a body it cannot take.

A unix socket (mode 0660), so only local processes with access to its directory reach
it."""

from __future__ import annotations

import ipaddress
import json
import os
import socketserver
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx

__all__ = [
    "MAX_PREFIXES",
    "AvoidRequestError",
    "FibRoutes",
    "FibView",
    "StatusServer",
    "parse_avoid",
    "put_avoid",
    "read_routes",
]

MAX_PREFIXES = 1000
MAX_NEXT_HOPS = 1000
MAX_BODY = 64 * 1024


class FibView(Protocol):
    """What the status socket serves (the agent provides it)."""

    def routes_status(self, prefixes: Sequence[str]) -> dict[str, Any]: ...
    def avoid_status(self) -> dict[str, Any]: ...
    def set_avoid(self, next_hops: Sequence[str], source: str | None) -> dict[str, Any]: ...


class AvoidRequestError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_avoid(body: object) -> tuple[list[str], str | None]:
    """The next hops and source of a ``PUT /avoid`` body, or :class:`AvoidRequestError`."""
    if not isinstance(body, dict):
        raise AvoidRequestError("", 'expected a JSON object like {"next_hops": ["198.18.41.100"]}')
    unknown = sorted(set(body) - {"next_hops", "source"})
    if unknown:
        raise AvoidRequestError(unknown[0], f"unknown field {unknown[0]!r}")
    hops = body.get("next_hops")
    if not isinstance(hops, list):
        raise AvoidRequestError("next_hops", "next_hops must be a list of IP addresses")
    if len(hops) > MAX_NEXT_HOPS:
        raise AvoidRequestError("next_hops", f"at most {MAX_NEXT_HOPS} next hops")
    result = []
    for index, hop in enumerate(hops):
        try:
            result.append(str(ipaddress.ip_address(hop if isinstance(hop, str) else "")))
        except ValueError:
            raise AvoidRequestError(
                f"next_hops[{index}]", f"{hop!r} is not an IPv4 or IPv6 address"
            ) from None
    source = body.get("source")
    if source is not None and (not isinstance(source, str) or len(source) > 100):
        raise AvoidRequestError("source", "source must be a string of at most 100 characters")
    return result, source


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    view: FibView


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive: a prober may hold one connection

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/routes":
            wanted = parse_qs(url.query).get("prefix", [])[:MAX_PREFIXES]
            self._answer(200, self.server.view.routes_status(wanted))
        elif url.path == "/avoid":
            self._answer(200, self.server.view.avoid_status())
        else:
            self._answer(404, {"error": "only /routes and /avoid"})

    def do_PUT(self) -> None:
        if urlsplit(self.path).path != "/avoid":
            self._answer(404, {"error": "only PUT /avoid"})
            return
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            self._answer(411, {"error": "a Content-Length is needed"})
            return
        if not 0 <= length <= MAX_BODY:
            self._answer(413, {"error": f"the body may have at most {MAX_BODY} bytes"})
            return
        try:
            next_hops, source = parse_avoid(json.loads(self.rfile.read(length) or b"null"))
        except AvoidRequestError as exc:
            self._answer(422, {"error": str(exc), "field": exc.field})
            return
        except ValueError:
            self._answer(400, {"error": "the body is not JSON"})
            return
        self._answer(200, self.server.view.set_avoid(next_hops, source))

    def do_POST(self) -> None:
        self._answer(405, {"error": "use GET /routes, GET /avoid or PUT /avoid"})

    do_DELETE = do_PATCH = do_POST

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        if status >= 400:
            self.close_connection = True  # the body may not have been read
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def address_string(self) -> str:  # a unix socket peer has no address
        return "local"

    def log_message(self, format: str, *args: Any) -> None:
        pass


class StatusServer:
    """Serves ``view`` on ``address`` (unix:///path) from a daemon thread."""

    def __init__(self, address: str, view: FibView) -> None:
        if not address.startswith("unix://"):
            raise ValueError(f"status address must be unix:///path, got {address!r}")
        self.path = address.removeprefix("unix://")
        if os.path.exists(self.path):
            os.unlink(self.path)  # a socket left by an agent that was killed
        self._server = _Server(self.path, _Handler)
        self._server.view = view
        os.chmod(self.path, 0o660)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def _client(address: str, timeout: float) -> httpx.Client:
    transport = httpx.HTTPTransport(uds=address.removeprefix("unix://"))
    return httpx.Client(transport=transport, timeout=timeout, base_url="http://fib-agent")


@dataclass(frozen=True)
class FibRoutes:
    """What a FIB agent says of some prefixes: the gateways each route uses in the
    kernel, the next hops it avoids on its own (next hop -> since, epoch seconds) and
    the routes that keep an avoided path for want of another."""

    routes: dict[str, list[str]]
    avoided: dict[str, float] = field(default_factory=dict)
    no_alternative: list[str] = field(default_factory=list)


def read_routes(address: str, prefixes: list[str], *, timeout: float = 2.0) -> FibRoutes | None:
    """The kernel routes the agent at ``address`` installed for ``prefixes``; None if
    it does not answer (then the kernel is simply not checked)."""
    try:
        with _client(address, timeout) as client:
            answer = client.get("/routes", params=[("prefix", p) for p in prefixes[:MAX_PREFIXES]])
        if answer.status_code != 200:
            return None
        body = answer.json()
    except (httpx.HTTPError, ValueError, OSError):
        return None
    routes = body.get("routes") if isinstance(body, dict) else None
    if not isinstance(routes, dict):
        return None
    avoided = body.get("avoided")
    lone = body.get("no_alternative")
    return FibRoutes(
        {str(k): [str(g) for g in v] for k, v in routes.items() if isinstance(v, list)},
        {
            str(k): float(v)
            for k, v in (avoided.items() if isinstance(avoided, dict) else ())
            if isinstance(v, int | float) and not isinstance(v, bool)
        },
        [str(p) for p in lone] if isinstance(lone, list) else [],
    )


def put_avoid(
    address: str, next_hops: list[str], *, source: str = "sdwan", timeout: float = 2.0
) -> dict[str, Any]:
    """Set the avoid set of the agent at ``address``; its answer (raises
    httpx.HTTPError when it does not answer, or refuses)."""
    with _client(address, timeout) as client:
        answer = client.put("/avoid", json={"next_hops": next_hops, "source": source})
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body
