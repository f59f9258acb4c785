"""``X-Sdwan-Rollout: ID`` on a successful answer to a write that asked for a
confirmation (X-Sdwan-Confirm-Within): the rollout awaiting it, to confirm with
``POST /v1/rollouts/{id}/confirm``. The write records the id in a list this middleware
sets for the request (``revision_log.made_rollouts``; the endpoint's worker thread
inherits the context, so it appends to the same list)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sdwan.service.revision_log import made_rollouts

HEADER = b"x-sdwan-rollout"


class RolloutHeader:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        made: list[int] = []
        token = made_rollouts.set(made)

        async def send_with_rollout(message: Message) -> None:
            if message["type"] == "http.response.start" and made and message["status"] < 400:
                rollout = str(made[-1]).encode()
                message["headers"] = [*message.get("headers", []), (HEADER, rollout)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_rollout)
        finally:
            made_rollouts.reset(token)
