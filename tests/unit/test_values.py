"""Validation of operator-typed values."""

import pytest

from sdwan.domain import values


@pytest.mark.parametrize(
    ("given", "target"),
    [
        ("192.0.2.1", "192.0.2.1:50051"),
        ("192.0.2.1:50052", "192.0.2.1:50052"),
        ("gobgp-1.example", "gobgp-1.example:50051"),
        ("[2001:db8::1]:50051", "[2001:db8::1]:50051"),
        ("2001:db8::1", "[2001:db8::1]:50051"),
        ("unix:///run/sdwan/gobgp1.sock", "unix:///run/sdwan/gobgp1.sock"),
    ],
)
def test_api_address_normalized(given: str, target: str) -> None:
    assert values.normalize_api_address(given) == target


@pytest.mark.parametrize(
    "bad", ["a b", "192.0.2.1:0", "192.0.2.1:70000", "unix://relative", "[2001:db8::1", "host:port"]
)
def test_api_address_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        values.parse_api_address(bad)


def test_asn_bounds() -> None:
    assert values.check_asn(4294967295) == 4294967295
    for bad in (0, 4294967296, -1):
        with pytest.raises(ValueError, match="between 1 and 4294967295"):
            values.check_asn(bad)


def test_router_id_must_be_ipv4() -> None:
    assert values.check_router_id("10.0.1.1") == "10.0.1.1"
    for bad in ("10.0.1", "2001:db8::1", "0.0.0.0", "x"):
        with pytest.raises(ValueError):
            values.check_router_id(bad)


def test_ip_canonical_and_families() -> None:
    assert values.check_ip("2001:DB8:0::1") == "2001:db8::1"
    assert values.default_families("2001:db8::1") == ["ipv6-unicast"]
    assert values.check_families(["ipv6-unicast", "ipv4-unicast", "ipv4-unicast"]) == [
        "ipv4-unicast",
        "ipv6-unicast",
    ]
    with pytest.raises(ValueError, match="unknown address family"):
        values.check_families(["l2vpn-evpn"])


def test_names() -> None:
    assert values.check_name("GoBGP-1") == "GoBGP-1"
    for bad in ("", "-x", "a b", "x" * 64):
        with pytest.raises(ValueError):
            values.check_name(bad)
