"""Intent plans against real gobgpd while the server must keep answering (issue 21,
items 1 and 4). A site router A (gobgpd) learns 50 routes with 40-AS paths from its
uplink B (gobgpd); the site has one intent for them.

- A member puts the worst regular expression there is for a backtracking engine on A
  (an AS-path set, in an import policy): gobgpd takes it, and plans by three callers
  at once, for seconds, keep predicting what gobgpd really does while /healthz and
  the API answer within 2 s throughout.
- A's gobgpd stops answering (SIGSTOP): 40 plans at once get their answers within the
  plan deadline (SDWAN_RIB_TIMEOUT) or a 429, and the rest of the API keeps answering.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf.any_pb2 import Any as AnyPb
from google.protobuf.message import Message

from sdwan.gobgp._pb import attribute_pb2 as attr
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.lab import GobgpdFactory, GobgpdProcess, Lab, wait_for
from sdwan.lab.server_process import ADMIN_TOKEN, OrchestratorProcess
from tests.support.waits import wait_status

WORST = "^((((([0-9 ]+)+)+)+)+)+!"  # Python's re: minutes on a three-AS path
A4, B4 = "198.18.120.1", "198.18.120.2"
ROUTES = [f"198.51.100.{4 * i}/30" for i in range(50)]
LONG_PATH = [64600 + i for i in range(40)]  # B adds its own AS in front
RIB_TIMEOUT = 3.0  # SDWAN_RIB_TIMEOUT: the plans' deadline
HEALTHY = 2.0  # seconds /healthz and the API may take while plans run
DESTINATION = {"type": "prefixes", "prefixes": [{"prefix": "198.51.100.0/24", "le": 32}]}


@dataclass
class Site:
    orch: OrchestratorProcess
    a: GobgpdProcess
    router_a: str
    intent: str  # id

    def client(self, token: str = ADMIN_TOKEN) -> httpx.Client:
        return httpx.Client(
            base_url=self.orch.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )

    def key(self, name: str, role: str) -> str:
        """A new caller: an API key of the default project."""
        with self.client() as api:
            made = api.post("/v1/tokens", json={"name": name, "role": role, "project": "default"})
            assert made.status_code == 201, made.text
            token: str = made.json()["token"]
            return token


def _packed(message: Message) -> AnyPb:
    value = AnyPb()
    value.Pack(message)
    return value


def _originate(gobgpd: GobgpdProcess) -> None:
    stub = gobgpd.grpc_stub()
    for prefix in ROUTES:
        address, length = prefix.split("/")
        nlri = _packed(attr.IPAddressPrefix(prefix=address, prefix_len=int(length)))
        segment = attr.AsSegment(type=attr.AsSegment.AS_SEQUENCE, numbers=LONG_PATH)
        attrs = [
            attr.OriginAttribute(origin=0),
            attr.AsPathAttribute(segments=[segment]),
            attr.NextHopAttribute(next_hop="0.0.0.0"),
        ]
        family = pb.Family(afi=pb.Family.AFI_IP, safi=pb.Family.SAFI_UNICAST)
        path = pb.Path(nlri=nlri, pattrs=[_packed(a) for a in attrs], family=family)
        stub.AddPath(pb.AddPathRequest(table_type=pb.GLOBAL, path=path), timeout=5)


def _received(gobgpd: GobgpdProcess) -> int:
    request = pb.ListPeerRequest(address=B4)
    replies = list(gobgpd.grpc_stub().ListPeer(request, timeout=5))
    if not replies or replies[0].peer.state.session_state != pb.PeerState.ESTABLISHED:
        return 0
    return sum(a.state.received for a in replies[0].peer.afi_safis)


@pytest.fixture
def site(lab: Lab, gobgpd_factory: GobgpdFactory, tmp_path: Path) -> Iterator[Site]:
    ns_a, ns_b = lab.namespace("a"), lab.namespace("b")
    lab.link(ns_a, "a0", ns_b, "b0", addrs_a=[f"{A4}/30"], addrs_b=[f"{B4}/30"])
    a, b = gobgpd_factory("a", netns=ns_a), gobgpd_factory("b", netns=ns_b)
    name_a, name_b = f"{lab.prefix}-A", f"{lab.prefix}-B"
    env = {"SDWAN_RIB_TIMEOUT": str(RIB_TIMEOUT)}
    with OrchestratorProcess(tmp_path / "orch", extra_env=env) as orch:
        made = Site(orch, a, name_a, "")
        timers = {"hold_time": 9, "keepalive_interval": 3}
        with made.client() as api:
            routers = [
                {"name": name_a, "router_id": A4, "asn": 65001, "api_address": a.api_address},
                {"name": name_b, "router_id": B4, "asn": 65002, "api_address": b.api_address},
            ]
            assert api.post("/v1/routers/bulk", json={"items": routers}).status_code == 201
            neighbors = [
                {"router": name_a, "address": B4, "peer_asn": 65002, **timers},
                {"router": name_b, "address": A4, "peer_asn": 65001, **timers},
            ]
            created = api.post("/v1/neighbors/bulk", json={"items": neighbors})
            assert created.status_code == 201, created.text
            _originate(b)
            wait_for(lambda: _received(a) == len(ROUTES), timeout=40, what="A holds B's routes")
            for path, body in [
                ("/v1/sites", {"name": "s", "routers": [{"router": name_a}]}),
                ("/v1/uplinks", {"site": "s", "name": "up", "router": name_a, "neighbor": B4}),
            ]:
                answer = api.post(path, json=body)
                assert answer.status_code == 201, answer.text
            intent = api.post(
                "/v1/intents",
                json={
                    "site": "s",
                    "name": "lans",
                    "destination": DESTINATION,
                    "prefer": [["up"]],
                },
            )
            assert intent.status_code == 201, intent.text
            made.intent = intent.json()["id"]
        yield made


class Watch:
    """Polls /healthz and a list of routers every 0.25 s in a thread, keeping the
    longest answer time of each (a request that fails counts as the time it took)."""

    def __init__(self, orch: OrchestratorProcess) -> None:
        self.orch = orch
        self.longest: dict[str, float] = {"/healthz": 0.0, "/v1/routers": 0.0}
        self.answers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=self.orch.url, headers=headers, timeout=30) as http:
            while not self._stop.wait(0.25):
                for path in self.longest:
                    started = time.monotonic()
                    try:
                        ok = http.get(path).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    took = time.monotonic() - started
                    self.longest[path] = max(self.longest[path], took if ok else 30.0)
                    self.answers += 1

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def _in_parallel(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_the_worst_regex_of_a_member_leaves_the_server_answering(site: Site) -> None:
    member = site.key("mallory", "member")
    statement = {"conditions": {"as_path_set": "worst"}, "actions": {"local_pref": 50}}
    objects: list[tuple[str, dict[str, Any]]] = [
        ("/v1/defined-sets", {"name": "worst", "type": "as-path", "members": [WORST]}),
        ("/v1/policies", {"name": "p", "statements": [statement]}),
        ("/v1/policy-attachments", {"name": "in", "direction": "import", "policies": ["p"]}),
    ]
    with site.client(member) as api:
        for path, body in objects:
            answer = api.post(path, json={"router": site.router_a, **body})
            assert answer.status_code == 201, answer.text
            # gobgpd takes the set, the policy naming it and its assignment
            wait_status(site.orch, f"{path}/{answer.json()['id']}", "ACTIVE", timeout=30)
    callers = [member, site.key("rita", "reader"), ADMIN_TOKEN]
    plan = f"/v1/intents/{site.intent}/plan"
    ends = time.monotonic() + 8.0
    verdicts: list[str] = []
    refused = 0

    def keep_planning(token: str) -> None:
        nonlocal refused
        with site.client(token) as api:
            for _ in range(200):  # bounded; the clock ends it first
                if time.monotonic() >= ends:
                    return
                answer = api.get(plan)
                if answer.status_code == 429:
                    refused += 1
                    continue
                assert answer.status_code == 200, answer.text
                verdicts.append(answer.json()["prediction"]["verdict"])

    with Watch(site.orch) as watch, ThreadPoolExecutor(max_workers=6) as pool:
        # two plans per caller at once: as many as SDWAN_RIB_CONCURRENCY lets in
        for future in [pool.submit(keep_planning, c) for c in callers * 2]:
            future.result(timeout=120)
    assert len(verdicts) >= 6, (verdicts, refused)
    # the prediction agrees with what gobgpd does: the set matched nothing, the
    # uplink's routes are the best paths
    assert set(verdicts) == {"VERIFIED"}, verdicts
    assert watch.answers >= 10
    assert all(took < HEALTHY for took in watch.longest.values()), watch.longest


def test_plans_against_a_stalled_gobgpd_are_bounded(site: Site) -> None:
    callers = [ADMIN_TOKEN] + [site.key(f"k{i}", "member") for i in range(4)]
    plan = f"/v1/intents/{site.intent}/plan"
    intent = {
        "site": "s",
        "name": "lans",
        "destination": DESTINATION,
        "prefer": [["up"]],
    }
    pid = site.a.pid
    assert pid is not None
    clients = [site.client(token) for token in callers]
    calls: list[Callable[[], httpx.Response]] = []
    for index in range(40):
        api = clients[index % len(clients)]
        if index % 4 == 3:  # a dry run, as the planner of a change does
            calls.append(partial(api.post, "/v1/intents/plan", json=intent))
        else:
            calls.append(partial(api.get, plan))
    os.kill(pid, signal.SIGSTOP)
    try:
        with Watch(site.orch) as watch:
            started = time.monotonic()
            answers = _in_parallel(calls)
            took = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
        for api in clients:
            api.close()
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {200, 429}, [a.text for a in answers if a.status_code >= 300]
    done = [a.json()["prediction"] for a in answers if a.status_code == 200]
    assert done and statuses.count(429) >= 20, statuses
    for prediction in done:
        assert prediction["verdict"] == "UNKNOWN", prediction
        why = prediction["unreachable"][site.router_a]
        assert "SDWAN_RIB_TIMEOUT" in why, why
    assert took < 40 * RIB_TIMEOUT / 4, took  # far from 40 plans one after the other
    assert watch.answers >= 4
    assert all(t < HEALTHY for t in watch.longest.values()), watch.longest
    with site.client() as api:  # gobgpd answers again: so do the plans
        wait_for(
            lambda: api.get(plan).json()["prediction"]["verdict"] == "VERIFIED",
            timeout=30,
            what="the plan verified again",
        )
