"""The intent plan through the service, over a stand-in for the gobgpds' RIBs: the
objects a change generates, their session effects (soft resets only), and the
predicted best path of every router next to the one it uses; nothing is changed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from sdwan.auth.principal import Principal, Role
from sdwan.runtime import Runtime
from sdwan.schemas.intents import IntentCreate
from sdwan.service.intent_plan import IntentPlanner
from tests.support.demo_site import INTENT, generated, site_with_uplinks
from tests.support.rib import FAR, sources

ADMIN = Principal("admin", Role.ADMIN, None)


def planner(runtime: Runtime, **kw: Any) -> IntentPlanner:
    return IntentPlanner(
        engine=runtime.engine,
        intents=runtime.services.intent.intents,
        sources=sources(**kw),  # type: ignore[arg-type]
    )


def declared(objects: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The objects without what the reconciler writes (it applies them meanwhile)."""
    written = {"status", "status_detail", "updated_at"}
    return {n: {k: v for k, v in o.items() if k not in written} for n, o in objects.items()}


def paths(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["router"]: p for p in plan["prediction"]["paths"] if p["prefix"] == FAR}


def test_plan_of_a_new_intent_shows_objects_effects_and_paths(
    client: TestClient, runtime: Runtime
) -> None:
    site_with_uplinks(client)
    before = declared(generated(client, "/v1/policies", "GoBGP-1"))
    plan = planner(runtime).plan(ADMIN, intent=IntentCreate.model_validate(INTENT))
    assert plan["action"] == "create"
    objects = {o["router"]: o for o in plan["objects"]}
    assert set(objects) == {"GoBGP-1", "GoBGP-2"}  # nothing of the intent on GoBGP-3
    assert "+ policy i.far.in" in objects["GoBGP-1"]["changes"]
    effect = objects["GoBGP-1"]["effects"][0]
    assert effect.startswith("import policy changes: soft reset (in) of 198.18.11.11")
    prediction = plan["prediction"]
    assert prediction["verdict"] == "VERIFIED", prediction
    g3 = paths(plan)["GoBGP-3"]
    assert g3["predicted"]["via"] == "GoBGP-1 (iBGP) <- uplink vyos1"
    assert g3["predicted"]["step"] == "local preference" and not g3["moves"]
    # nothing was written
    assert declared(generated(client, "/v1/policies", "GoBGP-1")) == before
    assert client.get("/v1/intents").json()["total"] == 0


def test_plan_of_a_flip_moves_gobgp3_to_the_other_upstream(
    client: TestClient, runtime: Runtime
) -> None:
    site_with_uplinks(client)
    assert client.post("/v1/intents", json=INTENT).status_code == 201
    flip = {**INTENT, "prefer": [["vyos2"], ["vyos1"]]}
    plan = planner(runtime).plan(ADMIN, intent=IntentCreate.model_validate(flip))
    assert plan["action"] == "update"
    assert {o["router"] for o in plan["objects"]} == {"GoBGP-1", "GoBGP-2"}
    assert all("~ policy i.far.in" in o["changes"] for o in plan["objects"])
    g3 = paths(plan)["GoBGP-3"]
    assert g3["predicted"]["uplink"] == "vyos2" and g3["moves"]
    assert g3["current"]["neighbor"] == "198.18.31.1"
    stored = client.get("/v1/intents").json()["items"][0]
    assert stored["prefer"] == [["vyos1"], ["vyos2"]]  # unchanged


def test_plan_with_the_primary_down_predicts_degraded(client: TestClient, runtime: Runtime) -> None:
    site_with_uplinks(client)
    plan = planner(runtime, down={"198.18.11.11"}).plan(
        ADMIN, intent=IntentCreate.model_validate(INTENT)
    )
    assert plan["prediction"]["verdict"] == "DEGRADED"
    g3 = paths(plan)["GoBGP-3"]
    assert g3["state"] == "backup" and g3["predicted"]["uplink"] == "vyos2"
