"""One webhook delivery (alerting/delivery.py) against a real HTTP receiver on loopback:
it is signed, goes to the address that was checked (a name resolved to a forbidden
address gets no request at all), follows no redirect, keeps only the start of the
answer, and a receiver that never answers costs one deadline."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Sequence

from sdwan.alerting.delivery import Attempt, new_client, post
from sdwan.domain.api_address import IpAddress
from sdwan.domain.webhook_url import parse_webhook_url
from sdwan.lab.webhook_receiver import WebhookReceiver
from sdwan.service.webhook_addresses import WebhookAddressPolicy

SECRET = "delivery-secret-0123456789"
BODY = b'{"id": 1, "kind": "alert.firing"}'
LOOPBACK_ONLY = WebhookAddressPolicy()


def allowed(addresses: Sequence[IpAddress]) -> str | None:
    return LOOPBACK_ONLY.refusal(addresses, None, "default")


def deliver(url: str, *, resolves_to: str = "127.0.0.1", timeout: float = 5.0) -> Attempt:
    async def resolve(_host: str, _port: int) -> list[IpAddress]:
        return [ipaddress.ip_address(resolves_to)]

    async def once() -> Attempt:
        client = new_client(timeout)
        try:
            return await post(
                client,
                parse_webhook_url(url),
                body=BODY,
                secret=SECRET,
                event_id=1,
                delivery=7,
                timeout=timeout,
                refusal=allowed,
                resolve=resolve,
            )
        finally:
            await client.aclose()

    return asyncio.run(once())


def test_a_delivery_is_signed_and_sent_to_the_checked_address_with_its_host_name() -> None:
    with WebhookReceiver() as receiver:
        attempt = deliver(f"http://hooks.test:{receiver.port}/in?x=1")
        assert attempt.ok and attempt.status_code == 204 and attempt.error == ""
        (got,) = receiver.received
        assert got.path == "/in?x=1" and got.body == BODY
        assert got.headers["host"] == f"hooks.test:{receiver.port}"  # the name, not the IP
        assert got.headers["x-sdwan-delivery"] == "7" and got.signed_by(SECRET)


def test_a_name_resolving_to_a_forbidden_address_gets_no_request() -> None:
    with WebhookReceiver() as receiver:
        attempt = deliver(f"http://rebound.test:{receiver.port}/", resolves_to="192.0.2.10")
        assert not attempt.ok and attempt.status_code is None
        assert attempt.error.startswith("refused: 192.0.2.10 is not among")
        assert receiver.received == []


def test_redirects_are_not_followed_and_failures_keep_a_short_excerpt() -> None:
    with WebhookReceiver(status=302) as redirecting:
        attempt = deliver(redirecting.url())
        assert not attempt.ok and attempt.status_code == 302
        assert attempt.error == "HTTP 302 (redirects are not followed)"
        assert len(redirecting.received) == 1
    with WebhookReceiver(fail_first=1, fail_status=503) as failing:
        attempt = deliver(failing.url())
        assert (attempt.ok, attempt.status_code, attempt.response) == (False, 503, "ok")


def test_a_receiver_that_never_answers_costs_one_deadline() -> None:
    with WebhookReceiver(hang=True) as stuck:
        started = time.monotonic()
        attempt = deliver(stuck.url(), timeout=0.5)
        took = time.monotonic() - started
        assert not attempt.ok and attempt.error == "no answer within 0.5 s"
        assert len(stuck.received) == 1 and took < 5.0


def test_nobody_listening_is_a_failed_attempt() -> None:
    with WebhookReceiver() as receiver:
        port = receiver.port
    attempt = deliver(f"http://127.0.0.1:{port}/")
    assert not attempt.ok and attempt.status_code is None and "ConnectError" in attempt.error
