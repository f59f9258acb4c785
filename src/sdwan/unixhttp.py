"""HTTP on a unix socket, as the agents beside gobgpd speak it: a threaded server whose
socket file only local processes with access to its directory reach (mode 0660), a
JSON request handler for it, and a client connection. One request per connection
(HTTP/1.0), which is all the agents need."""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

__all__ = ["JsonHandler", "UnixConnection", "UnixHttpServer", "unix_path"]

log = logging.getLogger("sdwan.unixhttp")


def unix_path(address: str, what: str) -> str:
    """The path of ``unix:///path``; ValueError naming ``what`` otherwise."""
    if not address.startswith("unix://"):
        raise ValueError(f"{what} must be unix:///path, got {address!r}")
    return address.removeprefix("unix://")


class UnixHttpServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Serves ``handler`` on ``path`` from daemon threads once started. A socket file
    left by a process that was killed is replaced; ``close`` removes the file."""

    daemon_threads = True

    def __init__(self, path: str, handler: type[BaseHTTPRequestHandler]) -> None:
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        super().__init__(path, handler)
        os.chmod(path, 0o660)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def start(self, name: str) -> None:
        self._thread.name = name
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self.shutdown()
        self.server_close()
        if os.path.exists(self.path):
            os.unlink(self.path)


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON and logs at debug level."""

    def answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_json(self, limit: int) -> tuple[Any, str | None]:
        """(the request's JSON body, None), or (None, what is wrong with it)."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = 0
        if not 0 < length <= limit:
            return None, f"send a JSON body of at most {limit} bytes"
        try:
            return json.loads(self.rfile.read(length)), None
        except (ValueError, UnicodeDecodeError) as exc:
            return None, f"not JSON: {exc}"

    def address_string(self) -> str:  # a unix socket peer has no address
        return "local"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


class UnixConnection(http.client.HTTPConnection):
    """An HTTP client connection to a unix socket."""

    def __init__(self, path: str, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock
