"""Just enough netlink for the lab's link impairments: attributes and messages of the
nfnetlink family (nf_tables batches, nfnetlink_queue), and sockets opened inside a
network namespace without starting a process (the basics shared with the FIB agent
are :mod:`sdwan.netlinkcore`'s).

pyroute2 (the FIB agent's library) knows nf_tables messages but not nfnetlink_queue,
and its socket objects carry more machinery than a relay that answers thousands of
packets a second wants; the dozen message shapes the lab needs are written here.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Iterable

from sdwan.netlinkcore import (
    HEADER,
    NETNS_DIR,
    NLA_TYPE_MASK,
    NLM_F_ACK,
    NLM_F_DUMP,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    Message,
    NetlinkError,
    attr,
    error_code,
    in_namespace,
    iter_attrs,
    iter_messages,
)

__all__ = [
    "NLA_TYPE_MASK",
    "NLM_F_REQUEST",
    "Message",
    "NamespaceSockets",
    "NetfilterSocket",
    "NetlinkError",
    "attr",
    "be32",
    "error_code",
    "in_namespace",
    "iter_attrs",
    "iter_messages",
    "nested",
    "strz",
]

NETLINK_NETFILTER = 12
NLM_F_CREATE = 0x400
NLM_F_APPEND = 0x800
NLA_F_NESTED = 0x8000
NFNL_MSG_BATCH_BEGIN = 0x10
NFNL_MSG_BATCH_END = 0x11
NFNL_SUBSYS_NFTABLES = 10

_NFGEN = struct.Struct(">BBH")  # nfgenmsg: family, version, resource id (big endian)


def nested(kind: int, *attrs: bytes) -> bytes:
    return attr(kind | NLA_F_NESTED, b"".join(attrs))


def be32(kind: int, value: int) -> bytes:
    """A 32-bit attribute in network byte order (signed values wrap, as the kernel reads them)."""
    return attr(kind, struct.pack(">I", value & 0xFFFFFFFF))


def strz(kind: int, text: str) -> bytes:
    return attr(kind, text.encode() + b"\0")


def message(kind: int, flags: int, seq: int, family: int, res_id: int, attrs: bytes) -> bytes:
    """An nfnetlink message: header, nfgenmsg, attributes."""
    body = _NFGEN.pack(family, 0, res_id) + attrs
    return HEADER.pack(HEADER.size + len(body), kind, flags, seq, 0) + body


class NetfilterSocket:
    """A NETLINK_NETFILTER socket, optionally opened inside a network namespace."""

    def __init__(self, namespace: str | None = None, *, rcvbuf: int = 0) -> None:
        def open_socket() -> socket.socket:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
            if rcvbuf:
                sock.setsockopt(socket.SOL_SOCKET, 33, rcvbuf)  # SO_RCVBUFFORCE (root)
            sock.bind((0, 0))
            return sock

        self.sock = in_namespace(namespace, open_socket)
        self._seq = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> NetfilterSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFFFFFF
        return self._seq

    def request(self, kind: int, family: int, res_id: int, attrs: bytes) -> None:
        """Send one message and wait for its acknowledgement."""
        seq = self.next_seq()
        flags = NLM_F_REQUEST | NLM_F_ACK
        self.sock.send(message(kind, flags, seq, family, res_id, attrs))
        self._wait_acks({seq: f"message type {kind:#x}"})

    def dump(self, kind: int, family: int) -> list[Message]:
        """Every object of an nf_tables ``kind`` (a GET message type), as the kernel
        lists them."""
        seq = self.next_seq()
        flags = NLM_F_REQUEST | NLM_F_DUMP
        self.sock.send(message((NFNL_SUBSYS_NFTABLES << 8) | kind, flags, seq, family, 0, b""))
        found: list[Message] = []
        self.sock.settimeout(5.0)
        try:
            while True:
                for msg in iter_messages(self.sock.recv(1 << 16)):
                    if msg.seq != seq:
                        continue
                    if msg.kind == NLMSG_DONE:
                        return found
                    if msg.kind == NLMSG_ERROR and error_code(msg):
                        code = error_code(msg)
                        raise NetlinkError(code, f"dump of type {kind}: {os.strerror(code)}")
                    found.append(msg)
        except TimeoutError:
            raise NetlinkError(errno.ETIMEDOUT, f"dump of type {kind}: no answer") from None
        finally:
            self.sock.settimeout(None)

    def transact(self, family: int, messages: Iterable[tuple[int, int, bytes, str]]) -> None:
        """Send nf_tables ``(type, flags, attributes, what)`` messages as one batch
        (one transaction: all of them take effect at once, or none) and wait for the
        kernel's acknowledgement of each; raises :class:`NetlinkError` naming the first
        message refused."""
        seq = self.next_seq()
        parts = [message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq, 0, NFNL_SUBSYS_NFTABLES, b"")]
        waiting: dict[int, str] = {}
        for kind, flags, attrs, what in messages:
            seq = self.next_seq()
            waiting[seq] = what
            flags |= NLM_F_REQUEST | NLM_F_ACK
            parts.append(message((NFNL_SUBSYS_NFTABLES << 8) | kind, flags, seq, family, 0, attrs))
        parts.append(
            message(
                NFNL_MSG_BATCH_END, NLM_F_REQUEST, self.next_seq(), 0, NFNL_SUBSYS_NFTABLES, b""
            )
        )
        self.sock.send(b"".join(parts))
        self._wait_acks(waiting)

    def _wait_acks(self, waiting: dict[int, str], timeout: float = 5.0) -> None:
        self.sock.settimeout(timeout)
        try:
            while waiting:
                data = self.sock.recv(65536)
                for msg in iter_messages(data):
                    if msg.kind != NLMSG_ERROR or msg.seq not in waiting:
                        continue
                    what = waiting.pop(msg.seq)
                    code = error_code(msg)
                    if code:
                        raise NetlinkError(code, f"{what}: {os.strerror(code)}")
        except TimeoutError:
            raise NetlinkError(
                errno.ETIMEDOUT, f"no answer from the kernel for {waiting}"
            ) from None
        finally:
            self.sock.settimeout(None)


class NamespaceSockets:
    """A :class:`NetfilterSocket` per namespace, kept open: closing one right after a
    change of rules waits for the kernel to free the old ones (tens of ms). A name
    that now stands for another namespace (the lab was rebuilt) gets a new socket."""

    def __init__(self) -> None:
        self._open: dict[str, tuple[tuple[int, int], NetfilterSocket]] = {}

    def get(self, namespace: str) -> NetfilterSocket:
        """Raises FileNotFoundError when there is no such namespace."""
        info = os.stat(os.path.join(NETNS_DIR, namespace))
        identity = (info.st_dev, info.st_ino)
        known = self._open.get(namespace)
        if known is not None and known[0] == identity:
            return known[1]
        if known is not None:
            known[1].close()
        sock = NetfilterSocket(namespace)
        self._open[namespace] = (identity, sock)
        return sock

    def forget(self, namespace: str) -> None:
        known = self._open.pop(namespace, None)
        if known is not None:
            known[1].close()

    def close(self) -> None:
        for namespace in list(self._open):
            self.forget(namespace)
