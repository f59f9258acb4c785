"""A client of the probe agent's control socket (sdwan.probe.control): the
orchestrator, the lab and the tests use it. One request per connection."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

from sdwan.unixhttp import UnixConnection, unix_path

__all__ = ["ProbeClient", "ProbeClientError"]


class ProbeClientError(Exception):
    """The agent refused a request (``status`` and its JSON ``body``) or is not there
    (``status`` 0)."""

    def __init__(self, status: int, body: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class ProbeClient:
    def __init__(self, address: str, *, timeout: float = 5.0) -> None:
        self.path = unix_path(address, "probe agent address")
        self.timeout = timeout

    def __enter__(self) -> ProbeClient:
        return self

    def __exit__(self, *_: object) -> None:
        pass  # nothing stays open between requests

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        connection = UnixConnection(self.path, self.timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            connection.request(
                method, path, body=None if body is None else json.dumps(body), headers=headers
            )
            answer = connection.getresponse()
            status, raw = answer.status, answer.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ProbeClientError(0, {}, f"probe agent at {self.path}: {exc}") from exc
        finally:
            connection.close()
        try:
            data = json.loads(raw)
        except ValueError:
            data = {"error": raw.decode(errors="replace")}
        if status != 200 or not isinstance(data, dict):
            raise ProbeClientError(status, data, f"{method} {path}: {status} {data}")
        return data

    def put_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", "/config", config)

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/config")

    def quality(self) -> dict[str, Any]:
        return self._call("GET", "/quality")

    def stream(self, *, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """The NDJSON stream, one object per line, until the agent closes it; with
        ``timeout``, a read that waits longer raises TimeoutError."""
        connection = UnixConnection(self.path, timeout)
        try:
            try:
                connection.request("GET", "/quality/stream")
                answer = connection.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                raise ProbeClientError(0, {}, f"probe agent at {self.path}: {exc}") from exc
            if answer.status != 200:
                raise ProbeClientError(answer.status, {}, "GET /quality/stream refused")
            while line := answer.readline():
                if line.strip():
                    yield json.loads(line)
        finally:
            connection.close()
