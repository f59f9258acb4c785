"""``sdwan apply --stages/--confirm-within``, ``sdwan rollout`` and the global
``--confirm-within`` against a fake REST API: what is sent, the rollout followed to its
end, exit 1 when it was rolled back, how to confirm a single write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.rest_api import FakeApi, failed, headers, ok, page, run, table_lines

pytestmark = pytest.mark.usefixtures("cli_env")

PLAN: dict[str, Any] = {
    "changes": [
        {
            "action": "update",
            "kind": "neighbor",
            "router": "r1",
            "key": "198.18.1.1",
            "id": "n1",
            "fields": {"peer_asn": [65000, 65099]},
            "values": {},
            "effect": "resets the session",
        }
    ],
    "effects": ["resets the session"],
    "applied": False,
    "dry_run": False,
    "predictions": [],
    "revision": None,
    "rollout": 7,
}


def rollout(**fields: Any) -> dict[str, Any]:
    base = {
        "id": 7,
        "project": None,
        "author": "admin",
        "source": "fleet",
        "state": "running",
        "message": "",
        "stages": ["1", "100%"],
        "waves": [["r1"], ["r2"]],
        "sites": [],
        "wave": 0,
        "base_revision": 4,
        "wave_revisions": [],
        "rollback_revision": None,
        "gate_timeout": 60.0,
        "confirm_within": None,
        "confirm_by": None,
        "failures": [],
        "detail": "2 wave(s) of 2 router(s) planned",
        "created_at": "2026-12-07T10:00:00Z",
        "updated_at": "2026-12-07T10:00:00Z",
        "version": 1,
    }
    return {**base, **fields}


@pytest.fixture
def fleet_file(tmp_path: Path) -> str:
    path = tmp_path / "fleet.yaml"
    path.write_text("routers:\n  - name: r1\n")
    return str(path)


def test_apply_with_stages_follows_the_rollout_and_fails_when_rolled_back(
    api: FakeApi, fleet_file: str
) -> None:
    api.on("POST", "/v1/fleet/apply", (202, PLAN))
    failure = {
        "router": "r1",
        "check": "session",
        "detail": "session with 198.18.1.1 was up, now ACTIVE",
        "observed": "ACTIVE",
        "predicted": "ESTABLISHED",
    }
    api.on(
        "GET",
        "/v1/rollouts/7",
        (200, rollout(state="gating", wave_revisions=[5])),
        (200, rollout(state="rolling_back", wave_revisions=[5], failures=[failure])),
        (
            200,
            rollout(
                state="rolled_back",
                wave_revisions=[5],
                rollback_revision=6,
                failures=[failure],
                detail="wave 1: gate failed: r1: session",
            ),
        ),
    )
    result = run(
        api,
        *("apply", "-f", fleet_file, "--stages", "1, 100%", "--gate-timeout", "30"),
        *("--check", "rib_has:r2:198.51.100.0/24"),
    )
    assert result.exit_code == 1
    *progress, error = result.stderr.strip().splitlines()  # the bar on stderr, then the error
    assert error.startswith("error: rollout 7 rolled back")
    assert progress[-1].startswith("rollout 7 1/2") and "rolled_back" in progress[-1]
    body = api.body("POST")
    assert body["stages"] == ["1", "100%"] and body["gate_timeout"] == 30
    assert body["confirm_within"] is None
    assert body["checks"] == [{"kind": "rib_has", "router": "r2", "prefix": "198.51.100.0/24"}]
    assert "~ neighbor r1/198.18.1.1" in result.stdout
    assert "! r1: session: session with 198.18.1.1 was up, now ACTIVE" in result.stdout
    assert 'observed "ACTIVE", predicted "ESTABLISHED"' in result.stdout
    assert "rolled back as revision 6" in result.stdout


def test_apply_with_a_confirmation_ends_awaiting_it(api: FakeApi, fleet_file: str) -> None:
    api.on("POST", "/v1/fleet/apply", (202, PLAN))
    waiting = rollout(state="awaiting_confirm", wave_revisions=[5, 6], confirm_within=300.0)
    api.on("GET", "/v1/rollouts/7", (200, waiting))
    result = ok(run(api, "apply", "-f", fleet_file, "--confirm-within", "5m"))
    assert api.body("POST")["confirm_within"] == 300 and api.body("POST")["stages"] is None
    assert "sdwan rollout confirm 7" in result.stdout


def test_bad_options_are_refused_before_anything_is_sent(api: FakeApi, fleet_file: str) -> None:
    assert "--confirm-within" in failed(
        run(api, "apply", "-f", fleet_file, "--confirm-within", "soon")
    )
    assert "rib_has:ROUTER:PREFIX" in failed(
        run(api, "apply", "-f", fleet_file, "--stages", "1", "--check", "rib_has:r1")
    )
    assert "--check: only with" in failed(run(api, "apply", "-f", fleet_file, "--check", "x"))
    assert api.requests == []


def test_rollout_list_show_confirm(api: FakeApi) -> None:
    api.on("GET", "/v1/rollouts", page(rollout(state="done", wave=1, wave_revisions=[5, 6])))
    listed = ok(run(api, "rollout", "list", "--state", "done"))
    assert headers(listed.stdout)[:5] == ["ID", "STATE", "SOURCE", "AUTHOR", "WAVE"]
    assert "2/2" in table_lines(listed.stdout)[1]
    assert api.params()["state"] == "done"
    api.on("GET", "/v1/rollouts/7", (200, rollout(wave_revisions=[5])))
    shown = ok(run(api, "rollout", "show", "7")).stdout
    assert "wave 1: r1  revision 5" in shown and "wave 2: r2" in shown
    api.on("POST", "/v1/rollouts/7/confirm", (200, rollout(state="done")))
    assert "confirmed" in ok(run(api, "rollout", "confirm", "7")).stdout


def test_the_global_confirm_within_goes_with_writes_and_says_how_to_confirm(
    api: FakeApi,
) -> None:
    api.on("PATCH", "/v1/routers/r1", (200, {"name": "r1", "status": "ACTIVE", "version": 2}))
    api.answer_headers[("PATCH", "/v1/routers/r1")] = {"X-Sdwan-Rollout": "12"}
    result = ok(run(api, "--confirm-within", "5m", "router", "set", "r1", "--asn", "2"))
    assert api.last("PATCH").headers["x-sdwan-confirm-within"] == "300"
    assert "confirm with: sdwan rollout confirm 12" in result.stderr
    assert "confirm with" not in result.stdout
    api.on("GET", "/v1/rollouts", page())
    ok(run(api, "--confirm-within", "90", "rollout", "list"))
    assert "x-sdwan-confirm-within" not in api.last("GET").headers


def test_a_write_without_a_rollout_says_nothing_of_confirming(api: FakeApi) -> None:
    api.on("PATCH", "/v1/routers/r1", (200, {"name": "r1", "status": "ACTIVE", "version": 2}))
    result = ok(run(api, "--confirm-within", "1h", "router", "set", "r1", "--asn", "2"))
    assert api.last("PATCH").headers["x-sdwan-confirm-within"] == "3600"
    assert "confirm with" not in result.stderr
    result = ok(run(api, "router", "set", "r1", "--asn", "3"))
    assert "x-sdwan-confirm-within" not in api.last("PATCH").headers


def test_a_bad_global_confirm_within_is_refused_before_anything_is_sent(api: FakeApi) -> None:
    assert "--confirm-within" in failed(run(api, "--confirm-within", "soon", "router", "list"))
    assert api.requests == []
