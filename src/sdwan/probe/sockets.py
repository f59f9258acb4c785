"""The agent's sockets: probes (UDP or ICMP echo, marked for their uplink's routing
table, connected to the target) and the reflector's; kernel receive timestamps
(SO_TIMESTAMPNS), so a packet's arrival time does not depend on when the agent reads
it. Linux only (the constants below are Linux's where Python has no name for them)."""

from __future__ import annotations

import socket
import struct
import time

__all__ = [
    "ANCILLARY_SPACE",
    "kernel_time",
    "open_icmp",
    "open_reflector",
    "open_udp",
    "reflector_ancillary",
]

SO_MARK = getattr(socket, "SO_MARK", 36)
SO_TIMESTAMPNS = 35  # SCM_TIMESTAMPNS
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
REFLECTOR_BUFFER = 4 << 20
IP_PKTINFO = 8
IP_RECVTTL = 12
SOL_RAW = 255
ICMP_FILTER = 1
ICMP6_FILTER = 1
ANCILLARY_SPACE = socket.CMSG_SPACE(16) + socket.CMSG_SPACE(20) + socket.CMSG_SPACE(4) + 64
_TIMESPEC = struct.Struct("=qq")
_INT = struct.Struct("=i")


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _common(sock: socket.socket, mark: int) -> socket.socket:
    sock.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.setblocking(False)
    return sock


def open_udp(target: str, port: int, mark: int) -> socket.socket:
    """A UDP socket connected to the reflector: only its answers reach it."""
    sock = _common(socket.socket(_family(target), socket.SOCK_DGRAM), mark)
    sock.connect((target, port))
    return sock


def open_icmp(target: str, mark: int) -> socket.socket:
    """A raw ICMP socket connected to ``target`` that lets only echo replies in."""
    if ":" in target:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        words = [0xFFFF_FFFF] * 8  # a set bit blocks that type
        words[129 >> 5] &= ~(1 << (129 & 31))
        sock.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, struct.pack("=8I", *words))
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        sock.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("=I", 0xFFFF_FFFE))  # type 0 passes
    _common(sock, mark)
    sock.connect((target, 0))
    return sock


def _big_buffers(sock: socket.socket) -> None:
    """Room for a burst from many senders while the agent waits for a CPU, and for the
    answers a slow link holds back (beyond net.core.rmem_max/wmem_max when the agent
    may: as root)."""
    for forced, plain in ((SO_RCVBUFFORCE, socket.SO_RCVBUF), (SO_SNDBUFFORCE, socket.SO_SNDBUF)):
        try:
            sock.setsockopt(socket.SOL_SOCKET, forced, REFLECTOR_BUFFER)
        except PermissionError:
            sock.setsockopt(socket.SOL_SOCKET, plain, REFLECTOR_BUFFER)


def open_reflector(port: int) -> list[socket.socket]:
    """Reflector sockets on every address: IPv4 and (if the host has it) IPv6, with the
    arrival time, the destination address (answers leave from it) and the TTL."""
    v4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    _big_buffers(v4)
    v4.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    v4.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    v4.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    v4.bind(("0.0.0.0", port))
    v4.setblocking(False)
    sockets = [v4]
    try:
        v6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    except OSError:
        return sockets
    try:
        v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        _big_buffers(v6)
        v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
        v6.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        v6.bind(("::", port))
        v6.setblocking(False)
    except OSError:
        v6.close()
        return sockets
    sockets.append(v6)
    return sockets


def kernel_time(ancillary: list[tuple[int, int, bytes]]) -> float:
    """The kernel's receive time of a packet (epoch seconds), else now."""
    if len(ancillary) == 1 and ancillary[0][1] == SO_TIMESTAMPNS:  # the usual case
        seconds, nanoseconds = _TIMESPEC.unpack_from(ancillary[0][2])
        return float(seconds + nanoseconds * 1e-9)
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = _TIMESPEC.unpack_from(data)
            return float(seconds + nanoseconds * 1e-9)
    return time.time()


def reflector_ancillary(
    ancillary: list[tuple[int, int, bytes]], fallback: float
) -> tuple[float, int, list[tuple[int, int, bytes]]]:
    """(arrival time, TTL or hop limit, the ancillary data that makes the answer leave
    from the address the probe was sent to)."""
    received, ttl = fallback, 255
    source: list[tuple[int, int, bytes]] = []
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = _TIMESPEC.unpack_from(data)
            received = seconds + nanoseconds * 1e-9
        elif level == socket.IPPROTO_IP and kind == IP_PKTINFO:
            # struct in_pktinfo {int ifindex; in_addr spec_dst; in_addr addr}
            source = [(socket.IPPROTO_IP, IP_PKTINFO, bytes(4) + data[8:12] + bytes(4))]
        elif level == socket.IPPROTO_IP and kind == socket.IP_TTL:
            ttl = _INT.unpack_from(data)[0]
        elif level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
            # struct in6_pktinfo {in6_addr addr; int ifindex}
            source = [(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, data[:16] + bytes(4))]
        elif level == socket.IPPROTO_IPV6 and kind == socket.IPV6_HOPLIMIT:
            ttl = _INT.unpack_from(data)[0]
    return received, ttl, source
