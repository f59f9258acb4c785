"""``sdwan history``, ``sdwan history show``, ``sdwan rollback`` and ``--message``
against a fake REST API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.rest_api import FakeApi, headers, page, run, table_lines

pytestmark = pytest.mark.usefixtures("cli_env")

REVISION: dict[str, Any] = {
    "number": 7,
    "at": "2026-12-07T10:00:00Z",
    "author": "alice",
    "author_role": "member",
    "source": "api",
    "message": "shorter hold\nsecond line",
    "rollback_of": None,
    "change_count": 2,
    "changes": [
        {
            "kind": "neighbor",
            "id": "n1",
            "name": "r1/198.18.0.2",
            "action": "update",
            "router": "r1-id",
            "site": None,
            "project": "default",
            "fields": {"hold_time": [90, 30], "password": ["set", "changed"]},
            "before": {},
            "after": {},
        },
        {
            "kind": "announcement",
            "id": "a1",
            "name": "r1/198.51.100.0/24",
            "action": "create",
            "router": "r1-id",
            "site": None,
            "project": "default",
            "fields": {"med": [None, 5]},
            "before": None,
            "after": {},
        },
    ],
}
PLAN = {
    "changes": [
        {
            "action": "update",
            "kind": "neighbor",
            "router": "r1",
            "key": "198.18.0.2",
            "id": "n1",
            "fields": {"hold_time": [30, 90]},
            "values": {},
            "effect": None,
        }
    ],
    "effects": [],
    "applied": False,
    "dry_run": True,
    "rollback_of": 6,
    "latest": 7,
    "revision": None,
}


def test_history_lists_revisions_with_filters(api: FakeApi) -> None:
    api.on("GET", "/v1/revisions", page({**REVISION, "changes": []}))
    result = run(api, "history", "--router", "r1", "--source", "api", "--limit", "5")
    assert result.exit_code == 0, result.stderr
    assert api.params() == {"router": "r1", "source": "api", "limit": "5", "offset": "0"}
    assert headers(result.stdout) == ["REV", "AT", "AUTHOR", "SOURCE", "CHANGES", "MESSAGE"]
    row = [cell.strip() for cell in table_lines(result.stdout)[1].strip("|").split("|")]
    assert row == ["7", "2026-12-07T10:00:00Z", "alice", "api", "2", "shorter hold ..."]


def test_history_show_prints_a_readable_diff(api: FakeApi) -> None:
    api.on("GET", "/v1/revisions/7", (200, REVISION))
    result = run(api, "history", "show", "7")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["revision", "7", "2026-12-07T10:00:00Z", "alice", "api"]
    assert "    shorter hold" in lines and "    second line" in lines
    assert "~ neighbor r1/198.18.0.2" in lines
    assert "    hold_time: 90 -> 30" in lines and "    password: set -> changed" in lines
    assert "+ announcement r1/198.51.100.0/24" in lines and "    med: 5" in lines


def test_rollback_applies_the_plan_it_showed(api: FakeApi) -> None:
    applied = {**PLAN, "applied": True, "dry_run": False, "revision": 8}
    api.on_call(
        "POST",
        "/v1/revisions/6/rollback",
        lambda request: (200, PLAN if "dry_run" in request.url.params else applied),
    )
    result = run(api, "rollback", "6", "--router", "r1", "-m", "undo é")
    assert result.exit_code == 0, result.stderr
    plan, apply = api.requests
    assert plan.url.params["dry_run"] == "true" and "if-match" not in plan.headers
    assert apply.headers["if-match"] == '"7"' and "dry_run" not in apply.url.params
    assert apply.headers["x-sdwan-message"] == "undo %C3%A9"
    assert api.body("POST") == {"routers": ["r1"], "sites": []}
    assert "hold_time: 30 -> 90" in result.stdout and "Applied as revision 8" in result.stdout


def test_rollback_dry_run_changes_nothing(api: FakeApi) -> None:
    api.on("POST", "/v1/revisions/6/rollback", (200, PLAN))
    result = run(api, "rollback", "6", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert len(api.requests) == 1 and "Dry run: nothing was changed" in result.stdout


def test_the_global_message_goes_with_writes_only(api: FakeApi) -> None:
    api.on("PATCH", "/v1/routers/r1", (200, {"name": "r1", "status": "ACTIVE", "version": 2}))
    result = run(api, "--message", "move to 65002 (50% done)", "router", "set", "r1", "--asn", "2")
    assert result.exit_code == 0, result.stderr
    assert api.last("PATCH").headers["x-sdwan-message"] == "move to 65002 (50%25 done)"
    api.on("GET", "/v1/revisions", page())
    run(api, "-m", "why", "history")
    assert "x-sdwan-message" not in api.last("GET").headers


def test_apply_sends_its_message(api: FakeApi, tmp_path: Any) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("routers: []\n")
    result_body = {
        "changes": [],
        "effects": [],
        "applied": False,
        "dry_run": False,
        "predictions": [],
        "revision": None,
    }
    api.on("POST", "/v1/fleet/apply", (200, result_body))
    result = run(api, "apply", "-f", str(fleet), "-m", "weekly")
    assert result.exit_code == 0, result.stderr
    assert api.last("POST").headers["x-sdwan-message"] == "weekly"
