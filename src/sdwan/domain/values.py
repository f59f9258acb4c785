"""Validation of the values operators type: addresses, AS numbers, API endpoints."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema

from sdwan.domain.api_address import (  # re-exported: where callers look for them
    DEFAULT_API_PORT,
    ApiAddress,
    normalize_api_address,
    parse_api_address,
)

__all__ = ["DEFAULT_API_PORT", "ApiAddress", "normalize_api_address", "parse_api_address"]

ASN_MIN, ASN_MAX = 1, 4294967295
FAMILIES = ("ipv4-unicast", "ipv6-unicast")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def check_name(value: str) -> str:
    if not NAME_PATTERN.fullmatch(value):
        raise ValueError(
            "must be 1-63 characters: letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    return value


def check_asn(value: int) -> int:
    if not ASN_MIN <= value <= ASN_MAX:
        raise ValueError(f"AS number must be between {ASN_MIN} and {ASN_MAX}, got {value}")
    return value


def check_router_id(value: str) -> str:
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError(f"must be an IPv4 address in dotted form, got {value!r}") from None
    if int(address) == 0:
        raise ValueError("0.0.0.0 is not a usable router id")
    return str(address)


def check_ip(value: str) -> str:
    """An IPv4 or IPv6 host address, returned in canonical form."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"not an IPv4 or IPv6 address: {value!r}") from None


IpText = Annotated[
    str,
    Field(max_length=45),
    AfterValidator(check_ip),
    WithJsonSchema(  # the rules in the schema too, so generated clients check them
        {"type": "string", "maxLength": 45, "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
    ),
]  # an IPv4 or IPv6 address in a body, canonical once validated


def ip_version(value: str) -> int:
    return ipaddress.ip_address(value).version


def default_families(address: str) -> list[str]:
    return ["ipv6-unicast"] if ip_version(address) == 6 else ["ipv4-unicast"]


def check_families(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown address family {unknown[0]!r}; known: {', '.join(FAMILIES)}")
    if not values:
        raise ValueError("at least one address family is required")
    return sorted(set(values), key=FAMILIES.index)
