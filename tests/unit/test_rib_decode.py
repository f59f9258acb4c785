"""RIB views without gobgpd: decoding protobuf paths, paging and cursors, the API's
errors over a fake path source, and the CLI's gobgp-like formatting."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from google.protobuf.any_pb2 import Any as AnyPb
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from sdwan.cli.rib import format_age, format_as_path, format_attrs
from sdwan.errors import InvalidInput, SpeakerRejected, SpeakerUnreachable
from sdwan.gobgp._pb import attribute_pb2 as attr
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.paths import AsSegment, Table, decode_destination, decode_path, list_path_request
from sdwan.service.rib import (
    RibQuery,
    RibService,
    decode_cursor,
    encode_cursor,
    resolve,
    select_page,
)
from tests.support.rest_api import URL, FakeApi, neighbor, run

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
V4 = pb.Family(afi=pb.Family.AFI_IP, safi=pb.Family.SAFI_UNICAST)
V6 = pb.Family(afi=pb.Family.AFI_IP6, safi=pb.Family.SAFI_UNICAST)


def packed(message: Message) -> AnyPb:
    value = AnyPb()
    value.Pack(message)
    return value


def make_path(
    prefix: str, *attrs: Message, family: pb.Family = V4, age: int = 83, **fields: object
) -> pb.Path:
    address, length = prefix.split("/")
    stamp = Timestamp(seconds=int(NOW.timestamp()) - age)
    return pb.Path(
        nlri=packed(attr.IPAddressPrefix(prefix=address, prefix_len=int(length))),
        pattrs=[packed(a) for a in attrs],
        family=family,
        age=stamp,
        **fields,  # type: ignore[arg-type]
    )


# --- decoding ---------------------------------------------------------------------------


def test_ipv4_path_with_every_decoded_attribute() -> None:
    path = make_path(
        "198.18.5.0/24",
        attr.OriginAttribute(origin=0),
        attr.AsPathAttribute(
            segments=[
                attr.AsSegment(type=attr.AsSegment.AS_SEQUENCE, numbers=[65002, 65010]),
                attr.AsSegment(type=attr.AsSegment.AS_SET, numbers=[65020, 65021]),
            ]
        ),
        attr.NextHopAttribute(next_hop="198.18.100.2"),
        attr.MultiExitDiscAttribute(med=10),
        attr.LocalPrefAttribute(local_pref=200),
        attr.CommunitiesAttribute(communities=[(65001 << 16) | 100, 0xFFFFFF01]),
        attr.LargeCommunitiesAttribute(
            communities=[attr.LargeCommunity(global_admin=65001, local_data1=1, local_data2=2)]
        ),
        attr.AtomicAggregateAttribute(),
        best=True,
        neighbor_ip="198.18.100.2",
        filtered=True,
        stale=True,
    )
    route = decode_path(path, now=NOW)
    assert route.prefix == "198.18.5.0/24"
    assert route.family == "ipv4-unicast"
    assert route.next_hop == "198.18.100.2"
    assert route.as_path == (
        AsSegment("sequence", (65002, 65010)),
        AsSegment("set", (65020, 65021)),
    )
    assert route.origin == "igp"
    assert (route.med, route.local_pref) == (10, 200)
    assert route.communities == ("65001:100", "no-export")
    assert route.large_communities == ("65001:1:2",)
    assert route.age == 83
    assert route.received_at == datetime(2026, 1, 2, 3, 2, 42, tzinfo=UTC)
    assert (route.best, route.filtered, route.stale) == (True, True, True)
    assert route.neighbor == "198.18.100.2"
    assert route.other_attributes == ("AtomicAggregateAttribute",)


def test_ipv6_path_takes_the_next_hop_from_mp_reach() -> None:
    path = make_path(
        "2001:db8:10::/48",
        attr.OriginAttribute(origin=2),
        attr.MpReachNLRIAttribute(
            family=V6,
            next_hops=["2001:db8:100::2", "fe80::1"],
            nlris=[packed(attr.IPAddressPrefix(prefix="2001:db8:10::", prefix_len=48))],
        ),
        family=V6,
        neighbor_ip="2001:db8:100::2",
    )
    route = decode_path(path, now=NOW)
    assert (route.prefix, route.family) == ("2001:db8:10::/48", "ipv6-unicast")
    assert route.next_hop == "2001:db8:100::2"
    assert route.origin == "incomplete"
    assert route.other_attributes == ()  # MP_REACH is decoded, not "other"


def test_locally_originated_path_has_no_neighbor_and_defaults() -> None:
    path = make_path("192.0.2.0/24", attr.OriginAttribute(origin=1), neighbor_ip="<nil>")
    route = decode_path(path, now=NOW)
    assert route.neighbor is None
    assert route.origin == "egp"
    assert (route.next_hop, route.med, route.local_pref) == (None, None, None)
    assert (route.as_path, route.communities, route.large_communities) == ((), (), ())
    assert (route.best, route.filtered, route.stale) == (False, False, False)


def test_path_without_age_has_none() -> None:
    path = pb.Path(nlri=packed(attr.IPAddressPrefix(prefix="192.0.2.0", prefix_len=24)), family=V4)
    route = decode_path(path, now=NOW)
    assert (route.age, route.received_at) == (None, None)


def test_best_only_keeps_the_best_path_of_a_destination() -> None:
    destination = pb.Destination(
        prefix="198.18.1.0/24",
        paths=[
            make_path("198.18.1.0/24", best=True, neighbor_ip="198.18.100.2"),
            make_path("198.18.1.0/24", neighbor_ip="198.18.100.6"),
        ],
    )
    assert len(decode_destination(destination)) == 2
    (best,) = decode_destination(destination, best_only=True)
    assert best.neighbor == "198.18.100.2"


def test_list_path_request() -> None:
    request = list_path_request(
        Table.ADJ_IN, "ipv6-unicast", name="2001:db8::2", prefix="2001:db8::/32", longer=True
    )
    assert request.table_type == pb.ADJ_IN and request.name == "2001:db8::2"
    assert (request.family.afi, request.family.safi) == (V6.afi, V6.safi)
    assert request.prefixes[0].type == pb.TableLookupPrefix.LONGER
    assert list_path_request(Table.GLOBAL, "ipv4-unicast").prefixes == []


# --- paging -----------------------------------------------------------------------------


def destinations(prefixes: list[str]) -> Iterator[pb.Destination]:
    for prefix in prefixes:
        yield pb.Destination(prefix=prefix, paths=[make_path(prefix, best=True)])


def test_pages_cover_a_shuffled_table_once_in_prefix_order() -> None:
    prefixes = [f"198.18.{i}.0/24" for i in range(250)] + ["198.18.0.0/16", "198.18.0.0/25"]
    random.Random(7).shuffle(prefixes)  # gobgpd streams in Go map order
    after, pages = None, []
    while True:
        page, more = select_page(destinations(prefixes), after=after, limit=100)
        pages.append([d.prefix for d in page])
        if not more:
            break
        after = decode_cursor(encode_cursor("ipv4-unicast", page[-1].prefix), "ipv4-unicast")
    assert [len(p) for p in pages] == [100, 100, 52]
    seen = [p for page in pages for p in page]
    assert sorted(seen) == sorted(prefixes) and len(set(seen)) == len(prefixes)
    assert seen[:3] == ["198.18.0.0/16", "198.18.0.0/24", "198.18.0.0/25"]  # address, length
    assert seen[3] == "198.18.1.0/24"


def test_last_page_exactly_full_has_no_next() -> None:
    page, more = select_page(destinations(["192.0.2.0/24", "198.51.100.0/24"]), after=None, limit=2)
    assert len(page) == 2 and not more


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGEgY3Vyc29y", encode_cursor("x", "nonsense")])
def test_bad_cursor_is_422_on_after(cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor, "ipv4-unicast")
    assert caught.value.field == "after"


def test_cursor_of_another_family_is_refused() -> None:
    with pytest.raises(InvalidInput, match="ipv6-unicast"):
        decode_cursor(encode_cursor("ipv6-unicast", "2001:db8::/32"), "ipv4-unicast")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (RibQuery(prefix="198.18.0.1/24"), "prefix"),  # host bits set
        (RibQuery(prefix="not-a-prefix"), "prefix"),
        (RibQuery(prefix="2001:db8::/32", family="ipv4-unicast"), "prefix"),
        (RibQuery(family="l2vpn-evpn"), "family"),
        (RibQuery(longer=True), "longer"),
        (RibQuery(prefix="198.18.0.1", longer=True), "prefix"),
    ],
)
def test_bad_filters_name_their_field(query: RibQuery, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve(query, "ipv4-unicast")
    assert caught.value.field == field


def test_family_follows_the_prefix() -> None:
    assert resolve(RibQuery(prefix="2001:db8:0::/48"), "ipv4-unicast") == (
        "ipv6-unicast",
        "2001:db8::/48",
    )
    assert resolve(RibQuery(prefix="198.18.0.9"), "ipv4-unicast") == ("ipv4-unicast", "198.18.0.9")
    assert resolve(RibQuery(), "ipv6-unicast") == ("ipv6-unicast", None)


# --- the API over a fake path source ----------------------------------------------------


class FakeSource:
    def __init__(self, table: list[str], error: Exception | None = None) -> None:
        self.table, self.error = table, error
        self.requests: list[pb.ListPathRequest] = []
        self.timeouts: list[float] = []
        self.closed = False

    def list_path(self, request: pb.ListPathRequest, *, timeout: float) -> Iterator[pb.Destination]:
        self.requests.append(request)
        self.timeouts.append(timeout)
        if self.error is not None:
            raise self.error
        yield from destinations(self.table)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def rib_api(client: TestClient) -> tuple[TestClient, dict[str, FakeSource]]:
    """The test API with RIB reads served by a FakeSource per gobgpd address."""
    sources: dict[str, FakeSource] = {}
    services = client.app.state.services  # type: ignore[attr-defined]
    client.app.state.services = dataclasses.replace(  # type: ignore[attr-defined]
        services,
        rib=RibService(
            routers=services.routers,
            neighbors=services.neighbors,
            sources=lambda endpoint: sources.setdefault(endpoint.target, FakeSource([])),
        ),
    )
    body = {"name": "R1", "router_id": "198.18.0.1", "asn": 65001, "api_address": "192.0.2.1"}
    assert client.post("/v1/routers", json=body).status_code == 201
    return client, sources


def test_api_pages_and_filters(rib_api: tuple[TestClient, dict[str, FakeSource]]) -> None:
    client, sources = rib_api
    source = sources["192.0.2.1:50051"] = FakeSource([f"198.18.{i}.0/24" for i in range(5)])
    first = client.get("/v1/routers/R1/rib", params={"limit": 3}).json()
    assert [r["prefix"] for r in first["items"]] == [f"198.18.{i}.0/24" for i in range(3)]
    assert first["limit"] == 3 and first["family"] == "ipv4-unicast" and first["next"]
    second = client.get("/v1/routers/R1/rib", params={"limit": 3, "after": first["next"]}).json()
    assert [r["prefix"] for r in second["items"]] == ["198.18.3.0/24", "198.18.4.0/24"]
    assert second["next"] is None
    assert source.closed
    client.get("/v1/routers/R1/rib", params={"prefix": "198.18.0.0/16", "longer": "true"})
    assert source.requests[-1].prefixes[0].prefix == "198.18.0.0/16"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"prefix": "198.18.0.0/33"}, "prefix"),
        ({"prefix": "2001:db8::/32", "family": "ipv4-unicast"}, "prefix"),
        ({"family": "ipv5"}, "family"),
        ({"limit": 0}, "limit"),
        ({"after": "garbage"}, "after"),
    ],
)
def test_api_bad_query_is_422_naming_the_field(
    rib_api: tuple[TestClient, dict[str, FakeSource]], params: dict[str, object], field: str
) -> None:
    client, _ = rib_api
    answer = client.get("/v1/routers/R1/rib", params=params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (SpeakerUnreachable("gobgpd at 192.0.2.1:50051 unreachable"), "speaker_unreachable"),
        (SpeakerRejected("gobgpd refused ListPath"), "speaker_rejected"),
    ],
)
def test_api_gobgpd_failure_is_502(
    rib_api: tuple[TestClient, dict[str, FakeSource]], error: Exception, code: str
) -> None:
    client, sources = rib_api
    sources["192.0.2.1:50051"] = FakeSource([], error=error)
    answer = client.get("/v1/routers/R1/rib")
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == code


def test_api_unknown_router_and_neighbor_are_404(
    rib_api: tuple[TestClient, dict[str, FakeSource]],
) -> None:
    client, _ = rib_api
    assert client.get("/v1/routers/nope/rib").status_code == 404
    assert client.get("/v1/neighbors/nope/rib-in").status_code == 404


def test_api_adj_rib_reads_the_neighbor_table(
    rib_api: tuple[TestClient, dict[str, FakeSource]],
) -> None:
    client, sources = rib_api
    body = {"router": "R1", "address": "198.18.100.2", "peer_asn": 65002}
    created = client.post("/v1/neighbors", json=body).json()
    source = sources["192.0.2.1:50051"] = FakeSource(["198.18.7.0/24"])
    answer = client.get(f"/v1/neighbors/{created['id']}/rib-out")
    assert answer.status_code == 200, answer.text
    assert source.requests[-1].table_type == pb.ADJ_OUT
    assert source.requests[-1].name == "198.18.100.2"
    wrong = client.get(f"/v1/neighbors/{created['id']}/rib-in", params={"family": "ipv6-unicast"})
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "family"


# --- the CLI ----------------------------------------------------------------------------


@pytest.fixture
def api(cli_env: Path) -> FakeApi:
    """The fake REST API, with the CLI's settings pointing at it."""
    return FakeApi()


