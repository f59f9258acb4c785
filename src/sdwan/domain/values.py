"""Validation of the values operators type: addresses, AS numbers, API endpoints."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

ASN_MIN, ASN_MAX = 1, 4294967295
DEFAULT_API_PORT = 50051
FAMILIES = ("ipv4-unicast", "ipv6-unicast")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def check_name(value: str) -> str:
    if not NAME_PATTERN.match(value):
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


@dataclass(frozen=True)
class ApiAddress:
    """Where a gobgpd serves gRPC: ``host:port`` or a Unix socket."""

    target: str  # what grpc.insecure_channel() takes

    @property
    def is_unix(self) -> bool:
        return self.target.startswith("unix://")


def parse_api_address(value: str) -> ApiAddress:
    """Accept ``host``, ``host:port``, ``[v6]:port`` or ``unix:///abs/path``."""
    value = value.strip()
    if value.startswith("unix:"):
        path = value.removeprefix("unix://") if value.startswith("unix://") else value[5:]
        if not path.startswith("/") or len(path) > 107 or "\0" in path:
            raise ValueError(
                "a Unix socket address must be unix:///absolute/path (at most 107 bytes)"
            )
        return ApiAddress(f"unix://{path}")
    host, port = value, DEFAULT_API_PORT
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            raise ValueError(f"unbalanced '[' in {value!r}")
        host, rest = value[1:end], value[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"expected ':port' after ']' in {value!r}")
            port = _port(rest[1:])
        ipaddress.IPv6Address(host)
        return ApiAddress(f"[{host}]:{port}")
    if value.count(":") == 1:
        host, port_text = value.split(":")
        port = _port(port_text)
    elif value.count(":") > 1:
        check_ip(value)  # bare IPv6
        return ApiAddress(f"[{value}]:{port}")
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        if not _HOSTNAME.match(host):
            raise ValueError(f"not a host name or address: {host!r}") from None
    return ApiAddress(f"{host}:{port}")


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise ValueError(f"port must be 1-65535, got {text!r}")
    return int(text)


def normalize_api_address(value: str) -> str:
    """The canonical spelling stored and compared (``host:port`` or ``unix:///path``)."""
    return parse_api_address(value).target
