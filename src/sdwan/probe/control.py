"""The probe agent's control socket: HTTP/1.0 with JSON bodies on a unix socket
(``sdwan probe-agent --control unix:///path``; the lab puts it beside gobgpd's socket
as ``<socket>.probe``). Only local processes that can reach the socket file talk to it.

- ``PUT /config``: the whole configuration (sdwan.probe.config); 200 with what was
  accepted, 422 ``{"error": ..., "field": "uplinks[0].neighbor"}`` otherwise.
- ``GET /config``: ``{"generation": N, "uplinks": [...]}`` (generation 0: never set).
- ``GET /quality``: a snapshot of every uplink (sdwan.probe.engine).
- ``GET /quality/stream``: NDJSON until the client leaves: a ``snapshot`` line, a
  ``change`` line as soon as an uplink's or a class's state changes (only the uplinks
  that changed), a ``summary`` line of every uplink each summary interval. A client
  that falls 1000 lines behind is disconnected (it reconnects and gets a snapshot).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import socketserver
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

from sdwan.domain.quality import QualityInputError
from sdwan.probe.config import ProbeConfig, parse_config

__all__ = ["ControlServer", "StreamHub"]

log = logging.getLogger("sdwan.probe")
MAX_BODY = 1 << 20
_BACKLOG = 1000


class Backend(Protocol):
    def config(self) -> ProbeConfig: ...

    def configure(self, config: ProbeConfig) -> ProbeConfig: ...

    def snapshot(self, kind: str = "snapshot") -> dict[str, Any]: ...


class _Subscriber:
    def __init__(self) -> None:
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue(_BACKLOG)
        self.overflowed = False


class StreamHub:
    """Fans change lines out to the stream clients."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[_Subscriber] = []

    def subscribe(self) -> _Subscriber:
        subscriber = _Subscriber()
        with self._lock:
            self._subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: _Subscriber) -> None:
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def publish(self, line: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber.lines.put_nowait(line)
            except queue.Full:
                subscriber.overflowed = True

    def close(self) -> None:
        with self._lock:
            subscribers, self._subscribers = self._subscribers, []
        for subscriber in subscribers:
            subscriber.overflowed = True
            with contextlib.suppress(queue.Full):
                subscriber.lines.put_nowait(None)


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    backend: Backend
    hub: StreamHub
    summary_interval: float
    stopping: threading.Event


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        if self.path == "/config":
            self._answer(200, self.server.backend.config().to_json())
        elif self.path == "/quality":
            self._answer(200, self.server.backend.snapshot())
        elif self.path == "/quality/stream":
            self._stream()
        else:
            self._answer(404, {"error": f"no such resource: {self.path}"})

    def do_PUT(self) -> None:
        if self.path != "/config":
            self._answer(
                405 if self.path in ("/quality", "/quality/stream") else 404,
                {"error": f"cannot PUT {self.path}"},
            )
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            self._answer(
                411 if length <= 0 else 413,
                {"error": f"send a JSON body of at most {MAX_BODY} bytes"},
            )
            return
        try:
            body = json.loads(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError) as exc:
            self._answer(422, {"error": f"not JSON: {exc}", "field": "body"})
            return
        try:
            config = parse_config(body)
        except QualityInputError as exc:
            self._answer(422, {"error": str(exc), "field": exc.field})
            return
        self._answer(200, self.server.backend.configure(config).to_json())

    def do_POST(self) -> None:
        self._answer(405, {"error": "use PUT /config"})

    do_DELETE = do_POST

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self) -> None:
        server = self.server
        subscriber = server.hub.subscribe()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self._line(server.backend.snapshot("snapshot"))
            interval = server.summary_interval
            while not server.stopping.is_set() and not subscriber.overflowed:
                try:
                    line = subscriber.lines.get(timeout=interval)
                except queue.Empty:
                    line = server.backend.snapshot("summary")
                if line is None:
                    break
                self._line(line)
        except OSError:  # the client left
            pass
        finally:
            server.hub.unsubscribe(subscriber)

    def _line(self, body: dict[str, Any]) -> None:
        self.wfile.write(json.dumps(body).encode() + b"\n")
        self.wfile.flush()

    def address_string(self) -> str:  # a unix socket peer has no address
        return "local"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("control: " + format, *args)


class ControlServer:
    """Serves a backend on ``address`` (unix:///path) from daemon threads."""

    def __init__(
        self,
        address: str,
        backend: Backend,
        hub: StreamHub,
        *,
        summary_interval: float = 1.0,
    ) -> None:
        if not address.startswith("unix://"):
            raise ValueError(f"control address must be unix:///path, got {address!r}")
        self.path = address.removeprefix("unix://")
        if os.path.exists(self.path):
            os.unlink(self.path)  # left by an agent that was killed
        self._server = _Server(self.path, _Handler)
        self._server.backend = backend
        self._server.hub = hub
        self._server.summary_interval = summary_interval
        self._server.stopping = threading.Event()
        os.chmod(self.path, 0o660)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="probe-control", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.hub.close()
        self._server.shutdown()
        self._server.server_close()
        if os.path.exists(self.path):
            os.unlink(self.path)
