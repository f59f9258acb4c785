"""Webhooks from a real `sdwan serve` to real HTTP receivers on loopback started by
the test: deliveries signed and in order; a receiver that fails and then recovers
gets every event once, in order; one that hangs delays neither another hook nor the
API (nor does one that fails or one that is slow); deliveries accepted before the
server is killed are made after it starts again, in order.

The events are site creations (one ``resource.created`` each, in the order the API
accepted them), so every test knows exactly what each hook must get."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from sdwan.domain.webhooks import DELIVERY_HEADER, EVENT_HEADER
from sdwan.lab import wait_for
from sdwan.lab.server_process import OrchestratorProcess, free_port
from sdwan.lab.webhook_receiver import WebhookReceiver
from tests.support.backends import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS

SECRET = "webhook-secret-of-the-test-0123"
SITE_EVENTS = {"kinds": ["resource.created"], "resource_types": ["site"]}


def add_hook(api: httpx.Client, name: str, url: str, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "url": url, "secret": SECRET, "filter": SITE_EVENTS, **extra}
    made = api.post("/v1/webhooks", json=body)
    assert made.status_code == 201, made.text
    hook: dict[str, Any] = made.json()
    return hook


def add_sites(api: httpx.Client, prefix: str, count: int) -> tuple[list[str], list[float]]:
    """``count`` sites; their ids in creation order and each request's seconds."""
    ids, took = [], []
    for index in range(count):
        started = time.monotonic()
        made = api.post(
            "/v1/sites",
            json={"name": f"{prefix}{index}", "prefixes": [{"prefix": f"192.0.2.{index}/32"}]},
        )
        took.append(time.monotonic() - started)
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    return ids, took


def delivered(receiver: WebhookReceiver, count: int, timeout: float = 30.0) -> list[Any]:
    return wait_for(
        lambda: b if len(b := receiver.bodies()) >= count else None,
        timeout=timeout,
        what=f"{count} deliveries",
    )


def log_of(api: httpx.Client, hook: dict[str, Any]) -> list[dict[str, Any]]:
    """The hook's delivery log, oldest first."""
    page = api.get(f"/v1/webhooks/{hook['id']}/deliveries", params={"limit": 1000}).json()
    return list(reversed(page["items"]))


def test_deliveries_are_signed_and_in_order(orchestrator: OrchestratorProcess) -> None:
    with WebhookReceiver() as receiver, orchestrator.client() as api:
        hook = add_hook(api, "ordered", receiver.url())
        ids, _ = add_sites(api, "o", 12)
        bodies = delivered(receiver, 12)
        assert [b["resource_id"] for b in bodies] == ids  # in order, each once
        assert [b["webhook"] for b in bodies] == ["ordered"] * 12
        event_ids = [b["id"] for b in bodies]
        assert event_ids == sorted(event_ids)
        for got in receiver.delivered:
            assert got.signed_by(SECRET), got.headers
            assert not got.signed_by("another-secret-0123456789")
            assert got.headers[EVENT_HEADER.lower()] == str(got.json()["id"])
            assert got.headers["content-type"] == "application/json"
        assert len({g.headers[DELIVERY_HEADER.lower()] for g in receiver.delivered}) == 12
        log = wait_for(
            lambda: e if len(e := log_of(api, hook)) == 12 else None, timeout=10, what="the log"
        )
        assert [e["event_id"] for e in log] == event_ids
        assert {(e["outcome"], e["status_code"], e["attempt"]) for e in log} == {
            ("delivered", 204, 1)
        }
        assert api.get(f"/v1/webhooks/{hook['id']}").json()["pending"] == 0


def test_a_failing_receiver_gets_every_event_once_in_order(
    orchestrator: OrchestratorProcess,
) -> None:
    with WebhookReceiver(fail_first=2) as receiver, orchestrator.client() as api:
        hook = add_hook(api, "flaky", receiver.url())
        ids, _ = add_sites(api, "f", 5)
        bodies = delivered(receiver, 5)
        assert [b["resource_id"] for b in bodies] == ids
        assert len(receiver.received) == 7  # two refused, then each once
        first = [r.json()["resource_id"] for r in receiver.received[:3]]
        assert first == [ids[0]] * 3  # the same delivery retried; the others waited
        log = wait_for(
            lambda: e if len(e := log_of(api, hook)) == 7 else None, timeout=10, what="the log"
        )
        assert [(e["outcome"], e["status_code"], e["attempt"]) for e in log[:3]] == [
            ("failed", 500, 1),
            ("failed", 500, 2),
            ("delivered", 204, 3),
        ]
        assert log[0]["error"] == "HTTP 500" and log[0]["response"] == "ok"
        retried = receiver.received[1].at - receiver.received[0].at
        assert retried >= 0.9  # backed off (1 s, then 2 s)


