"""Just enough rtnetlink for the FIB agent: nexthop objects, routes that use them, and
batches of requests through one socket.

pyroute2 (0.9) knows neither nexthop objects (RTM_*NEXTHOP, ``ip nexthop``) nor a
route's RTA_NH_ID, and encodes one request per call; the agent needs both, and
thousands of route messages at a time at start. So this module packs the few
messages it needs with ``struct`` (linux/rtnetlink.h, linux/nexthop.h) and sends
them in batches: many messages per ``send``, every one acknowledged, the errors
returned per message. It reads back only what the agent looks at: the main-table
routes (destination, protocol, nexthop id, gateways) and the nexthop objects.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sdwan.netlinkcore import (
    HEADER,
    NLM_F_ACK,
    NLM_F_DUMP,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    NetlinkError,
    align,
    attr,
    in_namespace,
    iter_attrs,
    iter_messages,
)

__all__ = [
    "KernelNexthop",
    "KernelRoute",
    "Netlink",
    "NetlinkError",
    "Request",
    "del_nexthop",
    "del_route",
    "new_group",
    "new_nexthop",
    "new_route",
    "route_gateways",
]

RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
RTM_NEWNEXTHOP, RTM_DELNEXTHOP, RTM_GETNEXTHOP = 104, 105, 106
NLM_F_REPLACE, NLM_F_CREATE = 0x100, 0x400
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_MULTIPATH, RTA_TABLE, RTA_NH_ID = 1, 4, 5, 9, 15, 30
NHA_ID, NHA_GROUP, NHA_OIF, NHA_GATEWAY = 1, 2, 5, 6
RT_TABLE_MAIN, RTN_UNICAST, RT_SCOPE_UNIVERSE = 254, 1, 0
SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NETLINK_CAP_ACK, NETLINK_EXT_ACK = 270, 1, 10, 11
RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_NEXTHOP = 7, 11, 32
NLMSGERR_ATTR_MSG = 1

_RTMSG = struct.Struct("=BBBBBBBBI")  # family dst_len src_len tos table proto scope type flags
_NHMSG = struct.Struct("=BBBBI")  # family scope protocol resvd flags
_U32 = struct.Struct("=I")
_GROUP_ENTRY = struct.Struct("=IBBH")  # nexthop_grp: id, weight - 1, weight_high, resvd
_RTNEXTHOP = struct.Struct("=HBBi")  # rtnexthop: len, flags, hops, ifindex
_BATCH = 512  # messages per send: their acknowledgements fit the receive buffer


@dataclass(frozen=True)
class Request:
    """One netlink message to send: type, flags (ACK added) and payload."""

    kind: int
    flags: int
    payload: bytes


@dataclass(frozen=True)
class KernelRoute:
    prefix: str  # "198.51.100.0/24"
    protocol: int
    nexthop_id: int  # 0: the route has its own gateways
    gateways: tuple[str, ...]


@dataclass(frozen=True)
class KernelNexthop:
    id: int
    protocol: int
    gateway: str | None = None  # a single nexthop
    oif: int = 0
    members: tuple[int, ...] = ()  # a group: its members' ids

    @property
    def group(self) -> bool:
        return not self.gateway


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _pack_address(address: str) -> bytes:
    return ipaddress.ip_address(address).packed


def new_nexthop(nexthop_id: int, gateway: str, oif: int, protocol: int) -> Request:
    """``ip nexthop replace id ID via GATEWAY dev OIF proto PROTOCOL``."""
    payload = _NHMSG.pack(_family(gateway), RT_SCOPE_UNIVERSE, protocol, 0, 0)
    payload += attr(NHA_ID, _U32.pack(nexthop_id))
    payload += attr(NHA_GATEWAY, _pack_address(gateway)) + attr(NHA_OIF, _U32.pack(oif))
    return Request(RTM_NEWNEXTHOP, NLM_F_CREATE | NLM_F_REPLACE, payload)


def new_group(group_id: int, members: Sequence[int], protocol: int) -> Request:
    """``ip nexthop replace id ID group A/B/... proto PROTOCOL`` (equal weights)."""
    payload = _NHMSG.pack(socket.AF_UNSPEC, 0, protocol, 0, 0)
    payload += attr(NHA_ID, _U32.pack(group_id))
    payload += attr(NHA_GROUP, b"".join(_GROUP_ENTRY.pack(m, 0, 0, 0) for m in members))
    return Request(RTM_NEWNEXTHOP, NLM_F_CREATE | NLM_F_REPLACE, payload)


def del_nexthop(nexthop_id: int) -> Request:
    payload = _NHMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + attr(NHA_ID, _U32.pack(nexthop_id))
    return Request(RTM_DELNEXTHOP, 0, payload)


def _route_header(prefix: str, protocol: int) -> bytes:
    network = ipaddress.ip_network(prefix)
    family = socket.AF_INET6 if network.version == 6 else socket.AF_INET
    header = _RTMSG.pack(
        family, network.prefixlen, 0, 0, RT_TABLE_MAIN, protocol, RT_SCOPE_UNIVERSE, RTN_UNICAST, 0
    )
    return header + attr(RTA_DST, network.network_address.packed)


def new_route(prefix: str, nexthop_id: int, protocol: int) -> Request:
    """``ip route replace PREFIX nhid ID proto PROTOCOL`` in the main table."""
    payload = _route_header(prefix, protocol) + attr(RTA_NH_ID, _U32.pack(nexthop_id))
    return Request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, payload)


def del_route(prefix: str, protocol: int) -> Request:
    return Request(RTM_DELROUTE, 0, _route_header(prefix, protocol))


def _decode_route(data: bytes) -> tuple[int, KernelRoute] | None:
    family, dst_len, _src, _tos, table, protocol, _scope, route_type, _flags = _RTMSG.unpack_from(
        data
    )
    if route_type != RTN_UNICAST or family not in (socket.AF_INET, socket.AF_INET6):
        return None
    dst = b""
    nexthop_id = 0
    gateways: list[str] = []
    for kind, value in iter_attrs(data, _RTMSG.size):
        if kind == RTA_DST:
            dst = value
        elif kind == RTA_TABLE:
            table = _U32.unpack_from(value)[0]
        elif kind == RTA_NH_ID:
            nexthop_id = _U32.unpack_from(value)[0]
        elif kind == RTA_GATEWAY:
            gateways.append(str(ipaddress.ip_address(value)))
        elif kind == RTA_MULTIPATH:
            gateways += _multipath_gateways(value)
    if not dst:
        return None  # a default route: never the agent's
    prefix = f"{ipaddress.ip_address(dst)}/{dst_len}"
    return table, KernelRoute(prefix, protocol, nexthop_id, tuple(sorted(gateways)))


def _multipath_gateways(data: bytes) -> list[str]:
    result = []
    offset = 0
    while offset + _RTNEXTHOP.size <= len(data):
        length = _RTNEXTHOP.unpack_from(data, offset)[0]
        if length < _RTNEXTHOP.size:
            break
        end = offset + length
        for kind, value in iter_attrs(data[:end], offset + _RTNEXTHOP.size):
            if kind == RTA_GATEWAY:
                result.append(str(ipaddress.ip_address(value)))
        offset += align(length)
    return result


def _decode_nexthop(data: bytes) -> KernelNexthop | None:
    protocol = _NHMSG.unpack_from(data)[2]
    nexthop_id, oif = 0, 0
    gateway: str | None = None
    members: list[int] = []
    for kind, value in iter_attrs(data, _NHMSG.size):
        if kind == NHA_ID:
            nexthop_id = _U32.unpack_from(value)[0]
        elif kind == NHA_OIF:
            oif = _U32.unpack_from(value)[0]
        elif kind == NHA_GATEWAY:
            gateway = str(ipaddress.ip_address(value))
        elif kind == NHA_GROUP:
            members = [
                _GROUP_ENTRY.unpack_from(value, i)[0]
                for i in range(0, len(value), _GROUP_ENTRY.size)
            ]
    if not nexthop_id:
        return None
    return KernelNexthop(nexthop_id, protocol, gateway, oif, tuple(members))


class Netlink:
    """One NETLINK_ROUTE socket (in network namespace ``netns`` if given, else the
    caller's). Not thread-safe: its owner serialises calls."""

    def __init__(self, netns: str | None = None) -> None:
        self._sock = _open_in(netns) if netns else _open()
        self._seq = 0
        self._buffer = bytearray(1 << 20)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Netlink:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFFFFFF or 1
        return self._seq

    def _pack(self, request: Request, flags: int) -> tuple[int, bytes]:
        seq = self._next_seq()
        length = HEADER.size + len(request.payload)
        header = HEADER.pack(length, request.kind, NLM_F_REQUEST | flags, seq, 0)
        return seq, header + request.payload

    def execute(self, requests: Sequence[Request]) -> list[NetlinkError | None]:
        """Send every request (batched, each acknowledged); the outcome of each, in
        order: None when done, else the kernel's error."""
        results: list[NetlinkError | None] = []
        for start in range(0, len(requests), _BATCH):
            chunk = requests[start : start + _BATCH]
            seqs: dict[int, int] = {}
            data = bytearray()
            for index, request in enumerate(chunk):
                seq, message = self._pack(request, request.flags | NLM_F_ACK)
                seqs[seq] = index
                data += message
            outcome: list[NetlinkError | None] = [None] * len(chunk)
            self._sock.sendall(bytes(data))
            pending = set(seqs)
            while pending:
                for kind, seq, body in self._receive():
                    if kind == NLMSG_ERROR and seq in pending:
                        pending.discard(seq)
                        outcome[seqs[seq]] = _error(body)
            results += outcome
        return results

    def _receive(self) -> Iterator[tuple[int, int, bytes]]:
        size = self._sock.recv_into(self._buffer)
        for msg in iter_messages(memoryview(self._buffer)[:size]):
            yield msg.kind, msg.seq, msg.payload

    def _dump(self, request: Request) -> Iterator[tuple[int, bytes]]:
        seq, message = self._pack(request, NLM_F_DUMP)
        self._sock.sendall(message)
        while True:
            for kind, reply_seq, body in self._receive():
                if reply_seq != seq:
                    continue
                if kind == NLMSG_DONE:
                    return
                if kind == NLMSG_ERROR:
                    error = _error(body)
                    if error is not None:
                        raise error
                    return
                yield kind, body

    def join(self, *groups: int) -> None:
        """Receive the kernel's notifications of ``groups`` (RTNLGRP_*) from now on."""
        for group in groups:
            self._sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)

    def notifications(self, timeout: float = 0.0) -> Counter[int]:
        """How many notifications of each message type arrived (waiting up to
        ``timeout`` seconds for the first): for a socket that only listens."""
        counts: Counter[int] = Counter()
        self._sock.settimeout(timeout)
        try:
            while True:
                for kind, _seq, _body in self._receive():
                    counts[kind] += 1
                self._sock.settimeout(0.0)
        except (BlockingIOError, TimeoutError):
            return counts
        finally:
            self._sock.settimeout(None)

    def changes(self, timeout: float = 0.0) -> list[tuple[int, KernelRoute | None]]:
        """The notifications that arrived (waiting up to ``timeout`` seconds for the
        first), in order: (message type, the main-table route it tells of, or None for
        another message or table), for a socket that only listens. An overrun of the
        socket's buffer raises OSError (ENOBUFS): what was lost is not known."""
        found: list[tuple[int, KernelRoute | None]] = []
        self._sock.settimeout(timeout)
        try:
            while True:
                for kind, _seq, body in self._receive():
                    decoded = _decode_route(body) if kind in (RTM_NEWROUTE, RTM_DELROUTE) else None
                    route = decoded[1] if decoded and decoded[0] == RT_TABLE_MAIN else None
                    found.append((kind, route))
                self._sock.settimeout(0.0)
        except (BlockingIOError, TimeoutError):
            return found
        finally:
            self._sock.settimeout(None)

    def routes(self, family: int = socket.AF_UNSPEC) -> list[KernelRoute]:
        """The unicast routes of the main table (every protocol)."""
        request = Request(RTM_GETROUTE, 0, _RTMSG.pack(family, 0, 0, 0, 0, 0, 0, 0, 0))
        result = []
        for kind, body in self._dump(request):
            decoded = _decode_route(body) if kind == RTM_NEWROUTE else None
            if decoded is not None and decoded[0] == RT_TABLE_MAIN:
                result.append(decoded[1])
        return result

    def nexthops(self) -> list[KernelNexthop]:
        """Every nexthop object of the namespace (single ones and groups)."""
        request = Request(RTM_GETNEXTHOP, 0, _NHMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0))
        result = []
        try:
            for kind, body in self._dump(request):
                decoded = _decode_nexthop(body) if kind == RTM_NEWNEXTHOP else None
                if decoded is not None:
                    result.append(decoded)
        except NetlinkError as exc:
            if exc.errno != errno.ENOENT:  # no nexthop object at all (older kernels)
                raise
        return result


