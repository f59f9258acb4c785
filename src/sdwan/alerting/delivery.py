"""One HTTP POST of one webhook delivery, on the dispatcher's event loop.

The hook's host is resolved now and every address it resolves to is checked against
the allowlists (a name that was allowed when the hook was made may point elsewhere
since); the request goes to the first address checked, with the host name in the
Host header and TLS's server name, so no second resolution happens. Redirects are not
followed, proxies from the environment are not used, a receiver's answer is read up to
a short excerpt, and the whole attempt (connect, send, answer) has one deadline."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

from sdwan import __version__
from sdwan.domain.api_address import IpAddress, canonical_ip
from sdwan.domain.webhook_url import WebhookUrl
from sdwan.domain.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    excerpt,
    sign,
)

EXCERPT_BYTES = 256
AsyncResolver = Callable[[str, int], Awaitable[list[IpAddress]]]
Refusal = Callable[[Sequence[IpAddress]], str | None]  # why these addresses may not be used


@dataclass(frozen=True)
class Attempt:
    """What one attempt came to."""

    ok: bool
    status_code: int | None
    error: str
    duration_ms: float
    response: str = ""


async def system_resolve(host: str, port: int) -> list[IpAddress]:
    loop = asyncio.get_running_loop()
    answers = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IpAddress] = []
    for answer in answers:
        address = canonical_ip(ipaddress.ip_address(answer[4][0]))
        if address not in found:
            found.append(address)
    return found


def new_client(timeout: float) -> httpx.AsyncClient:
    """No redirects followed, no proxies or settings from the environment, no
    connections kept (each delivery connects to the address it checked)."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_keepalive_connections=0),
    )


async def post(
    client: httpx.AsyncClient,
    url: WebhookUrl,
    *,
    body: bytes,
    secret: str,
    event_id: int,
    delivery: int,
    timeout: float,
    refusal: Refusal,
    resolve: AsyncResolver = system_resolve,
) -> Attempt:
    started = time.monotonic()

    def took() -> float:
        return round((time.monotonic() - started) * 1000, 1)

    try:
        async with asyncio.timeout(timeout):
            addresses = [url.ip] if url.ip is not None else await resolve(url.host, url.port)
            why = refusal(addresses)
            if why is not None:
                return Attempt(False, None, f"refused: {why}", took())
            stamp = int(time.time())
            headers = {
                "Host": url.host_header,
                "Content-Type": "application/json",
                "User-Agent": f"sdwan/{__version__}",
                SIGNATURE_HEADER: sign(secret, stamp, body),
                TIMESTAMP_HEADER: str(stamp),
                EVENT_HEADER: str(event_id),
                DELIVERY_HEADER: str(delivery),
            }
            extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
            request = client.build_request(
                "POST",
                url.at(addresses[0]),
                content=body,
                headers=headers,
                extensions=extensions,
            )
            response = await client.send(request, stream=True)
            try:
                start = b""
                async for chunk in response.aiter_raw():
                    start += chunk
                    if len(start) >= EXCERPT_BYTES:
                        break
            finally:
                await response.aclose()
    except TimeoutError:
        return Attempt(False, None, f"no answer within {timeout:g} s", took())
    except OSError as exc:  # the name does not resolve
        return Attempt(False, None, f"cannot resolve {url.host}: {exc.strerror or exc}", took())
    except httpx.HTTPError as exc:
        return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:500], took())
    status = response.status_code
    ok = 200 <= status < 300
    error = (
        ""
        if ok
        else f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
    )
    return Attempt(ok, status, error, took(), excerpt(start, EXCERPT_BYTES))
