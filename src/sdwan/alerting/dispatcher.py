"""The webhook dispatcher: one thread with one asyncio loop that queues the events
each hook takes and delivers them, at least once and in order per hook.

Queueing: it follows the event log from a cursor kept in the store; the deliveries of
a batch of events (their bodies built once, the exact bytes that will be signed) and
the cursor move in one transaction, so a restart neither loses nor repeats one.

Delivery: a task per hook with deliveries waiting takes its oldest, posts it
(alerting/delivery.py, one deadline per attempt) and, on a 2xx answer, removes it;
otherwise it retries the same delivery after a backoff (doubling to a cap), so later
ones wait behind it: in order. A receiver that hangs holds its own task only: other
hooks' tasks and the API (other threads) go on. Each attempt is logged with its
status or error and duration; a queue is bounded (the oldest beyond ``max_queue`` or
``max_age`` are dropped, logged as such).

Replicas on PostgreSQL: one replica delivers at a time (``leader``)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from sqlalchemy import Engine

from sdwan.alerting.background import OUTAGE_RETRY, LeaderLoop
from sdwan.alerting.delivery import (
    AsyncResolver,
    Attempt,
    new_client,
    post,
    system_resolve,
)
from sdwan.domain.webhook_url import parse_webhook_url
from sdwan.domain.webhooks import EventFilter, HookFormat, backoff, body_for, takes
from sdwan.events.log import EventLog
from sdwan.secretbox import SecretBox
from sdwan.service.webhook_addresses import WebhookAddressPolicy
from sdwan.store import identity_repo, live_repo, repo, webhook_repo
from sdwan.store.availability import describe, is_unavailable
from sdwan.store.leader import Leader
from sdwan.store.webhook_repo import OutboxItem, WebhookRecord

log = logging.getLogger(__name__)
T = TypeVar("T")
KEEP_DELIVERIES = 1000  # log entries kept per hook...
KEEP_DELIVERIES_AGE = timedelta(days=7)  # ...none older than this
_BATCH = 500  # events queued per transaction
_PRUNE_EVERY = 60.0


@dataclass(frozen=True)
class DeliveryLimits:
    timeout: float = 10.0  # seconds one attempt may take
    backoff_initial: float = 1.0
    backoff_max: float = 300.0
    max_queue: int = 10_000  # deliveries waiting per hook
    max_age: timedelta = timedelta(hours=24)  # a delivery not made by then is dropped
    concurrency: int = 64  # attempts in flight at once, all hooks together


@dataclass(frozen=True)
class _Next:
    """A hook's next delivery, with what posting it needs."""

    hook: WebhookRecord
    item: OutboxItem
    project_allow: list[str] | None


