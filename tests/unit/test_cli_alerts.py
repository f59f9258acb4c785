"""The ``alert`` and ``webhook`` commands of the ``sdwan`` CLI against a fake REST API:
what they send (names resolved to ids, the scope and the filter as given, the secret
from stdin), what they print, and what they refuse before any request."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.rest_api import FakeApi, failed, field_rows, headers, ok, page, run

pytestmark = pytest.mark.usefixtures("cli_env")

RULE = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
HOOK = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"


def rule(**fields: Any) -> dict[str, Any]:
    base = {
        "id": RULE,
        "project_id": "default",
        "name": "down",
        "kind": "session_down",
        "threshold": 30.0,
        "severity": "critical",
        "scope": {"router": "GoBGP-1"},
        "labels": {},
        "enabled": True,
        "firing": 1,
        "version": 2,
    }
    return {**base, **fields}


def hook(**fields: Any) -> dict[str, Any]:
    base = {
        "id": HOOK,
        "project_id": "default",
        "name": "pager",
        "url": "http://127.0.0.1:8080/in",
        "format": "alertmanager",
        "filter": {"kinds": ["alert.*"], "resource_types": [], "severities": [], "rules": []},
        "enabled": True,
        "pending": 3,
        "version": 1,
    }
    return {**base, **fields}


def test_rule_create_sends_kind_threshold_scope_and_labels(api: FakeApi) -> None:
    api.on("POST", "/v1/alert-rules", (201, rule()))
    args = ["alert", "rule", "create", "down", "--kind", "Session_Down", "--threshold", "30"]
    args += ["--severity", "critical", "--router", "GoBGP-1", "--label", "team=noc"]
    result = ok(run(api, *args))
    assert api.body("POST") == {
        "name": "down",
        "kind": "session_down",
        "threshold": 30.0,
        "severity": "critical",
        "scope": {"router": "GoBGP-1"},
        "labels": {"team": "noc"},
    }
    assert field_rows(result.stdout)["kind"] == "session_down"
    assert "--kind must be one of" in failed(
        run(api, "alert", "rule", "create", "x", "--kind", "flap", "--threshold", "1")
    )
    assert "KEY=VALUE" in failed(
        run(
            api,
            "alert",
            "rule",
            "create",
            "x",
            "--kind",
            "session_down",
            "--threshold",
            "1",
            "--label",
            "team",
        )
    )
    assert run(api, "alert", "rule", "create", "x", "--kind", "session_down").exit_code == 2


def test_rule_set_resolves_the_name_and_replaces_the_scope(api: FakeApi) -> None:
    api.on("GET", "/v1/alert-rules", page(rule()))
    api.on("PATCH", f"/v1/alert-rules/{RULE}", (200, rule(scope={})))
    ok(run(api, "alert", "rule", "set", "down", "--router", "", "--disabled", "--if-match", "2"))
    assert api.params() == {"name": "down", "limit": "2"}
    assert api.body("PATCH") == {"scope": {}, "enabled": False}
    assert api.last("PATCH").headers["If-Match"] == '"2"'


def test_a_name_two_projects_use_asks_for_the_id(api: FakeApi) -> None:
    api.on("GET", "/v1/alert-rules", page(rule(), rule(project_id="blue")))
    message = failed(run(api, "alert", "rule", "show", "down"))
    assert message == "error: alert rule down is in several projects (blue, default); use its id"
    api.on("GET", "/v1/alert-rules", page())
    assert failed(run(api, "alert", "rule", "show", "nope")) == "error: no alert rule nope"


def test_rule_list_shows_scope_and_firing(api: FakeApi) -> None:
    api.on("GET", "/v1/alert-rules", page(rule()))
    result = ok(run(api, "alert", "rule", "list", "--kind", "session_down"))
    assert api.params() == {"kind": "session_down"}
    assert headers(result.stdout) == [
        "NAME",
        "KIND",
        "THRESHOLD",
        "SEVERITY",
        "SCOPE",
        "ENABLED",
        "FIRING",
    ]
    assert "router=GoBGP-1" in result.stdout


def test_alert_list_filters_by_state(api: FakeApi) -> None:
    alert = {"id": "x", "state": "firing", "severity": "critical", "rule_name": "down"}
    api.on("GET", "/v1/alerts", page(alert))
    result = ok(run(api, "alert", "list", "--state", "FIRING", "--rule", "down"))
    assert api.params() == {"state": "firing", "rule": "down"}
    assert headers(result.stdout)[:4] == ["ID", "STATE", "SEVERITY", "RULE"]
    assert "--state must be one of" in failed(run(api, "alert", "list", "--state", "open"))


def test_webhook_create_reads_the_secret_from_stdin(api: FakeApi) -> None:
    api.on("POST", "/v1/webhooks", (201, hook()))
    args = ["webhook", "create", "pager", "--url", "http://127.0.0.1:8080/in", "--secret-stdin"]
    args += ["--format", "alertmanager", "--kind", "alert.*", "--severity", "critical"]
    result = ok(run(api, *args, stdin="s3cret-from-stdin-0123\n"))
    assert api.body("POST") == {
        "name": "pager",
        "url": "http://127.0.0.1:8080/in",
        "secret": "s3cret-from-stdin-0123",
        "format": "alertmanager",
        "filter": {
            "kinds": ["alert.*"],
            "resource_types": [],
            "severities": ["critical"],
            "rules": [],
        },
    }
    assert "s3cret" not in result.stdout
    no_secret = run(api, "webhook", "create", "x", "--url", "http://127.0.0.1/")
    assert failed(no_secret) == "error: a webhook needs a secret: --secret-stdin (or --secret)"
    both = run(
        api,
        "webhook",
        "create",
        "x",
        "--url",
        "http://127.0.0.1/",
        "--secret",
        "a",
        "--secret-stdin",
        stdin="b",
    )
    assert failed(both) == "error: give either --secret or --secret-stdin, not both"


def test_webhook_deliveries_list_the_log(api: FakeApi) -> None:
    api.on("GET", "/v1/webhooks", page(hook()))
    entry = {
        "at": "2026-12-01T12:00:00Z",
        "event_id": 7,
        "event_kind": "alert.firing",
        "attempt": 2,
        "outcome": "delivered",
        "status_code": 204,
        "duration_ms": 3.5,
        "error": "",
    }
    api.on("GET", f"/v1/webhooks/{HOOK}/deliveries", page(entry, total=12))
    result = ok(run(api, "webhook", "deliveries", "pager", "--limit", "1"))
    assert api.params() == {"limit": "1"}
    assert headers(result.stdout) == [
        "AT",
        "EVENT",
        "KIND",
        "ATTEMPT",
        "OUTCOME",
        "STATUS",
        "MS",
        "ERROR",
    ]
    assert "delivered" in result.stdout and "of 12" in result.stderr
