"""The webhook dispatcher's delivery task against the store and a real receiver on
loopback: a database that does not answer for a moment holds the task up, and the
delivery is made once it answers again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from sdwan.alerting.dispatcher import WebhookDispatcher
from sdwan.lab.webhook_receiver import WebhookReceiver
from sdwan.runtime import Runtime
from sdwan.service.webhook_addresses import WebhookAddressPolicy
from sdwan.store.leader import SoleLeader

SECRET = "dispatcher-test-secret-0123"


def test_a_delivery_task_waits_out_a_database_outage(
    quiet: tuple[Runtime, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime, client = quiet
    dispatcher = WebhookDispatcher(
        engine=runtime.background_engine,
        events=runtime.events,
        secrets=runtime.secrets,
        addresses=WebhookAddressPolicy(),
        leader=SoleLeader(),
        external_url="http://127.0.0.1:9",
    )
    with WebhookReceiver() as receiver:
        dispatcher.queue_new()  # the cursor: from the present on
        body = {
            "name": "patient",
            "url": receiver.url(),
            "secret": SECRET,
            "filter": {"kinds": ["resource.created"], "resource_types": ["site"]},
        }
        hook = client.post("/v1/webhooks", json=body).json()
        site = client.post("/v1/sites", json={"name": "s1", "prefixes": []})
        assert site.status_code == 201, site.text
        dispatcher.queue_new()
        reads = dispatcher._next
        outages: list[str] = []

        def unavailable_once(hook_id: str) -> Any:
            if not outages:
                outages.append(hook_id)
                gone = Exception("server closed the connection unexpectedly")
                raise OperationalError("SELECT", None, gone, connection_invalidated=True)
            return reads(hook_id)

        monkeypatch.setattr(dispatcher, "_next", unavailable_once)

        async def drain() -> None:
            dispatcher._kicks[hook["id"]] = asyncio.Event()
            try:
                await dispatcher._drain(hook["id"])
            finally:
                await dispatcher.finish()

        asyncio.run(drain())  # returns once the queue is empty
        dispatcher.stop()
        assert outages == [hook["id"]]
        assert [b["resource_id"] for b in receiver.bodies()] == [site.json()["id"]]
        assert receiver.delivered[0].signed_by(SECRET)