class WebhookDispatcher(LeaderLoop):
    thread_name = "webhooks"
    job = "webhook queueing"

    def __init__(
        self,
        *,
        engine: Engine,
        events: EventLog,
        secrets: SecretBox,
        addresses: WebhookAddressPolicy,
        leader: Leader,
        external_url: str,
        limits: DeliveryLimits | None = None,
        resolve: AsyncResolver = system_resolve,
    ) -> None:
        super().__init__(events, leader)
        self._engine = engine
        self._secrets = secrets
        self._addresses = addresses
        self._external_url = external_url
        self.limits = limits or DeliveryLimits()
        self._resolve = resolve
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._kicks: dict[str, asyncio.Event] = {}
        self._store = ThreadPoolExecutor(max_workers=2, thread_name_prefix="webhook-db")
        self._slots = asyncio.Semaphore(self.limits.concurrency)
        self._client: httpx.AsyncClient | None = None  # made on the loop that uses it
        self._next_prune = 0.0

    def stop(self) -> None:
        super().stop()
        self._store.shutdown(wait=True)

    async def _db(self, call: Callable[[], T]) -> T:
        """A store call off the loop (two threads for every hook together)."""
        return await asyncio.get_running_loop().run_in_executor(self._store, call)

    # --- the loop (alerting/background.py) -------------------------------------

    async def leads(self) -> bool:
        return await self._db(self._leader.leads)

    async def lost_lead(self) -> None:
        self._cancel_all()

    async def round(self) -> float:
        """Queue what new events bring, start a task for each hook with deliveries
        waiting; at once again while events are left to read."""
        more, kicked = await self._db(self.queue_new)
        for hook_id in kicked:
            if hook_id in self._kicks:
                self._kicks[hook_id].set()
        for hook_id in await self._db(self._hooks_waiting):
            self._ensure_task(hook_id)
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + _PRUNE_EVERY
            await self._db(self.prune)
        return 0.0 if more else 1.0

    async def finish(self) -> None:
        self._cancel_all()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    # --- queueing --------------------------------------------------------------

    def queue_new(self) -> tuple[bool, set[str]]:
        """Queue the deliveries of the events after the cursor (one batch, one
        transaction). Returns whether more events wait, and the hooks that were
        changed (their tasks look again at once)."""
        with self._engine.begin() as conn:
            cursor = webhook_repo.get_cursor(conn)
            if cursor is None:  # the first start: from the present on
                webhook_repo.set_cursor(conn, event_id=live_repo.last_event_id(conn))
                return False, set()
            found = live_repo.read_events(conn, since=cursor, limit=_BATCH)
            if not found:
                return False, set()
            hooks = webhook_repo.enabled_hooks(conn)
            rows: list[dict[str, Any]] = []
            kicked: set[str] = set()
            for event in found:
                if event["resource_type"] == "webhook":
                    kicked.add(str(event["resource_id"]))
                rows.extend(self._deliveries(event, hooks))
            webhook_repo.enqueue(conn, rows=rows)
            webhook_repo.set_cursor(conn, event_id=int(found[-1]["id"]))
            for hook_id in sorted({r["webhook_id"] for r in rows}):
                self._drop_overflow(conn, hook_id)
        return len(found) == _BATCH, kicked

    def _deliveries(self, event: Any, hooks: list[WebhookRecord]) -> list[dict[str, Any]]:
        rows = []
        for hook in hooks:
            if hook.project_id != event["project_id"] or event["id"] <= hook.start_event_id:
                continue
            hook_format = HookFormat(hook.format)
            if not takes(hook_format, EventFilter.of(hook.filter), event):
                continue
            rows.append(
                {
                    "webhook_id": hook.id,
                    "event_id": int(event["id"]),
                    "event_kind": str(event["kind"]),
                    "body": body_for(hook_format, event, hook.name, self._external_url),
                }
            )
        return rows

    def _drop_overflow(self, conn: Any, hook_id: str) -> None:
        limits = self.limits
        old = repo.now() - limits.max_age
        for item in webhook_repo.overflow(
            conn, webhook_id=hook_id, keep=limits.max_queue, older_than=old
        ):
            webhook_repo.done(conn, item_id=item.id)
            why = f"dropped: the queue holds at most {limits.max_queue} deliveries for at most "
            why += f"{limits.max_age.total_seconds():g} s"
            webhook_repo.log_delivery(conn, values=_entry(item, Attempt(False, None, why, 0.0)))
            log.warning("webhook %s: delivery of event %s %s", hook_id, item.event_id, why)

    def _hooks_waiting(self) -> list[str]:
        with self._engine.connect() as conn:
            waiting = webhook_repo.queued_hooks(conn)
            enabled = {h.id for h in webhook_repo.enabled_hooks(conn)}
        return sorted(h for h in waiting if h in enabled)

    def prune(self) -> int:
        with self._engine.begin() as conn:
            return webhook_repo.prune_deliveries(
                conn, keep=KEEP_DELIVERIES, older_than=repo.now() - KEEP_DELIVERIES_AGE
            )

    # --- one hook's deliveries -------------------------------------------------

    def _ensure_task(self, hook_id: str) -> None:
        task = self._tasks.get(hook_id)
        if task is not None and not task.done():
            return
        self._kicks.setdefault(hook_id, asyncio.Event())
        self._tasks[hook_id] = asyncio.create_task(self._drain(hook_id))

    def _cancel_all(self) -> None:
        for task in self._tasks.values():
            task.cancel()

    async def _drain(self, hook_id: str) -> None:
        """Deliver the hook's queue in order until it is empty (or the hook is gone).
        While the database does not answer it waits; another failure ends the task
        (logged), and the next round starts a new one."""
        kick = self._kicks[hook_id]
        while not self._stopping.is_set():
            kick.clear()
            try:
                following = await self._db(functools.partial(self._next, hook_id))
                if following is None:
                    return
                wait = (following.item.next_attempt_at - repo.now()).total_seconds()
                if wait > 0:
                    # a change of the hook (its URL fixed) ends the wait
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(kick.wait(), wait)
                    continue
                attempt = await self._attempt(following)
                await self._db(functools.partial(self._record, following, attempt))
            except Exception as exc:
                if not is_unavailable(exc):
                    log.exception("webhook %s: delivery failed", hook_id)
                    return
                log.warning("webhook %s waits for the database: %s", hook_id, describe(exc))
                await asyncio.sleep(OUTAGE_RETRY)

    def _next(self, hook_id: str) -> _Next | None:
        with self._engine.connect() as conn:
            hook = webhook_repo.get_hook(conn, webhook_id=hook_id)
            if hook is None or not hook.enabled:
                return None
            item = webhook_repo.head(conn, webhook_id=hook_id)
            if item is None:
                return None
            return _Next(hook, item, identity_repo.webhook_allowlist(conn, hook.project_id))

    async def _attempt(self, following: _Next) -> Attempt:
        hook, item = following.hook, following.item
        try:
            url = parse_webhook_url(hook.url)
            secret = self._secrets.open(hook.secret_sealed)
        except ValueError as exc:
            return Attempt(False, None, str(exc), 0.0)

        def refusal(addresses: Any) -> str | None:
            return self._addresses.refusal(addresses, following.project_allow, hook.project_id)

        if self._client is None:
            self._client = new_client(self.limits.timeout)
        async with self._slots:
            return await post(
                self._client,
                url,
                body=item.body,
                secret=secret,
                event_id=item.event_id,
                delivery=item.id,
                timeout=self.limits.timeout,
                refusal=refusal,
                resolve=self._resolve,
            )

    def _record(self, following: _Next, attempt: Attempt) -> None:
        item = following.item
        with self._engine.begin() as conn:
            webhook_repo.log_delivery(conn, values=_entry(item, attempt))
            if attempt.ok:
                webhook_repo.done(conn, item_id=item.id)
                return
            tries = item.attempts + 1
            delay = backoff(tries, initial=self.limits.backoff_initial, cap=self.limits.backoff_max)
            at = repo.now() + timedelta(seconds=delay)
            webhook_repo.retry_later(conn, item_id=item.id, attempts=tries, at=at)
        log.info(
            "webhook %s: event %s not delivered (%s); attempt %d again in %g s",
            following.hook.name,
            item.event_id,
            attempt.error,
            tries + 1,
            delay,
        )


def _entry(item: OutboxItem, attempt: Attempt) -> dict[str, Any]:
    if attempt.ok:
        outcome = "delivered"
    else:
        outcome = "dropped" if attempt.error.startswith("dropped") else "failed"
    return {
        "webhook_id": item.webhook_id,
        "delivery": item.id,
        "event_id": item.event_id,
        "event_kind": item.event_kind,
        "at": repo.now(),
        "attempt": item.attempts + 1,
        "outcome": outcome,
        "status_code": attempt.status_code,
        "error": attempt.error[:1000],
        "duration_ms": attempt.duration_ms,
        "response": attempt.response,
    }
