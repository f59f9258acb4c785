"""Where a webhook posts: its URL parsed and spelled one way, and the admins'
allowlists of the addresses such a URL may reach. Pure: no name resolution (the
service resolves a host name and checks every address it gets)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sdwan.domain.api_address import AllowEntry, IpAddress, canonical_ip, parse_allow_entry

MAX_URL = 2048
DEFAULT_WEBHOOK_ALLOW: tuple[str, ...] = ("127.0.0.0/8", "::1/128")  # this host only
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class WebhookUrl:
    text: str  # canonical: what is stored and shown
    scheme: str  # http | https
    host: str  # a host name (lower case) or an address (no brackets)
    port: int
    target: str  # path and query: "/hook?x=1"

    @property
    def ip(self) -> IpAddress | None:
        try:
            return canonical_ip(ipaddress.ip_address(self.host))
        except ValueError:
            return None

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _PORTS[self.scheme] else f"{host}:{self.port}"

    def at(self, address: IpAddress) -> str:
        """The URL with ``address`` in place of the host: where the request goes once
        the host name was resolved and its address checked."""
        shown = f"[{address}]" if address.version == 6 else str(address)
        return f"{self.scheme}://{shown}:{self.port}{self.target}"


def parse_webhook_url(text: str) -> WebhookUrl:
    """ValueError saying what is wrong; the canonical form otherwise."""
    if len(text) > MAX_URL:
        raise ValueError(f"a URL is at most {MAX_URL} characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError("a URL has no spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _PORTS:
        raise ValueError("the URL must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise ValueError("no user or password in the URL: receivers verify the signature")
    if parts.fragment:
        raise ValueError("no #fragment in the URL")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError("the URL names no host")
    try:
        address: IpAddress | None = canonical_ip(ipaddress.ip_address(host))
    except ValueError:
        address = None
    if address is not None:
        host = str(address)
    elif not _HOSTNAME.fullmatch(host):
        raise ValueError(f"not a host name or address: {host!r}")
    if port is not None and not 1 <= port <= 65535:
        raise ValueError("port must be 1-65535")
    port = port or _PORTS[scheme]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    shown = f"[{host}]" if ":" in host else host
    default = port == _PORTS[scheme]
    canonical = f"{scheme}://{shown}{'' if default else f':{port}'}{target}"
    return WebhookUrl(canonical, scheme, host, port, target)


def parse_webhook_allowlist(entries: Sequence[str]) -> tuple[AllowEntry, ...]:
    """``*`` or networks (``192.0.2.0/24``, ``::1/128``, one address); ValueError
    naming the entry otherwise."""
    parsed = []
    for text in entries:
        entry = parse_allow_entry(text)
        if entry.kind == "unix":
            raise ValueError(f"{text!r}: webhooks go to network addresses, not sockets")
        parsed.append(entry)
    return tuple(parsed)


def allowed(addresses: Sequence[IpAddress], entries: Sequence[AllowEntry]) -> bool:
    """Every address is in one of the entries (and there is at least one address)."""
    return bool(addresses) and all(any(e.allows_ip(a) for e in entries) for a in addresses)
