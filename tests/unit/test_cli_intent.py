"""The ``site``, ``uplink`` and ``intent`` commands of the ``sdwan`` CLI against a fake
REST API: what they send, what they print, and the options they do not have (the API
applies site and uplink writes at once, so those take no --wait)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.rest_api import (
    R1,
    FakeApi,
    api_error,
    failed,
    field_rows,
    headers,
    ok,
    page,
    run,
)

pytestmark = pytest.mark.usefixtures("cli_env")

SITE = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
UPLINK = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
INTENT = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"


def site(**fields: Any) -> dict[str, Any]:
    base = {
        "id": SITE,
        "name": "hq",
        "routers": [{"router": R1, "router_name": "GoBGP-1"}, {"router": R1}],
        "prefixes": [{"prefix": "198.51.100.0/24"}],
        "uplinks": 2,
        "intents": 1,
        "status": "ACTIVE",
        "status_detail": "",
        "version": 3,
    }
    return {**base, **fields}


def uplink(**fields: Any) -> dict[str, Any]:
    base = {
        "id": UPLINK,
        "site_name": "hq",
        "name": "vyos1",
        "router_name": "GoBGP-1",
        "neighbor": "198.18.11.11",
        "transport": "mpls",
        "cost": 10,
        "bandwidth_mbps": None,
        "used_by": ["far-lan"],
    }
    return {**base, **fields}


def intent(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": INTENT,
        "site_name": "hq",
        "name": "far-lan",
        "destination": {"type": "prefixes", "prefixes": [{"prefix": "203.0.113.0/24"}]},
        "prefer": [["vyos1"], ["vyos2"]],
        "tiers": [["vyos1"], ["vyos2", "vyos3"]],
        "return_path": {"method": "prepend"},
        "status": "ACTIVE",
        "status_detail": "",
        "version": 2,
        "verification": {
            "verdict": "VERIFIED",
            "detail": "every router uses its tier",
            "since": "2026-01-01T00:00:00Z",
            "intent_version": 2,
            "paths": [
                {
                    "router": "GoBGP-1",
                    "prefix": "203.0.113.0/24",
                    "state": "ok",
                    "predicted": {"via": "vyos1", "why": ["local preference"]},
                }
            ],
        },
        "generated": [
            {"kind": "policy", "router_name": "GoBGP-1", "name": "i-far", "status": "ACTIVE"}
        ],
    }
    return {**base, **fields}


PLAN = {
    "site": "hq",
    "intent": "far-lan",
    "action": "update",
    "objects": [{"router": "GoBGP-1", "changes": ["~ policy i-far"], "effects": ["soft reset"]}],
    "prediction": {"verdict": "VERIFIED", "detail": "", "paths": []},
}


# --- sites ----------------------------------------------------------------------------


def test_site_create_sends_routers_fib_agents_and_prefix_ranges(api: FakeApi) -> None:
    api.on("POST", "/v1/sites", (201, site(warnings=["GoBGP-2 has no FIB agent"])))
    args = ["site", "create", "hq", "--router", "GoBGP-1", "--router", "GoBGP-2"]
    args += ["--fib-agent", "GoBGP-1=unix:///run/sdwan/g1.sock.fib", "--no-next-hop-self"]
    args += ["--prefix", "198.51.100.0/24", "--prefix", "192.0.2.0/25,le=32"]
    result = ok(run(api, *args, "--project", "blue"))
    assert api.body("POST") == {
        "name": "hq",
        "routers": [
            {"router": "GoBGP-1", "fib_agent": "unix:///run/sdwan/g1.sock.fib"},
            {"router": "GoBGP-2"},
        ],
        "prefixes": [{"prefix": "198.51.100.0/24"}, {"prefix": "192.0.2.0/25", "le": 32}],
        "next_hop_self": False,
        "project": "blue",
    }
    assert result.stderr == "warning: GoBGP-2 has no FIB agent\n"
    assert field_rows(result.stdout)["name"] == "hq"


def test_site_writes_take_no_wait(api: FakeApi) -> None:
    for args in (["create", "hq"], ["set", "hq", "--description", "x"], ["delete", "hq"]):
        assert run(api, "site", *args, "--wait").exit_code == 2
    assert api.requests == []


def test_site_list_columns_and_page_hint(api: FakeApi) -> None:
    api.on("GET", "/v1/sites", page(site(), total=3))
    result = ok(run(api, "site", "list", "--sort", "name"))
    assert api.params() == {"sort": "name"}
    assert headers(result.stdout) == ["NAME", "ROUTERS", "PREFIXES", "UPLINKS", "INTENTS", "STATUS"]
    assert f"GoBGP-1, {R1}" in result.stdout  # a router without a name shows its id
    assert result.stderr == "showing 1-1 of 3; use --all, or --limit/--offset\n"
    assert run(api, "site", "list", "--status", "active").exit_code == 2


def test_site_set_replaces_lists_guarded_by_if_match(api: FakeApi) -> None:
    api.on("PATCH", "/v1/sites/hq", (200, site(routers=[], prefixes=[])))
    ok(run(api, "site", "set", "hq", "--router", "", "--prefix", "", "--if-match", "3"))
    assert api.body("PATCH") == {"routers": [], "prefixes": []}
    assert api.last("PATCH").headers["If-Match"] == '"3"'
    assert failed(run(api, "site", "set", "hq")) == (
        "error: nothing to change: give at least one field option (see --help)"
    )


def test_site_delete_names_the_site_as_typed(api: FakeApi) -> None:
    api.on("DELETE", f"/v1/sites/{SITE}", (200, site()))
    result = ok(run(api, "site", "delete", SITE, "--if-match", "3"))
    assert result.stdout == f"site {SITE} deleted\n"
    assert api.last().headers["If-Match"] == '"3"'
    assert [r.method for r in api.requests] == ["DELETE"]  # no lookup


# --- uplinks --------------------------------------------------------------------------


def test_uplink_create_and_bad_reference(api: FakeApi) -> None:
    api.on("POST", "/v1/uplinks", (201, uplink()))
    args = ["uplink", "create", "hq/vyos1", "--router", "GoBGP-1", "--neighbor", "198.18.11.11"]
    ok(run(api, *args, "--transport", "mpls", "--cost", "10", "--bandwidth", "500"))
    assert api.body("POST") == {
        "site": "hq",
        "name": "vyos1",
        "router": "GoBGP-1",
        "neighbor": "198.18.11.11",
        "transport": "mpls",
        "cost": 10,
        "bandwidth_mbps": 500,
    }
    args[2] = "vyos1"
    assert failed(run(api, *args)) == (
        "error: 'vyos1': expected SITE/NAME (the uplink's site and name)"
    )


def test_uplink_found_by_site_and_name(api: FakeApi) -> None:
    api.on("GET", "/v1/uplinks", page(uplink()))
    api.on("PATCH", f"/v1/uplinks/{UPLINK}", (200, uplink(cost=5)))
    ok(run(api, "uplink", "set", "hq/vyos1", "--cost", "5"))
    assert api.params() == {"site": "hq", "name": "vyos1"}
    assert api.body("PATCH") == {"cost": 5}

    api.on("DELETE", f"/v1/uplinks/{UPLINK}", (200, uplink()))
    assert ok(run(api, "uplink", "delete", "hq/vyos1")).stdout == "uplink hq/vyos1 deleted\n"

    api.on("GET", "/v1/uplinks", page())
    assert failed(run(api, "uplink", "show", "hq/gone")) == "error: no uplink gone in site hq"


# --- intents --------------------------------------------------------------------------


def test_intent_create_and_wait(api: FakeApi) -> None:
    api.on("POST", "/v1/intents", (201, intent(status="PENDING_CREATE")))
    api.on("GET", f"/v1/intents/{INTENT}", (200, intent(status="PENDING_CREATE")), (200, intent()))
    args = ["intent", "create", "hq/far-lan", "--to-prefix", "203.0.113.0/24,le=32"]
    result = ok(run(api, *args, "--prefer", "vyos1", "--prefer", "vyos2,vyos3", "--wait"))
    assert api.body("POST") == {
        "site": "hq",
        "name": "far-lan",
        "destination": {"type": "prefixes", "prefixes": [{"prefix": "203.0.113.0/24", "le": 32}]},
        "prefer": [["vyos1"], ["vyos2", "vyos3"]],
    }
    assert field_rows(result.stdout)["tier_text"] == "vyos1 > vyos2,vyos3"
    assert "verification (version 2): VERIFIED since" in result.stdout
    assert "  generated policy GoBGP-1/i-far: ACTIVE" in result.stdout

    api.on("GET", f"/v1/intents/{INTENT}", (200, intent(status="ERROR", status_detail="boom")))
    assert failed(run(api, *args, "--prefer-cost", "--wait")) == (
        "error: intent hq/far-lan is in ERROR: boom"
    )


def test_intent_create_needs_destination_and_preference(api: FakeApi) -> None:
    message = "error: give a destination (--to-prefix/--to-site/--to-any) and --prefer"
    assert failed(run(api, "intent", "create", "hq/x", "--to-any")) == message
    assert failed(run(api, "intent", "create", "hq/x", "--to-any", "--to-site", "s")) == (
        "error: give one of --to-prefix, --to-site, --to-any"
    )
    assert api.requests == []


def test_intent_set_by_id_waits_under_that_name(api: FakeApi) -> None:
    api.on("PATCH", f"/v1/intents/{INTENT}", (200, intent(status="PENDING_UPDATE")))
    api.on("GET", f"/v1/intents/{INTENT}", (200, intent(status="ERROR", status_detail="no")))
    assert failed(run(api, "intent", "set", INTENT, "--prefer-cost", "--wait")) == (
        f"error: intent {INTENT} is in ERROR: no"
    )
    assert api.body("PATCH") == {"prefer": "cost"}
    assert failed(run(api, "intent", "set", INTENT)) == (
        "error: nothing to change: give at least one option (see --help)"
    )


def test_intent_plan_now_and_of_a_change(api: FakeApi) -> None:
    api.on("GET", "/v1/intents", page(intent()))
    api.on("GET", f"/v1/intents/{INTENT}/plan", (200, PLAN))
    result = ok(run(api, "intent", "plan", "hq/far-lan"))
    assert result.stdout.startswith("intent hq/far-lan: update\nGoBGP-1\n  ~ policy i-far\n")

    api.on("GET", f"/v1/intents/{INTENT}", (200, intent()))
    api.on("POST", "/v1/intents/plan", (200, PLAN))
    ok(run(api, "intent", "plan", "hq/far-lan", "--prefer", "vyos2", "-o", "json"))
    body = api.body("POST")
    assert (body["site"], body["name"], body["prefer"]) == ("hq", "far-lan", [["vyos2"]])
    assert body["destination"] == intent()["destination"]  # the rest as it is now

    api.on("GET", "/v1/intents", page())  # a new intent: planned from SITE/NAME
    ok(run(api, "intent", "plan", "hq/new", "--to-any", "--prefer", "vyos1"))
    assert api.body("POST") == {
        "site": "hq",
        "name": "new",
        "destination": {"type": "any"},
        "prefer": [["vyos1"]],
    }


def test_intent_list_and_delete(api: FakeApi) -> None:
    api.on("GET", "/v1/intents", page(intent()))
    result = ok(run(api, "intent", "list", "--site", "hq", "-o", "json"))
    assert api.params() == {"site": "hq"}
    assert json.loads(result.stdout)[0]["name"] == "far-lan"  # the API's objects, as they are

    api.on("DELETE", f"/v1/intents/{INTENT}", (200, intent()))
    result = ok(run(api, "intent", "delete", "hq/far-lan", "--if-match", "2"))
    assert result.stdout == "intent hq/far-lan deleted\n"
    assert run(api, "intent", "delete", "hq/far-lan", "--wait").exit_code == 2


def test_intent_not_found(api: FakeApi) -> None:
    api.on("GET", "/v1/intents", page())
    assert failed(run(api, "intent", "show", "hq/gone")) == "error: no intent gone in site hq"
    api.on("GET", f"/v1/intents/{INTENT}", api_error(404, "no intent"))
    assert failed(run(api, "intent", "show", INTENT)) == "error: no intent"
