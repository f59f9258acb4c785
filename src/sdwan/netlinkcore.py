"""Netlink basics shared by the FIB agent (rtnetlink, :mod:`sdwan.fib.netlink`) and the
lab's impairments (nfnetlink, :mod:`sdwan.lab.netlink`): the message header,
attributes, acknowledgements, and sockets opened inside a network namespace."""

from __future__ import annotations

import ctypes
import os
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

__all__ = [
    "HEADER",
    "NetlinkError",
    "align",
    "attr",
    "error_code",
    "in_namespace",
    "iter_attrs",
    "iter_messages",
]

T = TypeVar("T")

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLA_TYPE_MASK = 0x3FFF
CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"

HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, seq, port id
_ATTR = struct.Struct("=HH")


class NetlinkError(OSError):
    """The kernel refused a netlink message (errno, and which message or the kernel's
    own explanation)."""


def align(length: int) -> int:
    return (length + 3) & ~3


def attr(kind: int, payload: bytes) -> bytes:
    """One netlink attribute, padded to 4 bytes."""
    length = _ATTR.size + len(payload)
    return _ATTR.pack(length, kind) + payload + b"\0" * (align(length) - length)


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
    while offset + HEADER.size <= len(view):
        length, kind, flags, seq, _port = HEADER.unpack_from(view, offset)
        if length < HEADER.size or offset + length > len(view):
            break
        yield Message(kind, flags, seq, bytes(view[offset + HEADER.size : offset + length]))
        offset += align(length)


def iter_attrs(data: bytes, offset: int = 0) -> Iterator[tuple[int, bytes]]:
    """(type without flags, value) of the attributes in ``data`` from ``offset``."""
    while offset + _ATTR.size <= len(data):
        length, kind = _ATTR.unpack_from(data, offset)
        if length < _ATTR.size:
            break
        yield kind & NLA_TYPE_MASK, data[offset + _ATTR.size : offset + length]
        offset += align(length)


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
