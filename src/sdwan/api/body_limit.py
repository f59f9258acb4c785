"""A limit on request bodies, checked before anything reads or parses them (and so
before authentication): a declared Content-Length over the limit, or a body that
grows past it, is answered 413 with the JSON error body."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sdwan.api.errors import error_body


def _replay(chunks: list[bytes], first: Message | None, receive: Receive) -> Receive:
    """A receive that hands the buffered body over in one message (or the non-body
    message that came instead), then passes through (a disconnect, later)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        if first is not None:
            return first
        return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

    return replay


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            text = declared.decode("latin-1").strip()
            if not (text.isascii() and text.isdigit()):
                await _answer(send, 400, "bad_request", "Content-Length: not a number")
                return
            if int(text) > self.max_bytes:
                await _answer(send, 413, "too_large", self._message())
                return
            await self.app(scope, receive, send)  # the server holds it to its length
            return
        # no Content-Length (chunked): read it here, up to the limit, then hand it on
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay(chunks, message, receive), send)
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await _answer(send, 413, "too_large", self._message())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(chunks, None, receive), send)

    def _message(self) -> str:
        return f"request body larger than {self.max_bytes} bytes (SDWAN_MAX_BODY_BYTES)"


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    body: Any = json.dumps(error_body(status, code, message, field="body")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
