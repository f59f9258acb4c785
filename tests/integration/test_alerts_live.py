"""Alerts on real daemons: a real gobgpd's session taken down (its peer daemon
stopped) fires ``session_down`` once it has been down for the rule's threshold, and the
peer's router fires ``router_unreachable``; brought back, both resolve. An
Alertmanager-format webhook on loopback gets both transitions of both alerts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdwan.lab import GobgpdFactory, Lab, wait_for
from sdwan.lab.server_process import OrchestratorProcess
from sdwan.lab.webhook_receiver import WebhookReceiver
from tests.support.backends import BOTH_BACKENDS
from tests.support.lab import declare_peering

pytestmark = BOTH_BACKENDS

A_ADDR, B_ADDR = "198.18.105.1", "198.18.105.2"
SECRET = "alert-webhook-secret-0123456789"


@pytest.fixture
def orch(tmp_path: Path, lab_environment: object, backend: str | None) -> Iterator[Any]:
    proc = OrchestratorProcess(tmp_path / "orchestrator", database_url=backend)
    proc.start()
    yield proc
    proc.stop()
    assert "Traceback" not in proc.log_path.read_text(errors="replace"), proc.log_tail(60)


def firing(api: httpx.Client, rule: str, state: str = "firing") -> dict[str, Any] | None:
    items = api.get("/v1/alerts", params={"rule": rule, "state": state}).json()["items"]
    return items[0] if items else None


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_session_taken_down_fires_and_resolves(
    lab: Lab, gobgpd_factory: GobgpdFactory, orch: OrchestratorProcess
) -> None:
    with WebhookReceiver() as receiver, orch.client() as api:
        _a, b, (a_neighbor, _b_neighbor) = declare_peering(lab, gobgpd_factory, api, A_ADDR, B_ADDR)
        wait_for(
            lambda: api.get(f"/v1/neighbors/{a_neighbor}").json()["session_state"] == "ESTABLISHED",
            timeout=40,
            what="A's session ESTABLISHED",
        )
        rules = [
            {
                "name": "peer-down",
                "kind": "session_down",
                "threshold": 2,
                "severity": "critical",
                "scope": {"router": "A"},
                "labels": {"team": "noc"},
            },
            {
                "name": "b-gone",
                "kind": "router_unreachable",
                "threshold": 1,
                "scope": {"router": "B"},
            },
        ]
        for rule in rules:
            assert api.post("/v1/alert-rules", json=rule).status_code == 201
        hook = {
            "name": "am",
            "url": receiver.url("/alertmanager"),
            "secret": SECRET,
            "format": "alertmanager",
        }
        assert api.post("/v1/webhooks", json=hook).status_code == 201
        assert firing(api, "peer-down") is None  # up: nothing

        b.stop()  # the peer daemon goes: A's session drops at once, B does not answer
        down = wait_for(lambda: firing(api, "peer-down"), timeout=30, what="peer-down firing")
        assert down["subject_name"] == f"A/{B_ADDR}" and down["severity"] == "critical"
        assert down["labels"]["team"] == "noc" and down["labels"]["router"] == "A"
        late = when(down["fired_at"]) - (when(down["since"]) + timedelta(seconds=2))
        assert late >= timedelta(0), down  # not before the threshold
        assert late < timedelta(seconds=10), down  # the target is 2 s (bench/); generous
        gone = wait_for(lambda: firing(api, "b-gone"), timeout=30, what="b-gone firing")
        assert gone["subject_name"] == "B" and "does not answer" in gone["detail"]
        print(f"session_down fired {late.total_seconds():.2f} s after its threshold")

        b.start()
        resolved = wait_for(
            lambda: firing(api, "peer-down", "resolved"), timeout=60, what="peer-down resolved"
        )
        assert resolved["id"] == down["id"] and resolved["resolved_at"]
        wait_for(lambda: firing(api, "b-gone", "resolved"), timeout=30, what="b-gone resolved")
        assert api.get("/v1/alerts", params={"state": "firing"}).json()["total"] == 0

        bodies = wait_for(
            lambda: r if len(r := receiver.bodies()) >= 4 else None,
            timeout=30,
            what="four Alertmanager notifications",
        )
        assert all(r.signed_by(SECRET) for r in receiver.delivered)
        seen = [(n["alerts"][0]["labels"]["alertname"], n["status"]) for n in bodies]
        assert sorted(seen) == [
            ("b-gone", "firing"),
            ("b-gone", "resolved"),
            ("peer-down", "firing"),
            ("peer-down", "resolved"),
        ]
        for name in ("peer-down", "b-gone"):  # each fired before it resolved
            assert seen.index((name, "firing")) < seen.index((name, "resolved"))
        events = api.get("/v1/events", params={"kind": "alert.", "limit": 100}).json()["items"]
        assert [e["kind"] for e in events if e["resource_id"] == down["id"]] == [
            "alert.firing",
            "alert.resolved",
        ]
