"""gobgpd's RIBs: ListPath requests and protobuf paths decoded into :class:`Route`.

gobgpd (3.10) sends path attributes as ``google.protobuf.Any`` holding the
``attribute_pb2`` messages (``apipb.OriginAttribute``, ...). Attributes this module
does not decode are kept by type name in ``Route.other_attributes``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from google.protobuf.any_pb2 import Any as AnyPb
from google.protobuf.message import Message

from sdwan.gobgp._pb import attribute_pb2 as attr
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.convert import family_to_proto

FAMILY_NAMES = {
    (pb.Family.AFI_IP, pb.Family.SAFI_UNICAST): "ipv4-unicast",
    (pb.Family.AFI_IP6, pb.Family.SAFI_UNICAST): "ipv6-unicast",
}
ORIGINS = {0: "igp", 1: "egp", 2: "incomplete"}
SEGMENT_TYPES = {
    attr.AsSegment.AS_SET: "set",
    attr.AsSegment.AS_SEQUENCE: "sequence",
    attr.AsSegment.AS_CONFED_SEQUENCE: "confed-sequence",
    attr.AsSegment.AS_CONFED_SET: "confed-set",
}
# RFC 1997 and later well-known communities, named as gobgpd names them
WELL_KNOWN_COMMUNITIES = {
    0x00000000: "internet",
    0xFFFF0000: "planned-shut",
    0xFFFF0001: "accept-own",
    0xFFFF0002: "route-filter-translated-v4",
    0xFFFF0003: "route-filter-v4",
    0xFFFF0004: "route-filter-translated-v6",
    0xFFFF0005: "route-filter-v6",
    0xFFFF0006: "llgr-stale",
    0xFFFF0007: "no-llgr",
    0xFFFF029A: "blackhole",
    0xFFFFFF01: "no-export",
    0xFFFFFF02: "no-advertise",
    0xFFFFFF03: "no-export-subconfed",
    0xFFFFFF04: "no-peer",
}
M = TypeVar("M", bound=Message)
_NIL = "<nil>"  # gobgpd's neighbor_ip / source_id of locally originated paths


class Table(StrEnum):
    GLOBAL = "global"
    ADJ_IN = "adj-in"
    ADJ_OUT = "adj-out"


_TABLE_TYPES = {Table.GLOBAL: pb.GLOBAL, Table.ADJ_IN: pb.ADJ_IN, Table.ADJ_OUT: pb.ADJ_OUT}


@dataclass(frozen=True)
class AsSegment:
    type: str  # "sequence", "set", "confed-sequence", "confed-set"
    asns: tuple[int, ...]


@dataclass(frozen=True)
class Route:
    """One path to one prefix, as a RIB view shows it."""

    prefix: str
    family: str
    next_hop: str | None = None
    as_path: tuple[AsSegment, ...] = ()
    origin: str | None = None  # "igp", "egp", "incomplete"
    med: int | None = None
    local_pref: int | None = None
    communities: tuple[str, ...] = ()  # "65001:100" or a well-known name
    large_communities: tuple[str, ...] = ()  # "65001:1:2"
    received_at: datetime | None = None
    age: int | None = None  # seconds since received_at
    best: bool = False
    neighbor: str | None = None  # None: originated by this gobgpd
    filtered: bool = False
    stale: bool = False
    other_attributes: tuple[str, ...] = field(default=())  # attribute types not decoded
    source_asn: int | None = None  # the sending peer's AS (iBGP when it is ours)


class PathSource(Protocol):
    """What a RIB view needs from a gobgpd (GobgpClient provides it)."""

    def list_path(
        self, request: pb.ListPathRequest, *, timeout: float
    ) -> Iterator[pb.Destination]: ...
    def close(self) -> None: ...


def list_path_request(
    table: Table,
    family: str,
    *,
    name: str = "",
    prefix: str | None = None,
    longer: bool = False,
) -> pb.ListPathRequest:
    """``name`` is the neighbor address for the adj-RIBs. ``prefix``: that prefix only
    (an address: the longest match), or with ``longer`` every prefix inside it."""
    lookup = pb.TableLookupPrefix.LONGER if longer else pb.TableLookupPrefix.EXACT
    prefixes = [pb.TableLookupPrefix(prefix=prefix, type=lookup)] if prefix else []
    return pb.ListPathRequest(
        table_type=_TABLE_TYPES[table],
        name=name,
        family=family_to_proto(family),
        prefixes=prefixes,
    )


def family_name(family: pb.Family) -> str:
    return FAMILY_NAMES.get((family.afi, family.safi), f"afi{family.afi}-safi{family.safi}")


def community_text(value: int) -> str:
    return WELL_KNOWN_COMMUNITIES.get(value) or f"{value >> 16}:{value & 0xFFFF}"


def prefix_key(prefix: str) -> tuple[int, int]:
    """Sort key of a prefix: network address, then length (as ``gobgp`` sorts)."""
    network = ipaddress.ip_network(prefix, strict=False)
    return int(network.network_address), network.prefixlen


def _nlri_prefix(nlri: AnyPb) -> str | None:
    message = attr.IPAddressPrefix()
    if nlri.Unpack(message):  # False, and message untouched, when nlri holds another type
        return f"{message.prefix}/{message.prefix_len}"
    return None


def _unpack(value: AnyPb, kind: type[M]) -> M:
    message = kind()
    value.Unpack(message)
    return message


def decode_path(path: pb.Path, *, prefix: str = "", now: datetime | None = None) -> Route:
    """A protobuf Path as a Route; ``prefix`` is the destination's (used when the
    NLRI is not an IP prefix), ``now`` the reference for the age."""
    values: dict[str, object] = {}
    other: list[str] = []
    for value in path.pattrs:
        name = value.TypeName().rsplit(".", 1)[-1]
        decoder = _DECODERS.get(name)
        if decoder is None:
            other.append(name)
        else:
            values.update(decoder(value))
    received_at = age = None
    if path.HasField("age") and path.age.seconds > 0:
        received_at = path.age.ToDatetime(tzinfo=UTC)
        now = now or datetime.now(UTC)
        age = max(0, int((now - received_at).total_seconds()))
    neighbor = path.neighbor_ip if path.neighbor_ip not in ("", _NIL) else None
    return Route(
        prefix=_nlri_prefix(path.nlri) or prefix,
        family=family_name(path.family),
        received_at=received_at,
        age=age,
        best=path.best,
        neighbor=neighbor,
        filtered=path.filtered,
        stale=path.stale,
        other_attributes=tuple(other),
        source_asn=path.source_asn or None,
        **values,  # type: ignore[arg-type]
    )


def decode_destination(
    destination: pb.Destination, *, best_only: bool = False, now: datetime | None = None
) -> list[Route]:
    return [
        decode_path(path, prefix=destination.prefix, now=now)
        for path in destination.paths
        if path.best or not best_only
    ]


# -- one decoder per attribute type: Any -> Route fields ----------------------------


def _origin(value: AnyPb) -> dict[str, object]:
    origin = _unpack(value, attr.OriginAttribute).origin
    return {"origin": ORIGINS.get(origin, str(origin))}


def _as_path(value: AnyPb) -> dict[str, object]:
    segments = _unpack(value, attr.AsPathAttribute).segments
    return {
        "as_path": tuple(
            AsSegment(SEGMENT_TYPES.get(s.type, str(s.type)), tuple(s.numbers)) for s in segments
        )
    }


def _next_hop(value: AnyPb) -> dict[str, object]:
    return {"next_hop": _unpack(value, attr.NextHopAttribute).next_hop}


def _mp_reach(value: AnyPb) -> dict[str, object]:
    # IPv6: next_hops is [global] or [global, link-local]; gobgp shows the first
    hops = _unpack(value, attr.MpReachNLRIAttribute).next_hops
    return {"next_hop": hops[0]} if hops else {}


def _med(value: AnyPb) -> dict[str, object]:
    return {"med": _unpack(value, attr.MultiExitDiscAttribute).med}


def _local_pref(value: AnyPb) -> dict[str, object]:
    return {"local_pref": _unpack(value, attr.LocalPrefAttribute).local_pref}


def _communities(value: AnyPb) -> dict[str, object]:
    found = _unpack(value, attr.CommunitiesAttribute).communities
    return {"communities": tuple(community_text(c) for c in found)}


def _large_communities(value: AnyPb) -> dict[str, object]:
    found = _unpack(value, attr.LargeCommunitiesAttribute).communities
    return {
        "large_communities": tuple(
            f"{c.global_admin}:{c.local_data1}:{c.local_data2}" for c in found
        )
    }


_DECODERS = {
    "OriginAttribute": _origin,
    "AsPathAttribute": _as_path,
    "NextHopAttribute": _next_hop,
    "MpReachNLRIAttribute": _mp_reach,
    "MultiExitDiscAttribute": _med,
    "LocalPrefAttribute": _local_pref,
    "CommunitiesAttribute": _communities,
    "LargeCommunitiesAttribute": _large_communities,
}
