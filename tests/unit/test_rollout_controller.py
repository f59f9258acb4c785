"""The rollout controller's states over the real services and store, stepped by hand
with a scripted gate (the gate's own checks are tests/unit/test_rollout_gate*.py):
each wave one revision recorded with the row's progress, a failed gate or a missing
confirmation rolls every router back to the base revision, a confirmation keeps it,
a controller built anew picks a rollout up where its row says it is."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from sdwan.rollout.controller import MAX_ERRORS, RolloutController
from sdwan.runtime import Runtime
from sdwan.store.leader import SoleLeader
from sdwan.store.rollout_tables import rollouts

ROUTERS = ["r1", "r2", "r3"]
PASSWORD = "pw-rollout-7"


def _fleet(hold: int) -> dict[str, Any]:
    return {
        "routers": [
            {
                "name": name,
                "router_id": f"10.0.0.{index}",
                "asn": 65001,
                "api_address": f"198.18.0.{index}:50051",
                "neighbors": [
                    {
                        "address": "198.18.9.9",
                        "peer_asn": 65000,
                        "hold_time": hold,
                        "keepalive_interval": hold // 3,
                        "password": PASSWORD,
                    }
                ],
            }
            for index, name in enumerate(ROUTERS, start=1)
        ]
    }


class ScriptedGate:
    """Applied at once; judged as told: ``fail_on`` names the wave (by its number of
    captures after the baseline) whose judgement fails."""

    def __init__(self) -> None:
        self.captures = 0
        self.fail_on: int | None = None
        self.broken = False  # judge raises, as a gate meeting a snapshot it cannot read
        self.pending_names: list[str] = []

    def capture(
        self,
        *,
        router_ids: Sequence[str],
        site_ids: Sequence[str],
        checks: Sequence[dict[str, str]] = (),
    ) -> dict[str, Any]:
        self.captures += 1
        return {"capture": self.captures, "routers": sorted(router_ids)}

    def pending(self, *, router_ids: Sequence[str]) -> list[str]:
        return list(self.pending_names)

    def judge(
        self, before: dict[str, Any], after: dict[str, Any], checks: Sequence[dict[str, str]]
    ) -> list[dict[str, Any]]:
        assert before["capture"] == 1  # always the snapshot stored before the first wave
        if self.broken:
            raise KeyError("taken")
        if self.fail_on is not None and after["capture"] - 1 == self.fail_on:
            return [
                {
                    "router": "r1",
                    "check": "session_down",
                    "detail": "198.18.9.9 was up, now ACTIVE",
                    "observed": "ACTIVE",
                    "predicted": "ESTABLISHED",
                }
            ]
        return []


@pytest.fixture
def world(quiet: tuple[Runtime, TestClient]) -> tuple[Runtime, TestClient, ScriptedGate]:
    runtime, client = quiet
    assert client.post("/v1/fleet/apply", json={"fleet": _fleet(90)}).status_code == 200
    return runtime, client, ScriptedGate()


def _controller(runtime: Runtime, gate: ScriptedGate) -> RolloutController:
    return RolloutController(
        engine=runtime.engine,
        events=runtime.events,
        leader=SoleLeader(),
        fleet=runtime.services.fleet,
        restore=runtime.services.restore,
        gate=gate,
        secrets=runtime.secrets,
        settle=0.0,
    )


def _start(client: TestClient, **options: Any) -> int:
    answer = client.post("/v1/fleet/apply", json={"fleet": _fleet(30), **options})
    assert answer.status_code == 202, answer.text
    assert answer.json()["applied"] is False and answer.json()["changes"]
    return int(answer.json()["rollout"])


def _drive(
    controller: RolloutController, client: TestClient, rid: int, *, until: str
) -> dict[str, Any]:
    seen = []
    for _ in range(30):
        controller.round()
        found = client.get(f"/v1/rollouts/{rid}").json()
        seen.append(found["state"])
        if found["state"] == until:
            return dict(found)
    raise AssertionError(f"rollout {rid} never {until}: {seen}")


def _expire(runtime: Runtime, column: str) -> None:
    """A deadline stored in the rows moved into the past, rather than waited out."""
    with runtime.engine.begin() as conn:
        conn.execute(update(rollouts).values({column: rollouts.c.created_at}))


def _holds(client: TestClient) -> dict[str, int]:
    items = client.get("/v1/neighbors", params={"limit": 100}).json()["items"]
    return {n["router_name"]: n["hold_time"] for n in items}


def test_waves_each_make_a_revision_and_the_rollout_ends_done(
    world: tuple[Runtime, TestClient, ScriptedGate],
) -> None:
    runtime, client, gate = world
    base = client.get("/v1/revisions").json()["latest"]
    rid = _start(client, stages=["1", "100%"])
    found = client.get(f"/v1/rollouts/{rid}").json()
    assert found["state"] == "running" and found["waves"] == [["r1"], ["r2", "r3"]]
    with runtime.engine.connect() as conn:  # the file is kept sealed: it holds passwords
        (stored,) = conn.execute(select(rollouts.c.document)).one()
    assert PASSWORD not in json.dumps(stored) and PASSWORD not in json.dumps(found)
    assert found["base_revision"] == base
    controller = _controller(runtime, gate)
    controller.round()  # wave 1 applied, its revision recorded in the same transaction
    found = client.get(f"/v1/rollouts/{rid}").json()
    assert found["state"] == "gating" and len(found["wave_revisions"]) == 1
    assert _holds(client) == {"r1": 30, "r2": 90, "r3": 90}
    done = _drive(controller, client, rid, until="done")
    assert _holds(client) == {"r1": 30, "r2": 30, "r3": 30}
    revisions = done["wave_revisions"]
    assert revisions == [base + 1, base + 2]
    for number, routers in zip(revisions, (["r1"], ["r2", "r3"]), strict=True):
        changes = client.get(f"/v1/revisions/{number}").json()["changes"]
        assert sorted(c["name"].split("/")[0] for c in changes) == routers
    kinds = [
        e["kind"]
        for e in client.get("/v1/events", params={"limit": 200}).json()["items"]
        if e["resource_type"] == "rollout"
    ]
    assert "rollout.running" in kinds and "rollout.wave" in kinds and "rollout.done" in kinds


def test_a_failed_gate_rolls_every_router_back_and_says_what_failed(
    world: tuple[Runtime, TestClient, ScriptedGate],
) -> None:
    runtime, client, gate = world
    before = _holds(client)
    gate.fail_on = 2  # the second wave's gate
    rid = _start(client, stages=["1", "2", "100%"])
    found = _drive(_controller(runtime, gate), client, rid, until="rolled_back")
    assert _holds(client) == before
    assert len(found["wave_revisions"]) == 2  # the third wave never ran
    assert found["rollback_revision"] is not None and found["rollback_revision"] > 0
    (failure,) = found["failures"]
    assert failure["router"] == "r1" and failure["check"] == "session_down"
    assert failure["observed"] == "ACTIVE" and failure["predicted"] == "ESTABLISHED"
    kinds = [
        e["kind"]
        for e in client.get("/v1/events", params={"limit": 200}).json()["items"]
        if e["resource_type"] == "rollout"
    ]
    assert {"rollout.rolling_back", "rollout.rollback", "rollout.rolled_back"} <= set(kinds)
    newest = client.get(f"/v1/revisions/{found['rollback_revision']}").json()
    assert newest["source"] == "rollback" and newest["rollback_of"] == found["base_revision"]


def test_a_gate_that_cannot_judge_rolls_back_rather_than_wait_forever(
    world: tuple[Runtime, TestClient, ScriptedGate],
) -> None:
    runtime, client, gate = world
    before = _holds(client)
    gate.broken = True
    rid = _start(client, stages=["1"])
    found = _drive(_controller(runtime, gate), client, rid, until="rolled_back")
    assert found["failures"][0]["check"] == "gate"
    assert "KeyError" in found["failures"][0]["detail"]
    assert _holds(client) == before


def test_a_step_that_keeps_failing_ends_the_rollout(
    world: tuple[Runtime, TestClient, ScriptedGate],
) -> None:
    runtime, client, gate = world
    before = _holds(client)
    rid = _start(client, stages=["1"])
    with runtime.engine.begin() as conn:  # a fleet file the controller cannot open
        conn.execute(update(rollouts).values(document={"sealed": "not a token"}))
    controller = _controller(runtime, gate)
    for _ in range(MAX_ERRORS - 1):
        controller.round()
    assert client.get(f"/v1/rollouts/{rid}").json()["state"] == "running"
    found = _drive(controller, client, rid, until="rolled_back")
    assert found["failures"][0]["check"] == "error"
    assert f"{MAX_ERRORS} steps in a row failed" in found["failures"][0]["detail"]
    assert found["wave_revisions"] == [] and _holds(client) == before


def test_a_rollout_on_an_empty_store_rolls_back_to_nothing(
    quiet: tuple[Runtime, TestClient],
) -> None:
    runtime, client = quiet
    assert client.get("/v1/revisions").json()["latest"] == 0
    rid = _start(client, confirm_within=1)
    controller = _controller(runtime, ScriptedGate())
    _drive(controller, client, rid, until="awaiting_confirm")
    assert sorted(r["name"] for r in client.get("/v1/routers").json()["items"]) == ROUTERS
    _expire(runtime, "confirm_by")
    found = _drive(controller, client, rid, until="rolled_back")
    assert found["base_revision"] == 0 and found["rollback_revision"]
    routers = client.get("/v1/routers").json()["items"]
    assert all(r["status"] == "PENDING_DELETE" for r in routers), routers


def test_a_gate_that_never_sees_the_wave_applied_times_out_and_rolls_back(
    world: tuple[Runtime, TestClient, ScriptedGate],
) -> None:
    runtime, client, gate = world
    before = _holds(client)
    gate.pending_names = ["neighbor r1/198.18.9.9 (PENDING_UPDATE)"]
    rid = _start(client, stages=["1"], gate_timeout=1)
    controller = _controller(runtime, gate)
    controller.round()
    assert client.get(f"/v1/rollouts/{rid}").json()["state"] == "gating"
    _expire(runtime, "gate_deadline")
    controller.round()
    found = client.get(f"/v1/rollouts/{rid}").json()
    assert found["state"] == "rolling_back"
    assert found["failures"][0]["check"] == "timeout"
    assert "PENDING_UPDATE" in found["failures"][0]["detail"]
    gate.pending_names = []
    _drive(controller, client, rid, until="rolled_back")
    assert _holds(client) == before


def test_confirm_keeps_the_change_and_no_confirmation_rolls_it_back(
    world: tuple[Runtime, TestClient, ScriptedGate],
) -> None:
    runtime, client, gate = world
    before = _holds(client)
    controller = _controller(runtime, gate)
    rid = _start(client, confirm_within=600)
    found = _drive(controller, client, rid, until="awaiting_confirm")
    assert found["confirm_by"] is not None
    assert client.post(f"/v1/rollouts/{rid}/confirm").json()["state"] == "done"
    assert client.post(f"/v1/rollouts/{rid}/confirm").status_code == 409
    assert _holds(client) == {"r1": 30, "r2": 30, "r3": 30}

    fleet = copy.deepcopy(_fleet(45))
    answer = client.post("/v1/fleet/apply", json={"fleet": fleet, "confirm_within": 1})
    second = int(answer.json()["rollout"])
    controller = _controller(runtime, ScriptedGate())  # its captures count from 1 again
    _drive(controller, client, second, until="awaiting_confirm")
    _expire(runtime, "confirm_by")
    found = _drive(controller, client, second, until="rolled_back")
    assert found["failures"][0]["check"] == "confirm"
    assert _holds(client) == {"r1": 30, "r2": 30, "r3": 30}
    assert before != _holds(client)


def test_a_single_write_with_a_confirmation_header_is_rolled_back_unless_confirmed(
    world: tuple[Runtime, TestClient, ScriptedGate],
) -> None:
    runtime, client, gate = world
    neighbor = client.get("/v1/neighbors", params={"limit": 1}).json()["items"][0]
    answer = client.patch(
        f"/v1/neighbors/{neighbor['id']}",
        json={"hold_time": 12, "keepalive_interval": 4},
        headers={"X-Sdwan-Confirm-Within": "1"},
    )
    assert answer.status_code == 200, answer.text
    (pending,) = client.get("/v1/rollouts", params={"state": "awaiting_confirm"}).json()["items"]
    assert pending["source"] == "api" and pending["waves"] == [[neighbor["router"]]]
    assert answer.headers["X-Sdwan-Rollout"] == str(pending["id"])
    assert client.get(f"/v1/neighbors/{neighbor['id']}").json()["hold_time"] == 12
    _expire(runtime, "confirm_by")
    _drive(_controller(runtime, gate), client, pending["id"], until="rolled_back")
    assert client.get(f"/v1/neighbors/{neighbor['id']}").json()["hold_time"] == 90
    bad = client.patch(
        f"/v1/neighbors/{neighbor['id']}",
        json={"hold_time": 13, "keepalive_interval": 4},
        params={"confirm_within": "soon"},
    )
    assert bad.status_code == 422 and "confirm_within" in bad.text
    assert "X-Sdwan-Rollout" not in bad.headers
    plain = client.patch(
        f"/v1/neighbors/{neighbor['id']}", json={"hold_time": 15, "keepalive_interval": 5}
    )
    assert plain.status_code == 200 and "X-Sdwan-Rollout" not in plain.headers


def test_a_new_controller_continues_where_the_row_says(
    world: tuple[Runtime, TestClient, ScriptedGate],
) -> None:
    runtime, client, gate = world
    rid = _start(client, stages=["1", "100%"])
    _controller(runtime, gate).round()  # wave 1 applied, then this controller is gone
    assert client.get(f"/v1/rollouts/{rid}").json()["state"] == "gating"
    found = _drive(_controller(runtime, gate), client, rid, until="done")
    assert len(found["wave_revisions"]) == 2
    assert _holds(client) == {"r1": 30, "r2": 30, "r3": 30}


def test_bad_rollout_options_and_overlapping_rollouts_are_refused(
    world: tuple[Runtime, TestClient, ScriptedGate],
) -> None:
    _runtime, client, _gate = world
    for options, field in (
        ({"stages": ["0"]}, "stages[0]"),
        ({"stages": ["1"], "gate_timeout": 0}, "gate_timeout"),
        ({"confirm_within": 0}, "confirm_within"),
        (
            {"stages": ["1"], "checks": [{"kind": "ping", "router": "r1", "prefix": "x"}]},
            "checks[0]",
        ),
        (
            {"stages": ["1"], "checks": [{"kind": "rib_has", "router": "r1", "prefix": "x"}]},
            "checks[0].prefix",
        ),
    ):
        answer = client.post("/v1/fleet/apply", json={"fleet": _fleet(30), **options})
        assert answer.status_code == 422 and answer.json()["error"]["field"] == field, answer.text
    _start(client, stages=["1"])
    again = client.post("/v1/fleet/apply", json={"fleet": _fleet(30), "stages": ["1"]})
    assert again.status_code == 409 and "still changing" in again.text
    assert client.get("/v1/rollouts/999").status_code == 404
    assert client.get("/v1/rollouts", params={"state": "nope"}).status_code == 422
