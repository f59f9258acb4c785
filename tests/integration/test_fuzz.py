"""The API fuzzed from its own OpenAPI contract (issue 10, item 14): schemathesis
against a served `sdwan serve` with a real gobgpd behind one router, bounded in time.
It fails on any 5xx, any status code or content type the contract does not list, and
any request the schema says is invalid but the server accepts.

The fuzzer starts from real objects of every kind it cannot make up (issue 21, item 7):
a router with a neighbor, a site with an uplink and an intent on an SLA class, the
revisions that made them (a rollback only to the last: the fuzzer undoes its own
changes); its dictionaries hand their ids and names to the path, query and body fields
that name them, half of the time, so the site, uplink, intent, SLA class, plan and
revision endpoints are reached with objects that exist, as the routers' are. Its token
is the bootstrap token: the one token id it may delete is a spare key's (a token that
revokes itself ends the run's coverage)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from sdwan.lab import GobgpdFactory
from sdwan.lab.server_process import ADMIN_TOKEN, LAB_API_ADDRESS_ALLOW, OrchestratorProcess

MAX_TIME = 120  # seconds of fuzzing
ADDRESSES = ["198.18.0.2", "198.18.0.6"]  # the router's neighbors
PEERS = [{"address": a, "peer_asn": 65002} for a in ADDRESSES]
LAN = "198.51.100.0/24"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,negative_data_rejection"
)


INTENT_OPERATIONS = [
    f"{method} /v1/{path}"
    for kind, key in (
        ("sites", "key"),
        ("uplinks", "uplink_id"),
        ("intents", "intent_id"),
        ("sla-classes", "key"),
    )
    for method, path in (
        ("GET", kind),
        ("POST", kind),
        ("GET", f"{kind}/{{{key}}}"),
        ("PATCH", f"{kind}/{{{key}}}"),
        ("DELETE", f"{kind}/{{{key}}}"),
    )
] + [
    "GET /v1/intents/{intent_id}/plan",
    "POST /v1/intents/plan",
    "GET /v1/uplinks/{uplink_id}/quality/history",
]
ALERT_OPERATIONS = [
    f"{method} /v1/{path}"
    for kind, key in (("alert-rules", "rule_id"), ("webhooks", "webhook_id"))
    for method, path in (
        ("GET", kind),
        ("POST", kind),
        ("GET", f"{kind}/{{{key}}}"),
        ("PATCH", f"{kind}/{{{key}}}"),
        ("DELETE", f"{kind}/{{{key}}}"),
    )
] + ["GET /v1/webhooks/{webhook_id}/deliveries", "GET /v1/alerts"]
HOOK_URL = "http://127.0.0.1:9/fuzz"  # allowed (loopback), nothing listens: refused
REVISION_OPERATIONS = ["GET /v1/revisions/{number}", "POST /v1/revisions/{number}/rollback"]


def _only_errors(output: str) -> str:
    """The lists of operations schemathesis saw answer nothing but 401/403, or 404."""
    warnings = output.split("WARNINGS", 1)[-1].split("SUMMARY", 1)[0]
    return "".join(
        part
        for part in warnings.split("\N{ELECTRIC LIGHT BULB}")
        if "returned only 401/403" in part or "returned 404" in part
    )


def _made(api: httpx.Client, path: str, body: dict[str, Any]) -> str:
    answer = api.post(path, json=body)
    assert answer.status_code == 201, answer.text
    ident: str = answer.json()["id"]
    return ident


class _Toml:
    """schemathesis.toml, written as it is built: parameters taking one of a few values
    half of the time (each list a dictionary of its own)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.dictionaries: dict[str, list[str | int]] = {}

    def bind(self, bindings: Mapping[str, Sequence[str | int]]) -> None:
        for key, values in bindings.items():
            name = f"d{len(self.dictionaries)}"
            self.dictionaries[name] = list(values)
            self.lines.append(f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}')

    def text(self) -> str:
        tables = [
            f"[dictionaries.{n}]\nvalues = {json.dumps(v)}" for n, v in self.dictionaries.items()
        ]
        return "\n".join([*self.lines, "", *tables]) + "\n"


