"""How the routing-policy groups name what a router owns under a key.

Defined sets, policies and attachments are keyed by a name, announcements by a prefix.
Each is addressed by its id, ``ROUTER/KEY``, or a bare key that only one router has;
the key is looked up through the list endpoint (``?router=..&name=..``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sdwan.cli.client import ApiClient
from sdwan.cli.errors import CliError
from sdwan.cli.output import Columns
from sdwan.cli.resource import Item, Printer, Resource, viewed
from sdwan.cli.values import canonical_prefix, is_uuid


@dataclass(frozen=True)
class Keyed:
    """How one collection's objects are named: ``kind`` in messages, ``key`` the field."""

    collection: str  # "defined-sets"
    kind: str  # "defined set"
    key: str = "name"  # or "prefix"

    @property
    def placeholder(self) -> str:
        return f"ROUTER/{self.key.upper()}"

    def split(self, ref: str) -> tuple[str | None, str]:
        """``ROUTER/KEY`` -> (router, key); a bare key -> (None, key)."""
        if self.key == "prefix":
            # A prefix holds one '/', so ROUTER/PREFIX holds two; router names hold none.
            router, key = ref.split("/", 1) if ref.count("/") >= 2 else ("", ref)
            if ref.count("/") >= 2 and not router:
                raise CliError(f"{ref!r}: expected {self.placeholder}")
            key = canonical_prefix(key)
        else:
            router, _, key = ref.rpartition("/")
            if ("/" in ref and not router) or not key:
                raise CliError(f"{ref!r}: expected {self.placeholder}")
        return router or None, key

    def split_new(self, ref: str) -> tuple[str, str]:
        """``create``'s ``ROUTER/KEY``: both parts required."""
        router, key = self.split(ref)
        if router is None:
            raise CliError(f"{ref!r}: expected {self.placeholder}, e.g. GoBGP-1/{_example(self)}")
        return router, key

    def resolve(self, client: ApiClient, ref: str) -> str:
        """The id of the object ``ref`` names (id, ROUTER/KEY or a key unique across routers)."""
        if is_uuid(ref):
            return ref
        router, key = self.split(ref)
        query: dict[str, Any] = {self.key: key, "limit": 100}
        if router is not None:
            query["router"] = router
        page = client.get(f"/v1/{self.collection}", query) or {}
        items = page.get("items") or []
        if not items:
            where = f" on router {router}" if router else ""
            raise CliError(f"no {self.kind} {key}{where}", status=404)
        if len(items) > 1 or int(page.get("total", 1)) > 1:
            routers = sorted({router_of(item) for item in items})
            raise CliError(
                f"{self.kind} {key} exists on several routers ({', '.join(routers)}); "
                f"use {self.placeholder}, e.g. {routers[0]}/{key}"
            )
        return str(items[0]["id"])

    def name_of(self, obj: Mapping[str, Any]) -> str | None:
        """``ROUTER/KEY``, when the object says."""
        return f"{router_of(obj)}/{obj[self.key]}" if obj and obj.get(self.key) else None

    def resource(
        self,
        columns: Columns,
        row: Callable[[Item], Item],
        table_view: Callable[[Item], Item] | None = None,
        printer: Printer | None = None,
    ) -> Resource:
        """The collection: list rows made by ``row``; one object printed by ``printer``, or
        else as ``table_view`` (default: ``row``) rewrites it for the table."""
        printer = printer or viewed(table_view or row)
        return Resource(
            self.collection,
            self.kind,
            columns,
            name_of=self.name_of,
            resolve=self.resolve,
            row=row,
            printer=printer,
        )


def _example(keyed: Keyed) -> str:
    return "198.18.0.0/16" if keyed.key == "prefix" else "NAME"


def router_of(obj: Mapping[str, Any]) -> str:
    return str(obj.get("router_name") or obj.get("router") or "?")


def with_router(obj: Item) -> Item:
    """The ROUTER column falls back to the router's id."""
    return {**obj, "router_name": router_of(obj)}