def api_route(prefix: str, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "prefix": prefix,
        "family": "ipv4-unicast",
        "next_hop": "198.18.100.2",
        "as_path": [{"type": "sequence", "asns": [65002]}],
        "origin": "igp",
        "med": None,
        "local_pref": None,
        "communities": [],
        "large_communities": [],
        "received_at": "2026-01-02T03:02:42Z",
        "age": 83,
        "best": True,
        "neighbor": "198.18.100.2",
        "filtered": False,
        "stale": False,
        "other_attributes": [],
    }
    return {**base, **fields}


def rib_page(*items: dict[str, object], next_: str | None = None) -> tuple[int, object]:
    return 200, {"items": list(items), "next": next_, "limit": 100, "family": "ipv4-unicast"}


def test_format_helpers() -> None:
    assert format_age(83) == "00:01:23"
    assert format_age(93784) == "1d 02:03:04"
    assert format_age(None) == ""
    segments = [
        {"type": "sequence", "asns": [65002, 65010]},
        {"type": "set", "asns": [1, 2]},
        {"type": "confed-sequence", "asns": [3, 4]},
        {"type": "confed-set", "asns": [5]},
    ]
    assert format_as_path(segments) == "65002 65010 {1,2} (3 4) [5]"
    route = api_route(
        "198.18.0.0/24",
        med=10,
        local_pref=200,
        communities=["65001:100", "no-export"],
        large_communities=["65001:1:2"],
        other_attributes=["AtomicAggregateAttribute"],
    )
    assert format_attrs(route) == (
        "[{Origin: i} {Med: 10} {LocalPref: 200} {Communities: 65001:100, no-export} "
        "{LargeCommunity: [ 65001:1:2]} {AtomicAggregate}]"
    )


