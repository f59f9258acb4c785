"""Probe packets (TWAMP-Light test packets, ICMP echo) and the agent's configuration."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from sdwan.domain.quality import DEFAULT_RATE, DEFAULT_TIMEOUT_S, QualityInputError
from sdwan.probe.config import MAX_UPLINKS, parse_config
from sdwan.probe.wire import (
    TEST_SIZE,
    Echo,
    from_ntp,
    parse_echo_reply,
    parse_reflected,
    reflect,
    sender_packet,
    to_ntp,
)


def test_a_test_packet_is_reflected_with_both_timestamps() -> None:
    probe = bytearray(TEST_SIZE)
    sender_packet(probe, 0x1_0000_0005, 1_800_000_000.25)  # wraps to 32 bits
    seq, stamp, error = struct.unpack_from(">IQH", probe)
    assert seq == 5
    assert from_ntp(stamp) == pytest.approx(1_800_000_000.25, abs=1e-6)
    assert error >> 14 == 0  # not synchronised, NTP format
    answer = bytearray(100)
    length = reflect(probe, TEST_SIZE, answer, 9, 1_800_000_000.5, 1_800_000_000.5002, 61)
    assert length == TEST_SIZE
    fields = struct.unpack_from(">IQHHQIQHHB", answer)
    assert fields[0] == 9  # the reflector's own sequence number
    assert fields[5:7] == (5, stamp)  # the sender's, copied
    assert fields[9] == 61  # the TTL the probe arrived with
    sender_seq, residence = parse_reflected(answer)
    assert sender_seq == 5
    assert residence == pytest.approx(0.0002, abs=1e-6)


def test_the_reflector_never_answers_with_more_than_it_received() -> None:
    out = bytearray(200)
    assert reflect(bytes(14), 14, out, 0, 1.0, 1.0, 64) == 0  # a bare 14-octet probe
    assert reflect(bytes(120), 120, out, 0, 1.0, 1.0, 64) == 120  # symmetric, padded
    assert out[TEST_SIZE:120] == bytes(120 - TEST_SIZE)


def test_ntp_timestamps_round_trip() -> None:
    assert from_ntp(to_ntp(1_800_000_000.123456)) == pytest.approx(1_800_000_000.123456, abs=1e-6)


def checksum(data: bytes) -> int:
    total: int = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


@pytest.mark.parametrize("seq", [0, 1, 0xFFFF, 0x12345])
def test_echo_requests_carry_a_valid_checksum(seq: int) -> None:
    request = bytes(Echo(0xBEEF, v6=False).request(seq))
    assert request[0] == 8
    assert checksum(request) == 0xFFFF  # the one's complement sum of a valid message
    assert struct.unpack_from(">HH", request, 4) == (0xBEEF, seq & 0xFFFF)


def test_echo_replies_are_recognised_and_the_rest_is_not() -> None:
    ip_header = bytes([0x45]) + bytes(19)
    reply = ip_header + struct.pack(">BBHHH", 0, 0, 0, 0xBEEF, 7) + bytes(8)
    assert parse_echo_reply(reply, len(reply), v6=False) == (0xBEEF, 7)
    request = ip_header + struct.pack(">BBHHH", 8, 0, 0, 0xBEEF, 7)
    assert parse_echo_reply(request, len(request), v6=False) == (-1, -1)
    reply6 = struct.pack(">BBHHH", 129, 0, 0, 0xBEEF, 8)
    assert parse_echo_reply(reply6, len(reply6), v6=True) == (0xBEEF, 8)
    assert parse_echo_reply(reply6[:4], 4, v6=True) == (-1, -1)


# -- the configuration ----------------------------------------------------------------


def uplink(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "3f0c",
        "name": "tokyo/mpls",
        "neighbor": "198.18.41.100",
        "method": "udp",
        "target": "198.18.42.1",
        "port": 862,
        "rate": None,
        "timeout_ms": None,
        "classes": [{"name": "gold", "loss_pct": 1.0, "latency_ms": 50.0, "jitter_ms": 10.0}],
    }
    body.update(changes)
    return body


def test_the_documented_example_is_accepted_and_echoed() -> None:
    body = {"generation": 7, "uplinks": [uplink()]}
    config = parse_config(body)
    assert config.to_json() == body
    only = config.uplinks[0]
    assert (only.effective_rate, only.effective_timeout_s) == (DEFAULT_RATE, DEFAULT_TIMEOUT_S)
    assert parse_config({"uplinks": [uplink(rate=50, timeout_ms=800)]}).uplinks[0].path() == (
        "198.18.41.100",
        "udp",
        "198.18.42.1",
        862,
        50.0,
        800.0,
    )


def test_an_uplink_without_a_target_yet_is_accepted() -> None:
    """The orchestrator sends the uplinks whose far agent it does not know yet: the
    agent measures nothing there but reports its own address on the uplink."""
    config = parse_config({"generation": 1, "uplinks": [uplink(target=None)]})
    assert config.uplinks[0].target is None
    assert config.to_json()["uplinks"][0]["target"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"generation": -1}, "generation"),
        ({"generation": "7"}, "generation"),
        ({"uplinks": {}}, "uplinks"),
        ({"extra": 1}, "extra"),
        ({"uplinks": [uplink(neighbor="198.18.41.300")]}, "uplinks[0].neighbor"),
        ({"uplinks": [uplink(neighbor="127.0.0.1")]}, "uplinks[0].neighbor"),
        ({"uplinks": [uplink(target="2001:db8::1")]}, "uplinks[0].target"),
        ({"uplinks": [uplink(method="tcp")]}, "uplinks[0].method"),
        ({"uplinks": [uplink(port=0)]}, "uplinks[0].port"),
        ({"uplinks": [uplink(rate=0.5)]}, "uplinks[0].rate"),
        ({"uplinks": [uplink(rate=True)]}, "uplinks[0].rate"),
        ({"uplinks": [uplink(timeout_ms=5)]}, "uplinks[0].timeout_ms"),
        ({"uplinks": [uplink(id="")]}, "uplinks[0].id"),
        ({"uplinks": [uplink(), uplink()]}, "uplinks[1].id"),
        (
            {"uplinks": [uplink(), uplink(id="b", classes=[{"name": "g", "loss_pct": 200}])]},
            "uplinks[1].classes[0].loss_pct",
        ),
        (
            {"uplinks": [uplink(classes=[{"name": "g"}, {"name": "g"}])]},
            "uplinks[0].classes[1].name",
        ),
        ({"uplinks": [uplink(speed=1)]}, "uplinks[0].speed"),
        ({"uplinks": [uplink(id=str(i)) for i in range(MAX_UPLINKS + 1)]}, "uplinks"),
    ],
)
def test_bad_configurations_name_the_field(body: Any, field: str) -> None:
    with pytest.raises(QualityInputError) as caught:
        parse_config(body)
    assert caught.value.field == field
