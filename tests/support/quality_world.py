"""Two sites (tokyo, osaka), two uplinks each (mpls, inet), one router each whose
gobgpd socket lies in the test's directory, so the quality controller finds a probe
agent beside it (``<socket>.probe``: an in-process FakeProbeAgent); an intent
tokyo/to-osaka (mpls, then inet) with the SLA class gold."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from sdwan.api.app import create_app
from sdwan.metrics import Metrics
from sdwan.quality.controller import QualityController
from sdwan.runtime import Runtime
from sdwan.service.uow import DeferredCalls
from sdwan.store import intent_repo, sla_repo
from sdwan.store.intent_repo import IntentRecord
from tests.support.api import ADMIN_TOKEN
from tests.support.probe_agent import FakeProbeAgent
from tests.support.runtime import fake_runtime, unit_settings

ROUTERS = {  # name: (router id, AS, site, LAN, {uplink: neighbor})
    "tk": ("198.18.0.10", 65010, "tokyo", "198.51.100.0/24", {"mpls": "198.18.41.100"}),
    "os": ("198.18.0.20", 65020, "osaka", "203.0.113.0/24", {"mpls": "198.18.42.100"}),
}
INET = {"tk": "198.18.51.200", "os": "198.18.52.200"}


@dataclass
class World:
    runtime: Runtime
    client: TestClient
    tmp: Path
    metrics: Metrics
    agents: dict[str, FakeProbeAgent]
    intent_id: str = ""

    def controller(self, **options: Any) -> QualityController:
        settings: dict[str, Any] = {"tick": 0.05, "write_interval": 0.05, "reload_every": 0.5}
        return QualityController(
            engine=self.runtime.background_engine,
            writer=self.runtime.store_writer,
            events=self.runtime.events,
            notifier=DeferredCalls(self.runtime.router_controller),
            metrics=self.metrics,
            **{**settings, **options},
        )

    def socket(self, router: str) -> str:
        return str(self.tmp / f"{router}.sock")

    def start_agent(self, router: str) -> FakeProbeAgent:
        self.agents[router] = FakeProbeAgent(f"{self.socket(router)}.probe")
        return self.agents[router]

    def set_class(self, **limits: Any) -> str:
        """A class gold for tokyo/to-osaka (a new class each call: the API for it is
        another part's)."""
        now = datetime.now(UTC)
        ident = str(uuid.uuid4())
        values = {
            "id": ident,
            "project_id": "default",
            "name": limits.pop("name", "gold"),
            "loss_pct": 2.0,
            "latency_ms": 50.0,
            "jitter_ms": None,
            "hold_down_s": 1.0,
            "min_interval_s": 1.0,
            "description": "",
            "version": 1,
            "created_at": now,
            "updated_at": now,
            **limits,
        }
        with self.runtime.engine.begin() as conn:
            sla_repo.insert_class(conn, values=values)
            intent = intent_repo.get_owned(conn, IntentRecord, owned_id=self.intent_id)
            assert intent is not None
            intent_repo.update_owned(
                conn,
                IntentRecord,
                owned_id=intent.id,
                expected_version=intent.version,
                values={"sla_class_id": ident},
            )
        return ident

    def local_prefs(self) -> dict[str, int]:
        """tokyo/to-osaka's generated import policy on tk: uplink -> local preference."""
        items = self.client.get("/v1/policies", params={"router": "tk", "limit": 100}).json()
        policy = next(p for p in items["items"] if p["name"] == "i.to-osaka.in")
        return {s["name"]: s["actions"]["local_pref"] for s in policy["statements"]}

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.runtime.events.read(since=0, limit=1000) if e["kind"] == kind]


def build_world(tmp_path: Path, database_url: str) -> Iterator[World]:
    sockets = Path(tempfile.mkdtemp(prefix="sdwq-"))  # unix socket paths stay short
    try:
        yield from _world(tmp_path, sockets, database_url)
    finally:
        shutil.rmtree(sockets, ignore_errors=True)


def _world(tmp_path: Path, sockets: Path, database_url: str) -> Iterator[World]:
    settings = unit_settings(
        tmp_path,
        database_url,
        intent_check_interval=0,  # no verification: nothing answers gRPC here
        path_quality=False,  # each test runs its own controller
    )
    runtime = fake_runtime(settings)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with TestClient(create_app(runtime), headers=headers) as client:
        world = World(runtime, client, sockets, Metrics(), {})
        for name, (router_id, asn, site, lan, uplinks) in ROUTERS.items():
            body = {
                "name": name,
                "router_id": router_id,
                "asn": asn,
                "api_address": f"unix://{world.socket(name)}",
            }
            assert client.post("/v1/routers", json=body).status_code == 201
            for address in (uplinks["mpls"], INET[name]):
                neighbor = {"router": name, "address": address, "peer_asn": 65100}
                assert client.post("/v1/neighbors", json=neighbor).status_code == 201
            site_body = {"name": site, "routers": [{"router": name}], "prefixes": [{"prefix": lan}]}
            assert client.post("/v1/sites", json=site_body).status_code == 201
            for uplink, address, transport in (
                ("mpls", uplinks["mpls"], "mpls"),
                ("inet", INET[name], "internet"),
            ):
                body = {
                    "site": site,
                    "name": uplink,
                    "router": name,
                    "neighbor": address,
                    "transport": transport,
                }
                answer = client.post("/v1/uplinks", json=body)
                assert answer.status_code == 201, answer.text
        intent = {
            "site": "tokyo",
            "name": "to-osaka",
            "destination": {"type": "site", "site": "osaka"},
            "prefer": [["mpls"], ["inet"]],
        }
        answer = client.post("/v1/intents", json=intent)
        assert answer.status_code == 201, answer.text
        world.intent_id = answer.json()["id"]
        try:
            yield world
        finally:
            for agent in world.agents.values():
                agent.stop()
