"""Probe packets on the wire. Pure.

UDP probes use the unauthenticated TWAMP-Test packets of RFC 5357 (TWAMP-Light: no
control session). Sender packet: sequence number (4 octets), timestamp (8, NTP
format), error estimate (2), padding; we pad it to the 41 octets of the reflector's
answer, so a reflector never sends more than it received. Reflector packet: its own
sequence number, the time it sent the answer, error estimate, 2 octets zero, the time
it received the probe, the probe's sequence number, timestamp and error estimate, 2
octets zero, the TTL (hop limit) the probe arrived with; then zeros up to the
probe's own length (a symmetric answer). The sender's round-trip time is its receive
time minus its send time minus the reflector's residence time (send minus receive
timestamp).

ICMP probes are echo requests (type 8, IPv6 128) with a per-uplink identifier; the
answer (type 0, IPv6 129) carries the identifier and sequence number back.
"""

from __future__ import annotations

import struct

__all__ = [
    "ANSWER",
    "ERROR_ESTIMATE",
    "ICMP_SIZE",
    "NTP_EPOCH_OFFSET",
    "SENDER",
    "TEST_SIZE",
    "Echo",
    "from_ntp",
    "parse_echo_reply",
    "parse_reflected",
    "reflect",
    "to_ntp",
]

NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01
TEST_SIZE = 41  # the unauthenticated reflector packet; senders pad to it
# S=0 (no external sync), Z=0 (NTP format), scale 22, multiplier 1: about 1 ms
ERROR_ESTIMATE = (22 << 8) | 1
_FRACTION = 1 << 32

SENDER = struct.Struct(">IQH")  # sequence, timestamp, error estimate
_REFLECTED = struct.Struct(">IQHHQIQHHB")
ANSWER = struct.Struct(">4xQ4xQI")  # (sent, received, sender sequence) of an answer
ICMP_SIZE = 16  # type, code, checksum, identifier, sequence, 8 octets of payload
_ECHO = struct.Struct(">BBHHH")


def to_ntp(epoch: float) -> int:
    """Unix seconds -> 64-bit NTP timestamp."""
    return int((epoch + NTP_EPOCH_OFFSET) * _FRACTION) & 0xFFFF_FFFF_FFFF_FFFF


def from_ntp(stamp: int) -> float:
    return stamp / _FRACTION - NTP_EPOCH_OFFSET


def sender_packet(buffer: bytearray, seq: int, epoch: float) -> None:
    """Fill a TEST_SIZE buffer (its padding stays as it is: zeros) with a test packet."""
    stamp = int((epoch + NTP_EPOCH_OFFSET) * _FRACTION) & 0xFFFF_FFFF_FFFF_FFFF
    SENDER.pack_into(buffer, 0, seq & 0xFFFF_FFFF, stamp, ERROR_ESTIMATE)


def parse_reflected(data: bytes | bytearray | memoryview) -> tuple[int, float]:
    """(sender sequence number, reflector residence seconds) of a reflector packet."""
    sent, received, seq = ANSWER.unpack_from(data)
    return seq, ((sent - received) & 0xFFFF_FFFF_FFFF_FFFF) / _FRACTION


def reflect(
    request: bytes | bytearray | memoryview,
    size: int,
    out: bytearray,
    seq: int,
    received: float,
    sent: float,
    ttl: int,
) -> int:
    """Write the reflector's answer to a ``size``-octet test packet into ``out`` (at
    least ``size`` octets); returns the answer's length, 0 when the request is too
    short to answer without sending more than was received."""
    if size < TEST_SIZE:
        return 0
    sender_seq, sender_time, sender_error = SENDER.unpack_from(request)
    _REFLECTED.pack_into(
        out,
        0,
        seq & 0xFFFF_FFFF,
        to_ntp(sent),
        ERROR_ESTIMATE,
        0,
        to_ntp(received),
        sender_seq,
        sender_time,
        sender_error,
        0,
        ttl & 0xFF,
    )
    if size > TEST_SIZE:
        out[TEST_SIZE:size] = bytes(size - TEST_SIZE)
    return size


# -- ICMP echo -------------------------------------------------------------------


def _fold(total: int) -> int:
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


class Echo:
    """Echo requests of one uplink: the checksum of everything but the sequence number
    is summed once, so each request costs a few integer operations."""

    def __init__(self, identifier: int, v6: bool) -> None:
        self.identifier = identifier & 0xFFFF
        self.kind = 128 if v6 else 8
        self.buffer = bytearray(ICMP_SIZE)
        # IPv6: the kernel fills in the checksum (it covers a pseudo-header)
        self.v6 = v6
        self._base = (self.kind << 8) + self.identifier

    def request(self, seq: int) -> bytearray:
        seq &= 0xFFFF
        checksum = 0 if self.v6 else (~_fold(self._base + seq)) & 0xFFFF
        _ECHO.pack_into(self.buffer, 0, self.kind, 0, checksum, self.identifier, seq)
        return self.buffer


def parse_echo_reply(
    data: bytes | bytearray | memoryview, length: int, v6: bool
) -> tuple[int, int]:
    """(identifier, sequence) of an echo reply, (-1, -1) for anything else. IPv4 raw
    sockets deliver the IP header first; IPv6 ones do not."""
    offset = 0
    if not v6:
        if length < 20:
            return -1, -1
        offset = (data[0] & 0x0F) * 4
    if length < offset + 8:
        return -1, -1
    kind, _code, _checksum, identifier, seq = _ECHO.unpack_from(data, offset)
    if kind != (129 if v6 else 0):
        return -1, -1
    return identifier, seq
