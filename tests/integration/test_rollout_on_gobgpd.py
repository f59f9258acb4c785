"""Staged rollouts on real gobgpd (issue 24, items 2 to 5): a good change lands wave by
wave on every router; a change that takes the canary's session down is rolled back on
every router, and the rollout says which router and check failed; an orchestrator
killed mid-rollout finishes it after its restart (all or nothing); a change not
confirmed in time is rolled back, a confirmed one kept.

e1 (AS65000) --- r1 (AS65001) --- i1, i2 (AS65001), hold time 9 s; one orchestrator
for the module (SQLite), its gates judging 1 s after a wave is applied."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from sdwan.lab import GobgpdFactory, Lab, wait_for
from sdwan.lab.server_process import OrchestratorProcess
from tests.support.policy_lab import ROUTERS, PolicyLab, build

NAMES = ("e1", "r1", "i1", "i2")
E1 = "198.18.1.1"  # r1's neighbor e1


@pytest.fixture(scope="module")
def plab(tmp_path_factory: pytest.TempPathFactory, lab_environment: Any) -> Iterator[PolicyLab]:
    prefix = "t" + secrets.token_hex(3)
    lab_environment.prefixes.append(prefix)
    lab = Lab(prefix)
    factory = GobgpdFactory(tmp_path_factory.mktemp("gobgpd"), prefix=prefix)
    orchestrator = OrchestratorProcess(
        tmp_path_factory.mktemp("orchestrator"), extra_env={"SDWAN_ROLLOUT_SETTLE": "1"}
    )
    try:
        orchestrator.start()
        yield build(lab, factory, orchestrator, names=NAMES)
    finally:
        orchestrator.stop()
        factory.close_all()
        lab.teardown()
    log = orchestrator.log_path.read_text(errors="replace")
    assert "Traceback" not in log, orchestrator.log_tail(60)


def _router(plab: PolicyLab, name: str, **sections: Any) -> dict[str, Any]:
    asn, router_id, _links = ROUTERS[name]
    return {
        "name": name,
        "asn": asn,
        "router_id": router_id,
        "api_address": plab.daemons[name].api_address,
        **sections,
    }


def _write(tmp_path: Path, routers: list[dict[str, Any]]) -> str:
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps({"version": 1, "routers": routers}))
    return str(path)


def _announced(plab: PolicyLab, router: str, prefix: str) -> bool:
    return bool(plab.routes(router, prefix))


def _sessions_up(plab: PolicyLab) -> bool:
    """Every session up, as gobgpd and as the orchestrator's live state see it (the
    gate's baseline is the latter)."""
    with plab.api() as api:
        items = api.get("/v1/neighbors", params={"limit": 100}).json()["items"]
    return all(plab.established(n) for n in NAMES) and all(
        n["session_state"] == "ESTABLISHED" for n in items
    )


def _rollout(plab: PolicyLab, rollout_id: int) -> dict[str, Any]:
    with plab.api() as api:
        found: dict[str, Any] = api.get(f"/v1/rollouts/{rollout_id}").json()
    return found


def _newest(plab: PolicyLab) -> dict[str, Any]:
    with plab.api() as api:
        found: dict[str, Any] = api.get("/v1/rollouts", params={"limit": 1}).json()["items"][0]
    return found


def _ends(plab: PolicyLab, rollout_id: int, state: str, timeout: float = 60) -> dict[str, Any]:
    wait_for(
        lambda: _rollout(plab, rollout_id)["state"] in (state, "failed"),
        timeout=timeout,
        what=f"rollout {rollout_id} {state}",
    )
    found = _rollout(plab, rollout_id)
    assert found["state"] == state, found
    return found


def test_a_good_change_lands_wave_by_wave_on_every_router(plab: PolicyLab, tmp_path: Path) -> None:
    wait_for(lambda: _sessions_up(plab), timeout=60, what="every session up")
    prefix = "198.51.100.0/25"
    routers = [_router(plab, n, announcements=[{"prefix": prefix}]) for n in ("i1", "i2")]
    done = plab.orchestrator.cli(
        "apply", "-f", _write(tmp_path, routers), "--stages", "1,100%", "-m", "two waves"
    )
    assert "Rollout" in done.stdout and "done" in done.stdout
    found = _newest(plab)
    assert found["state"] == "done" and found["waves"] == [["i1"], ["i2"]]
    assert len(found["wave_revisions"]) == 2 and found["failures"] == []
    assert found["message"] == "two waves"
    for name in ("i1", "i2"):
        wait_for(partial(_announced, plab, name, prefix), timeout=20, what=f"{prefix} at {name}")
    with plab.api() as api:
        revision = api.get(f"/v1/revisions/{found['wave_revisions'][0]}").json()
    assert [c["name"] for c in revision["changes"]] == [f"i1/{prefix}"]
    assert revision["message"] == "two waves"


