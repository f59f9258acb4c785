"""What the FIB agent installed, readable by the orchestrator: a tiny read-only HTTP
service on a unix socket (``sdwan fib-agent --status unix:///path``; the lab puts it
beside gobgpd's socket as ``<socket>.fib``), and its client.

``GET /routes?prefix=P&prefix=Q`` answers ``{"routes": {P: [gateway, ...]}, "synced_at":
<epoch seconds>}`` from the agent's memory of its last sync: no netlink work per
request. Only the prefixes asked for (at most 1000), or every route without ``prefix``.
A unix socket, so only local processes with access to the socket's directory read it."""

from __future__ import annotations

import json
import os
import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

MAX_PREFIXES = 1000
Snapshot = Callable[[], tuple[dict[str, list[str]], float]]


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    snapshot: Snapshot


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/routes":
            self._answer(404, {"error": "only /routes"})
            return
        wanted = parse_qs(url.query).get("prefix", [])[:MAX_PREFIXES]
        routes, synced_at = self.server.snapshot()
        if wanted:
            routes = {p: routes[p] for p in wanted if p in routes}
        self._answer(200, {"routes": routes, "synced_at": synced_at})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
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
    """Serves ``snapshot()`` on ``address`` (unix:///path) from a daemon thread."""

    def __init__(self, address: str, snapshot: Snapshot) -> None:
        if not address.startswith("unix://"):
            raise ValueError(f"status address must be unix:///path, got {address!r}")
        self.path = address.removeprefix("unix://")
        if os.path.exists(self.path):
            os.unlink(self.path)  # a socket left by an agent that was killed
        self._server = _Server(self.path, _Handler)
        self._server.snapshot = snapshot
        os.chmod(self.path, 0o660)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def read_routes(
    address: str, prefixes: list[str], *, timeout: float = 2.0
) -> dict[str, list[str]] | None:
    """The kernel routes the agent at ``address`` installed for ``prefixes``; None if
    it does not answer (then the kernel is simply not checked)."""
    path = address.removeprefix("unix://")
    transport = httpx.HTTPTransport(uds=path)
    try:
        with httpx.Client(transport=transport, timeout=timeout) as client:
            answer = client.get(
                "http://fib-agent/routes", params=[("prefix", p) for p in prefixes[:MAX_PREFIXES]]
            )
        if answer.status_code != 200:
            return None
        routes = answer.json().get("routes")
    except (httpx.HTTPError, ValueError, OSError):
        return None
    if not isinstance(routes, dict):
        return None
    return {str(k): [str(g) for g in v] for k, v in routes.items() if isinstance(v, list)}
