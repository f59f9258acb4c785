"""Webhooks, pure parts: the signature and how a receiver verifies it (old timestamps
refused), the retry schedule, filters, the native and Alertmanager bodies, URLs, and
the allowlists applied to every address a host name resolves to."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from typing import Any

import pytest

from sdwan.domain.api_address import IpAddress
from sdwan.domain.webhook_url import parse_webhook_allowlist, parse_webhook_url
from sdwan.domain.webhooks import (
    FOREVER,
    EventFilter,
    HookFormat,
    backoff,
    body_for,
    kinds_ok,
    sign,
    takes,
    verify,
)
from sdwan.errors import InvalidInput
from sdwan.service.webhook_addresses import WebhookAddressPolicy, check_webhook_allowlist

SECRET = "a-secret-of-the-hook-0123"
BODY = b'{"kind":"alert.firing"}'


def test_the_signature_is_an_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1700000000, BODY) == f"sha256={expected}"


def test_a_receiver_accepts_a_fresh_signature_and_refuses_replays_and_tampering() -> None:
    signature = sign(SECRET, 1700000000, BODY)

    def check(
        secret: str = SECRET,
        timestamp: str = "1700000000",
        body: bytes = BODY,
        now: int = 1700000010,
    ) -> bool:
        return verify(secret, timestamp=timestamp, signature=signature, body=body, now=now)

    assert check()
    assert not check(now=1700000000 + 301)  # replayed later
    assert not check(now=1700000000 - 301)  # from the future
    assert not check(secret="another-secret-0123456")
    assert not check(body=BODY + b" ")
    assert not check(timestamp="1700000001")
    assert not check(timestamp="-5")


def test_retries_back_off_doubling_up_to_the_cap() -> None:
    assert [backoff(n, initial=1, cap=30) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff(10_000, initial=1, cap=300) == 300


EVENT: dict[str, Any] = {
    "id": 42,
    "time": "2026-12-01T12:00:00+00:00",
    "kind": "alert.firing",
    "resource_type": "alert",
    "resource_id": "a1",
    "router_name": "r1",
    "project_id": "default",
    "message": "[critical] down: session r1/192.0.2.1 is ACTIVE",
    "data": {
        "severity": "critical",
        "rule_name": "down",
        "labels": {"alertname": "down", "severity": "critical", "router": "r1"},
        "detail": "session r1/192.0.2.1 is ACTIVE",
        "fired_at": "2026-12-01T12:00:00+00:00",
        "resolved_at": None,
    },
}
SESSION = {**EVENT, "kind": "session.changed", "resource_type": "neighbor", "data": {}}


def test_filters_take_what_every_list_they_set_matches() -> None:
    everything = EventFilter()
    assert everything.matches(EVENT) and everything.matches(SESSION)
    alerts = EventFilter(kinds=("alert.*",))
    assert alerts.matches(EVENT) and not alerts.matches(SESSION)
    assert EventFilter(kinds=("session.changed",)).matches(SESSION)
    critical = EventFilter(severities=("critical",))
    assert critical.matches(EVENT) and not critical.matches(SESSION)  # alerts only
    assert not EventFilter(severities=("info",)).matches(EVENT)
    assert EventFilter(rules=("down",)).matches(EVENT)
    assert not EventFilter(rules=("other",)).matches(EVENT)
    assert not EventFilter(resource_types=("neighbor",)).matches(EVENT)
    assert not takes(HookFormat.ALERTMANAGER, everything, SESSION)
    assert takes(HookFormat.ALERTMANAGER, everything, EVENT)
    assert kinds_ok(["alert.*", "*", "session.changed"]) is None
    assert kinds_ok(["alert.*", "bad kind"]) == "bad kind"


def test_the_native_body_is_the_event_with_the_hooks_name() -> None:
    body = json.loads(body_for(HookFormat.NATIVE, EVENT, "pager", "http://sdwan:9998"))
    assert body["id"] == 42 and body["kind"] == "alert.firing" and body["webhook"] == "pager"
    assert body["data"]["labels"]["router"] == "r1" and body["project"] == "default"


def test_the_alertmanager_body_has_the_webhook_payload_v4_shape() -> None:
    body = json.loads(body_for(HookFormat.ALERTMANAGER, EVENT, "pager", "http://sdwan:9998"))
    assert set(body) == {
        "version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
        "commonLabels", "commonAnnotations", "externalURL", "alerts",
    }  # fmt: skip
    assert body["version"] == "4" and body["status"] == "firing" and body["receiver"] == "pager"
    assert body["groupLabels"] == {"alertname": "down"} and body["truncatedAlerts"] == 0
    assert body["groupKey"] == '{}:{alertname="down"}'
    (alert,) = body["alerts"]
    assert set(alert) == {
        "status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint",
    }  # fmt: skip
    assert alert["endsAt"] == FOREVER and alert["labels"]["severity"] == "critical"
    assert alert["generatorURL"] == "http://sdwan:9998/v1/alerts/a1"
    assert len(alert["fingerprint"]) == 16
    resolved = {
        **EVENT,
        "kind": "alert.resolved",
        "data": {**EVENT["data"], "resolved_at": "2026-12-01T12:05:00+00:00"},
    }
    after = json.loads(body_for(HookFormat.ALERTMANAGER, resolved, "pager", "http://x"))
    assert after["status"] == "resolved"
    assert after["alerts"][0]["endsAt"] == "2026-12-01T12:05:00+00:00"
    assert after["alerts"][0]["fingerprint"] == alert["fingerprint"]  # the same alert


def test_urls_are_parsed_into_one_spelling() -> None:
    url = parse_webhook_url("HTTPS://Hooks.Example.:443/in?x=1")
    assert url.text == "https://hooks.example/in?x=1" and url.port == 443 and url.ip is None
    assert url.host_header == "hooks.example"
    assert url.at(ipaddress.ip_address("192.0.2.7")) == "https://192.0.2.7:443/in?x=1"
    v6 = parse_webhook_url("http://[::1]:8080")
    assert v6.text == "http://[::1]:8080/" and v6.host_header == "[::1]:8080"
    assert parse_webhook_url("http://[::ffff:127.0.0.1]:9/").host == "127.0.0.1"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("ftp://x/", "http"),
        ("http://user:pw@127.0.0.1/", "no user"),
        ("http://127.0.0.1/#frag", "fragment"),
        ("http:///path", "no host"),
        ("http://127.0.0.1:99999/", "not a URL"),
        ("http://bad_host/", "not a host"),
        ("http://127.0.0.1/a b", "spaces"),
        ("http://x/" + "a" * 2048, "2048"),
    ],
)
def test_malformed_urls_say_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_webhook_url(text)


def _resolver(table: dict[str, list[str]]) -> Any:
    def resolve(host: str, _port: int) -> list[IpAddress]:
        if host not in table:
            raise OSError(-2, "Name or service not known")
        return [ipaddress.ip_address(a) for a in table[host]]

    return resolve


def test_the_allowlists_apply_to_every_address_a_name_resolves_to() -> None:
    names = {
        "local.test": ["127.0.0.1", "::1"],
        "rebound.test": ["127.0.0.1", "192.0.2.10"],  # one address outside the list
    }
    policy = WebhookAddressPolicy(resolver=_resolver(names))  # default: this host only
    url = policy.check("http://local.test:8080/x", None, project="p", field="url")
    assert url.text == "http://local.test:8080/x"
    with pytest.raises(InvalidInput, match=r"192\.0\.2\.10 is not among the server's") as refused:
        policy.check("http://rebound.test/x", None, project="p", field="url")
    assert refused.value.field == "url"
    with pytest.raises(InvalidInput, match="cannot resolve"):
        policy.check("http://nowhere.test/x", None, project="p", field="url")
    # a project's own list narrows the server's: both must allow
    with pytest.raises(InvalidInput, match="project p's"):
        policy.check("http://127.0.0.1/x", ["192.0.2.0/24"], project="p", field="url")
    wide = WebhookAddressPolicy(["*"], resolver=_resolver(names))
    assert wide.refusal([ipaddress.ip_address("192.0.2.10")], ["192.0.2.0/24"], "p") is None
    assert wide.refusal([], None, "p") is not None  # no address: nothing to allow


def test_webhook_allowlists_take_networks_not_sockets() -> None:
    assert check_webhook_allowlist(["192.0.2.1", "*"], field="w") == ["192.0.2.1/32", "*"]
    with pytest.raises(InvalidInput) as bad:
        check_webhook_allowlist(["127.0.0.0/8", "unix:/run/"], field="webhook_allow")
    assert bad.value.field == "webhook_allow[1]"
    with pytest.raises(ValueError, match="not sockets"):
        parse_webhook_allowlist(["unix:/run/"])
