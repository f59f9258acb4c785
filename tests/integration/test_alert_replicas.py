"""Alerts and webhooks with three replicas on one PostgreSQL database: the replica
that evaluates the rules is SIGKILLed; another takes the lead, fires ``replica_lost``
for it exactly once (one alert, one event, one notification) and resolves it once the
replica is back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sdwan.lab import wait_for
from sdwan.lab.replicas import ReplicaFleet
from sdwan.lab.webhook_receiver import WebhookReceiver
from tests.support.replica_lab import fleet_fixture

LEASE = 3.0
LEADS = "alert rules: this replica leads"


@pytest.fixture
def fleet(tmp_path: Path, pg_url: str, lab_environment: object) -> Iterator[ReplicaFleet]:
    yield from fleet_fixture(tmp_path, pg_url, lease=LEASE)


def leaders(fleet: ReplicaFleet) -> list[str]:
    """The replicas whose log says they took the lead of the alert rules."""
    return [
        name
        for name, replica in zip(fleet.names, fleet.replicas, strict=True)
        if replica.log_path.exists() and LEADS in replica.log_path.read_text(errors="replace")
    ]


def test_a_lost_replica_is_alerted_once_by_whichever_replica_leads(fleet: ReplicaFleet) -> None:
    first = wait_for(lambda: leaders(fleet), timeout=20, what="a replica leading the rules")
    assert len(first) == 1  # one at a time
    victim = fleet.by_name(first[0])
    survivor = next(r for r in fleet.replicas if r is not victim)
    with WebhookReceiver() as receiver, survivor.client() as api:
        rule = {"name": "lost", "kind": "replica_lost", "threshold": 1, "severity": "critical"}
        assert api.post("/v1/alert-rules", json=rule).status_code == 201
        hook = {"name": "pager", "url": receiver.url(), "secret": "s" * 20}
        assert (
            api.post("/v1/webhooks", json={**hook, "filter": {"kinds": ["alert.*"]}}).status_code
            == 201
        )
        victim.kill()  # the leader of the rules (and maybe of the webhooks) goes
        alert = wait_for(
            lambda: (
                (items := api.get("/v1/alerts", params={"state": "firing"}).json()["items"])
                and items[0]
            ),
            timeout=6 * LEASE,
            what="replica_lost firing",
        )
        assert alert["subject_name"] == victim.replica_name
        assert len(leaders(fleet)) == 2  # another replica took the lead
        victim.start()
        wait_for(
            lambda: api.get(f"/v1/alerts/{alert['id']}").json()["state"] == "resolved",
            timeout=6 * LEASE,
            what="replica_lost resolved",
        )
        bodies = wait_for(
            lambda: b if len(b := receiver.bodies()) >= 2 else None,
            timeout=20,
            what="two notifications",
        )
        assert [b["kind"] for b in bodies] == ["alert.firing", "alert.resolved"]
        every = api.get("/v1/alerts").json()["items"]
        assert [a["id"] for a in every] == [alert["id"]]  # fired once, by one replica
        events = api.get("/v1/events", params={"kind": "alert.", "limit": 100}).json()["items"]
        assert [e["kind"] for e in events] == ["alert.firing", "alert.resolved"]
