"""Strict-Transport-Security on every answer when the server speaks HTTPS itself
(SDWAN_TLS_CERT): a browser that saw it once never talks to this host over plain HTTP
again for a year, so a network attacker cannot strip TLS from the dashboard's next
visit. Behind a TLS-terminating proxy, the proxy sets it."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = (b"strict-transport-security", b"max-age=31536000")  # one year


class StrictTransportSecurity:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), HSTS]
            await send(message)

        await self.app(scope, receive, send_with_hsts)
