"""An SSE reader for GET /v1/events of a real `sdwan serve` (httpx in a thread): the
events as they come, or the first that matches."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from sdwan.lab.server_process import ADMIN_TOKEN

# what the reader thread hands over: ("status", code, content type), then ("event", message)
Item = tuple[str, int, str | None] | tuple[str, dict[str, str]]


def _sse(url: str, headers: dict[str, str], out: queue.Queue[Item], stop: threading.Event) -> None:
    """Read SSE messages into ``out`` (as dicts with their id) until ``stop``."""
    with (
        httpx.Client(timeout=httpx.Timeout(5.0, read=None)) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        out.put(("status", response.status_code, response.headers.get("content-type")))
        message: dict[str, str] = {}
        for line in response.iter_lines():
            if stop.is_set():
                return
            if line == "" and message:
                out.put(("event", message))
                message = {}
            elif ":" in line and not line.startswith(":"):
                key, _, value = line.partition(":")
                message[key] = value.removeprefix(" ")


class Stream:
    """An open event stream; ``next``, ``until`` and ``collect`` read it."""

    def __init__(self, url: str, **headers: str) -> None:
        self.queue: queue.Queue[Item] = queue.Queue()
        self.stop = threading.Event()
        all_headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **headers}
        self.thread = threading.Thread(
            target=_sse, args=(url, all_headers, self.queue, self.stop), daemon=True
        )
        self.thread.start()
        item = self.queue.get(timeout=10)
        assert len(item) == 3, item
        kind, status, content_type = item
        assert (kind, status) == ("status", 200)
        assert content_type is not None and content_type.startswith("text/event-stream")

    def next(self, timeout: float = 10.0) -> dict[str, Any]:
        item = self.queue.get(timeout=timeout)
        assert len(item) == 2, item
        kind, message = item
        assert kind == "event"
        data: dict[str, Any] = json.loads(message["data"])
        assert int(message["id"]) == data["id"] and message["event"] == data["kind"]
        return data

    def until(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20.0
    ) -> dict[str, Any]:
        """The first event from now on that matches (events before it are skipped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.next(timeout=max(0.01, deadline - time.monotonic()))
            if predicate(event):
                return event
        raise AssertionError(f"no matching SSE event within {timeout}s")

    def collect(
        self, predicates: dict[str, Callable[[dict[str, Any]], bool]], timeout: float = 20.0
    ) -> dict[str, dict[str, Any]]:
        """The first event matching each predicate, in whatever order they come."""
        found: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while len(found) < len(predicates):
            if time.monotonic() >= deadline:
                missing = sorted(set(predicates) - set(found))
                raise AssertionError(f"no SSE event for {missing} within {timeout}s")
            event = self.next(timeout=max(0.01, deadline - time.monotonic()))
            for name, predicate in predicates.items():
                if name not in found and predicate(event):
                    found[name] = event
        return found
