"""The nfnetlink_queue messages a relay needs: bind a queue, read the packets'
metadata, give verdicts (linux/netfilter/nfnetlink_queue.h). Pure encoding and
decoding; :class:`~sdwan.lab.netlink.NetfilterSocket` carries them."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from sdwan.lab.netlink import (
    NLM_F_REQUEST,
    attr,
    be32,
    iter_attrs,
    iter_messages,
    message,
)

__all__ = [
    "NF_ACCEPT",
    "bind_attrs",
    "packets",
    "params_attrs",
    "verdict_batch",
]

NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_CONFIG, NFQNL_MSG_VERDICT_BATCH = 0, 2, 3
CONFIG = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG
PACKET = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET
VERDICT_BATCH = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN, NFQA_CFG_MASK, NFQA_CFG_FLAGS = 1, 2, 3, 4, 5
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NFQA_CFG_F_GSO = 0x4
NF_ACCEPT = 1
AF_INET = 2

_NFGEN_SIZE = 4


def bind_attrs() -> bytes:
    """Bind the queue (the message's resource id) to this socket."""
    return attr(NFQA_CFG_CMD, struct.pack(">BxH", NFQNL_CFG_CMD_BIND, AF_INET))


def params_attrs(maxlen: int) -> bytes:
    """Metadata only (the relay never reads a payload), ``maxlen`` packets held at
    most (more are dropped, like a full router buffer), GSO packets whole."""
    return (
        attr(NFQA_CFG_PARAMS, struct.pack(">IB", 0, NFQNL_COPY_META))
        + be32(NFQA_CFG_QUEUE_MAXLEN, maxlen)
        + be32(NFQA_CFG_MASK, NFQA_CFG_F_GSO)
        + be32(NFQA_CFG_FLAGS, NFQA_CFG_F_GSO)
    )


def packets(data: bytes | memoryview) -> Iterator[tuple[int, int]]:
    """(queue, packet id) of every queued packet announced in one datagram."""
    for msg in iter_messages(data):
        if msg.kind != PACKET:
            continue
        (queue,) = struct.unpack_from(">H", msg.payload, 2)
        for kind, value in iter_attrs(msg.payload, _NFGEN_SIZE):
            if kind == NFQA_PACKET_HDR:
                yield queue, struct.unpack_from(">I", value)[0]
                break


def verdict_batch(queue: int, last_id: int, seq: int, verdict: int = NF_ACCEPT) -> bytes:
    """One verdict for every packet of ``queue`` up to ``last_id`` (queue order)."""
    hdr = attr(NFQA_VERDICT_HDR, struct.pack(">II", verdict, last_id))
    return message(VERDICT_BATCH, NLM_F_REQUEST, seq, 0, queue, hdr)
