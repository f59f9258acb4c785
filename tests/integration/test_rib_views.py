"""RIB views against real gobgpd: two routers in namespaces joined by a veth (IPv4 and
IPv6 sessions, managed by the orchestrator); routes originated on B with AddPath
are read on A (global RIB, adj-RIB-in) and on B (adj-RIB-out) through the API."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from google.protobuf.any_pb2 import Any as AnyPb
from google.protobuf.message import Message

from sdwan.gobgp._pb import attribute_pb2 as attr
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.lab import GobgpdFactory, GobgpdProcess, Lab, wait_for
from sdwan.lab.server_process import OrchestratorProcess

ESTABLISHED = pb.PeerState.ESTABLISHED
V4 = pb.Family(afi=pb.Family.AFI_IP, safi=pb.Family.SAFI_UNICAST)
V6 = pb.Family(afi=pb.Family.AFI_IP6, safi=pb.Family.SAFI_UNICAST)
A4, B4, A6, B6 = "198.18.100.1", "198.18.100.2", "2001:db8:100::1", "2001:db8:100::2"
COMMUNITY = (65002 << 16) | 100


@dataclass
class Pair:
    a: GobgpdProcess
    b: GobgpdProcess
    router_a: str
    router_b: str
    neighbors: dict[str, dict[str, Any]]  # "a->b4", "b->a4", "a->b6", "b->a6"


def _packed(message: Message) -> AnyPb:
    value = AnyPb()
    value.Pack(message)
    return value


def originate(gobgpd: GobgpdProcess, prefixes: list[str], *, med: int = 10) -> None:
    """AddPath on ``gobgpd`` (next hop self: gobgpd sets its session address)."""
    stub = gobgpd.grpc_stub()
    for prefix in prefixes:
        address, length = prefix.split("/")
        nlri = _packed(attr.IPAddressPrefix(prefix=address, prefix_len=int(length)))
        attrs: list[Message] = [
            attr.OriginAttribute(origin=0),
            attr.MultiExitDiscAttribute(med=med),
            attr.CommunitiesAttribute(communities=[COMMUNITY]),
            attr.LargeCommunitiesAttribute(
                communities=[attr.LargeCommunity(global_admin=65002, local_data1=1, local_data2=2)]
            ),
        ]
        if ":" in address:
            family = V6
            attrs.append(attr.MpReachNLRIAttribute(family=V6, next_hops=["::"], nlris=[nlri]))
        else:
            family = V4
            attrs.append(attr.NextHopAttribute(next_hop="0.0.0.0"))
        path = pb.Path(nlri=nlri, pattrs=[_packed(a) for a in attrs], family=family)
        stub.AddPath(pb.AddPathRequest(table_type=pb.GLOBAL, path=path), timeout=5)


def _established(gobgpd: GobgpdProcess, address: str) -> bool:
    return _state(gobgpd, address) == ESTABLISHED


def _state(gobgpd: GobgpdProcess, address: str) -> int | None:
    replies = list(gobgpd.grpc_stub().ListPeer(pb.ListPeerRequest(address=address), timeout=5))
    return replies[0].peer.state.session_state if replies else None


@pytest.fixture
def pair(lab: Lab, gobgpd_factory: GobgpdFactory, orchestrator: OrchestratorProcess) -> Pair:
    ns_a, ns_b = lab.namespace("a"), lab.namespace("b")
    lab.link(
        ns_a, "a0", ns_b, "b0", addrs_a=[f"{A4}/30", f"{A6}/64"], addrs_b=[f"{B4}/30", f"{B6}/64"]
    )
    a, b = gobgpd_factory("a", netns=ns_a), gobgpd_factory("b", netns=ns_b)
    name_a, name_b = f"{lab.prefix}-A", f"{lab.prefix}-B"
    timers = {"hold_time": 9, "keepalive_interval": 3}
    with orchestrator.client() as api:
        routers = [
            {"name": name_a, "router_id": A4, "asn": 65001, "api_address": a.api_address},
            {"name": name_b, "router_id": B4, "asn": 65002, "api_address": b.api_address},
        ]
        assert api.post("/v1/routers/bulk", json={"items": routers}).status_code == 201
        neighbors = [
            {"router": name_a, "address": B4, "peer_asn": 65002, **timers},
            {"router": name_b, "address": A4, "peer_asn": 65001, **timers},
            {"router": name_a, "address": B6, "peer_asn": 65002, **timers},
            {"router": name_b, "address": A6, "peer_asn": 65001, **timers},
        ]
        created = api.post("/v1/neighbors/bulk", json={"items": neighbors})
        assert created.status_code == 201, created.text
    for daemon, address in ((a, B4), (b, A4), (a, B6), (b, A6)):
        wait_for(
            partial(_established, daemon, address),
            timeout=40,
            what=f"{daemon.name} session with {address} ESTABLISHED",
        )
    items = created.json()["items"]
    keys = ["a->b4", "b->a4", "a->b6", "b->a6"]
    return Pair(a, b, name_a, name_b, dict(zip(keys, items, strict=True)))


def _get(orchestrator: OrchestratorProcess, path: str, **params: Any) -> httpx.Response:
    with orchestrator.client() as api:
        return api.get(path, params=params)


def _prefixes(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [route["prefix"] for route in answer.json()["items"]]


def _wait_rib(
    orchestrator: OrchestratorProcess, path: str, count: int, **params: Any
) -> dict[str, Any]:
    """Poll a RIB view until its first page holds ``count`` routes."""

    def full() -> dict[str, Any] | None:
        answer = _get(orchestrator, path, **params)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body if len(body["items"]) == count else None

    return wait_for(full, timeout=20, what=f"{count} routes in {path}")


def test_global_rib_shows_b_routes_with_attributes(
    pair: Pair, orchestrator: OrchestratorProcess
) -> None:
    prefixes = ["198.18.1.0/24", "198.18.2.0/24", "198.18.3.0/24"]
    originate(pair.b, prefixes, med=10)
    rib = f"/v1/routers/{pair.router_a}/rib"
    body = _wait_rib(orchestrator, rib, 3)
    assert [r["prefix"] for r in body["items"]] == prefixes  # prefix order
    route = body["items"][0]
    assert route["next_hop"] == B4
    assert route["as_path"] == [{"type": "sequence", "asns": [65002]}]
    assert route["best"] is True
    assert route["neighbor"] == B4
    assert route["origin"] == "igp"
    # MED is non-transitive, but B sends it to its direct neighbor A
    assert route["med"] == 10
    assert route["communities"] == ["65002:100"]
    assert route["large_communities"] == ["65002:1:2"]
    assert route["local_pref"] is None  # eBGP: not sent
    assert 0 <= route["age"] < 120 and route["received_at"]
    assert body["next"] is None and body["family"] == "ipv4-unicast"

    assert _prefixes(_get(orchestrator, rib, prefix="198.18.2.0/24")) == ["198.18.2.0/24"]
    assert _prefixes(_get(orchestrator, rib, prefix="198.18.2.77")) == ["198.18.2.0/24"]
    longer = _get(orchestrator, rib, prefix="198.18.0.0/16", longer="true")
    assert _prefixes(longer) == prefixes
    assert _prefixes(_get(orchestrator, rib, prefix="203.0.113.0/24")) == []

    # the CLI prints it like `gobgp global rib`
    out = orchestrator.cli("rib", "show", pair.router_a).stdout.splitlines()
    assert out[0].split() == ["Network", "Next", "Hop", "AS_PATH", "Age", "Attrs"]
    assert out[1].startswith("*> 198.18.1.0/24        198.18.100.2         65002 ")
    assert out[1].endswith(
        "[{Origin: i} {Med: 10} {Communities: 65002:100} {LargeCommunity: [ 65002:1:2]}]"
    )


def test_best_only_and_the_non_best_marker(pair: Pair, orchestrator: OrchestratorProcess) -> None:
    originate(pair.b, ["198.18.50.0/24"])
    originate(pair.a, ["198.18.50.0/24"], med=0)  # A's own path wins (locally originated)
    rib = f"/v1/routers/{pair.router_a}/rib"
    body = _wait_rib(orchestrator, rib, 2)
    best = [r for r in body["items"] if r["best"]]
    assert len(best) == 1 and best[0]["neighbor"] is None  # the local path
    (only,) = _get(orchestrator, rib, best="true").json()["items"]
    assert only["best"] is True and only["neighbor"] is None
    out = orchestrator.cli("rib", "show", pair.router_a).stdout.splitlines()
    assert [line[:3] for line in out[1:]] == ["*> ", "*  "]


def test_adj_rib_in_and_out(pair: Pair, orchestrator: OrchestratorProcess) -> None:
    prefixes = ["198.18.7.0/24", "198.18.8.0/24"]
    originate(pair.b, prefixes)
    rib_in = f"/v1/neighbors/{pair.neighbors['a->b4']['id']}/rib-in"
    body = _wait_rib(orchestrator, rib_in, 2)
    assert [r["prefix"] for r in body["items"]] == prefixes
    assert {r["next_hop"] for r in body["items"]} == {B4}
    assert {r["neighbor"] for r in body["items"]} == {B4}
    rib_out = f"/v1/neighbors/{pair.neighbors['b->a4']['id']}/rib-out"
    assert _prefixes(_get(orchestrator, rib_out)) == prefixes
    # the neighbor by ROUTER/ADDRESS, as for `sdwan neighbor show`
    out = orchestrator.cli("rib", "in", f"{pair.router_a}/{B4}").stdout.splitlines()
    assert len(out) == 3 and out[1].startswith("   198.18.7.0/24")
    as_json = orchestrator.cli("rib", "out", f"{pair.router_b}/{A4}", "-o", "json").stdout
    assert "198.18.8.0/24" in as_json


def test_paging_covers_the_table_once(pair: Pair, orchestrator: OrchestratorProcess) -> None:
    prefixes = [f"198.18.{i // 4}.{(i % 4) * 64}/26" for i in range(250)]
    originate(pair.b, prefixes)
    rib = f"/v1/routers/{pair.router_a}/rib"
    wait_for(
        lambda: len(_get(orchestrator, rib, limit=1000).json()["items"]) == 250,
        timeout=30,
        what="250 routes on A",
    )
    pages: list[list[str]] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"after": after} if after else {})}
        answer = _get(orchestrator, rib, **params)
        pages.append(_prefixes(answer))
        after = answer.json()["next"]
        if after is None:
            break
        assert len(pages) < 5, "paging does not end"
    assert [len(p) for p in pages] == [100, 100, 50]
    seen = [p for page in pages for p in page]
    assert sorted(seen) == sorted(prefixes) and len(set(seen)) == 250  # disjoint, complete
    assert seen == prefixes  # prefix order, which is also the order generated here
    everything = orchestrator.cli("rib", "show", pair.router_a, "--all", "--limit", "100")
    assert len(everything.stdout.splitlines()) == 251  # header + every route


def test_ipv6_family(pair: Pair, orchestrator: OrchestratorProcess) -> None:
    originate(pair.b, ["2001:db8:10::/48", "198.18.9.0/24"])
    rib = f"/v1/routers/{pair.router_a}/rib"
    body = _wait_rib(orchestrator, rib, 1, family="ipv6-unicast")
    (route,) = body["items"]
    assert (route["prefix"], route["family"]) == ("2001:db8:10::/48", "ipv6-unicast")
    assert route["next_hop"] == B6
    assert route["as_path"] == [{"type": "sequence", "asns": [65002]}]
    assert route["best"] is True and route["med"] == 10
    assert _prefixes(_get(orchestrator, rib, prefix="2001:db8:10::/48")) == ["2001:db8:10::/48"]
    rib_in = f"/v1/neighbors/{pair.neighbors['a->b6']['id']}/rib-in"  # defaults to ipv6
    assert _prefixes(_get(orchestrator, rib_in)) == ["2001:db8:10::/48"]
    mismatch = _get(orchestrator, rib, prefix="2001:db8:10::/48", family="ipv4-unicast")
    assert mismatch.status_code == 422 and mismatch.json()["error"]["field"] == "prefix"


def test_unreachable_gobgpd_is_a_clear_502(pair: Pair, orchestrator: OrchestratorProcess) -> None:
    pair.b.stop()
    answer = _get(orchestrator, f"/v1/routers/{pair.router_b}/rib")
    assert answer.status_code == 502, answer.text
    error = answer.json()["error"]
    assert error["code"] == "speaker_unreachable"
    assert pair.b.api_address in error["message"]
    failed = orchestrator.cli("rib", "show", pair.router_b, check=False)
    assert failed.returncode == 1 and "unreachable" in failed.stderr