def test_rib_show_prints_like_gobgp(api: FakeApi) -> None:
    api.on(
        "GET",
        "/v1/routers/GoBGP-3/rib",
        rib_page(
            api_route("198.18.0.0/24", med=10, communities=["65001:100"]),
            api_route("198.18.0.0/24", best=False, next_hop="198.18.100.6", age=93784),
        ),
    )
    result = run(api, "rib", "show", "GoBGP-3")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "   Network              Next Hop             AS_PATH              Age        Attrs",
        "*> 198.18.0.0/24        198.18.100.2         65002                00:01:23   "
        "[{Origin: i} {Med: 10} {Communities: 65001:100}]",
        "*  198.18.0.0/24        198.18.100.6         65002                1d 02:03:04 "
        "[{Origin: i}]",
    ]


def test_rib_show_all_follows_the_cursor_and_passes_filters(api: FakeApi) -> None:
    def reply(request: httpx.Request) -> tuple[int, object]:
        if request.url.params.get("after") == "c1":
            return rib_page(api_route("198.18.1.0/24"))
        return rib_page(api_route("198.18.0.0/24"), next_="c1")

    api.on_call("GET", "/v1/routers/R/rib", reply)
    result = run(api, "rib", "show", "R", "--all", "--best", "--prefix", "198.18.0.0/16",
                 "--longer", "-o", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [r["prefix"] for r in json.loads(result.stdout)] == ["198.18.0.0/24", "198.18.1.0/24"]
    params = api.requests[0].url.params
    assert (params["best"], params["prefix"], params["longer"]) == ("true", "198.18.0.0/16", "true")
    assert str(api.requests[0].url).startswith(URL)


def test_rib_show_one_page_hints_at_more(api: FakeApi) -> None:
    api.on("GET", "/v1/routers/R/rib", rib_page(api_route("198.18.0.0/24"), next_="c1"))
    result = run(api, "rib", "show", "R")
    assert result.exit_code == 0
    assert len(api.requests) == 1
    assert "--after c1" in result.stderr


def test_rib_in_resolves_the_neighbor_and_has_no_best_marker(api: FakeApi) -> None:
    n = neighbor(address="198.18.100.2")
    api.on("GET", "/v1/neighbors", (200, {"items": [n], "total": 1, "limit": 2, "offset": 0}))
    api.on("GET", f"/v1/neighbors/{n['id']}/rib-in", rib_page(api_route("198.18.0.0/24")))
    result = run(api, "rib", "in", "GoBGP-1/198.18.100.2")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("   198.18.0.0/24")


def test_rib_out_has_no_age_column(api: FakeApi) -> None:
    n = neighbor()
    api.on("GET", f"/v1/neighbors/{n['id']}/rib-out", rib_page(api_route("198.18.0.0/24")))
    result = run(api, "rib", "out", str(n["id"]), "-o", "table")
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()
    assert "Age" not in header and "00:01:23" not in row


def test_rib_error_is_one_line(api: FakeApi) -> None:
    error = {"status": 502, "code": "speaker_unreachable", "message": "gobgpd at x unreachable"}
    api.on("GET", "/v1/routers/R/rib", (502, {"error": error}))
    result = run(api, "rib", "show", "R")
    assert result.exit_code == 1
    assert "error: gobgpd at x unreachable" in result.stderr
