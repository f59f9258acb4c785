"""One probe agent followed from the quality controller's loop: make its configuration
the desired one (``GET /config``'s generation compared at every connect, ``PUT /config``
when it differs, and at once when the desired one changes), then read its quality
stream line by line; reconnect with backoff when it breaks or falls silent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from sdwan.probe.client import ProbeClient, ProbeClientError
from sdwan.quality.inputs import Agent

__all__ = ["AgentLink", "LinkOwner"]

log = logging.getLogger(__name__)
BACKOFF_INITIAL = 0.05  # a restarted agent is found again within a second
BACKOFF_MAX = 5.0  # one that stays away costs an attempt every 5 s
SILENCE = 10.0  # no line (a summary comes every second) for this long: reconnect


class LinkOwner(Protocol):
    """The controller's side: called on the loop, must not block."""

    def line(self, link: AgentLink, line: dict[str, Any]) -> None: ...
    def connected(self, link: AgentLink, reconnect: bool) -> None: ...
    def broke(self, link: AgentLink, why: str) -> None: ...


class AgentLink:
    def __init__(
        self, owner: LinkOwner, agent: Agent, desired: dict[str, Any], *, timeout: float = 2.0
    ) -> None:
        self.owner = owner
        self.agent = agent
        self.desired = desired
        self.connected = False
        self.last_error = ""
        self._timeout = timeout
        self._held: int | None = None  # the generation the agent holds, as last seen
        self._push: asyncio.Task[None] | None = None
        self.task = asyncio.get_running_loop().create_task(self._run())

    def configure(self, desired: dict[str, Any]) -> None:
        """A new desired configuration: pushed at once while connected, else at the
        next connect."""
        self.desired = desired
        idle = self._push is None or self._push.done()
        if self.connected and self._held != desired["generation"] and idle:
            self._push = asyncio.get_running_loop().create_task(self._quiet_ensure())

    async def stop(self) -> None:
        for task in (self.task, self._push):
            if task is not None:
                task.cancel()
        await asyncio.gather(
            self.task, *([self._push] if self._push else []), return_exceptions=True
        )

    def _client(self) -> ProbeClient:
        return ProbeClient(self.agent.address, timeout=self._timeout)

    async def _ensure(self) -> None:
        """Make the agent hold the desired configuration (until it does, or refuses);
        a change of the desired one meanwhile is pushed too."""
        while True:
            wanted = self.desired
            if self._held is None:
                held = await self._client().config()
                self._held = held.get("generation")
            if self._held == wanted["generation"]:
                return
            try:
                await self._client().put_config(wanted)
            except ProbeClientError as exc:
                if exc.status == 0:
                    raise
                log.warning("probe agent %s refused its configuration: %s", self.agent.address, exc)
                return  # a refusal will not change until the configuration does
            self._held = wanted["generation"]

    async def _run(self) -> None:
        backoff = 0.0
        ever = False
        while True:
            self._held = None
            try:
                await self._ensure()
                async for line in self._client().stream(timeout=SILENCE):
                    if not self.connected:
                        self.connected, backoff = True, 0.0
                        self.owner.connected(self, ever)
                        ever = True
                        self.configure(self.desired)  # changed while it connected?
                    self.owner.line(self, line)
            except (ProbeClientError, TimeoutError) as exc:
                self.last_error = str(exc) or f"no line for {SILENCE:g} s"
                if self.connected:
                    self.owner.broke(self, self.last_error)
                log.debug("probe agent %s: %s", self.agent.address, self.last_error)
            finally:
                self.connected = False
            backoff = min(max(backoff * 2, BACKOFF_INITIAL), BACKOFF_MAX)
            await asyncio.sleep(backoff)

    async def _quiet_ensure(self) -> None:
        with contextlib.suppress(ProbeClientError):  # the stream finds a lost agent
            await self._ensure()
