"""A stand-in for the FIB agent's status socket that records every ``PUT /avoid`` (the
probe agent's push; docs/lab.md, "The probe agent"). The FIB agent's own side is tested
against the real agent."""

from __future__ import annotations

from typing import Any

from sdwan.unixhttp import JsonHandler, UnixHttpServer


class StubFibStatus(UnixHttpServer):
    def __init__(self, path: str) -> None:
        self.received: list[dict[str, Any]] = []
        super().__init__(path, _Handler)
        self.start("stub-fib-status")

    def avoided(self) -> list[str] | None:
        """The next hops of the latest push (None before the first)."""
        return list(self.received[-1]["next_hops"]) if self.received else None


class _Handler(JsonHandler):
    server: StubFibStatus

    def do_PUT(self) -> None:
        body, problem = self.read_json(1 << 16)
        if self.path != "/avoid" or problem is not None:
            self.answer(404 if problem is None else 422, {"error": problem or self.path})
            return
        self.server.received.append(body)
        self.answer(200, {"next_hops": body["next_hops"], "since": {}})
