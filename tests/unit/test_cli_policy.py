"""The routing-policy commands of the ``sdwan`` CLI against a fake REST API."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

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
    table_lines,
)

pytestmark = pytest.mark.usefixtures("cli_env")

S1 = "44444444-4444-4444-8444-444444444444"
P1 = "55555555-5555-4555-8555-555555555555"
A1 = "66666666-6666-4666-8666-666666666666"
AN1 = "77777777-7777-4777-8777-777777777777"
PI1 = "88888888-8888-4888-8888-888888888888"
PI2 = "99999999-9999-4999-8999-999999999999"


def owned(**fields: Any) -> dict[str, Any]:
    base = {
        "router": R1,
        "router_name": "GoBGP-1",
        "description": "",
        "status": "ACTIVE",
        "status_detail": "",
        "version": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    return {**base, **fields}


def defined_set(**fields: Any) -> dict[str, Any]:
    members = [{"prefix": "198.18.0.0/16", "ge": 24, "le": 28}, {"prefix": "203.0.113.0/24"}]
    return owned(**{"id": S1, "name": "lan", "type": "prefix", "members": members, **fields})


def policy(**fields: Any) -> dict[str, Any]:
    statements = [{"name": "s1", "conditions": {}, "actions": {"disposition": "accept"}}]
    return owned(**{"id": P1, "name": "prefer", "statements": statements, **fields})


def attachment(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": A1,
        "name": "nh-self",
        "direction": "export",
        "policies": ["nh-self"],
        "default_action": "none",
        "neighbors": ["198.18.31.3"],
        "priority": 100,
    }
    return owned(**{**base, **fields})


def announcement(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": AN1,
        "prefix": "198.18.0.0/24",
        "next_hop": None,
        "origin": "igp",
        "med": None,
        "local_pref": None,
        "communities": [],
        "large_communities": [],
        "as_path_prepend": 0,
    }
    return owned(**{**base, **fields})


def policyinfo(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": PI1,
        "host_name": "GoBGP-1",
        "mgmt_addr": "unix:///run/sdwan/gobgp1.sock",
        "policy_name": "policy1",
        "statement_name": "statement1",
        "statement_action": "next-hop self",
        "route_disposition": "accept",
        "apply_direction": "export",
        "apply_neighbor": "198.18.31.3",
        "exist": "New",
        "status": "ACTIVE",
        "status_detail": "",
        "created_at": "2026-01-01T00:00:00Z",
    }
    return {**base, **fields}


# --- policyinfo: the original's step ------------------------------------------------------


def test_policyinfo_create_with_the_original_command(api: FakeApi) -> None:
    api.on("POST", "/v1/policyinfo", (201, policyinfo(status="PENDING_CREATE")))
    command = (
        "policyinfo create --host_name GoBGP-1 --policy_name policy1 --statement_name "
        'statement1 --statement_action "next-hop self" --route_disposition accept '
        "--apply_direction export --apply_neighbor 198.18.31.3 --exist New "
        "--mgmt_addr unix:///run/sdwan/gobgp1.sock"
    )
    result = ok(run(api, *shlex.split(command)))
    assert api.body("POST") == {
        "host_name": "GoBGP-1",
        "policy_name": "policy1",
        "statement_name": "statement1",
        "statement_action": "next-hop self",
        "route_disposition": "accept",
        "apply_direction": "export",
        "apply_neighbor": "198.18.31.3",
        "exist": "New",
        "mgmt_addr": "unix:///run/sdwan/gobgp1.sock",
    }
    assert field_rows(result.stdout)["status"] == "PENDING_CREATE"


def test_policyinfo_create_wait_polls_the_record(api: FakeApi) -> None:
    api.on("POST", "/v1/policyinfo", (201, policyinfo(status="PENDING_CREATE")))
    api.on(
        "GET",
        f"/v1/policyinfo/{PI1}",
        (200, policyinfo(status="PENDING_CREATE")),
        (200, policyinfo()),
    )
    result = ok(
        run(
            api,
            *[
                "policyinfo",
                "create",
                "--host_name",
                "GoBGP-1",
                "--policy_name",
                "policy1",
                "--apply_direction",
                "import",
                "--apply_neighbor",
                "198.18.31.3",
                "--exist",
                "existing",
                "--wait",
                "-o",
                "json",
            ],
        )
    )
    assert api.body("POST")["exist"] == "Existing"  # case-insensitive, API spelling
    assert json.loads(result.stdout)["status"] == "ACTIVE"


def test_policyinfo_list_columns_and_host_filter(api: FakeApi) -> None:
    api.on(
        "GET",
        "/v1/policyinfo",
        (200, {"items": [policyinfo(), policyinfo(id=PI2, status_detail="x")], "total": 2}),
    )
    result = ok(run(api, "policyinfo", "list", "--host_name", "GoBGP-1"))
    assert api.params() == {"host_name": "GoBGP-1"}
    assert headers(result.stdout) == [
        "ID",
        "HOST NAME",
        "POLICY NAME",
        "STATEMENT NAME",
        "STATEMENT ACTION",
        "ROUTE DISPOSITION",
        "APPLY DIRECTION",
        "APPLY NEIGHBOR",
        "EXIST",
        "STATUS",
        "STATUS DETAIL",
    ]
    assert "+---" in result.stdout  # rich box.ASCII
    assert "next-hop self" in table_lines(result.stdout)[1]


def test_policyinfo_show_and_delete_by_host_and_policy(api: FakeApi) -> None:
    api.on("GET", "/v1/policyinfo", (200, {"items": [policyinfo()], "total": 1}))
    api.on("GET", f"/v1/policyinfo/{PI1}", (200, policyinfo()))
    ok(run(api, "policyinfo", "show", "GoBGP-1/policy1"))
    assert api.last().url.path == f"/v1/policyinfo/{PI1}"

    api.on("DELETE", f"/v1/policyinfo/{PI1}", (202, policyinfo(status="PENDING_DELETE")))
    api.on(
        "GET",
        "/v1/policy-attachments",
        page(attachment(name="pi-policy1-export", status="PENDING_UPDATE")),
        page(),
    )
    result = ok(run(api, "policyinfo", "delete", "GoBGP-1/policy1/198.18.31.3", "--wait"))
    assert result.stdout.strip() == "policyinfo GoBGP-1/policy1 (export 198.18.31.3) deleted"
    assert api.params() == {"router": "GoBGP-1", "name": "pi-policy1-export"}


def test_policyinfo_ambiguous_reference(api: FakeApi) -> None:
    records = [policyinfo(), policyinfo(id=PI2, apply_neighbor="198.18.31.4")]
    api.on("GET", "/v1/policyinfo", (200, {"items": records, "total": 2}))
    assert "use an id" in failed(run(api, "policyinfo", "show", "GoBGP-1/policy1"))
    assert "no policyinfo" in failed(run(api, "policyinfo", "show", "GoBGP-1/other"))


# --- defined sets ---------------------------------------------------------------------


def test_defined_set_create_prefix_members(api: FakeApi) -> None:
    api.on("POST", "/v1/defined-sets", (201, defined_set(status="PENDING_CREATE")))
    result = ok(
        run(
            api,
            *[
                "defined-set",
                "create",
                "GoBGP-1/lan",
                "--type",
                "prefix",
                "--member",
                "198.18.0.0/16,ge=24,le=28",
                "--member",
                "203.0.113.0/24",
                "--description",
                "office",
            ],
        )
    )
    assert api.body("POST") == {
        "router": "GoBGP-1",
        "name": "lan",
        "type": "prefix",
        "members": [{"prefix": "198.18.0.0/16", "ge": 24, "le": 28}, {"prefix": "203.0.113.0/24"}],
        "description": "office",
    }
    assert "198.18.0.0/16,ge=24,le=28" in result.stdout  # shown as typed, not as JSON


@pytest.mark.parametrize(
    "member",
    ["198.18.0.0/16 ge 24", "198.18.0.0/16,ge=x", "198.18.0.1/16", "198.18.0.0/16,max=3"],
)
def test_defined_set_bad_prefix_member(api: FakeApi, member: str) -> None:
    failed(run(api, "defined-set", "create", "GoBGP-1/lan", "--type", "prefix", "--member", member))
    assert not api.requests


def test_defined_set_create_needs_router_and_known_type(api: FakeApi) -> None:
    assert "ROUTER/NAME" in failed(run(api, "defined-set", "create", "lan", "--type", "prefix"))
    assert "--type" in failed(run(api, "defined-set", "create", "R/lan", "--type", "bogus"))


def test_defined_set_other_types_pass_members_through(api: FakeApi) -> None:
    api.on("POST", "/v1/defined-sets", (201, defined_set(type="community", members=[])))
    ok(
        run(
            api,
            *["defined-set", "create", "GoBGP-1/c", "--type", "community", "--member", "65001:100"],
        )
    )
    assert api.body("POST")["members"] == ["65001:100"]


def test_defined_set_list_filters_and_columns(api: FakeApi) -> None:
    many = defined_set(members=[f"10.0.{i}.0/24" for i in range(5)], status_detail="oops")
    api.on("GET", "/v1/defined-sets", page(defined_set(), many))
    result = ok(run(api, "defined-set", "list", "--router", "GoBGP-1", "--type", "Prefix"))
    assert api.params() == {"router": "GoBGP-1", "type": "prefix"}
    assert headers(result.stdout) == [
        "ID",
        "ROUTER",
        "NAME",
        "TYPE",
        "MEMBERS",
        "STATUS",
        "STATUS DETAIL",
    ]
    assert "(+2 more)" in result.stdout


def test_defined_set_resolved_by_router_and_name(api: FakeApi) -> None:
    api.on("GET", "/v1/defined-sets", page(defined_set()))
    api.on("GET", f"/v1/defined-sets/{S1}", (200, defined_set()))
    result = ok(run(api, "defined-set", "show", "GoBGP-1/lan", "-o", "yaml"))
    lookup = next(r for r in api.requests if r.url.path == "/v1/defined-sets")
    assert dict(lookup.url.params) == {"name": "lan", "limit": "100", "router": "GoBGP-1"}
    assert yaml.safe_load(result.stdout)["id"] == S1


def test_defined_set_not_found_and_ambiguous(api: FakeApi) -> None:
    api.on("GET", "/v1/defined-sets", page())
    assert failed(run(api, "defined-set", "show", "GoBGP-1/x")) == (
        "error: no defined set x on router GoBGP-1"
    )
    other = defined_set(id=P1, router_name="GoBGP-2")
    api.on("GET", "/v1/defined-sets", page(defined_set(), other))
    assert "GoBGP-1, GoBGP-2" in failed(run(api, "defined-set", "show", "lan"))


def test_defined_set_add_and_remove_members(api: FakeApi) -> None:
    api.on("GET", "/v1/defined-sets", page(defined_set(version=4)))
    api.on("GET", f"/v1/defined-sets/{S1}", (200, defined_set(version=4)))
    api.on("PATCH", f"/v1/defined-sets/{S1}", (200, defined_set(version=5)))
    ok(
        run(
            api,
            *[
                "defined-set",
                "set",
                "GoBGP-1/lan",
                "--add-member",
                "192.0.2.0/24",
                "--add-member",
                "203.0.113.0/24",
                "--remove-member",
                "198.18.0.0/16,ge=24,le=28",
            ],
        )
    )
    assert api.body("PATCH") == {
        "members": [{"prefix": "203.0.113.0/24"}, {"prefix": "192.0.2.0/24"}]
    }
    assert api.last("PATCH").headers["If-Match"] == '"4"'  # read-modify-write is guarded


def test_defined_set_remove_missing_member(api: FakeApi) -> None:
    api.on("GET", f"/v1/defined-sets/{S1}", (200, defined_set()))
    message = failed(run(api, "defined-set", "set", S1, "--remove-member", "192.0.2.0/24"))
    assert message == "error: 192.0.2.0/24 is not a member of defined set GoBGP-1/lan"
    assert not [r for r in api.requests if r.method == "PATCH"]


def test_defined_set_member_replaces_and_conflicts(api: FakeApi) -> None:
    api.on("GET", f"/v1/defined-sets/{S1}", (200, defined_set()))
    api.on("PATCH", f"/v1/defined-sets/{S1}", (200, defined_set()))
    ok(run(api, "defined-set", "set", S1, "--member", ""))
    assert api.body("PATCH") == {"members": []}
    assert "If-Match" not in api.last("PATCH").headers
    failed(
        run(
            api,
            "defined-set",
            "set",
            S1,
            "--member",
            "203.0.113.0/24",
            "--add-member",
            "198.51.100.0/24",
        )
    )
    assert "nothing to change" in failed(run(api, "defined-set", "set", S1))


def test_defined_set_delete_wait(api: FakeApi) -> None:
    api.on("DELETE", f"/v1/defined-sets/{S1}", (202, defined_set(status="PENDING_DELETE")))
    api.on(
        "GET",
        f"/v1/defined-sets/{S1}",
        (200, defined_set(status="PENDING_DELETE")),
        api_error(404, "gone"),
    )
    result = ok(run(api, "defined-set", "delete", S1, "--wait"))
    assert result.stdout.strip() == "defined set GoBGP-1/lan deleted"


# --- policies -------------------------------------------------------------------------


def test_policy_quick_form(api: FakeApi) -> None:
    api.on("POST", "/v1/policies", (201, policy()))
    ok(
        run(
            api,
            *[
                "policy",
                "create",
                "GoBGP-1/prefer",
                "--statement",
                "primary",
                "--match-prefix-set",
                "lan",
                "--match-neighbor-set",
                "backup:invert",
                "--match-community-set",
                "tagged",
                "--action",
                "accept",
                "--next-hop",
                "self",
                "--local-pref",
                "200",
                "--med",
                "-5",
                "--prepend",
                "2",
                "--community",
                "add:65001:100",
                "--community",
                "add:no-export",
            ],
        )
    )
    assert api.body("POST") == {
        "router": "GoBGP-1",
        "name": "prefer",
        "statements": [
            {
                "name": "primary",
                "conditions": {
                    "prefix_set": {"name": "lan"},
                    "neighbor_set": {"name": "backup", "match": "invert"},
                    "community_set": {"name": "tagged"},
                },
                "actions": {
                    "disposition": "accept",
                    "next_hop": "self",
                    "local_pref": 200,
                    "med": {"subtract": 5},
                    "as_path_prepend": {"asn": "own", "times": 2},
                    "communities": {"add": ["65001:100", "no-export"]},
                },
            }
        ],
    }


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [("--med", "10", {"set": 10}), ("--med", "+7", {"add": 7}), ("--med", "-3", {"subtract": 3})],
)
def test_policy_med_forms(api: FakeApi, option: str, value: str, expected: Any) -> None:
    api.on("POST", "/v1/policies", (201, policy()))
    ok(run(api, "policy", "create", "GoBGP-1/m", option, value))
    assert api.body("POST")["statements"] == [{"actions": {"med": expected}}]


@pytest.mark.parametrize(
    "args",
    [
        ["--med", "x5"],
        ["--action", "drop"],
        ["--community", "65001:100"],
        ["--community", "add:65001:1", "--community", "remove:65001:2"],
        ["--match-prefix-set", "lan:some"],
        [],
    ],
)
def test_policy_quick_form_errors(api: FakeApi, args: list[str]) -> None:
    failed(run(api, "policy", "create", "GoBGP-1/p", *args))
    assert not api.requests


def test_policy_from_file_list_and_mapping(api: FakeApi, tmp_path: Path) -> None:
    api.on("POST", "/v1/policies", (201, policy()))
    statements = [
        {"name": "a", "conditions": {"prefix_set": "lan"}, "actions": {"disposition": "reject"}}
    ]
    listed = tmp_path / "list.yaml"
    listed.write_text(yaml.safe_dump(statements))
    ok(run(api, "policy", "create", "GoBGP-1/p", "-f", str(listed)))
    assert api.body("POST") == {"router": "GoBGP-1", "name": "p", "statements": statements}

    mapped = tmp_path / "map.json"
    mapped.write_text(json.dumps({"description": "from file", "statements": statements}))
    ok(run(api, "policy", "create", "GoBGP-1/p", "--file", str(mapped)))
    assert api.body("POST")["description"] == "from file"

    ok(run(api, "policy", "create", "GoBGP-1/p", "-f", "-", stdin=yaml.safe_dump(statements)))
    assert api.body("POST")["statements"] == statements


def test_policy_file_errors(api: FakeApi, tmp_path: Path) -> None:
    assert "cannot read" in failed(run(api, "policy", "create", "R/p", "-f", str(tmp_path / "no")))
    bad = tmp_path / "bad.yaml"
    bad.write_text("statements: [\n")
    assert "not valid YAML" in failed(run(api, "policy", "create", "R/p", "-f", str(bad)))
    bad.write_text("name: x\n")
    assert "statements:" in failed(run(api, "policy", "create", "R/p", "-f", str(bad)))
    bad.write_text("[]\n")
    assert "non-empty list" in failed(run(api, "policy", "create", "R/p", "-f", str(bad)))
    bad.write_text("- {}\n")
    both = ["policy", "create", "R/p", "-f", str(bad), "--action", "accept"]
    assert "either -f" in failed(run(api, *both))
    assert not api.requests


def test_policy_show_prints_statements_as_yaml(api: FakeApi) -> None:
    api.on("GET", "/v1/policies", page(policy()))
    api.on("GET", f"/v1/policies/{P1}", (200, policy()))
    result = ok(run(api, "policy", "show", "GoBGP-1/prefer"))
    assert field_rows(result.stdout)["statements"] == "s1"
    tail = result.stdout[result.stdout.index("statements:") :]
    assert yaml.safe_load(tail) == {"statements": policy()["statements"]}


def test_policy_set_round_trips_show_yaml(api: FakeApi) -> None:
    api.on("GET", f"/v1/policies/{P1}", (200, policy()))
    api.on("PATCH", f"/v1/policies/{P1}", (200, policy(version=2)))
    shown = ok(run(api, "policy", "show", P1, "-o", "yaml")).stdout
    ok(run(api, "policy", "set", P1, "-f", "-", "--if-match", "1", stdin=shown))
    assert api.body("PATCH") == {"statements": policy()["statements"], "description": ""}
    assert api.last("PATCH").headers["If-Match"] == '"1"'


def test_policy_list(api: FakeApi) -> None:
    api.on("GET", "/v1/policies", page(policy()))
    result = ok(run(api, "policy", "list", "--router", "GoBGP-1", "--name", "prefer"))
    assert api.params() == {"router": "GoBGP-1", "name": "prefer"}
    assert headers(result.stdout) == ["ID", "ROUTER", "NAME", "STATEMENTS", "STATUS"]


def test_policy_create_wait(api: FakeApi) -> None:
    api.on("POST", "/v1/policies", (201, policy(status="PENDING_CREATE")))
    api.on(
        "GET",
        f"/v1/policies/{P1}",
        (200, policy(status="PENDING_CREATE")),
        (200, policy(status="ERROR", status_detail="AddPolicy: bad")),
    )
    message = failed(run(api, "policy", "create", "GoBGP-1/prefer", "--action", "accept", "--wait"))
    assert message == "error: policy GoBGP-1/prefer is in ERROR: AddPolicy: bad"


def test_policy_server_error_is_one_line(api: FakeApi) -> None:
    api.on("POST", "/v1/policies", api_error(422, "statements[0].conditions: unknown\nset"))
    assert failed(run(api, "policy", "create", "R/p", "--match-prefix-set", "nope")) == (
        "error: statements[0].conditions: unknown set"
    )


# --- attachments ----------------------------------------------------------------------


def test_attachment_create_next_hop_self_on_one_neighbor(api: FakeApi) -> None:
    api.on("POST", "/v1/policy-attachments", (201, attachment()))
    result = ok(
        run(
            api,
            *[
                "attachment",
                "create",
                "GoBGP-1/nh-self",
                "--direction",
                "export",
                "--policy",
                "nh-self",
                "--policy",
                "tag",
                "--neighbor",
                "198.18.31.3",
                "--default-action",
                "accept",
                "--priority",
                "10",
            ],
        )
    )
    assert api.body("POST") == {
        "router": "GoBGP-1",
        "name": "nh-self",
        "direction": "export",
        "policies": ["nh-self", "tag"],
        "neighbors": ["198.18.31.3"],
        "default_action": "accept",
        "priority": 10,
    }
    assert field_rows(result.stdout)["neighbors"] == "198.18.31.3"


def test_attachment_create_errors(api: FakeApi) -> None:
    failed(run(api, "attachment", "create", "R/a", "--direction", "export"))
    failed(run(api, "attachment", "create", "R/a", "--direction", "out", "--policy", "p"))
    failed(run(api, "attachment", "create", "R/a", "--direction", "import", "--policy", "p",
               "--default-action", "maybe"))  # fmt: skip
    assert not api.requests


def test_attachment_set_replaces_lists(api: FakeApi) -> None:
    api.on("GET", "/v1/policy-attachments", page(attachment()))
    api.on("PATCH", f"/v1/policy-attachments/{A1}", (200, attachment(neighbors=[])))
    api.on("GET", f"/v1/policy-attachments/{A1}", (200, attachment(neighbors=[])))
    ok(run(api, "attachment", "set", "GoBGP-1/nh-self", "--neighbor", "", "--wait"))
    assert api.body("PATCH") == {"neighbors": []}
    ok(run(api, "attachment", "set", A1, "--neighbor", "198.18.31.4", "--policy", "b"))
    assert api.body("PATCH") == {"policies": ["b"], "neighbors": ["198.18.31.4"]}


def test_attachment_list_shows_all_neighbors(api: FakeApi) -> None:
    api.on("GET", "/v1/policy-attachments", page(attachment(neighbors=[], router_name="")))
    result = ok(run(api, "attachment", "list", "--direction", "EXPORT"))
    assert api.params() == {"direction": "export"}
    row = table_lines(result.stdout)[1]
    assert "| all " in row and R1 in row  # ROUTER falls back to the router's id


# --- announcements --------------------------------------------------------------------


def test_announcement_create(api: FakeApi) -> None:
    api.on("POST", "/v1/announcements", (201, announcement()))
    result = ok(
        run(
            api,
            *[
                "announcement",
                "create",
                "GoBGP-1/198.18.0.0/24",
                "--next-hop",
                "198.18.31.1",
                "--origin",
                "IGP",
                "--med",
                "10",
                "--local-pref",
                "150",
                "--community",
                "65001:100",
                "--community",
                "no-export",
                "--large-community",
                "65001:1:2",
                "--prepend",
                "2",
            ],
        )
    )
    assert api.body("POST") == {
        "router": "GoBGP-1",
        "prefix": "198.18.0.0/24",
        "next_hop": "198.18.31.1",
        "origin": "igp",
        "med": 10,
        "local_pref": 150,
        "communities": ["65001:100", "no-export"],
        "large_communities": ["65001:1:2"],
        "as_path_prepend": 2,
    }
    assert field_rows(result.stdout)["next_hop"] == "self"


def test_announcement_create_errors(api: FakeApi) -> None:
    assert "ROUTER/PREFIX" in failed(run(api, "announcement", "create", "198.18.0.0/24"))
    assert "not a prefix" in failed(run(api, "announcement", "create", "R/198.18.0.1/24"))
    assert "--med" in failed(run(api, "announcement", "create", "R/198.18.0.0/24", "--med", "x"))
    assert not api.requests


def test_announcement_resolved_by_router_and_prefix(api: FakeApi) -> None:
    api.on("GET", "/v1/announcements", page(announcement()))
    api.on("PATCH", f"/v1/announcements/{AN1}", (200, announcement()))
    ok(
        run(
            api,
            *["announcement", "set", "GoBGP-1/198.18.0.0/24", "--med", "none", "--next-hop"],
            "",
        )
    )
    lookup = next(r for r in api.requests if r.url.path == "/v1/announcements")
    assert dict(lookup.url.params) == {
        "prefix": "198.18.0.0/24",
        "limit": "100",
        "router": "GoBGP-1",
    }
    assert api.body("PATCH") == {"next_hop": None, "med": None}


def test_announcement_bare_prefix(api: FakeApi) -> None:
    api.on("GET", "/v1/announcements", page(announcement()))
    api.on("GET", f"/v1/announcements/{AN1}", (200, announcement()))
    ok(run(api, "announcement", "show", "198.18.0.0/24", "-o", "json"))
    assert "router" not in dict(api.requests[0].url.params)
    api.on("GET", "/v1/announcements", page(announcement(), announcement(router_name="GoBGP-2")))
    message = failed(run(api, "announcement", "show", "198.18.0.0/24"))
    assert "GoBGP-1/198.18.0.0/24" in message


def test_announcement_list_and_delete(api: FakeApi) -> None:
    api.on("GET", "/v1/announcements", page(announcement(status="ERROR", status_detail="no")))
    result = ok(run(api, "announcement", "list", "--prefix", "198.18.0.0/24", "--all"))
    assert api.params()["prefix"] == "198.18.0.0/24"
    assert headers(result.stdout)[-2:] == ["STATUS", "STATUS DETAIL"]
    api.on("DELETE", f"/v1/announcements/{AN1}", (202, announcement(status="PENDING_DELETE")))
    result = ok(run(api, "announcement", "delete", AN1))
    expected = "announcement GoBGP-1/198.18.0.0/24: deletion requested (PENDING_DELETE)"
    assert result.stdout.strip() == expected


def test_unknown_router_error_from_the_api(api: FakeApi) -> None:
    api.on("GET", "/v1/policies", api_error(400, "router: no router 'GoBGP-9'"))
    assert failed(run(api, "policy", "show", "GoBGP-9/p")) == "error: router: no router 'GoBGP-9'"


def test_show_lists_an_owned_objects_conditions_one_per_line(api: FakeApi) -> None:
    rejected = {
        "type": "Applied", "status": "False", "reason": "Rejected", "message": "bad regexp",
        "since": "2026-11-29T06:00:00Z", "observed_version": 1,
    }  # fmt: skip
    shown = policy(status="ERROR", status_detail="bad regexp", conditions=[rejected])
    api.on("GET", f"/v1/policies/{P1}", (200, shown))
    result = ok(run(api, "policy", "show", P1))
    assert (
        field_rows(result.stdout)["conditions"]
        == "Applied=False Rejected since 2026-11-29T06:00:00Z: bad regexp"
    )
    tail = result.stdout[result.stdout.index("statements:") :]
    assert yaml.safe_load(tail) == {"statements": policy()["statements"]}  # not the conditions