def test_a_hanging_receiver_delays_no_other_hook_nor_the_api(
    tmp_path: Path, lab_environment: object, backend: str | None
) -> None:
    """Four hooks side by side: one whose receiver never answers, one whose receiver
    always fails, one that answers each request after 0.3 s, one healthy."""
    timeout = 10.0
    orch = OrchestratorProcess(
        tmp_path / "orch",
        database_url=backend,
        extra_env={"SDWAN_WEBHOOK_TIMEOUT": str(timeout)},
    )
    with (
        WebhookReceiver(hang=True) as stuck,
        WebhookReceiver(status=503) as failing,
        WebhookReceiver(delay=0.3) as slow,
        WebhookReceiver() as healthy,
        orch,
        orch.client() as api,
    ):
        add_hook(api, "stuck", stuck.url())
        add_hook(api, "failing", failing.url())
        add_hook(api, "slow", slow.url())
        add_hook(api, "healthy", healthy.url())
        ids, took = add_sites(api, "h", 20)
        bodies = delivered(healthy, 20, timeout=timeout)
        assert [b["resource_id"] for b in bodies] == ids
        assert len(stuck.received) == 1  # its first delivery, still unanswered
        hung_at = stuck.received[0].at
        # every healthy delivery came while the stuck one was still waiting for an answer
        assert healthy.delivered[-1].at < hung_at + timeout
        # the slow one gets them all too, in order, one answer at a time
        assert [b["resource_id"] for b in delivered(slow, 20)] == ids
        # the failing one is offered its first event again and again, the rest wait
        assert len(failing.received) >= 2
        assert {r.json()["resource_id"] for r in failing.received} == {ids[0]}
        # and the API answered meanwhile: held by the stuck receiver, a request would
        # take its 10 s; generous below that (the figure is in bench/)
        reads = []
        for _ in range(20):
            started = time.monotonic()
            assert api.get("/v1/sites", params={"limit": 5}).status_code == 200
            reads.append(time.monotonic() - started)
        assert max(took) < 5.0 and max(reads) < 5.0, (took, reads)
        print(
            f"API while a receiver hangs: writes p50 {statistics.median(took) * 1000:.1f} ms "
            f"max {max(took) * 1000:.1f} ms; reads max {max(reads) * 1000:.1f} ms"
        )
    assert "Traceback" not in orch.log_tail(300)


def test_deliveries_accepted_before_a_crash_are_made_after_the_start(
    tmp_path: Path, lab_environment: object, backend: str | None
) -> None:
    """Killed (SIGKILL) with four deliveries queued and retrying, and two events just
    accepted that may not be queued yet: after the start, all six, in order."""
    port = free_port()  # nothing listens yet: every attempt is refused
    orch = OrchestratorProcess(tmp_path / "orch", database_url=backend)
    with orch:
        with orch.client() as api:
            hook = add_hook(api, "later", f"http://127.0.0.1:{port}/hook")
            ids, _ = add_sites(api, "r", 4)
            failed = wait_for(
                lambda: [e for e in log_of(api, hook) if e["outcome"] == "failed"] or None,
                timeout=15,
                what="a refused delivery",
            )
            assert "ConnectError" in failed[0]["error"] and failed[0]["status_code"] is None
            assert api.get(f"/v1/webhooks/{hook['id']}").json()["pending"] == 4
            more, _ = add_sites(api, "s", 2)
        orch.kill()
        with WebhookReceiver(port=port) as receiver:
            orch.start()
            bodies = delivered(receiver, 6, timeout=30)
            assert [b["resource_id"] for b in bodies] == ids + more
            with orch.client() as api:
                wait_for(
                    lambda: api.get(f"/v1/webhooks/{hook['id']}").json()["pending"] == 0,
                    timeout=10,
                    what="the queue empty",
                )
            assert len(receiver.received) == 6  # none was delivered before: none twice
