"""RIB views: a router's global RIB and a neighbor's adj-RIB-in/out, read live from
its gobgpd, one page at a time.

gobgpd 3.10 streams ListPath destinations in Go map order (random on every call;
``sort_type`` is ignored), so a page cannot stop reading at its last prefix. Each
page instead streams the table once and keeps only the ``limit + 1`` smallest
prefixes after the cursor in a bounded heap: memory is O(limit) whatever the
table's size, and the cursor (the page's last prefix) is stable across calls.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import ipaddress
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sdwan.auth.principal import Principal
from sdwan.domain.endpoint import GobgpEndpoint
from sdwan.domain.values import FAMILIES
from sdwan.errors import InvalidInput, SpeakerTimeout, SpeakerUnreachable
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.paths import (
    PathSource,
    Route,
    Table,
    decode_destination,
    list_path_request,
    prefix_key,
)
from sdwan.service.neighbors import NeighborService
from sdwan.service.routers import RouterService
from sdwan.store.records import RouterRecord

SourceFactory = Callable[[GobgpEndpoint], PathSource]  # a gobgpd -> a client
Key = tuple[int, int]


@dataclass(frozen=True)
class RibQuery:
    family: str | None = None  # None: from the prefix, else the table's default
    prefix: str | None = None
    longer: bool = False  # with prefix: every prefix inside it
    best_only: bool = False
    limit: int = 100  # prefixes (destinations) per page; their paths stay together
    after: str | None = None  # cursor from the previous page's ``next``


@dataclass(frozen=True)
class RibPage:
    items: list[Route]
    next: str | None
    limit: int
    family: str


def encode_cursor(family: str, prefix: str) -> str:
    raw = f"{family} {prefix}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, family: str) -> Key:
    """The key of the prefix the cursor points after; 422 on ``after`` otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        cursor_family, prefix = raw.split(" ")
        key = prefix_key(prefix)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(
            "after: not a cursor from this API (use the 'next' of the previous page)",
            field="after",
        ) from None
    if cursor_family != family:
        raise InvalidInput(f"after: the cursor is for {cursor_family}, not {family}", field="after")
    return key


def _check_prefix(prefix: str, longer: bool) -> tuple[int, str]:
    """IP version and canonical text of ``prefix`` (a CIDR, or an address: the
    longest match)."""
    try:
        if "/" in prefix:
            network = ipaddress.ip_network(prefix)
            return network.version, str(network)
        if longer:
            raise ValueError("longer needs a prefix with a length, e.g. 198.18.0.0/16")
        address = ipaddress.ip_address(prefix)
        return address.version, str(address)
    except ValueError as exc:
        raise InvalidInput(f"prefix: {exc}", field="prefix") from None


def resolve(query: RibQuery, default_family: str) -> tuple[str, str | None]:
    """The family to read (given, else the prefix's, else ``default_family``) and the
    canonical prefix; 422 naming the field on a bad value or a mismatch."""
    if query.family is not None and query.family not in FAMILIES:
        raise InvalidInput(
            f"family: unknown address family {query.family!r}; known: {', '.join(FAMILIES)}",
            field="family",
        )
    if query.prefix is None:
        if query.longer:
            raise InvalidInput("longer: needs a prefix", field="longer")
        return query.family or default_family, None
    version, prefix = _check_prefix(query.prefix, query.longer)
    implied = "ipv6-unicast" if version == 6 else "ipv4-unicast"
    if query.family is not None and query.family != implied:
        raise InvalidInput(
            f"prefix: {query.prefix} is an IPv{version} prefix but family is {query.family}",
            field="prefix",
        )
    return implied, prefix


def select_page(
    destinations: Iterable[pb.Destination], *, after: Key | None, limit: int
) -> tuple[list[pb.Destination], bool]:
    """The ``limit`` smallest destinations after ``after``, in prefix order, and
    whether more follow; holds at most ``limit + 1`` destinations at any time."""
    heap: list[tuple[tuple[int, int], int, pb.Destination]] = []  # max-heap via -key
    for seq, destination in enumerate(destinations):
        key = prefix_key(destination.prefix)
        if after is not None and key <= after:
            continue
        item = ((-key[0], -key[1]), seq, destination)
        if len(heap) <= limit:
            heapq.heappush(heap, item)
        elif item[0] > heap[0][0]:
            heapq.heapreplace(heap, item)
    ordered = [d for _, _, d in sorted(heap, key=lambda i: i[0], reverse=True)]
    return ordered[:limit], len(ordered) > limit


class RibService:
    def __init__(
        self,
        *,
        routers: RouterService,
        neighbors: NeighborService,
        sources: SourceFactory,
        timeout: float = 10.0,
        default_ca: str | None = None,
    ) -> None:
        self._routers = routers
        self._neighbors = neighbors
        self._sources = sources
        self._timeout = timeout  # a whole page, from the first byte to the last
        self._default_ca = default_ca  # SDWAN_GOBGPD_CA_FILE

    def _endpoint(self, router: RouterRecord) -> GobgpEndpoint:
        return router.endpoint(self._default_ca)

    def global_rib(self, principal: Principal, router_key: str, query: RibQuery) -> RibPage:
        router = self._routers.get(principal, router_key)
        family, prefix = resolve(query, "ipv4-unicast")
        return self._read(self._endpoint(router), Table.GLOBAL, "", family, prefix, query)

    def adj_rib(
        self, principal: Principal, neighbor_id: str, table: Table, query: RibQuery
    ) -> RibPage:
        neighbor, router = self._neighbors.get(principal, neighbor_id)
        family, prefix = resolve(query, neighbor.families[0])
        if family not in neighbor.families:
            raise InvalidInput(
                f"family: neighbor {neighbor.address} on {router.name} does not carry {family} "
                f"(its families: {', '.join(neighbor.families)})",
                field="family",
            )
        endpoint = self._endpoint(router)
        return self._read(endpoint, table, neighbor.address, family, prefix, query)

    def _read(
        self,
        endpoint: GobgpEndpoint,
        table: Table,
        name: str,
        family: str,
        prefix: str | None,
        query: RibQuery,
    ) -> RibPage:
        after = decode_cursor(query.after, family) if query.after else None
        request = list_path_request(table, family, name=name, prefix=prefix, longer=query.longer)
        source = self._sources(endpoint)
        started = time.monotonic()
        try:
            stream = source.list_path(request, timeout=self._timeout)
            try:
                page, more = select_page(stream, after=after, limit=query.limit)
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()  # cancels the gRPC stream if it is still open
        except SpeakerUnreachable as exc:
            if time.monotonic() - started >= self._timeout * 0.9:
                raise SpeakerTimeout(
                    f"gobgpd at {endpoint} did not send the page within {self._timeout:g} s "
                    "(SDWAN_RIB_TIMEOUT); narrow it with prefix/longer or a smaller limit"
                ) from exc
            raise
        finally:
            source.close()
        items = [
            route
            for destination in page
            for route in decode_destination(destination, best_only=query.best_only)
        ]
        cursor = encode_cursor(family, page[-1].prefix) if more and page else None
        return RibPage(items=items, next=cursor, limit=query.limit, family=family)
