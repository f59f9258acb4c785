"""/v1/events: the stored history as JSON, or a Server-Sent Events stream that
replays the history after ``since`` (or ``Last-Event-ID``) and then follows live."""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from sdwan.api.deps import PrincipalDep, ServicesDep, authenticate
from sdwan.api.limits import principal_key
from sdwan.auth.principal import Principal
from sdwan.errors import InvalidInput, SdwanError
from sdwan.service.live import LiveService
from sdwan.store.availability import is_unavailable

router = APIRouter(tags=["events"])
BATCH = 500
MAX_EVENT_ID = 2**63 - 1  # the largest id the store can hold
OUTAGE_RETRY = 1.0  # seconds between reads while the database is away


def _cursor(since: int | None, last_event_id: str | None) -> int | None:
    if last_event_id is not None and last_event_id.strip():
        text = last_event_id.strip()
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_EVENT_ID:
            raise InvalidInput(
                f"Last-Event-ID: expected an event id, got {last_event_id!r}", field="Last-Event-ID"
            )
        return int(text)
    return since


def _frame(event: dict[str, Any]) -> str:
    return f"id: {event['id']}\nevent: {event['kind']}\ndata: {json.dumps(event)}\n\n"


Recheck = Callable[[], Awaitable[Principal]]


async def _still_allowed(recheck: Recheck, principal: Principal) -> bool:
    """The stream's credentials still valid, with the same role and project."""
    try:
        now = await recheck()
    except SdwanError:
        return False
    except SQLAlchemyError as exc:  # the database is away: checked again once it is back
        if is_unavailable(exc):
            return True
        raise
    return (now.role, now.project_id) == (principal.role, principal.project_id)


async def _stream(
    request: Request,
    live: LiveService,
    principal: Principal,
    cursor: int,
    filters: dict[str, str | None],
    recheck: Recheck,
    release: Callable[[], None],
) -> AsyncIterator[str]:
    """Replay, then follow. The credentials are re-checked every keep-alive interval
    by the clock, whatever flows (events of other projects wake the stream without
    sending it anything): a revoked, expired or demoted token's stream ends within one
    interval (the client may reconnect with what it has now). The stream also ends
    after SDWAN_SSE_MAX_AGE seconds, if set."""
    settings = request.app.state.settings
    keepalive, max_age = settings.sse_keepalive, settings.sse_max_age
    ends = time.monotonic() + max_age if max_age > 0 else None
    checked = time.monotonic()
    subscription = live.events_log.subscribe(asyncio.get_running_loop())
    try:
        yield ": sdwan events\n\n"
        while True:
            try:
                batch = await run_in_threadpool(
                    live.events, principal, since=cursor, limit=BATCH, **filters
                )
            except SQLAlchemyError as exc:
                if not is_unavailable(exc):
                    raise
                # PostgreSQL restarting: the stream stays open and resumes where it was
                yield ": the database is unavailable; waiting\n\n"
                await subscription.wait(OUTAGE_RETRY)
                continue
            for event in batch:
                cursor = event["id"]
                yield _frame(event)
            if time.monotonic() - checked >= keepalive:
                if not await _still_allowed(recheck, principal):
                    yield ": credentials no longer valid\n\n"
                    return
                checked = time.monotonic()
            if len(batch) == BATCH:
                continue
            if await request.is_disconnected():
                return
            now = time.monotonic()
            if ends is not None and now >= ends:
                yield ": stream lifetime reached; reconnect with Last-Event-ID\n\n"
                return
            wait = max(0.0, checked + keepalive - now)
            if ends is not None:
                wait = min(wait, ends - now)
            if not await subscription.wait(wait):
                yield ": keep-alive\n\n"
    finally:
        subscription.close()
        release()


@router.get("/v1/events", response_model=None)
async def events(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    since: Annotated[
        int | None, Query(ge=0, le=MAX_EVENT_ID, description="replay events after this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    router: Annotated[str | None, Query(description="only this router (name)")] = None,
    kind: Annotated[str | None, Query(description="kind or kind prefix, e.g. session.")] = None,
    follow: Annotated[bool | None, Query(description="stream (also: Accept SSE)")] = None,
    accept: Annotated[str | None, Header()] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse | dict[str, Any]:
    """History (JSON: ``{"items": [...], "last_id": N}``, oldest first) or, with
    ``Accept: text/event-stream`` or ``follow=true``, a live SSE stream."""
    live = services.live
    cursor = _cursor(since, last_event_id)
    filters = {"router": router, "kind": kind}
    streaming = follow if follow is not None else "text/event-stream" in (accept or "")
    if not streaming:
        items = await run_in_threadpool(
            live.events, principal, since=cursor, limit=limit, **filters
        )
        last = items[-1]["id"] if items else await run_in_threadpool(live.last_event_id)
        return {"items": items, "last_id": last}
    if cursor is None:  # no replay asked: from now on
        cursor = await run_in_threadpool(live.last_event_id)
    release = request.app.state.limits.streams.take(principal_key(principal))
    authorization, x_auth_token = (
        request.headers.get("authorization"),
        request.headers.get("x-auth-token"),
    )

    def recheck() -> Awaitable[Principal]:
        return authenticate(request, services, authorization, x_auth_token)

    stream = _stream(request, live, principal, cursor, filters, recheck, release)
    weakref.finalize(stream, release)  # a stream never started still frees its slot
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
