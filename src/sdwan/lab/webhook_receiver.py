"""A real HTTP receiver of webhooks on loopback, for tests and benchmarks: it keeps
every request it got (when, headers, body) and answers as told: 2xx, a failure status
for the first N requests (or all of them), after a delay, or nothing at all (it accepts
and hangs until stopped)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from sdwan.domain.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic() when the body was read
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def signed_by(self, secret: str, *, now: float | None = None) -> bool:
        """The signature verifies as a receiver would check it."""
        return verify(
            secret,
            timestamp=self.headers.get(TIMESTAMP_HEADER.lower(), ""),
            signature=self.headers.get(SIGNATURE_HEADER.lower(), ""),
            body=self.body,
            now=time.time() if now is None else now,
        )


class WebhookReceiver:
    """``status``: what it answers; ``fail_first``: that many requests get
    ``fail_status`` first; ``delay``: seconds it waits before each answer; ``hang``:
    it reads the request and never answers (until ``stop``). Only requests answered
    with 2xx (the answer sent before the sender gave up) count in ``delivered``."""

    def __init__(
        self,
        *,
        status: int = 204,
        fail_first: int = 0,
        fail_status: int = 500,
        delay: float = 0.0,
        hang: bool = False,
        port: int = 0,
    ) -> None:
        self.status = status
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.delay = delay
        self.hang = hang
        self.received: list[Received] = []  # every request, answered or not
        self._ok: set[int] = set()  # indexes in ``received`` answered with 2xx
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                got = Received(time.monotonic(), self.path, headers, body)
                index, status = receiver._answer(got)
                if status is None:
                    receiver._release.wait()
                    return
                if receiver.delay:
                    receiver._release.wait(receiver.delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                    self.wfile.flush()
                except ConnectionError:
                    return  # the sender gave up waiting: not delivered
                receiver._answered(index, status)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def _answer(self, got: Received) -> tuple[int, int | None]:
        with self._lock:
            self.received.append(got)
            index = len(self.received) - 1
            if self.hang:
                return index, None
            if len(self.received) <= self.fail_first:
                return index, self.fail_status
            return index, self.status

    def _answered(self, index: int, status: int) -> None:
        if 200 <= status < 300:
            with self._lock:
                self._ok.add(index)

    @property
    def delivered(self) -> list[Received]:
        """The requests answered with 2xx, in the order they came."""
        with self._lock:
            return [r for i, r in enumerate(self.received) if i in self._ok]

    def bodies(self) -> list[Any]:
        return [r.json() for r in self.delivered]

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
