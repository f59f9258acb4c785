"""What the routing-policy groups share: objects a router owns under a key.

Defined sets, policies and attachments are keyed by a name, announcements by a prefix.
Each is addressed by its id, ``ROUTER/KEY``, or a bare key that only one router has;
the key is looked up through the list endpoint (``?router=..&name=..``).
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import typer

from sdwan.cli.client import ApiClient, get_client, wait_for
from sdwan.cli.common import Item, Resource
from sdwan.cli.errors import CliError
from sdwan.cli.output import Columns, OutputFormat, pop_warnings, print_object


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def canonical_prefix(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text.strip(), strict=True))
    except ValueError as exc:
        raise CliError(f"{text!r} is not a prefix: {exc}") from None


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

    def label(self, obj: Mapping[str, Any], ref: str) -> str:
        if obj and obj.get(self.key):
            return f"{self.kind} {router_of(obj)}/{obj[self.key]}"
        return f"{self.kind} {ref}"

    def resource(self, columns: Columns) -> Resource:
        return Resource(self.collection, columns, self.label, self.resolve)


def _example(keyed: Keyed) -> str:
    return "198.18.0.0/16" if keyed.key == "prefix" else "NAME"


def router_of(obj: Mapping[str, Any]) -> str:
    return str(obj.get("router_name") or obj.get("router") or "?")


def with_router(obj: Item) -> Item:
    """The ROUTER column falls back to the router's id."""
    return {**obj, "router_name": router_of(obj)}


def fetch(ctx: typer.Context, resource: Resource, ref: str) -> Item:
    """The current object (for a read-modify-write: its ``version`` guards the write)."""
    client = get_client(ctx)
    return dict(client.get(resource.path(resource.resolve(client, ref))) or {})


Printer = Callable[[Item, OutputFormat], None]


def viewed(table_view: Callable[[Item], Item]) -> Printer:
    """A printer: the object, rewritten by ``table_view`` in table mode."""

    def printer(obj: Item, output: OutputFormat) -> None:
        print_object(table_view(obj) if output is OutputFormat.table else obj, output)

    return printer


def show_object(
    ctx: typer.Context,
    resource: Resource,
    ref: str,
    output: OutputFormat,
    printer: Printer = print_object,
) -> None:
    printer(fetch(ctx, resource, ref), output)


def create(
    ctx: typer.Context,
    resource: Resource,
    body: Item,
    wait: bool,
    timeout: float,
    output: OutputFormat,
    printer: Printer = print_object,
) -> None:
    """``Resource.create``, printed by ``printer``."""
    answer = get_client(ctx).post(f"/v1/{resource.collection}", body)
    finish(ctx, resource, answer, wait, timeout, output, printer)


def update(
    ctx: typer.Context,
    resource: Resource,
    ref: str,
    body: Item,
    if_match: str | None,
    wait: bool,
    timeout: float,
    output: OutputFormat,
    printer: Printer = print_object,
) -> None:
    """``Resource.update``, printed by ``printer``."""
    if not body:
        raise CliError("nothing to change: give at least one field option (see --help)")
    client = get_client(ctx)
    answer = client.patch(resource.path(resource.resolve(client, ref)), body, if_match=if_match)
    finish(ctx, resource, answer, wait, timeout, output, printer)


def finish(
    ctx: typer.Context,
    resource: Resource,
    answer: Any,
    wait: bool,
    timeout: float,
    output: OutputFormat,
    printer: Printer,
) -> None:
    """A write's answer or, with --wait, the object once ACTIVE."""
    obj = pop_warnings(answer)
    if wait:
        ref = str(obj["id"])
        obj = wait_for(ctx, resource.path(ref), resource.label(obj, ref), timeout=timeout) or obj
    printer(obj, output)


def split_list(values: list[str] | None) -> list[str] | None:
    """A repeatable option: None when not given; ``''`` items dropped (``--x ''`` clears)."""
    if values is None:
        return None
    return [value.strip() for value in values if value.strip()]


def brief(values: list[str], shown: int = 3) -> str:
    """The first few values, then how many more."""
    if len(values) <= shown:
        return ", ".join(values)
    return ", ".join(values[:shown]) + f", ... (+{len(values) - shown} more)"


CLEAR: Any = ...  # optional_int's "set it to null", unlike None: "not given"


def optional_int(text: str | None, option: str, low: int = 0, high: int = 4294967295) -> Any:
    """An integer option that may also be cleared: None (not given), ``''``/``none`` -> CLEAR."""
    if text is None:
        return None
    if text.strip().lower() in ("", "none"):
        return CLEAR
    try:
        value = int(text)
    except ValueError:
        raise CliError(f"{option}: expected a whole number or 'none', got {text!r}") from None
    if not low <= value <= high:
        raise CliError(f"{option}: must be from {low} to {high}, got {value}")
    return value
