"""The client of a probe agent's control socket (sdwan.probe.control): HTTP/1.0 over a
unix socket (``unix:///path``, by default ``<gobgpd socket>.probe``), on asyncio.

The orchestrator's quality controller follows every agent from one event loop (a
stream each, no thread per agent); the lab, the tests and the benchmarks call it
through ``asyncio.run``. The agent answers one request per connection and closes it,
so each call opens its own connection and nothing is bound to an event loop between
calls: a response is the status line, the headers, and everything until the agent
closes (a stream: one JSON object per line)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

from sdwan.unixhttp import unix_path

__all__ = ["MAX_LINE", "ProbeClient", "ProbeClientError"]

MAX_LINE = 1 << 20  # one answer or stream line: a summary of every uplink of a router


class ProbeClientError(Exception):
    """The agent refused a request (``status`` and its JSON ``body``), or is not there
    or broke off (``status`` 0)."""

    def __init__(self, status: int, body: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


_Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class ProbeClient:
    def __init__(self, address: str, *, timeout: float = 5.0) -> None:
        self.address = address
        self.path = unix_path(address, "probe agent address")
        self.timeout = timeout

    async def config(self) -> dict[str, Any]:
        return await self._call("GET", "/config")

    async def put_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return await self._call("PUT", "/config", config)

    async def quality(self) -> dict[str, Any]:
        return await self._call("GET", "/quality")

    async def stream(self, *, timeout: float | None = None) -> AsyncGenerator[dict[str, Any], None]:
        """Every line of ``GET /quality/stream``, parsed, until the agent closes it
        (then ProbeClientError, status 0); with ``timeout``, a line that takes longer
        raises TimeoutError."""
        reader, writer = await self._open("GET", "/quality/stream", None)
        try:
            status = await self._status(reader)
            if status != 200:
                raise ProbeClientError(status, {}, f"{self._where()}: stream refused ({status})")
            while True:
                async with asyncio.timeout(timeout):
                    line = await reader.readline()
                if not line:
                    break
                if line.strip():
                    item = _json(line)
                    if isinstance(item, dict):
                        yield item
        except TimeoutError:
            raise
        except (OSError, ValueError) as exc:  # a line over MAX_LINE is a ValueError
            raise ProbeClientError(0, {}, f"{self._where()}: {exc}") from exc
        finally:
            writer.close()
        raise ProbeClientError(0, {}, f"{self._where()}: the stream ended")

    # --- one request ------------------------------------------------------------------

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await self._open(method, path, body)
                try:
                    status = await self._status(reader)
                    raw = await reader.read(MAX_LINE)
                finally:
                    writer.close()
        except (OSError, ValueError) as exc:  # TimeoutError is an OSError
            raise ProbeClientError(0, {}, f"{self._where()}: {exc or 'timed out'}") from exc
        try:
            data = _json(raw)
        except ValueError:
            data = {"error": raw.decode(errors="replace")[:300]}
        if status != 200 or not isinstance(data, dict):
            raise ProbeClientError(
                status, data if isinstance(data, dict) else {}, f"{method} {path}: {status} {data}"
            )
        return data

    async def _open(self, method: str, path: str, body: Any) -> _Streams:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(self.path, limit=MAX_LINE), self.timeout
            )
        except (OSError, TimeoutError) as exc:
            raise ProbeClientError(0, {}, f"{self._where()}: {exc or 'timed out'}") from exc
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.0\r\nHost: probe-agent\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        writer.write(head.encode() + b"\r\n" + payload)
        await writer.drain()
        return reader, writer

    @staticmethod
    async def _status(reader: asyncio.StreamReader) -> int:
        """The status of a response, its headers read past (the body follows)."""
        status_line = await reader.readline()
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise ValueError(f"not an HTTP response: {status_line[:80]!r}")
        while await reader.readline() not in (b"\r\n", b"\n", b""):
            pass
        return int(parts[1])

    def _where(self) -> str:
        return f"probe agent at {self.path}"


def _json(raw: bytes) -> Any:
    return json.loads(raw)
