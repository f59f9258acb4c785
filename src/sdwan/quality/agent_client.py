"""The orchestrator's side of a probe agent's control socket: HTTP/1.1 over a unix
socket (``unix:///path``, by default ``<gobgpd socket>.probe``). Push the desired
configuration (``PUT /config``), read what the agent holds (``GET /config``), and
follow its quality stream (``GET /quality/stream``: NDJSON, a snapshot, then a line
at once for every state change and a summary every second)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

__all__ = ["AgentClient", "AgentUnavailable", "agent_path"]

MAX_LINE = 1 << 20  # one stream line: a summary of every uplink of one router


class AgentUnavailable(Exception):
    """The agent did not answer, or answered something that is not its protocol."""


def agent_path(address: str) -> str:
    if not address.startswith("unix://"):
        raise ValueError(f"a probe agent's address is unix:///path, not {address!r}")
    return address.removeprefix("unix://")


class AgentClient:
    """One agent; its methods run on the caller's event loop."""

    def __init__(self, address: str, *, timeout: float = 2.0) -> None:
        self.address = address
        transport = httpx.AsyncHTTPTransport(uds=agent_path(address))
        self._client = httpx.AsyncClient(
            transport=transport, base_url="http://probe-agent", timeout=timeout
        )

    async def get_config(self) -> dict[str, Any]:
        return await self._call("GET", "/config")

    async def put_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return await self._call("PUT", "/config", config)

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        try:
            answer = await self._client.request(method, path, json=body)
            data = answer.json()
        except (httpx.HTTPError, OSError, ValueError) as exc:
            raise AgentUnavailable(f"probe agent at {self.address}: {exc}") from exc
        if answer.status_code != 200 or not isinstance(data, dict):
            raise AgentUnavailable(
                f"probe agent at {self.address} answered {answer.status_code}: {str(data)[:300]}"
            )
        return data

    async def stream(self) -> AsyncIterator[dict[str, Any]]:
        """Every line of the quality stream, parsed, until it ends (then
        AgentUnavailable)."""
        try:
            async with self._client.stream(
                "GET", "/quality/stream", timeout=httpx.Timeout(5.0, read=None)
            ) as answer:
                if answer.status_code != 200:
                    raise AgentUnavailable(
                        f"probe agent at {self.address} answered {answer.status_code}"
                    )
                async for line in answer.aiter_lines():
                    if not line.strip():
                        continue
                    if len(line) > MAX_LINE:
                        raise AgentUnavailable(f"probe agent at {self.address}: line too long")
                    item = json.loads(line)
                    if isinstance(item, dict):
                        yield item
        except (httpx.HTTPError, OSError, ValueError) as exc:
            raise AgentUnavailable(f"probe agent at {self.address}: {exc}") from exc
        raise AgentUnavailable(f"probe agent at {self.address}: the stream ended")

    async def aclose(self) -> None:
        await self._client.aclose()
