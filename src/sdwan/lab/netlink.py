"""Just enough netlink for the lab's link impairments: attributes and messages of the
nfnetlink family (nf_tables batches, nfnetlink_queue), and sockets opened inside a
network namespace without starting a process.

pyroute2 (the FIB agent's library) knows nf_tables messages but not nfnetlink_queue,
and its socket objects carry more machinery than a relay that answers thousands of
packets a second wants; the dozen message shapes the lab needs are written here.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

__all__ = [
    "NamespaceSockets",
    "NetfilterSocket",
    "NetlinkError",
    "attr",
    "be32",
    "in_namespace",
    "iter_attrs",
    "iter_messages",
    "nested",
    "strz",
]

T = TypeVar("T")

NETLINK_NETFILTER = 12
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLM_F_CREATE = 0x400
NLM_F_APPEND = 0x800
NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF
NFNL_MSG_BATCH_BEGIN = 0x10
NFNL_MSG_BATCH_END = 0x11
NFNL_SUBSYS_NFTABLES = 10
CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"

_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, seq, port id
_NFGEN = struct.Struct(">BBH")  # nfgenmsg: family, version, resource id (big endian)
_ATTR = struct.Struct("=HH")


class NetlinkError(OSError):
    """The kernel refused a netlink message (errno and which message)."""


def _align(length: int) -> int:
    return (length + 3) & ~3


def attr(kind: int, payload: bytes) -> bytes:
    """One netlink attribute, padded to 4 bytes."""
    length = _ATTR.size + len(payload)
    return _ATTR.pack(length, kind) + payload + b"\0" * (_align(length) - length)


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
    return _HEADER.pack(_HEADER.size + len(body), kind, flags, seq, 0) + body


@dataclass(frozen=True)
class Message:
    kind: int
    flags: int
    seq: int
    payload: bytes  # after the netlink header


def iter_messages(data: bytes | memoryview) -> Iterator[Message]:
    """The netlink messages in one datagram."""
    view = memoryview(data)
    offset = 0
    while offset + _HEADER.size <= len(view):
        length, kind, flags, seq, _port = _HEADER.unpack_from(view, offset)
        if length < _HEADER.size or offset + length > len(view):
            break
        yield Message(kind, flags, seq, bytes(view[offset + _HEADER.size : offset + length]))
        offset += _align(length)


def iter_attrs(data: bytes, offset: int = 0) -> Iterator[tuple[int, bytes]]:
    """(type without flags, value) of the attributes in ``data`` from ``offset``."""
    while offset + _ATTR.size <= len(data):
        length, kind = _ATTR.unpack_from(data, offset)
        if length < _ATTR.size:
            break
        yield kind & NLA_TYPE_MASK, data[offset + _ATTR.size : offset + length]
        offset += _align(length)


def error_code(msg: Message) -> int:
    """The errno an NLMSG_ERROR carries (0 for an acknowledgement)."""
    code: int = struct.unpack_from("=i", msg.payload)[0]
    return -code


_libc = ctypes.CDLL(None, use_errno=True)


def in_namespace(namespace: str | None, work: Callable[[], T]) -> T:
    """Run ``work`` on a thread that has entered ``namespace`` (``ip netns`` name).

    A socket belongs to the network namespace it was created in, for its whole life:
    sockets made by ``work`` keep working in that namespace from any thread, so the
    caller needs no process inside it. The thread ends with ``work``; the rest of the
    process never changes namespace. ``None`` runs ``work`` here.
    """
    if namespace is None:
        return work()
    if "/" in namespace or namespace in ("", ".", ".."):
        raise ValueError(f"invalid namespace name {namespace!r}")
    outcome: list[T] = []
    failure: list[BaseException] = []

    def enter_and_work() -> None:
        try:
            fd = os.open(os.path.join(NETNS_DIR, namespace), os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    code = ctypes.get_errno()
                    raise OSError(code, f"setns into {namespace}: {os.strerror(code)}")
            finally:
                os.close(fd)
            outcome.append(work())
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=enter_and_work, name=f"netns-{namespace}")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


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