def _config(api: httpx.Client, router: str) -> tuple[str, dict[str, str]]:
    """schemathesis.toml: the objects the fuzzer starts from, in its dictionaries;
    deletes get objects of their own (returned by kind), so the others live through
    the run."""
    neighbors = [_made(api, "/v1/neighbors", {"router": router, **p}) for p in PEERS]
    site = {"name": "fzs", "routers": [{"router": router}], "prefixes": [{"prefix": LAN}]}
    _made(api, "/v1/sites", site)
    doomed_site = _made(api, "/v1/sites", {"name": "fzd", "prefixes": [{"prefix": "192.0.2.0/24"}]})
    uplinks = [
        _made(
            api,
            "/v1/uplinks",
            {"site": "fzs", "name": name, "router": router, "neighbor": address},
        )
        for name, address in zip(("up", "up2"), ADDRESSES, strict=True)
    ]
    classes = [_made(api, "/v1/sla-classes", {"name": n, "loss_pct": 1}) for n in ("fzc", "fzx")]
    far = {"type": "prefixes", "prefixes": [{"prefix": "203.0.113.0/24"}]}
    intents = [
        _made(
            api,
            "/v1/intents",
            {
                "site": "fzs",
                "name": name,
                "destination": far,
                "prefer": [["up"]],
                "sla_class": "fzc",
            },
        )
        for name in ("far", "far2")
    ]
    rules = [
        _made(api, "/v1/alert-rules", {"name": name, "kind": "session_down", "threshold": 5})
        for name in ("fzr", "fzr2")
    ]
    hooks = [
        _made(api, "/v1/webhooks", {"name": name, "url": HOOK_URL, "secret": "f" * 16})
        for name in ("fzh", "fzh2")
    ]
    spare = _made(api, "/v1/tokens", {"name": "spare", "role": "reader", "project": "default"})
    toml = _Toml()
    toml.lines.append(f'[parameters]\n"path.token_id" = "{spare}"')
    toml.bind(
        {
            "path.neighbor_id": neighbors,
            "query.site": ["fzs"],
            "query.router": [router],
            "body.site": ["fzs"],
            "body.router": [router],
            "body.neighbor": ADDRESSES[:1],
            "body.prefer.[*].[*]": ["up"],
            "body.url": [HOOK_URL],
            "body.sla_class": ["fzc"],
        }
    )
    # revisions: any of the setup's; a rollback only to the last (undoing the fuzzer's)
    latest = api.get("/v1/revisions").json()["latest"]
    for names, numbers in (
        (["GET /v1/revisions/{number}"], [1, latest]),
        (["POST /v1/revisions/{number}/rollback"], [latest]),
    ):
        toml.lines.append(f"\n[[operations]]\ninclude-name = {json.dumps(names)}")
        toml.lines.append("[operations.parameters]")
        toml.bind({"path.number": numbers})
    for path, param, kept, doomed in [
        ("/v1/routers/{key}", "key", [router], [router]),  # in a site: not deleted
        ("/v1/sites/{key}", "key", ["fzs"], ["fzd"]),
        ("/v1/uplinks/{uplink_id}", "uplink_id", uplinks[:1], uplinks[1:]),
        ("/v1/intents/{intent_id}", "intent_id", intents[:1], intents[1:]),
        ("/v1/alert-rules/{rule_id}", "rule_id", rules[:1], rules[1:]),
        ("/v1/webhooks/{webhook_id}", "webhook_id", hooks[:1], hooks[1:]),
        ("/v1/sla-classes/{key}", "key", ["fzc", classes[0]], ["fzx"]),
    ]:
        reads = [f"GET {path}", f"PATCH {path}", f"GET {path}/plan"]
        if param == "uplink_id":
            reads.append(f"GET {path}/quality/history")
        if param == "webhook_id":
            reads.append(f"GET {path}/deliveries")
        for names, values in (
            (reads, kept),
            ([f"DELETE {path}"], doomed),
        ):
            toml.lines.append(f"\n[[operations]]\ninclude-name = {json.dumps(names)}")
            toml.lines.append("[operations.parameters]")
            toml.bind({f"path.{param}": values})
    return toml.text(), {
        "site": doomed_site,
        "uplink": uplinks[1],
        "intent": intents[1],
        "alert rule": rules[1],
        "webhook": hooks[1],
        "sla class": classes[1],
    }


def test_fuzzing_the_contract_finds_nothing(gobgpd_factory: GobgpdFactory, tmp_path: Path) -> None:
    daemon = gobgpd_factory("fz")
    env = {
        "SDWAN_SSE_MAX_AGE": "1",  # event streams end, so a fuzzer's request returns
        "SDWAN_SSE_KEEPALIVE": "0.5",
        "SDWAN_API_ADDRESS_ALLOW": LAB_API_ADDRESS_ALLOW,
    }
    with OrchestratorProcess(tmp_path / "orch", extra_env=env) as orch, orch.client() as api:
        router = {"name": "fz1", "router_id": "192.0.2.1", "asn": 65001}
        made = api.post("/v1/routers", json={**router, "api_address": daemon.api_address})
        assert made.status_code == 201, made.text
        config, doomed = _config(api, "fz1")
        (tmp_path / "schemathesis.toml").write_text(config)
        # built on first request: 8-15 s on two cores under a load of 25
        schema = api.get("/v1/openapi.json", timeout=120)
        assert schema.status_code == 200
        contract = tmp_path / "openapi.json"
        contract.write_text(json.dumps(schema.json()))
        run = subprocess.run(
            [
                str(Path(sys.executable).with_name("st")),
                "run",
                str(contract),
                "--url",
                orch.url,
                "--header",
                f"Authorization: Bearer {ADMIN_TOKEN}",
                "--checks",
                CHECKS,
                "--max-time",
                str(MAX_TIME),
                "--request-timeout",
                "20",
                "--seed",
                "10",
                # logging out would revoke the fuzzer's own (bootstrap) token
                "--exclude-path",
                "/v1/auth/logout",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=MAX_TIME + 120,
            check=False,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
            cwd=tmp_path,  # its config; schemathesis keeps its example database there
        )
        report = run.stdout[-15000:] + run.stderr[-3000:]
        assert run.returncode == 0, report
        assert api.get("/v1/auth/whoami").status_code == 200, report  # its token lived
        for operation in INTENT_OPERATIONS + ALERT_OPERATIONS + REVISION_OPERATIONS:
            assert f"- {operation}\n" not in _only_errors(run.stdout), report
        for kind, ident in doomed.items():  # deletes too, each with its own object
            audit = api.get("/v1/audit", params={"resource_id": ident, "action": "delete"})
            # more than once when a rollback brought it back (with its id) in between
            assert audit.json()["total"] >= 1, (kind, audit.text)
        assert httpx.get(f"{orch.url}/healthz", timeout=5).status_code == 200
        log = orch.log_tail(200)
        assert "Traceback" not in log, log