def _error(body: bytes) -> NetlinkError | None:
    code = struct.unpack_from("=i", body)[0]
    if code == 0:
        return None
    message = ""
    # with NETLINK_CAP_ACK the original request is not echoed: only its header
    for kind, value in iter_attrs(body, 4 + HEADER.size):
        if kind == NLMSGERR_ATTR_MSG:
            message = value.rstrip(b"\0").decode(errors="replace")
    number = -code
    return NetlinkError(number, message or os.strerror(number))


def _open() -> socket.socket:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
    sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    sock.bind((0, 0))
    return sock


def _open_in(netns: str) -> socket.socket:
    """A socket of namespace ``netns`` (``ip netns`` name); the caller's own namespace
    never changes."""
    return in_namespace(netns, _open)


def route_gateways(
    routes: Sequence[KernelRoute], nexthops: Sequence[KernelNexthop], protocol: int | None = None
) -> dict[str, tuple[str, ...]]:
    """prefix -> the gateways its route forwards to, through its nexthop object or
    group when it has one (of routes with ``protocol`` only, if given)."""
    by_id = {n.id: n for n in nexthops}
    result = {}
    for route in routes:
        if protocol is not None and route.protocol != protocol:
            continue
        gateways = route.gateways
        if route.nexthop_id:
            found = by_id.get(route.nexthop_id)
            members = [by_id.get(m) for m in found.members] if found and found.group else [found]
            gateways = tuple(sorted(m.gateway for m in members if m is not None and m.gateway))
        result[route.prefix] = gateways
    return result
