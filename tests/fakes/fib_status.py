"""A stand-in for the FIB agent's status socket that records every ``PUT /avoid`` (the
probe agent's push, Interface 2 of docs/intent.md's path quality). The FIB agent's own
side is tested against the real agent."""

from __future__ import annotations

import json
import os
import socketserver
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any


class StubFibStatus(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str) -> None:
        self.path = path
        self.received: list[dict[str, Any]] = []
        super().__init__(path, _Handler)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def avoided(self) -> list[str] | None:
        """The next hops of the latest push (None before the first)."""
        return list(self.received[-1]["next_hops"]) if self.received else None

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        if os.path.exists(self.path):
            os.unlink(self.path)


class _Handler(BaseHTTPRequestHandler):
    server: StubFibStatus

    def do_PUT(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = 200 if self.path == "/avoid" else 404
        if status == 200:
            self.server.received.append(body)
        data = json.dumps({"next_hops": body.get("next_hops"), "since": {}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def address_string(self) -> str:
        return "local"

    def log_message(self, format: str, *args: Any) -> None:
        pass
