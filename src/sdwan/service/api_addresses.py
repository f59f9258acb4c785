"""Which gobgpd API addresses a router may use: the admins' allowlists (global, from
the settings, and per project), checked on the canonical address with socket paths'
symlinks resolved and host names resolved to their addresses."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import socket
from collections.abc import Callable, Sequence

from sdwan.domain.api_address import (
    DEFAULT_ALLOW,
    AllowEntry,
    ApiAddress,
    IpAddress,
    canonical_ip,
    parse_allowlist,
    parse_api_address,
)
from sdwan.errors import InvalidInput

Resolver = Callable[[str, int], list[IpAddress]]


def system_resolver(host: str, port: int) -> list[IpAddress]:
    answers = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [canonical_ip(ipaddress.ip_address(a[4][0])) for a in answers]


def resolve_to_check(
    resolver: Resolver, host: str, port: int, *, field: str, hint: str = ""
) -> list[IpAddress]:
    """The addresses ``host`` resolves to, to be checked against the allowlists;
    InvalidInput naming ``field`` when it does not resolve."""
    try:
        return resolver(host, port)
    except OSError as exc:
        raise InvalidInput(
            f"{field}: cannot resolve {host!r} to check it against the allowed addresses "
            f"({exc.strerror or exc}){hint}",
            field=field,
        ) from None


class AddressPolicy:
    """The global allowlist; ``check`` also applies a project's own (both must allow)."""

    def __init__(
        self, allow: Sequence[str] = DEFAULT_ALLOW, *, resolver: Resolver = system_resolver
    ) -> None:
        self.allow = tuple(allow)
        self._entries = _resolved(parse_allowlist(self.allow))
        self._resolver = resolver

    def check(
        self, target: str, project_allow: Sequence[str] | None, *, project: str, field: str
    ) -> None:
        """InvalidInput naming ``field`` unless both lists allow ``target``."""
        address = parse_api_address(target)
        addresses: list[IpAddress] = []
        if not address.is_unix:
            ip = address.ip
            if ip is not None:
                addresses = [ip]
            else:
                addresses = resolve_to_check(
                    self._resolver, address.host, address.port, field=field, hint="; use an address"
                )
        lists = [("the server's", self._entries, self.allow)]
        if project_allow is not None:
            own = tuple(project_allow)
            lists.append((f"project {project}'s", _resolved(parse_allowlist(own)), own))
        for whose, entries, texts in lists:
            if not _allowed(address, addresses, entries):
                shown = ", ".join(texts) or "nothing"
                raise InvalidInput(
                    f"{field}: {target} is not among {whose} allowed gobgpd API addresses "
                    f"({shown}); an admin decides which may be used",
                    field=field,
                )


def _resolved(entries: Sequence[AllowEntry]) -> tuple[AllowEntry, ...]:
    """Socket directories with their symlinks resolved, as the socket paths are."""
    return tuple(
        dataclasses.replace(e, directory=os.path.realpath(e.directory)) if e.kind == "unix" else e
        for e in entries
    )


def _allowed(address: ApiAddress, ips: list[IpAddress], entries: Sequence[AllowEntry]) -> bool:
    if address.is_unix:
        return any(e.allows_path(address.path) for e in entries)
    return bool(ips) and all(any(e.allows_ip(ip) for e in entries) for ip in ips)


def check_allowlist(entries: Sequence[str], *, field: str) -> list[str]:
    """An allowlist as given by an admin, each entry in canonical form; InvalidInput
    naming the entry (``field[i]``) otherwise."""
    out = []
    for index, text in enumerate(entries):
        try:
            out.append(parse_allowlist([text])[0].text)
        except ValueError as exc:
            raise InvalidInput(f"{field}[{index}]: {exc}", field=f"{field}[{index}]") from None
    return out
