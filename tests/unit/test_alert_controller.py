"""The alert controller's evaluation against the store, with its clock in the test's
hands: each kind of rule reads what it watches (sessions, reachability, intent
verdicts, uplink quality, drift repairs), fires once the threshold is reached, never
twice, resolves when the condition clears or the rule goes, and writes its events in
the same transaction. Rows of observed state are written here as the live writer, the
intent controller and the quality controller write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from sdwan.alerting.controller import AlertController, concerned
from sdwan.alerting.evaluate import Evaluator
from sdwan.domain.alerts import AlertKind
from sdwan.events.model import DRIFT_REPAIRED, SESSION_CHANGED, Event
from sdwan.runtime import Runtime
from sdwan.store import alert_conditions, alert_repo, intent_repo, live_repo
from sdwan.store.intent_repo import IntentStateRecord
from sdwan.store.leader import SoleLeader
from sdwan.store.quality_tables import uplink_quality
from tests.support.demo_site import INTENT, site_with_uplinks


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def controller(runtime: Runtime, clock: Clock) -> AlertController:
    made = AlertController(
        engine=runtime.background_engine,
        events=runtime.events,
        leader=SoleLeader(),
        lease=5.0,
        clock=clock,
    )
    return made


def rule(client: TestClient, name: str, kind: str, threshold: float, **extra: Any) -> str:
    made = client.post(
        "/v1/alert-rules", json={"name": name, "kind": kind, "threshold": threshold, **extra}
    )
    assert made.status_code == 201, made.text
    ident: str = made.json()["id"]
    return ident


def neighbor_id(client: TestClient, router: str, address: str) -> str:
    found = client.get("/v1/neighbors", params={"router": router, "address": address}).json()
    ident: str = found["items"][0]["id"]
    return ident


def set_session(
    runtime: Runtime, client: TestClient, router: str, address: str, **row: Any
) -> None:
    ident = neighbor_id(client, router, address)
    router_id = client.get(f"/v1/routers/{router}").json()["id"]
    values = {
        "neighbor_id": ident,
        "router_uuid": router_id,
        "admin_down": False,
        "established_at": None,
        "last_down_reason": "",
        "flap_count": 0,
        "updated_at": row["state_since"],
        **row,
    }
    with runtime.engine.begin() as conn:
        if live_repo.sessions_by_id(conn, ids=[ident]):
            live_repo.write_sessions(conn, inserts=[], updates=[values])
        else:
            live_repo.write_sessions(conn, inserts=[values], updates=[])
    # and its event, as the live writer writes it with the row
    text = f"session {router}/{address} {row['session_state']}"
    runtime.events.emit([Event(SESSION_CHANGED, "neighbor", ident, router, text, {}, "default")])


def alerts(client: TestClient, **query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/v1/alerts", params=query).json()["items"]
    return items


def alert_events(client: TestClient) -> list[tuple[str, str]]:
    found = client.get("/v1/events", params={"kind": "alert."}).json()
    return [(e["kind"], e["data"]["subject_name"]) for e in found["items"]]


def test_a_session_down_fires_after_its_threshold_once_and_resolves_when_up(
    quiet: tuple[Runtime, TestClient],
) -> None:
    runtime, client = quiet
    site_with_uplinks(client)
    rule(client, "down", "session_down", 30, severity="critical", labels={"team": "noc"})
    rule(client, "other-router", "session_down", 0, scope={"router": "GoBGP-2"})
    clock = Clock()
    went_down = clock.now
    set_session(
        runtime,
        client,
        "GoBGP-1",
        "198.18.11.11",
        session_state="ACTIVE",
        state_since=went_down,
        last_down_at=went_down,
        last_down_reason="peer closed",
    )
    alerting = controller(runtime, clock)
    clock.advance(10)
    assert alerting.step(full=True).fired == []
    assert alerts(client) == []
    clock.advance(20)  # 30 s down: the threshold
    fired = alerting.step()  # due without any new event
    assert len(fired.fired) == 1
    (alert,) = alerts(client, state="firing")
    assert alert["subject_name"] == "GoBGP-1/198.18.11.11" and alert["rule_name"] == "down"
    assert alert["labels"] == {
        "team": "noc",
        "router": "GoBGP-1",
        "neighbor": "198.18.11.11",
        "alertname": "down",
        "severity": "critical",
        "kind": "session_down",
        "project": "default",
    }
    assert alert["since"].startswith(went_down.isoformat()[:19])
    assert "peer closed" in alert["detail"] and alert["router_name"] == "GoBGP-1"
    clock.advance(60)
    assert alerting.step(full=True).fired == []  # de-duplicated: one open alert per subject
    rules = client.get("/v1/alert-rules", params={"name": "down"}).json()["items"]
    assert rules[0]["firing"] == 1
    set_session(
        runtime,
        client,
        "GoBGP-1",
        "198.18.11.11",
        session_state="ESTABLISHED",
        state_since=clock.now,
        established_at=clock.now,
    )
    resolved = alerting.step()  # woken by the session's event
    assert resolved.resolved == [alert["id"]]
    (after,) = alerts(client)
    assert after["state"] == "resolved" and after["resolved_at"] is not None
    assert alert_events(client) == [
        ("alert.firing", "GoBGP-1/198.18.11.11"),
        ("alert.resolved", "GoBGP-1/198.18.11.11"),
    ]


def test_a_restarted_controller_neither_loses_nor_repeats_an_alert(
    quiet: tuple[Runtime, TestClient],
) -> None:
    """A controller's memory (events seen, moments due) is lost on a restart; the store
    holds the alerts: a new one starts from it, fires what came due meanwhile, keeps the
    open alert open, resolves what cleared meanwhile."""
    runtime, client = quiet
    site_with_uplinks(client)
    rule(client, "down", "session_down", 30)
    clock = Clock()
    for address in ("198.18.11.11", "198.18.31.3"):
        set_session(
            runtime,
            client,
            "GoBGP-1",
            address,
            session_state="ACTIVE",
            state_since=clock.now,
            last_down_at=clock.now,
        )
    first = controller(runtime, clock)
    first.took_lead()
    clock.advance(30)
    assert len(first.step(full=True).fired) == 2
    # another goes down; the server stops before its threshold; meanwhile one session
    # comes back
    set_session(
        runtime,
        client,
        "GoBGP-2",
        "198.18.22.22",
        session_state="IDLE",
        state_since=clock.now,
        last_down_at=clock.now,
    )
    assert first.step().fired == []
    set_session(
        runtime,
        client,
        "GoBGP-1",
        "198.18.31.3",
        session_state="ESTABLISHED",
        state_since=clock.now,
        established_at=clock.now,
    )
    clock.advance(60)
    second = controller(runtime, clock)  # started again: events from now on
    second.took_lead()
    outcome = second.step(full=True)
    assert len(outcome.fired) == 1 and len(outcome.resolved) == 1
    firing = sorted(a["subject_name"] for a in alerts(client, state="firing"))
    assert firing == ["GoBGP-1/198.18.11.11", "GoBGP-2/198.18.22.22"]
    fired, after = alert_events(client)[:2], alert_events(client)[2:]
    assert sorted(fired) == [
        ("alert.firing", "GoBGP-1/198.18.11.11"),
        ("alert.firing", "GoBGP-1/198.18.31.3"),
    ]
    assert sorted(after) == [
        ("alert.firing", "GoBGP-2/198.18.22.22"),
        ("alert.resolved", "GoBGP-1/198.18.31.3"),
    ]


def test_routers_intents_uplinks_and_drift_each_raise_their_own(
    quiet: tuple[Runtime, TestClient],
) -> None:
    runtime, client = quiet
    site_with_uplinks(client)
    intent = client.post("/v1/intents", json=INTENT).json()
    rule(client, "unreachable", "router_unreachable", 5, scope={"site": "hq"})
    rule(client, "intent", "intent_degraded", 5, scope={"intent": "far"})
    rule(client, "sla", "uplink_sla", 5, scope={"uplink": "vyos1"})
    rule(client, "drift", "drift_repairs", 2)
    clock = Clock()
    router = client.get("/v1/routers/GoBGP-2").json()
    uplink = client.get("/v1/uplinks", params={"site": "hq", "name": "vyos1"}).json()["items"][0]
    long_ago = clock.now - timedelta(seconds=60)
    with runtime.engine.begin() as conn:
        live_repo.write_router_live(
            conn,
            router_id=router["id"],
            values={
                "reachable": False,
                "reachable_since": long_ago,
                "gobgpd_up_since": None,
                "last_error": "connection refused",
                "drift": [],
                "updated_at": long_ago,
            },
        )
        intent_repo.write_state(
            conn,
            state=IntentStateRecord(
                intent["id"],
                1,
                "VIOLATED",
                "no path via vyos1",
                long_ago,
                long_ago,
                [],
            ),
        )
        conn.execute(
            insert(uplink_quality).values(
                uplink_id=uplink["id"],
                state="up",
                since=long_ago,
                short={},
                long={},
                classes={
                    "voice": {"state": "violated", "since": long_ago.timestamp(), "reason": "loss"},
                    "bulk": {"state": "met", "since": long_ago.timestamp()},
                },
                agent="unix:///run/sdwan/probe.sock",
                reported_at=long_ago,
            )
        )
    gobgp1 = client.get("/v1/routers/GoBGP-1").json()
    drift = Event(
        DRIFT_REPAIRED, "router", gobgp1["id"], "GoBGP-1", "drift repaired", {}, "default"
    )
    runtime.events.emit([drift, drift])
    clock.now = datetime.now(UTC)
    alerting = controller(runtime, clock)
    alerting.step(full=True)
    assert {a["rule_name"]: a["subject_name"] for a in alerts(client)} == {
        "unreachable": "GoBGP-2",
        "intent": "hq/far",
        "sla": "hq/vyos1 (voice)",
    }  # two repairs are not more than two
    runtime.events.emit([drift])
    clock.now = datetime.now(UTC)
    alerting.step()
    (repairs,) = alerts(client, rule="drift")
    assert repairs["subject_name"] == "GoBGP-1" and "3 times" in repairs["detail"]
    clock.advance(3600)  # an hour later the count is back under the threshold
    alerting.step()
    assert alerts(client, rule="drift")[0]["state"] == "resolved"


def test_deleting_or_disabling_a_rule_resolves_its_alerts(
    quiet: tuple[Runtime, TestClient],
) -> None:
    runtime, client = quiet
    site_with_uplinks(client)
    gone = rule(client, "gone", "session_down", 0)
    paused = rule(client, "paused", "session_down", 0)
    clock = Clock()
    set_session(
        runtime,
        client,
        "GoBGP-2",
        "198.18.22.22",
        session_state="IDLE",
        state_since=clock.now,
        last_down_at=clock.now,
    )
    alerting = controller(runtime, clock)
    assert len(alerting.step(full=True).fired) == 2
    assert client.delete(f"/v1/alert-rules/{gone}").status_code == 200
    assert client.patch(f"/v1/alert-rules/{paused}", json={"enabled": False}).status_code == 200
    assert len(alerting.step().resolved) == 2  # the rules' events sweep
    assert {a["state"] for a in alerts(client)} == {"resolved"}


def test_two_evaluators_at_once_raise_one_alert(
    quiet: tuple[Runtime, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What keeps replicas that overlap for a moment from firing twice: the store
    holds one open alert per (rule, subject)."""
    runtime, client = quiet
    site_with_uplinks(client)
    rule(client, "down", "session_down", 0)
    clock = Clock()
    set_session(
        runtime,
        client,
        "GoBGP-3",
        "198.18.34.4",
        session_state="ACTIVE",
        state_since=clock.now,
        last_down_at=clock.now,
    )
    with runtime.background_engine.connect() as conn:
        rules = alert_repo.enabled_rules(conn)
    first = Evaluator(runtime.background_engine, runtime.events, lease=5, clock=clock)
    second = Evaluator(runtime.background_engine, runtime.events, lease=5, clock=clock)
    held = alert_conditions.holding
    seen: list[int] = []

    def interleaved(conn: Any, **kwargs: Any) -> Any:
        """The first evaluator has read; the second runs whole before it writes."""
        found = held(conn, **kwargs)
        if not seen:
            seen.append(1)
            assert len(second.run(rules).fired) == 1
        return found

    monkeypatch.setattr(alert_conditions, "holding", interleaved)
    assert first.run(rules).fired == []  # its insert found the open alert
    assert len(alerts(client, state="firing")) == 1
    assert len(alert_events(client)) == 1


def test_events_wake_the_rules_they_concern() -> None:
    assert concerned([("session.changed", "neighbor")]) == {AlertKind.SESSION_DOWN}
    assert concerned([("intent.verdict", "intent")]) == {AlertKind.INTENT_DEGRADED}
    assert concerned([("uplink.quality", "uplink")]) == {AlertKind.UPLINK_SLA}
    assert concerned([("drift.repaired", "router")]) == {AlertKind.DRIFT_REPAIRS}
    assert AlertKind.ROUTER_UNREACHABLE in concerned([("router.reachability", "router")])
    assert concerned([("resource.deleted", "neighbor")]) == set(AlertKind)
    assert concerned([("alert.firing", "alert"), ("resource.created", "webhook")]) == set()
