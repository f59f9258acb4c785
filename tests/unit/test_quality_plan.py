"""The plan of an intent with an SLA class: each uplink's quality now against the
class, the steering decision due now, and a prediction on the tiers it would put in
force (the original demo's site over the stand-in RIBs of tests/support/rib.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from sdwan.auth.principal import Principal, Role
from sdwan.runtime import Runtime
from sdwan.schemas.intents import IntentPlan
from sdwan.service.intent_plan import IntentPlanner, throwaway
from sdwan.store import intent_repo, quality_repo, sla_repo
from sdwan.store.intent_repo import IntentRecord
from sdwan.store.quality_repo import UplinkQualityRecord
from tests.support.demo_site import INTENT, site_with_uplinks
from tests.support.rib import FAR, sources

ADMIN = Principal("admin", Role.ADMIN, None)
NOW = datetime.now(UTC)


def quality(uplink_id: str, state: str, gold: str, loss: float, reason: str = "") -> Any:
    figures = {"window_s": 10.0, "sent": 3000, "answered": 3000, "loss_pct": loss}
    return UplinkQualityRecord(
        uplink_id,
        state,
        NOW,
        figures,
        {**figures, "latency_ms": 12.0, "jitter_ms": 0.4},
        {"gold": {"state": gold, "since": NOW.timestamp(), "reason": reason}},
        "unix:///run/agent.probe",
        NOW,
    )


def with_class(client: TestClient, runtime: Runtime) -> str:
    site_with_uplinks(client)
    intent_id = str(client.post("/v1/intents", json=INTENT).json()["id"])
    uplinks = {u["name"]: u["id"] for u in client.get("/v1/uplinks").json()["items"]}
    gold = str(uuid.uuid4())
    with runtime.engine.begin() as conn:
        sla_repo.insert_class(
            conn,
            values={
                "id": gold,
                "project_id": "default",
                "name": "gold",
                "loss_pct": 2.0,
                "latency_ms": 50.0,
                "jitter_ms": None,
                "hold_down_s": 30.0,
                "min_interval_s": 10.0,
                "description": "",
                "version": 1,
                "created_at": NOW,
                "updated_at": NOW,
            },
        )
        intent = intent_repo.get_owned(conn, IntentRecord, owned_id=intent_id)
        assert intent is not None
        intent_repo.update_owned(
            conn,
            IntentRecord,
            owned_id=intent_id,
            expected_version=intent.version,
            values={"sla_class_id": gold},
        )
        quality_repo.upsert_quality(
            conn,
            rows=[
                quality(uplinks["vyos1"], "up", "violated", 6.1, "loss 6.1 % > 2 %"),
                quality(uplinks["vyos2"], "up", "met", 0.0),
            ],
        )
    return intent_id


def test_the_plan_shows_the_class_against_each_uplink_and_what_would_move(
    client: TestClient, runtime: Runtime
) -> None:
    intent_id = with_class(client, runtime)
    planner = IntentPlanner(
        engine=runtime.engine,
        intents=runtime.services.intent.intents,
        sources=sources(),  # type: ignore[arg-type]
    )
    plan = planner.current(ADMIN, intent_id)
    IntentPlan(**plan)  # the answer's schema holds it
    sla = plan["prediction"]["sla"]
    assert sla["class"] == "gold" and sla["limits"]["loss_pct"] == 2.0
    rows = {u["uplink"]: u for u in sla["uplinks"]}
    assert rows["vyos1"]["class_state"] == "violated"
    assert rows["vyos1"]["reason"] == "loss 6.1 % > 2 %"
    assert (rows["vyos1"]["demoted"], rows["vyos1"]["demoted_after"]) == (False, True)
    assert rows["vyos2"]["class_state"] == "met" and rows["vyos2"]["loss_pct"] == 0.0
    assert sla["moves"] == [{"uplink": "vyos1", "kind": "demote", "reason": "loss 6.1 % > 2 %"}]
    assert sla["tiers"] == [["vyos2"], ["vyos1"]]
    # the prediction uses those tiers: GoBGP-3 would move to vyos2
    g3 = next(p for p in plan["prediction"]["paths"] if p["router"] == "GoBGP-3")
    assert g3["prefix"] == FAR
    assert g3["predicted"]["uplink"] == "vyos2" and g3["moves"]
    # a fleet plan predicts on the same tiers (not compared with now), and says why
    with throwaway(runtime.engine) as work:
        snapshot = planner.snapshot_for(work.conn, "hq")
    assert snapshot is not None
    [predicted] = planner.predict(snapshot)
    assert predicted["verdict"] == "DEGRADED"
    assert predicted["detail"] == "vyos1 violates gold (loss 6.1 % > 2 %), traffic on vyos2"
    assert predicted["sla"]["moves"] == sla["moves"]
    with runtime.engine.connect() as conn:  # nothing of it was written
        assert quality_repo.get_steering(conn, intent_ids=[intent_id]) == {}


def test_an_unmeasured_uplink_is_shown_so_and_never_moved(
    client: TestClient, runtime: Runtime
) -> None:
    intent_id = with_class(client, runtime)
    with runtime.engine.begin() as conn:
        vyos1 = next(u["id"] for u in client.get("/v1/uplinks").json()["items"])
        quality_repo.delete_quality(conn, uplink_ids=[vyos1])
    planner = IntentPlanner(
        engine=runtime.engine,
        intents=runtime.services.intent.intents,
        sources=sources(),  # type: ignore[arg-type]
    )
    sla = planner.current(ADMIN, intent_id)["prediction"]["sla"]
    rows = {u["uplink"]: u for u in sla["uplinks"]}
    assert rows["vyos1"]["state"] == "unmeasured" and rows["vyos1"]["class_state"] == "unmeasured"
    assert sla["moves"] == [] and sla["tiers"] == [["vyos1"], ["vyos2"]]
