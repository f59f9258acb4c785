"""The ``sdwan`` CLI against a fake REST API (``httpx.MockTransport``)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from sdwan.cli.client import State
from sdwan.cli.main import app
from sdwan.cli.settings import load_settings
from tests.support.rest_api import (
    N1,
    R1,
    SOCK,
    URL,
    FakeApi,
    Reply,
    api_error,
    headers,
    neighbor,
    page,
    router,
    run,
    table_lines,
)

pytestmark = pytest.mark.usefixtures("cli_env")

N2 = "33333333-3333-4333-8333-333333333333"


# --- the original's scripts -------------------------------------------------------------


def test_router_create_with_original_flags(api: FakeApi) -> None:
    api.on("POST", "/v1/routers", (201, router(status="PENDING_CREATE")))
    result = run(
        api,
        "router",
        "create",
        "--host_name",
        "GoBGP-1",
        "--router_id",
        "10.0.1.1",
        "--local_as",
        "65001",
        "--mgmt_addr",
        SOCK,
    )
    assert result.exit_code == 0, result.stderr
    assert api.body("POST") == {
        "name": "GoBGP-1",
        "router_id": "10.0.1.1",
        "asn": 65001,
        "api_address": SOCK,
    }
    request = api.last("POST")
    assert str(request.url) == f"{URL}/v1/routers"
    assert request.headers["Authorization"] == "Bearer s3cret"
    assert headers(result.stdout) == ["FIELD", "VALUE"]
    assert "PENDING_CREATE" in result.stdout


def test_neighbor_create_with_original_flags(api: FakeApi) -> None:
    api.on("POST", "/v1/neighbors", (201, neighbor(status="PENDING_CREATE")))
    result = run(
        api,
        "neighbor",
        "create",
        "--host_name",
        "GoBGP-1",
        "--neighbor_addr",
        "198.18.11.11",
        "--peer_as",
        "65000",
        "--mgmt_addr",
        SOCK,
    )
    assert result.exit_code == 0, result.stderr
    assert api.body("POST") == {
        "router": "GoBGP-1",
        "address": "198.18.11.11",
        "peer_asn": 65000,
        "api_address": SOCK,
    }


def test_new_spellings_and_optional_fields(api: FakeApi) -> None:
    api.on("POST", "/v1/routers", (201, router()))
    result = run(
        api,
        "router",
        "create",
        "--name",
        "r2",
        "--router-id",
        "10.0.1.2",
        "--asn",
        "65002",
        "--api-address",
        "192.0.2.2:50051",
        "--listen-port",
        "-1",
        "--listen-address",
        "192.0.2.2",
        "--listen-address",
        "::1",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    assert api.body("POST") == {
        "name": "r2",
        "router_id": "10.0.1.2",
        "asn": 65002,
        "api_address": "192.0.2.2:50051",
        "listen_port": -1,
        "listen_addresses": ["192.0.2.2", "::1"],
    }


def test_neighbor_flags(api: FakeApi) -> None:
    api.on("POST", "/v1/neighbors", (201, neighbor()))
    result = run(
        api,
        "neighbor",
        "create",
        "--router",
        "GoBGP-1",
        "--address",
        "2001:db8::1",
        "--peer-asn",
        "65000",
        "--no-passive",
        "--disabled",
        "--route-reflector-client",
        "--family",
        "ipv4-unicast",
        "--family",
        "ipv6-unicast",
        "--hold-time",
        "9",
        "--keepalive",
        "3",
        "--ebgp-multihop-ttl",
        "2",
        "--local-address",
        "",
        "--password-stdin",
        stdin="md5 pass\n",
    )
    assert result.exit_code == 0, result.stderr
    assert api.body("POST") == {
        "router": "GoBGP-1",
        "address": "2001:db8::1",
        "peer_asn": 65000,
        "passive": False,
        "enabled": False,
        "route_reflector_client": True,
        "hold_time": 9,
        "keepalive_interval": 3,
        "ebgp_multihop_ttl": 2,
        "local_address": None,
        "password": "md5 pass",
        "families": ["ipv4-unicast", "ipv6-unicast"],
    }


def test_password_flag_and_stdin_conflict(api: FakeApi) -> None:
    result = run(
        api,
        "neighbor",
        "create",
        "--router",
        "r",
        "--address",
        "192.0.2.1",
        "--peer-asn",
        "1",
        "--password",
        "x",
        "--password-stdin",
        stdin="y\n",
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert api.requests == []


def test_missing_required_flag_is_a_usage_error(api: FakeApi) -> None:
    result = run(api, "router", "create", "--name", "x")
    assert result.exit_code == 2
    assert api.requests == []


# --- output ----------------------------------------------------------------------------


def test_router_list_table(api: FakeApi) -> None:
    api.on("GET", "/v1/routers", page(router(), router(id="r2", name="GoBGP-2")))
    result = run(api, "router", "list")
    assert result.exit_code == 0, result.stderr
    assert headers(result.stdout) == [
        "ID",
        "NAME",
        "ROUTER ID",
        "ASN",
        "API ADDRESS",
        "STATUS",
        "GOBGPD",
        "OWNER",
    ]
    assert result.stdout.startswith("+")  # box.ASCII
    assert len(table_lines(result.stdout)) == 3
    assert SOCK in result.stdout  # never wrapped or truncated


def test_status_detail_column_only_when_needed(api: FakeApi) -> None:
    api.on(
        "GET",
        "/v1/neighbors",
        page(neighbor(), neighbor(id=N2, status="ERROR", status_detail="gobgpd unreachable")),
    )
    result = run(api, "neighbor", "list", "--router", "GoBGP-1")
    assert result.exit_code == 0, result.stderr
    assert headers(result.stdout) == [
        "ID",
        "ROUTER",
        "ADDRESS",
        "PEER ASN",
        "ENABLED",
        "STATUS",
        "SESSION",
        "UP/DOWN",
        "UPTIME",
        "RCVD/ACPT/ADV",
        "STATUS DETAIL",
    ]
    assert "gobgpd unreachable" in result.stdout
    assert "| true" in result.stdout
    assert api.last().url.params["router"] == "GoBGP-1"


def test_list_json_and_yaml_are_the_items(api: FakeApi) -> None:
    api.on("GET", "/v1/routers", page(router(), total=7))
    result = run(api, "router", "list", "-o", "json", "--status", "active", "--sort", "-name")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [router()]
    assert dict(api.last().url.params) == {"status": "ACTIVE", "sort": "-name"}
    result = run(api, "router", "list", "--output", "yaml")
    assert yaml.safe_load(result.stdout) == [router()]


def test_list_all_pages(api: FakeApi) -> None:
    def pages(request: httpx.Request) -> Reply:
        offset = int(request.url.params["offset"])
        items = [router(id=f"r{i}", name=f"n{i}") for i in range(offset, min(offset + 2, 5))]
        return page(*items, total=5, offset=offset)

    api.on_call("GET", "/v1/routers", pages)
    result = run(api, "router", "list", "--all", "--limit", "2", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [item["name"] for item in json.loads(result.stdout)] == [f"n{i}" for i in range(5)]
    assert len(api.requests) == 3


def test_show_json(api: FakeApi) -> None:
    api.on("GET", "/v1/routers/GoBGP-1", (200, router()))
    result = run(api, "router", "show", "GoBGP-1", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == router()


def test_show_lists_conditions_one_per_line(api: FakeApi) -> None:
    conditions = [
        {"type": "Applied", "status": "True", "reason": "Applied", "message": "",
         "since": "2026-11-29T06:00:00Z", "observed_version": 1},
        {"type": "Drifted", "status": "True", "reason": "ReportOnly",
         "message": "peer 198.18.11.11 missing on gobgpd", "since": "2026-11-29T06:01:00Z",
         "observed_version": 1},
    ]  # fmt: skip
    api.on("GET", f"/v1/neighbors/{N1}", (200, neighbor(conditions=conditions)))
    result = run(api, "neighbor", "show", N1)
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "since 2026" in line]
    assert (
        "conditions" in lines[0] and "Applied=True Applied since 2026-11-29T06:00:00Z" in lines[0]
    )
    assert (
        "Drifted=True ReportOnly since 2026-11-29T06:01:00Z: peer 198.18.11.11 missing on gobgpd"
        in lines[1]
    )


# --- neighbor references --------------------------------------------------------------


def test_neighbor_by_id(api: FakeApi) -> None:
    api.on("GET", f"/v1/neighbors/{N1}", (200, neighbor()))
    result = run(api, "neighbor", "show", N1)
    assert result.exit_code == 0, result.stderr
    assert [r.url.path for r in api.requests] == [f"/v1/neighbors/{N1}"]
    assert headers(result.stdout) == ["FIELD", "VALUE"]


def test_neighbor_by_router_and_address(api: FakeApi) -> None:
    api.on("GET", "/v1/neighbors", page(neighbor()))
    api.on("DELETE", f"/v1/neighbors/{N1}", (202, neighbor(status="PENDING_DELETE")))
    result = run(api, "neighbor", "delete", "GoBGP-1/198.18.11.11")
    assert result.exit_code == 0, result.stderr
    query = api.requests[0].url.params
    assert (query["router"], query["address"]) == ("GoBGP-1", "198.18.11.11")
    assert "neighbor GoBGP-1/198.18.11.11: deletion requested" in result.stdout


def test_neighbor_by_unique_address(api: FakeApi) -> None:
    api.on("GET", "/v1/neighbors", page(neighbor()))
    api.on("PATCH", f"/v1/neighbors/{N1}", (200, neighbor(peer_asn=65010)))
    result = run(api, "neighbor", "set", "2001:DB8:0::1", "--peer-asn", "65010")
    assert result.exit_code == 0, result.stderr
    assert api.requests[0].url.params["address"] == "2001:db8::1"
    assert "router" not in api.requests[0].url.params
    assert api.body("PATCH") == {"peer_asn": 65010}


def test_ambiguous_bare_address(api: FakeApi) -> None:
    api.on("GET", "/v1/neighbors", page(neighbor(), neighbor(id=N2, router_name="GoBGP-2")))
    result = run(api, "neighbor", "show", "198.18.11.11")
    assert result.exit_code == 1
    assert "ROUTER/ADDRESS" in result.stderr
    assert "GoBGP-1, GoBGP-2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_neighbor_reference(api: FakeApi) -> None:
    api.on("GET", "/v1/neighbors", page())
    assert (
        "no neighbor 198.18.9.9 on router GoBGP-1"
        in run(api, "neighbor", "show", "GoBGP-1/198.18.9.9").stderr
    )
    result = run(api, "neighbor", "show", "not-an-address")
    assert result.exit_code == 1
    assert "not a neighbor id, ROUTER/ADDRESS or IP address" in result.stderr


# --- writes ------------------------------------------------------------------------------


def test_router_set_sends_only_given_fields_and_if_match(api: FakeApi) -> None:
    api.on("PATCH", "/v1/routers/GoBGP-1", (200, router(asn=65009, version=4)))
    result = run(api, "router", "set", "GoBGP-1", "--local_as", "65009", "--if-match", "3")
    assert result.exit_code == 0, result.stderr
    assert api.body("PATCH") == {"asn": 65009}
    assert api.last().headers["If-Match"] == '"3"'


def test_set_without_fields_is_refused(api: FakeApi) -> None:
    result = run(api, "router", "set", "GoBGP-1")
    assert result.exit_code == 1
    assert "nothing to change" in result.stderr
    assert api.requests == []


def test_router_delete_flags(api: FakeApi) -> None:
    api.on("DELETE", "/v1/routers/GoBGP-1", (202, router(status="PENDING_DELETE")))
    result = run(api, "router", "delete", "GoBGP-1", "--cascade", "--force")
    assert result.exit_code == 0, result.stderr
    assert dict(api.last().url.params) == {"cascade": "true", "force": "true"}


def test_warnings_go_to_stderr(api: FakeApi) -> None:
    answer = router(asn=65002, warnings=["changing asn restarts BGP on GoBGP-1"])
    api.on("PATCH", "/v1/routers/GoBGP-1", (200, answer))
    result = run(api, "router", "set", "GoBGP-1", "--asn", "65002", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "warning: changing asn restarts BGP on GoBGP-1\n"
    assert json.loads(result.stdout)["asn"] == 65002


def test_wait_until_active(api: FakeApi) -> None:
    api.on("POST", "/v1/routers", (201, router(status="PENDING_CREATE")))
    api.on("GET", f"/v1/routers/{R1}", (200, router(status="PENDING_CREATE")), (200, router()))
    result = run(
        api,
        "router",
        "create",
        "--name",
        "GoBGP-1",
        "--router-id",
        "10.0.1.1",
        "--asn",
        "65001",
        "--api-address",
        SOCK,
        "--wait",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "ACTIVE"
    assert len(api.requests) == 3


def test_wait_reports_error_detail(api: FakeApi) -> None:
    api.on("PATCH", f"/v1/neighbors/{N1}", (200, neighbor(status="PENDING_UPDATE")))
    api.on(
        "GET",
        f"/v1/neighbors/{N1}",
        (200, neighbor(status="ERROR", status_detail="AddPeer: refused")),
    )
    result = run(api, "neighbor", "set", N1, "--enabled", "--wait")
    assert result.exit_code == 1
    assert result.stderr == "error: neighbor GoBGP-1/198.18.11.11 is in ERROR: AddPeer: refused\n"


def test_wait_times_out(api: FakeApi) -> None:
    api.on("PATCH", "/v1/routers/GoBGP-1", (200, router(status="PENDING_UPDATE")))
    api.on("GET", f"/v1/routers/{R1}", (200, router(status="PENDING_UPDATE")))
    result = run(api, "router", "set", "GoBGP-1", "--description", "x", "--wait", "--timeout", "0")
    assert result.exit_code == 1
    assert "timed out after 0s" in result.stderr


def test_delete_wait_until_gone(api: FakeApi) -> None:
    api.on("GET", "/v1/neighbors", page(neighbor()))
    api.on("DELETE", f"/v1/neighbors/{N1}", (202, neighbor(status="PENDING_DELETE")))
    api.on(
        "GET",
        f"/v1/neighbors/{N1}",
        (200, neighbor(status="PENDING_DELETE")),
        api_error(404, "no such neighbor", code="not_found"),
    )
    result = run(api, "neighbor", "delete", "198.18.11.11", "--wait")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "neighbor GoBGP-1/198.18.11.11 deleted\n"


# --- failures ----------------------------------------------------------------------------


def test_api_error_is_one_line_exit_1(api: FakeApi) -> None:
    message = "router_id: must be an IPv4 address in dotted form, got '10.0.1'"
    api.on("POST", "/v1/routers", api_error(422, message, code="invalid_input", field="router_id"))
    result = run(
        api,
        "router",
        "create",
        "--name",
        "x",
        "--router-id",
        "10.0.1",
        "--asn",
        "1",
        "--api-address",
        SOCK,
    )
    assert result.exit_code == 1
    assert result.stderr == f"error: {message}\n"
    assert result.stdout == ""


def test_non_json_error_and_missing_token(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    api.on("GET", "/v1/routers", (502, "<html>Bad\nGateway</html>"))
    result = run(api, "router", "list")
    assert result.exit_code == 1
    assert result.stderr == f"error: HTTP 502 from {URL}/v1/routers: <html>Bad Gateway</html>\n"
    monkeypatch.delenv("SDWAN_TOKEN")
    api.on("GET", "/v1/routers", api_error(401, "missing token", code="not_authenticated"))
    result = run(api, "router", "list")
    assert "Authorization" not in api.last().headers
    assert result.stderr.startswith("error: missing token (no token configured")


def test_connection_refused_names_the_url() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    state = State(transport=httpx.MockTransport(refuse))
    result = CliRunner().invoke(app, ["router", "list"], obj=state)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: cannot connect to the sdwan API at {URL} (connection refused)"
    )
    assert len(result.stderr.splitlines()) == 1


# --- config ------------------------------------------------------------------------------


def test_config_set_writes_0600_and_env_wins(
    api: FakeApi, cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SDWAN_URL")
    monkeypatch.delenv("SDWAN_TOKEN")
    result = run(api, "config", "set", "--url", "http://file.test:1234/", "--token", "from-file")
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(cli_env.stat().st_mode) == 0o600
    assert yaml.safe_load(cli_env.read_text()) == {
        "url": "http://file.test:1234",
        "token": "from-file",
    }

    show = run(api, "config", "show")
    assert "http://file.test:1234 (from config)" in show.stdout
    assert "set (from config)" in show.stdout
    assert "from-file" not in show.stdout

    api.on("GET", "/v1/routers", page())
    run(api, "router", "list")
    assert str(api.last().url).startswith("http://file.test:1234/v1/routers")
    assert api.last().headers["Authorization"] == "Bearer from-file"

    monkeypatch.setenv("SDWAN_URL", "http://env.test:9")
    monkeypatch.setenv("SDWAN_TOKEN", "from-env")
    settings = load_settings()
    assert (settings.url, settings.token, settings.url_source) == (
        "http://env.test:9",
        "from-env",
        "env",
    )
    run(api, "router", "list")
    assert str(api.last().url).startswith("http://env.test:9/v1/routers")
    assert api.last().headers["Authorization"] == "Bearer from-env"
    shown = json.loads(run(api, "config", "show", "-o", "json").stdout)
    assert shown["token_set"] is True
    assert "from-env" not in json.dumps(shown)


def test_config_set_keeps_other_key_and_tightens_mode(api: FakeApi, cli_env: Path) -> None:
    cli_env.parent.mkdir(parents=True)
    cli_env.write_text("url: http://old.test\ntoken: t0\n")
    cli_env.chmod(0o644)
    result = run(api, "config", "set", "--token-stdin", stdin="t1\n")
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(cli_env.stat().st_mode) == 0o600
    assert yaml.safe_load(cli_env.read_text()) == {"url": "http://old.test", "token": "t1"}


def test_default_url_without_env_or_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SDWAN_URL")
    monkeypatch.delenv("SDWAN_TOKEN")
    settings = load_settings()
    assert (settings.url, settings.token, settings.url_source) == (
        "http://127.0.0.1:9998",
        None,
        "default",
    )