def test_a_change_breaking_the_canary_is_rolled_back_on_every_router(
    plab: PolicyLab, tmp_path: Path
) -> None:
    wait_for(lambda: _sessions_up(plab), timeout=60, what="every session up")
    prefix = "198.51.100.128/25"
    wrong = {"address": E1, "peer_asn": 65099, "hold_time": 9, "keepalive_interval": 3}
    routers = [
        _router(plab, "r1", neighbors=[wrong]),  # the canary: e1's session cannot come up
        _router(plab, "i1", announcements=[{"prefix": prefix}]),
    ]
    answer = plab.orchestrator.cli(
        "apply", "-f", _write(tmp_path, routers), "--stages", "1,100%", check=False
    )
    assert answer.returncode == 1, answer.stdout + answer.stderr
    assert "rolled back" in answer.stderr
    found = _newest(plab)
    assert found["state"] == "rolled_back" and found["rollback_revision"]
    assert len(found["wave_revisions"]) == 1  # i1's wave never ran
    failure = found["failures"][0]
    assert failure["router"] == "r1" and failure["check"], found["failures"]
    assert E1 in failure["detail"]
    with plab.api() as api:
        neighbors = api.get("/v1/neighbors", params={"router": "r1", "limit": 100}).json()
    assert {n["address"]: n["peer_asn"] for n in neighbors["items"]}[E1] == 65000
    wait_for(lambda: _sessions_up(plab), timeout=60, what="e1's session up again")
    assert not _announced(plab, "i1", prefix)


def test_an_orchestrator_killed_mid_rollout_finishes_it_after_its_restart(
    plab: PolicyLab,
) -> None:
    wait_for(lambda: _sessions_up(plab), timeout=60, what="every session up")
    prefix = "192.0.2.0/25"
    routers = [_router(plab, n, announcements=[{"prefix": prefix}]) for n in ("i1", "i2")]
    with plab.api() as api:
        answer = api.post(
            "/v1/fleet/apply", json={"fleet": {"routers": routers}, "stages": ["1", "100%"]}
        )
    assert answer.status_code == 202, answer.text
    rollout_id = int(answer.json()["rollout"])
    wait_for(
        lambda: _rollout(plab, rollout_id)["state"] == "gating",
        timeout=30,
        what="the canary's wave applied",
    )
    plab.orchestrator.kill()
    plab.orchestrator.start()
    found = _ends(plab, rollout_id, "done")
    assert len(found["wave_revisions"]) == 2
    for name in ("i1", "i2"):
        wait_for(partial(_announced, plab, name, prefix), timeout=20, what=f"{prefix} at {name}")


def test_a_change_not_confirmed_in_time_is_rolled_back_and_a_confirmed_one_kept(
    plab: PolicyLab, tmp_path: Path
) -> None:
    wait_for(lambda: _sessions_up(plab), timeout=60, what="every session up")
    prefix = "192.0.2.128/25"
    fleet = _write(tmp_path, [_router(plab, "i1", announcements=[{"prefix": prefix}])])
    first = plab.orchestrator.cli("apply", "-f", fleet, "--confirm-within", "3s").stdout
    assert "sdwan rollout confirm" in first
    rollout_id = _newest(plab)["id"]
    wait_for(lambda: _announced(plab, "i1", prefix), timeout=20, what=f"{prefix} at i1")
    found = _ends(plab, rollout_id, "rolled_back")
    assert found["failures"][0]["check"] == "confirm"
    wait_for(lambda: not _announced(plab, "i1", prefix), timeout=20, what=f"{prefix} gone")

    plab.orchestrator.cli("apply", "-f", fleet, "--confirm-within", "5m")
    kept = _newest(plab)
    assert kept["id"] != rollout_id and kept["state"] == "awaiting_confirm"
    confirmed = plab.orchestrator.cli("rollout", "confirm", str(kept["id"])).stdout
    assert "confirmed" in confirmed
    shown = plab.orchestrator.cli("rollout", "show", str(kept["id"])).stdout
    assert "done" in shown
    wait_for(lambda: _announced(plab, "i1", prefix), timeout=20, what=f"{prefix} kept at i1")
