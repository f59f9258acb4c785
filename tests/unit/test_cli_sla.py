"""``sdwan sla``, the SLA and probe options of ``intent``, ``uplink`` and ``site``, and
the measured quality ``uplink list|show|history`` print, against a fake REST API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.rest_api import FakeApi, failed, field_rows, headers, ok, page, run, table_lines
from tests.unit.test_cli_intent import INTENT, UPLINK, intent, site, uplink

pytestmark = pytest.mark.usefixtures("cli_env")

GOLD_ID = "dddddddd-dddd-4ddd-8ddd-dddddddddddd"


def gold(**fields: Any) -> dict[str, Any]:
    base = {
        "id": GOLD_ID,
        "project_id": "default",
        "name": "gold",
        "loss_pct": 1.0,
        "latency_ms": 50.0,
        "jitter_ms": None,
        "hold_down_s": 30.0,
        "min_interval_s": 10.0,
        "description": "",
        "used_by": ["hq/far-lan"],
        "version": 1,
    }
    return {**base, **fields}


def quality(**fields: Any) -> dict[str, Any]:
    window = {
        "window_s": 2.0,
        "sent": 40,
        "answered": 38,
        "loss_pct": 6.12,
        "latency_ms": 152.4,
        "jitter_ms": 0.214,
    }
    base = {
        "state": "up",
        "since": "2026-12-01T12:00:00Z",
        "local_address": "198.18.11.1",
        "interface": "gb1-vyos1",
        "short": window,
        "long": {**window, "window_s": 30.0, "loss_pct": 1.0, "jitter_ms": None},
        "classes": {"gold": {"state": "violated", "since": None, "reason": "loss 6.1 % > 1 %"}},
        "agent": "unix:///run/sdwan/GoBGP-1.sock.probe",
        "reported_at": "2026-12-01T12:05:00Z",
        "stale": False,
    }
    return {**base, **fields}


PROBE = {"method": "udp", "target": None, "port": 862, "rate": None}


# --- sla ------------------------------------------------------------------------------------


def test_sla_create_sends_the_limits(api: FakeApi) -> None:
    api.on("POST", "/v1/sla-classes", (201, gold()))
    args = ["sla", "create", "gold", "--loss", "1", "--latency", "50", "--jitter", "10"]
    result = ok(run(api, *args, "--hold-down", "30", "--project", "blue"))
    assert api.body("POST") == {
        "name": "gold",
        "loss_pct": 1.0,
        "latency_ms": 50.0,
        "jitter_ms": 10.0,
        "hold_down_s": 30.0,
        "project": "blue",
    }
    assert field_rows(result.stdout)["name"] == "gold"
    assert failed(run(api, "sla", "create", "x", "--hold-down", "5")) == (
        "error: give at least one limit: --loss, --latency or --jitter"
    )
    assert run(api, "sla", "create", "x", "--loss", "101").exit_code == 2  # out of range
    assert run(api, "sla", "create", "x", "--loss", "1", "--wait").exit_code == 2
    assert len(api.requests) == 1


def test_sla_list_rounds_the_limits_for_people(api: FakeApi) -> None:
    api.on("GET", "/v1/sla-classes", page(gold(), gold(name="silver", loss_pct=2.5, used_by=[])))
    result = ok(run(api, "sla", "list", "--project", "blue"))
    assert api.params() == {"project": "blue"}
    assert headers(result.stdout) == [
        "NAME",
        "LOSS",
        "LATENCY",
        "JITTER",
        "HOLD-DOWN",
        "MIN INTERVAL",
        "USED BY",
    ]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table_lines(result.stdout)]
    assert rows[1] == ["gold", "1 %", "50 ms", "-", "30 s", "10 s", "hq/far-lan"]
    assert rows[2][:2] == ["silver", "2.5 %"]
    listed = json.loads(ok(run(api, "sla", "list", "-o", "json")).stdout)
    assert listed[0]["loss_pct"] == 1.0 and "loss_text" not in listed[0]  # the API's object


def test_sla_set_lifts_and_changes_limits_under_if_match(api: FakeApi) -> None:
    api.on("PATCH", "/v1/sla-classes/gold", (200, gold(version=2)))
    ok(run(api, "sla", "set", "gold", "--no-latency", "--jitter", "5", "--if-match", "1"))
    assert api.body("PATCH") == {"jitter_ms": 5.0, "latency_ms": None}
    assert api.last("PATCH").headers["If-Match"] == '"1"'
    assert failed(run(api, "sla", "set", "gold", "--loss", "1", "--no-loss")) == (
        "error: give either --loss or --no-loss"
    )
    assert failed(run(api, "sla", "set", "gold")) == (
        "error: nothing to change: give at least one field option (see --help)"
    )
    api.on("DELETE", "/v1/sla-classes/gold", (200, gold()))
    assert ok(run(api, "sla", "delete", "gold")).stdout == "SLA class gold deleted\n"


# --- intents, sites --------------------------------------------------------------------------


def test_intent_names_its_class_and_clears_it(api: FakeApi) -> None:
    api.on("POST", "/v1/intents", (201, intent(sla_class="gold")))
    result = ok(
        run(api, "intent", "create", "hq/far-lan", "--to-any", "--prefer", "vyos1", "--sla", "gold")
    )
    assert api.body("POST")["sla_class"] == "gold"
    assert field_rows(result.stdout)["sla_class"] == "gold"
    api.on("PATCH", f"/v1/intents/{INTENT}", (200, intent(sla_class=None)))
    ok(run(api, "intent", "set", INTENT, "--no-sla"))
    assert api.body("PATCH") == {"sla_class": None}
    assert failed(run(api, "intent", "set", INTENT, "--sla", "x", "--no-sla")) == (
        "error: give either --sla or --no-sla"
    )
    assert run(api, "intent", "create", "hq/x", "--to-any", "--prefer", "a", "--no-sla").exit_code
    api.on("GET", "/v1/intents", page(intent(sla_class="gold")))
    assert "gold" in ok(run(api, "intent", "list")).stdout
    assert headers(ok(run(api, "intent", "list")).stdout)[4] == "SLA"


def test_intent_plan_keeps_or_changes_the_class(api: FakeApi) -> None:
    api.on("GET", "/v1/intents", page(intent(sla_class="gold")))
    api.on("GET", f"/v1/intents/{INTENT}", (200, intent(sla_class="gold")))
    plan = {
        "site": "hq",
        "intent": "far-lan",
        "action": "none",
        "objects": [],
        "prediction": {"verdict": "VERIFIED", "detail": "", "paths": []},
    }
    api.on("POST", "/v1/intents/plan", (200, plan))
    ok(run(api, "intent", "plan", "hq/far-lan", "--prefer", "vyos2"))
    assert api.body("POST")["sla_class"] == "gold"  # as it is now
    ok(run(api, "intent", "plan", "hq/far-lan", "--sla", "silver"))
    assert api.body("POST")["sla_class"] == "silver"
    ok(run(api, "intent", "plan", "hq/far-lan", "--no-sla"))
    assert api.body("POST")["sla_class"] is None


def test_site_routers_get_their_probe_agents(api: FakeApi) -> None:
    api.on("POST", "/v1/sites", (201, site()))
    args = ["site", "create", "hq", "--router", "GoBGP-1", "--router", "GoBGP-2"]
    args += ["--probe-agent", "GoBGP-2=unix:///run/g2.sock.probe"]
    ok(run(api, *args, "--fib-agent", "GoBGP-1=unix:///run/g1.sock.fib"))
    assert api.body("POST")["routers"] == [
        {"router": "GoBGP-1", "fib_agent": "unix:///run/g1.sock.fib"},
        {"router": "GoBGP-2", "probe_agent": "unix:///run/g2.sock.probe"},
    ]
    assert failed(run(api, "site", "set", "hq", "--probe-agent", "GoBGP-1=unix:///x")) == (
        "error: --probe-agent needs the site's --router list with it"
    )
    assert failed(run(api, *args[:5], "--probe-agent", "GoBGP-9=unix:///x")) == (
        "error: --probe-agent names GoBGP-9, which is not a --router"
    )
    assert failed(run(api, *args[:5], "--probe-agent", "GoBGP-1")) == (
        "error: --probe-agent 'GoBGP-1': expected ROUTER=unix:///path"
    )


# --- uplinks -------------------------------------------------------------------------------


def test_uplink_probe_options(api: FakeApi) -> None:
    api.on("POST", "/v1/uplinks", (201, uplink(probe=PROBE)))
    args = ["uplink", "create", "hq/vyos1", "--router", "GoBGP-1", "--neighbor", "198.18.11.11"]
    ok(run(api, *args, "--probe", "ICMP", "--probe-target", "192.0.2.7", "--probe-rate", "20"))
    assert api.body("POST")["probe"] == {"method": "icmp", "target": "192.0.2.7", "rate": 20.0}
    ok(run(api, *args))
    assert "probe" not in api.body("POST")
    assert failed(run(api, *args, "--probe-rate", "fast")) == (
        "error: --probe-rate: expected probes per second or auto, got 'fast'"
    )
    assert failed(run(api, *args, "--probe", "tcp")) == (
        "error: --probe must be one of udp, icmp, none, got 'tcp'"
    )
    # set: the given probe fields over the uplink's setting as read, guarded by its version
    current = uplink(probe={**PROBE, "method": "icmp", "target": "192.0.2.7"}, version=4)
    api.on("GET", "/v1/uplinks", page(current))
    api.on("GET", f"/v1/uplinks/{UPLINK}", (200, current))
    api.on("PATCH", f"/v1/uplinks/{UPLINK}", (200, current))
    ok(run(api, "uplink", "set", "hq/vyos1", "--probe-rate", "50", "--probe-target", "auto"))
    assert api.body("PATCH") == {"probe": {**PROBE, "method": "icmp", "rate": 50.0}}
    assert api.last("PATCH").headers["If-Match"] == '"4"'
    ok(run(api, "uplink", "set", "hq/vyos1", "--cost", "5"))  # no probe option: no read
    assert api.body("PATCH") == {"cost": 5} and "If-Match" not in api.last("PATCH").headers


def test_uplink_list_and_show_the_measured_quality(api: FakeApi) -> None:
    measured = uplink(probe=PROBE, quality=quality())
    silent = uplink(name="vyos2", probe=PROBE, quality=None)
    stale = uplink(name="vyos3", probe=PROBE, quality=quality(state="dead", stale=True))
    api.on("GET", "/v1/uplinks", page(measured, silent, stale))
    result = ok(run(api, "uplink", "list"))
    names = headers(result.stdout)
    assert names[7:11] == ["STATE", "LOSS", "LATENCY", "JITTER"]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table_lines(result.stdout)]
    assert rows[1][7:11] == ["up", "6.1 %", "152 ms", "0.21 ms"]
    assert rows[2][7:11] == ["-", "", "", ""]
    assert rows[3][7] == "dead (stale)"
    api.on("GET", f"/v1/uplinks/{UPLINK}", (200, measured))
    shown = ok(run(api, "uplink", "show", UPLINK)).stdout
    assert field_rows(shown)["probe"] == "udp, target auto (the far site agent), port 862, " + (
        "the agent's rate"
    )
    assert "quality: up since 2026-12-01T12:00:00Z (reported 2026-12-01T12:05:00Z; from " in shown
    assert "| short  | 2 s    | 38/40    | 6.1 % | 152 ms  | 0.21 ms |" in shown
    assert "| long   | 30 s   | 38/40    | 1 %   | 152 ms  | -       |" in shown
    assert "  SLA class gold: violated since None: loss 6.1 % > 1 %" in shown
    api.on("GET", f"/v1/uplinks/{UPLINK}", (200, silent))
    assert "quality: not reported yet" in ok(run(api, "uplink", "show", UPLINK)).stdout
    as_json = json.loads(ok(run(api, "uplink", "show", UPLINK, "-o", "json")).stdout)
    assert as_json["probe"] == PROBE and as_json["quality"] is None


def test_uplink_history(api: FakeApi) -> None:
    points = [
        {
            "start": "2026-12-01T12:00:00Z",
            "reports": 60,
            "loss_pct": 0.5,
            "loss_max_pct": 2.0,
            "latency_ms": 12.04,
            "latency_max_ms": 30.0,
            "jitter_ms": None,
            "jitter_max_ms": None,
            "dead_s": 0.0,
        },
    ]
    answer = {
        "uplink": UPLINK,
        "site_name": "hq",
        "name": "vyos1",
        "resolution": 60,
        "resolutions": [10, 60],
        "items": points,
    }
    api.on("GET", "/v1/uplinks", page(uplink()))
    api.on("GET", f"/v1/uplinks/{UPLINK}/quality/history", (200, answer))
    result = ok(run(api, "uplink", "history", "hq/vyos1", "--since", "1h", "--resolution", "60"))
    params = api.params()
    since = datetime.fromisoformat(params.pop("since"))
    assert abs((datetime.now(UTC) - timedelta(hours=1) - since).total_seconds()) < 60
    assert params == {"resolution": "60"}
    assert result.stdout.startswith("uplink hq/vyos1: a point every 60 s (stored: 10, 60 s)\n")
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table_lines(result.stdout)]
    assert rows[1] == [
        "2026-12-01T12:00:00Z",
        "60",
        "0.5 %",
        "2 %",
        "12 ms",
        "30 ms",
        "-",
        "-",
        "0 s",
    ]
    ok(run(api, "uplink", "history", "hq/vyos1", "--since", "2026-12-01T00:00:00Z"))
    assert api.params()["since"] == "2026-12-01T00:00:00+00:00"
    assert json.loads(ok(run(api, "uplink", "history", UPLINK, "-o", "json")).stdout) == answer
    assert failed(run(api, "uplink", "history", UPLINK, "--since", "yesterday")).startswith(
        "error: --since: expected a time ago like 90s, 15m, 1h, 2d or an ISO 8601 time"
    )
    api.on("GET", f"/v1/uplinks/{UPLINK}/quality/history", (200, {**answer, "items": []}))
    empty = ok(run(api, "uplink", "history", UPLINK))
    assert empty.stdout == "" and "no measurements stored" in empty.stderr
