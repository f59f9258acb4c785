"""Where a gobgpd serves gRPC: parsing, one canonical spelling, the identity used to
tell whether two addresses reach the same gobgpd, and the allowlist entries that
say which addresses may be used. Pure: no name resolution, no file system.

Canonical spelling (what is stored and shown): ``unix:///normal/path`` (one leading
slash, no ``.``/``..``/``//``), ``a.b.c.d:port`` (legacy IPv4 spellings such as
``127.1`` or ``0x7f.1`` written out), ``[v6]:port`` (compressed; an IPv4-mapped
IPv6 address becomes the IPv4 one), ``name:port`` (lower case, no trailing dot).

Identity (``endpoint_key``): the canonical spelling, except that every loopback or
unspecified address and ``localhost`` names count as one host, ``local``: a gobgpd
listening on all addresses answers on each of them."""

from __future__ import annotations

import ipaddress
import os
import posixpath
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

DEFAULT_API_PORT = 50051
MAX_SOCKET_PATH = 107  # sun_path is 108 bytes with the terminating NUL
LOCAL = "local"
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class ApiAddress:
    """Where a gobgpd serves gRPC: ``host:port`` or a Unix socket."""

    target: str  # canonical; what grpc.insecure_channel() takes
    host: str = ""  # host name or IP address (no brackets); "" for a socket
    port: int = 0
    path: str = ""  # the socket's path; "" for host:port

    @property
    def is_unix(self) -> bool:
        return self.target.startswith("unix://")

    @property
    def ip(self) -> IpAddress | None:
        """The host as an address; None for a name or a socket."""
        try:
            return ipaddress.ip_address(self.host) if self.host else None
        except ValueError:
            return None


def _unix(value: str) -> ApiAddress:
    path = value.removeprefix("unix://") if value.startswith("unix://") else value[5:]
    if not path.startswith("/") or "\0" in path:
        raise ValueError("a Unix socket address must be unix:///absolute/path (at most 107 bytes)")
    path = posixpath.normpath("/" + path.lstrip("/"))
    if len(path.encode()) > MAX_SOCKET_PATH:
        raise ValueError(f"a Unix socket path is at most {MAX_SOCKET_PATH} bytes")
    return ApiAddress(f"unix://{path}", path=path)


def canonical_ip(address: IpAddress) -> IpAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _tcp(host: str, port: int) -> ApiAddress:
    try:
        ip = canonical_ip(ipaddress.ip_address(host))
    except ValueError:
        ip = None
    if ip is None and _LEGACY_IPV4.fullmatch(host.lower()):
        try:  # 127.1, 0x7f.0.0.1, 2130706433: what the C resolver reads as IPv4
            ip = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            ip = None
    if ip is not None:
        shown = f"[{ip}]" if ip.version == 6 else str(ip)
        return ApiAddress(f"{shown}:{port}", host=str(ip), port=port)
    name = host.lower().rstrip(".")
    if not _HOSTNAME.fullmatch(name):
        raise ValueError(f"not a host name or address: {host!r}")
    return ApiAddress(f"{name}:{port}", host=name, port=port)


def parse_api_address(value: str) -> ApiAddress:
    """Accept ``host``, ``host:port``, ``[v6]:port``, a bare IPv6 address or
    ``unix:///abs/path``; the canonical form (see the module docstring)."""
    value = value.strip()
    if value.startswith("unix:"):
        return _unix(value)
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
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"not an IPv6 address in brackets: {host!r}") from None
        return _tcp(host, port)
    if value.count(":") == 1:
        host, port_text = value.split(":")
        port = _port(port_text)
    elif value.count(":") > 1:
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            raise ValueError(f"not an IPv4 or IPv6 address: {value!r}") from None
    return _tcp(host, port)


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise ValueError(f"port must be 1-65535, got {text!r}")
    return int(text)


def normalize_api_address(value: str) -> str:
    """The canonical spelling stored and compared."""
    return parse_api_address(value).target


def is_local(address: ApiAddress) -> bool:
    ip = address.ip
    if ip is not None:
        return ip.is_loopback or ip.is_unspecified
    return address.host in _LOCAL_NAMES or address.host.endswith(".localhost")


def endpoint_key(value: str) -> str:
    """Two addresses with the same key reach the same gobgpd (the converse does not
    hold: a host name and its address, or a host's own external address and
    loopback, are not recognised as the same)."""
    address = parse_api_address(value)
    if address.is_unix:
        return address.target
    host = LOCAL if is_local(address) else address.target.rsplit(":", 1)[0]
    return f"{host}:{address.port}"


# --- allowlists -------------------------------------------------------------------

# Sockets in the directories the README and the lab use, and gobgpd on this host over
# TCP loopback. Anything else is the admins' decision (SDWAN_API_ADDRESS_ALLOW, or a
# project's own list).
DEFAULT_ALLOW: tuple[str, ...] = (
    "unix:/run/sdwan/",
    "unix:/run/sdwan-lab/",
    "127.0.0.0/8",
    "::1/128",
)

AllowKind = Literal["any", "unix", "network"]


@dataclass(frozen=True)
class AllowEntry:
    """``*`` (anything), ``unix:/dir/`` (sockets in or below a directory) or a
    network (``192.0.2.0/24``, ``::1/128``, a single address)."""

    kind: AllowKind
    text: str
    directory: str = ""
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None

    def allows_path(self, path: str) -> bool:
        if self.kind == "any":
            return True
        if self.kind != "unix":
            return False
        return self.directory == "/" or path.startswith(self.directory.rstrip("/") + "/")

    def allows_ip(self, address: IpAddress) -> bool:
        if self.kind == "any":
            return True
        if self.network is None:
            return False
        return canonical_ip(address) in self.network


def parse_allow_entry(text: str) -> AllowEntry:
    value = text.strip()
    if value == "*":
        return AllowEntry("any", "*")
    if value.startswith("unix:"):
        path = value.removeprefix("unix:")
        if not path.startswith("/") or "\0" in path:
            raise ValueError(f"{text!r}: a socket directory is unix:/absolute/dir/")
        directory = posixpath.normpath("/" + path.lstrip("/"))
        return AllowEntry("unix", f"unix:{directory.rstrip('/')}/", directory=directory)
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"{text!r}: expected '*', unix:/socket/dir/ or a network such as 192.0.2.0/24 ({exc})"
        ) from None
    return AllowEntry("network", str(network), network=network)


def parse_allowlist(entries: Sequence[str]) -> tuple[AllowEntry, ...]:
    return tuple(parse_allow_entry(e) for e in entries)


def resolve_api_address(value: str) -> str:
    """The canonical address, a socket path with its symlinks resolved: the form that
    is stored, compared and checked. ValueError on a malformed address."""
    address = parse_api_address(value)
    if address.is_unix:
        return normalize_api_address("unix://" + os.path.realpath(address.path))
    return address.target
