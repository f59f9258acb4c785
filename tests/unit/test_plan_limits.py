"""Intent plans are bounded like RIB reads (issue 21, items 1 and 4): the plan
endpoints take the caller's read slots (SDWAN_RIB_CONCURRENCY, 429 beyond) and dry runs
one slot each per caller; all reads of one plan share one deadline (SDWAN_RIB_TIMEOUT);
a prediction's policy evaluation is bounded (SDWAN_PLAN_MAX_STEPS). A real gobgpd
stopped mid-plan: tests/integration/test_plan_limits.py."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from sdwan.api.limits import principal_key
from sdwan.auth.principal import Principal, Role
from sdwan.domain.endpoint import GobgpEndpoint
from sdwan.errors import SpeakerUnreachable
from sdwan.runtime import Runtime
from sdwan.schemas.intents import IntentCreate
from sdwan.service.intent_observe import PlanLimits, RibSource
from sdwan.service.intent_plan import IntentPlanner
from tests.support.demo_site import INTENT, site_with_uplinks
from tests.support.rib import FakeRib, sources

ADMIN = Principal("admin", Role.ADMIN, None)


def _admin_key(client: TestClient) -> str:
    token_id = client.get("/v1/auth/whoami").json()["token_id"]
    return principal_key(Principal("x", Role.ADMIN, None, None, token_id))


def test_plans_take_the_callers_read_and_dry_run_slots(client: TestClient) -> None:
    site_with_uplinks(client)
    made = client.post("/v1/intents", json=INTENT)
    assert made.status_code == 201, made.text
    current = f"/v1/intents/{made.json()['id']}/plan"
    fleet = {"fleet": {"version": 1, "routers": [], "sites": []}}
    limits = client.app.state.limits  # type: ignore[attr-defined]
    key = _admin_key(client)
    reads = [limits.rib.take(key), limits.rib.take(key)]  # two of the caller's reads
    try:
        for answer in (client.get(current), client.post("/v1/intents/plan", json=INTENT)):
            assert answer.status_code == 429, answer.text
            assert "reads of routers" in answer.json()["error"]["message"]
            assert int(answer.headers["Retry-After"]) >= 1
        assert client.post("/v1/fleet/plan", json=fleet).status_code == 200  # reads nothing
    finally:
        for release in reads:
            release()
    dry_run = limits.dry_runs.take(key)
    try:
        for answer in (
            client.post("/v1/intents/plan", json=INTENT),
            client.post("/v1/fleet/plan", json=fleet),
        ):
            assert answer.status_code == 429, answer.text
            assert "dry runs" in answer.json()["error"]["message"]
        assert client.get(current).status_code == 200  # not a dry run
    finally:
        dry_run()
    assert client.post("/v1/intents/plan", json=INTENT).status_code == 200
    assert limits.rib.held(key) == 0 and limits.dry_runs.held(key) == 0


class StalledRib(FakeRib):
    """A gobgpd that answers nothing: each read waits out its timeout, as gRPC's
    deadline does, then fails."""

    timeouts: list[float | None]

    def peer_sessions(self, *, timeout: float | None = None) -> Any:
        self.timeouts.append(timeout)
        time.sleep(timeout if timeout is not None else 5.0)
        raise SpeakerUnreachable(f"gobgpd at {self.name} unreachable (ListPeer): Deadline Exceeded")


def test_one_deadline_for_all_the_reads_of_a_plan(client: TestClient, runtime: Runtime) -> None:
    """Three stalled gobgpds cost the plan its 0.4 s once, not 0.4 s (or the 5 s gRPC
    timeout) each: the first read gets the whole deadline, the routers after it are not
    read at all, and each says why."""
    site_with_uplinks(client)
    timeouts: list[float | None] = []

    def stalled(target: GobgpEndpoint) -> RibSource:
        rib = StalledRib(str(target).rsplit("/", 1)[-1].removesuffix(".sock"))
        rib.timeouts = timeouts
        return rib

    planner = IntentPlanner(
        engine=runtime.engine,
        intents=runtime.services.intent.intents,
        sources=stalled,
        limits=PlanLimits(read_seconds=0.4),
    )
    started = time.monotonic()
    plan = planner.plan(ADMIN, intent=IntentCreate.model_validate(INTENT))
    assert time.monotonic() - started < 3.0
    prediction = plan["prediction"]
    assert prediction["verdict"] == "UNKNOWN"
    unreachable = prediction["unreachable"]
    assert set(unreachable) == {"GoBGP-1", "GoBGP-2", "GoBGP-3"}
    assert "did not answer within the plan's 0.4 s" in unreachable["GoBGP-1"]
    assert "SDWAN_RIB_TIMEOUT" in unreachable["GoBGP-1"]
    assert unreachable["GoBGP-2"].startswith("not read: the plan's 0.4 s")
    assert len(timeouts) == 1 and timeouts[0] is not None and 0.3 < timeouts[0] <= 0.4


def test_a_prediction_past_its_evaluation_bound_is_unknown(
    client: TestClient, runtime: Runtime
) -> None:
    site_with_uplinks(client)

    def plan(max_steps: int) -> dict[str, Any]:
        planner = IntentPlanner(
            engine=runtime.engine,
            intents=runtime.services.intent.intents,
            sources=sources(),  # type: ignore[arg-type]
            limits=PlanLimits(max_steps=max_steps),
        )
        prediction: dict[str, Any] = planner.plan(
            ADMIN, intent=IntentCreate.model_validate(INTENT)
        )["prediction"]
        return prediction

    assert plan(100_000)["verdict"] == "VERIFIED"
    bounded = plan(5)
    assert bounded["verdict"] == "UNKNOWN" and not bounded["paths"]
    assert "more than 5 policy evaluation steps" in bounded["detail"]
    assert "SDWAN_PLAN_MAX_STEPS" in bounded["detail"]
