"""What the alert controller and the webhook dispatcher share: one thread running one
asyncio loop, woken by the event log, that works only while this replica leads its job
(store/leader.py: on PostgreSQL one replica at a time) and outlives a database outage.

A subclass says what one round does (``round``: returns how long to wait for an event
before the next), what to do when it takes or loses the lead, and what a wake-up by an
event costs before the next round (``woken``)."""

from __future__ import annotations

import asyncio
import logging
import threading

from sdwan.events.log import EventLog, Subscription
from sdwan.store.availability import describe, is_unavailable
from sdwan.store.leader import Leader
from sdwan.threadnames import name_this_thread

log = logging.getLogger(__name__)
STANDBY = 2.0  # seconds between asking for the lead while another replica has it
OUTAGE_RETRY = 1.0  # seconds between rounds while the database does not answer


class LeaderLoop:
    thread_name: str  # "alerts": the thread's name, as `top -H` shows it
    job: str  # "alert evaluation": what the logs call it

    def __init__(self, events: EventLog, leader: Leader) -> None:
        self._events = events
        self._leader = leader
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._subscription: Subscription | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._subscription is not None:
            self._subscription.wake()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._leader.release()

    def _run(self) -> None:
        name_this_thread()
        asyncio.run(self._main())

    async def _main(self) -> None:
        subscription = self._events.subscribe(asyncio.get_running_loop())
        self._subscription = subscription
        leading = False
        try:
            while not self._stopping.is_set():
                try:
                    if not await self.leads():
                        if leading:
                            await self.lost_lead()
                        leading = False
                        await subscription.wait(STANDBY)
                        continue
                    if not leading:
                        leading = True
                        self.took_lead()
                    wait = await self.round()
                except Exception as exc:  # the thread outlives a database outage
                    if not is_unavailable(exc):
                        log.exception("%s failed", self.job)
                    else:
                        log.warning("%s waits for the database: %s", self.job, describe(exc))
                    await subscription.wait(OUTAGE_RETRY)
                    continue
                if await subscription.wait(wait):
                    await self.woken()
        finally:
            subscription.close()
            await self.finish()

    async def leads(self) -> bool:
        return self._leader.leads()

    def took_lead(self) -> None:
        """This replica just took the lead (or the process started)."""

    async def lost_lead(self) -> None:
        """Another replica leads now."""

    async def woken(self) -> None:
        """An event came: what to do before the next round."""

    async def finish(self) -> None:
        """The loop ends: what must end with it."""

    async def round(self) -> float:
        """One round of the job; the seconds to wait for an event before the next."""
        raise NotImplementedError
