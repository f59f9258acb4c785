"""Limits on what one caller can hold at once, so that nobody exhausts the worker
threads authentication needs: logins (each a 128 MiB scrypt hash), reads of routers
(a RIB page, an intent plan: gobgpd streams each), dry runs (each a private copy of
the desired state on SQLite), event streams. Everything here runs on the event loop,
so plain counters suffice; a full limit answers 429 with Retry-After."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from sdwan.auth.principal import Principal
from sdwan.errors import TooManyRequests

T = TypeVar("T")


def principal_key(principal: Principal) -> str:
    """One user, one key (all its tokens together); else the token, else the name."""
    if principal.user_id is not None:
        return f"user:{principal.user_id}"
    if principal.token_id is not None:
        return f"token:{principal.token_id}"
    return f"name:{principal.name}"


class KeyedSlots:
    """At most ``per_key`` held at once per key, at most ``total`` in all."""

    def __init__(self, what: str, *, per_key: int, total: int, retry_after: int = 1) -> None:
        self.what, self.per_key, self.total, self.retry_after = what, per_key, total, retry_after
        self._held: dict[str, int] = {}

    def take(self, key: str) -> Callable[[], None]:
        """A slot for ``key`` (429 when none is free); returns its release, which is
        safe to call more than once."""
        if self._held.get(key, 0) >= self.per_key:
            raise TooManyRequests(
                f"at most {self.per_key} {self.what} at once per caller",
                retry_after=self.retry_after,
            )
        if sum(self._held.values()) >= self.total:
            raise TooManyRequests(
                f"the server is busy with {self.total} {self.what}; try again",
                retry_after=self.retry_after,
            )
        self._held[key] = self._held.get(key, 0) + 1
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            left = self._held.get(key, 1) - 1
            if left > 0:
                self._held[key] = left
            else:
                self._held.pop(key, None)

        return release

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        release = self.take(key)
        try:
            yield
        finally:
            release()

    def held(self, key: str) -> int:
        return self._held.get(key, 0)


class Queue:
    """At most ``size`` at once; up to ``waiting`` more wait their turn, the rest 429."""

    def __init__(self, what: str, *, size: int, waiting: int) -> None:
        self.what = what
        self._semaphore = asyncio.Semaphore(size)
        self._room = waiting
        self._waiting = 0

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        if self._semaphore.locked() and self._waiting >= self._room:
            raise TooManyRequests(f"too many {self.what} in progress; try again", retry_after=1)
        self._waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._semaphore.release()


@dataclass
class Limits:
    logins: Queue
    rib: KeyedSlots
    streams: KeyedSlots
    dry_runs: KeyedSlots

    @classmethod
    def build(cls, *, rib_per_caller: int, streams_per_caller: int) -> Limits:
        return cls(
            logins=Queue("logins", size=2, waiting=64),
            rib=KeyedSlots("reads of routers (RIB pages, plans)", per_key=rib_per_caller, total=8),
            streams=KeyedSlots("event streams", per_key=streams_per_caller, total=256),
            dry_runs=KeyedSlots("dry runs (plans)", per_key=1, total=4),
        )


async def limited(
    request: Request,
    principal: Principal,
    call: Callable[[], T],
    *,
    reads_routers: bool = True,
    dry_run: bool = False,
) -> T:
    """``call`` in a worker thread once the caller holds a slot for reading routers
    (SDWAN_RIB_CONCURRENCY) and, for a dry run, one for that: no worker thread is taken
    while the server is full (429 instead)."""
    limits: Limits = request.app.state.limits
    key = principal_key(principal)
    async with AsyncExitStack() as held:
        if dry_run:
            await held.enter_async_context(limits.dry_runs.hold(key))
        if reads_routers:
            await held.enter_async_context(limits.rib.hold(key))
        return await run_in_threadpool(call)
