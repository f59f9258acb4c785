"""Every request gets an id and leaves one access line and one latency observation.

The id is the client's ``X-Request-Id`` when it is a sane one (logs.request_id), else
a new one; it is bound to the log context for the request's whole life (its endpoint's
worker thread and its tasks inherit it), and answered in ``X-Request-Id``. When the
answer is sent, one line goes to the ``sdwan.access`` logger: method, the route's
template (never the query string, so no query secret), status, duration and who
called (the principal's name, never a credential), and the duration goes to
``sdwan_http_request_duration_seconds`` by method, route and status class."""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sdwan import logs
from sdwan.auth.principal import Principal
from sdwan.metrics import observe_http

log = logging.getLogger("sdwan.access")
HEADER = b"x-request-id"
UNMATCHED = "unmatched"  # no route: the path itself is not a label (unbounded)


class _Caller:
    __slots__ = ("principal",)

    def __init__(self) -> None:
        self.principal: Principal | None = None


_caller: ContextVar[_Caller | None] = ContextVar("sdwan_access_caller", default=None)


def note_principal(principal: Principal) -> None:
    """Who is calling, for the access line (called once authentication succeeded)."""
    caller = _caller.get()
    if caller is not None:
        caller.principal = principal


def route_of(scope: Scope) -> str:
    """The matched route's template (``/v1/routers/{router_id}``), else ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        offered = None
        for name, value in scope.get("headers") or ():
            if name == HEADER:
                offered = value.decode("latin-1")
                break
        rid = logs.request_id(offered)
        status = 500  # unless an answer starts
        caller = _Caller()
        caller_token = _caller.set(caller)
        log_token = logs.bind(request_id=rid)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            method = scope.get("method", "")
            route = route_of(scope)
            observe_http(method, route, status, seconds)
            _access_line(method, route, status, seconds, caller.principal, scope)
            logs.unbind(log_token)
            _caller.reset(caller_token)


def _access_line(
    method: str,
    route: str,
    status: int,
    seconds: float,
    principal: Principal | None,
    scope: Scope,
) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    fields: dict[str, Any] = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
    }
    client = scope.get("client")
    if client:
        fields["client"] = client[0]
    who = ""
    if principal is not None:
        fields["principal"] = principal.name
        if principal.project_id is not None:
            fields["project"] = principal.project_id
        who = f" by {principal.name}"
    log.info(
        "%s %s %d %.1f ms%s", method, route, status, seconds * 1000, who, extra={"fields": fields}
    )
