"""The origination calls of GobgpClient: read, add and withdraw locally originated
paths."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from sdwan.gobgp import announce_convert
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.announce_convert import Announcement
from sdwan.gobgp.convert import family_to_proto
from sdwan.gobgp.paths import Route, decode_path

T = TypeVar("T")


class _Calls(Protocol):
    timeout: float
    _stub: Any

    def _call(self, what: str, fn: Callable[[], T]) -> T: ...


class OriginationCalls:
    def local_paths(self: _Calls, family: str, prefixes: Sequence[str]) -> dict[str, Route]:
        """The locally originated path of each of ``prefixes`` that gobgpd has (exact
        lookups: the global table may hold a full Internet table)."""
        if not prefixes:
            return {}
        request = pb.ListPathRequest(
            table_type=pb.GLOBAL,
            family=family_to_proto(family),
            prefixes=[
                pb.TableLookupPrefix(prefix=p, type=pb.TableLookupPrefix.EXACT) for p in prefixes
            ],
        )
        replies = self._call(
            "ListPath GLOBAL",
            lambda: list(self._stub.ListPath(request, timeout=max(self.timeout, 30))),
        )
        found: dict[str, Route] = {}
        for reply in replies:
            for path in reply.destination.paths:
                route = decode_path(path, prefix=reply.destination.prefix)
                if route.neighbor is None:
                    found[route.prefix] = route
        return found

    def add_path(self: _Calls, item: Announcement) -> None:
        request = pb.AddPathRequest(
            table_type=pb.GLOBAL, path=announce_convert.announcement_to_path(item)
        )
        self._call(
            f"AddPath {item.prefix}", lambda: self._stub.AddPath(request, timeout=self.timeout)
        )

    def delete_path(self: _Calls, item: Announcement) -> None:
        path = announce_convert.announcement_to_path(item)
        request = pb.DeletePathRequest(table_type=pb.GLOBAL, family=path.family, path=path)
        self._call(
            f"DeletePath {item.prefix}",
            lambda: self._stub.DeletePath(request, timeout=self.timeout),
        )
