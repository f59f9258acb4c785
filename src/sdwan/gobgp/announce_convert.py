"""Announcements (prefixes a router originates) as gobgpd paths, and the comparison
of what gobgpd holds (a decoded Route) with what is declared."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from google.protobuf.any_pb2 import Any as AnyPb
from google.protobuf.message import Message

from sdwan.gobgp._pb import attribute_pb2 as attr
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.convert import family_to_proto
from sdwan.gobgp.paths import WELL_KNOWN_COMMUNITIES, Route
from sdwan.gobgp.policy_convert import WELL_KNOWN

_ORIGINS = {"igp": 0, "egp": 1, "incomplete": 2}
_AS_SEQUENCE = attr.AsSegment.AS_SEQUENCE


@dataclass(frozen=True)
class Announcement:
    prefix: str
    next_hop: str | None  # None: the router itself
    origin: str = "igp"
    med: int | None = None
    local_pref: int | None = None
    communities: tuple[str, ...] = ()
    large_communities: tuple[str, ...] = ()
    as_path: tuple[int, ...] = ()  # the router's own AS, prepended n times

    @property
    def family(self) -> str:
        return "ipv6-unicast" if ":" in self.prefix else "ipv4-unicast"

    @property
    def wire_next_hop(self) -> str:
        """gobgpd's spelling of "self": the unspecified address, rewritten per peer."""
        return self.next_hop or ("::" if self.family == "ipv6-unicast" else "0.0.0.0")


def _pack(message: Message) -> AnyPb:
    packed = AnyPb()
    packed.Pack(message)
    return packed


_NAMED = {name: value for value, name in WELL_KNOWN_COMMUNITIES.items()}


def _community_value(text: str) -> int:
    if text in _NAMED:
        return _NAMED[text]
    high, low = WELL_KNOWN.get(text, text).split(":")
    return (int(high) << 16) | int(low)


def announcement_to_path(item: Announcement) -> pb.Path:
    network = ipaddress.ip_network(item.prefix)
    nlri = attr.IPAddressPrefix(prefix_len=network.prefixlen, prefix=str(network.network_address))
    family = family_to_proto(item.family)
    attrs = [_pack(attr.OriginAttribute(origin=_ORIGINS[item.origin]))]
    if item.family == "ipv4-unicast":
        attrs.append(_pack(attr.NextHopAttribute(next_hop=item.wire_next_hop)))
    else:
        attrs.append(
            _pack(
                attr.MpReachNLRIAttribute(
                    family=family, next_hops=[item.wire_next_hop], nlris=[_pack(nlri)]
                )
            )
        )
    if item.as_path:
        attrs.append(
            _pack(
                attr.AsPathAttribute(
                    segments=[attr.AsSegment(type=_AS_SEQUENCE, numbers=list(item.as_path))]
                )
            )
        )
    if item.med is not None:
        attrs.append(_pack(attr.MultiExitDiscAttribute(med=item.med)))
    if item.local_pref is not None:
        attrs.append(_pack(attr.LocalPrefAttribute(local_pref=item.local_pref)))
    if item.communities:
        attrs.append(
            _pack(
                attr.CommunitiesAttribute(
                    communities=[_community_value(c) for c in item.communities]
                )
            )
        )
    if item.large_communities:
        attrs.append(
            _pack(
                attr.LargeCommunitiesAttribute(
                    communities=[
                        attr.LargeCommunity(
                            global_admin=int(a), local_data1=int(b), local_data2=int(c)
                        )
                        for a, b, c in (x.split(":") for x in item.large_communities)
                    ]
                )
            )
        )
    return pb.Path(nlri=_pack(nlri), pattrs=attrs, family=family)


def matches(route: Route, item: Announcement) -> bool:
    """Whether gobgpd's local path carries exactly the declared attributes."""
    as_path = tuple(asn for segment in route.as_path for asn in segment.asns)
    return (
        route.next_hop == item.wire_next_hop
        and (route.origin or "igp") == item.origin
        and route.med == item.med
        and route.local_pref == item.local_pref
        and sorted(_community_value(c) for c in route.communities)
        == sorted(_community_value(c) for c in item.communities)
        and sorted(route.large_communities) == sorted(item.large_communities)
        and as_path == item.as_path
    )
