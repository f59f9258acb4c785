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
import queue
import threading
from typing import Any, Protocol

from sdwan.domain.quality import QualityInputError
from sdwan.probe.config import ProbeConfig, parse_config
from sdwan.unixhttp import JsonHandler, UnixHttpServer, unix_path

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


class _Server(UnixHttpServer):
    backend: Backend
    hub: StreamHub
    summary_interval: float
    stopping: threading.Event


class _Handler(JsonHandler):
    server: _Server

    def do_GET(self) -> None:
        if self.path == "/config":
            self.answer(200, self.server.backend.config().to_json())
        elif self.path == "/quality":
            self.answer(200, self.server.backend.snapshot())
        elif self.path == "/quality/stream":
            self._stream()
        else:
            self.answer(404, {"error": f"no such resource: {self.path}"})

    def do_PUT(self) -> None:
        if self.path != "/config":
            self.answer(
                405 if self.path in ("/quality", "/quality/stream") else 404,
                {"error": f"cannot PUT {self.path}"},
            )
            return
        body, problem = self.read_json(MAX_BODY)
        if problem is not None:
            self.answer(422, {"error": problem, "field": "body"})
            return
        try:
            config = parse_config(body)
        except QualityInputError as exc:
            self.answer(422, {"error": str(exc), "field": exc.field})
            return
        self.answer(200, self.server.backend.configure(config).to_json())

    def do_POST(self) -> None:
        self.answer(405, {"error": "use PUT /config"})

    do_DELETE = do_POST

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
        self.path = unix_path(address, "control address")
        self._server = _Server(self.path, _Handler)
        self._server.backend = backend
        self._server.hub = hub
        self._server.summary_interval = summary_interval
        self._server.stopping = threading.Event()

    def start(self) -> None:
        self._server.start("probe-control")

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.hub.close()
        self._server.close()
