"""One API collection as the CLI uses it, and the flows every collection's commands share.

A :class:`Resource` says how its objects are found (``resolve``), named in messages
(``kind`` and ``name_of``), listed (``columns``, ``row``) and printed (``printer``);
its methods talk to the API and print the answer the same way for every collection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import typer

from sdwan.cli.client import ApiClient, get_client, list_items, resource_path, wait_for
from sdwan.cli.errors import CliError
from sdwan.cli.output import (
    Columns,
    OutputFormat,
    page_hint,
    pop_warnings,
    print_done,
    print_list,
    print_object,
)
from sdwan.cli.values import given

DEFAULT_TIMEOUT = 30.0  # seconds --wait waits unless --timeout says otherwise

Item = dict[str, Any]
Printer = Callable[[Item, OutputFormat], None]


def viewed(table_view: Callable[[Item], Item]) -> Printer:
    """A printer: the object, rewritten by ``table_view`` in table mode."""

    def printer(obj: Item, output: OutputFormat) -> None:
        print_object(table_view(obj) if output is OutputFormat.table else obj, output)

    return printer


@dataclass(frozen=True)
class Paging:
    """``list``'s --status, --sort, --limit, --offset and --all."""

    status: str | None
    sort: str | None
    limit: int | None
    offset: int | None
    fetch_all: bool

    def query(self, filters: Mapping[str, Any]) -> dict[str, Any]:
        status = self.status.upper() if self.status else None
        return given(**filters, status=status, sort=self.sort, limit=self.limit, offset=self.offset)


def _as_typed(client: ApiClient, ref: str) -> str:
    return ref


def _named_as_typed(obj: Mapping[str, Any]) -> str | None:
    return None


def name_field(obj: Mapping[str, Any]) -> str | None:
    """``name_of`` for collections whose objects say their ``name`` (routers, sites)."""
    name = obj.get("name")
    return str(name) if name else None


@dataclass(frozen=True)
class Resource:
    """One API collection (``routers``, ``defined-sets``, ...) as its commands use it.

    Messages call an object ``{kind} {name}``: ``name_of(obj)``, or the reference typed
    when that gives None. ``resolve(client, ref)`` turns the reference typed into the
    one the API takes. ``row`` rewrites a list item for the table (``columns``);
    ``printer`` prints one object. ``applied_at_once``: the API has finished a create
    or update when it answers (they take no --wait); ``deleted_at_once``: the same of a
    delete (no --wait, and it says "deleted").
    """

    collection: str
    kind: str
    columns: Columns
    name_of: Callable[[Mapping[str, Any]], str | None] = _named_as_typed
    resolve: Callable[[ApiClient, str], str] = _as_typed
    row: Callable[[Item], Item] | None = None
    printer: Printer = print_object
    applied_at_once: bool = False
    deleted_at_once: bool = False

    def path(self, ref: str) -> str:
        return resource_path(self.collection, ref)

    def label(self, obj: Mapping[str, Any], ref: str) -> str:
        return f"{self.kind} {self.name_of(obj) or ref}"

    def fetch(self, ctx: typer.Context, ref: str) -> Item:
        """The current object (for a read-modify-write: its ``version`` guards the write)."""
        client = get_client(ctx)
        return dict(client.get(self.path(self.resolve(client, ref))) or {})

    def list_(
        self, ctx: typer.Context, filters: Mapping[str, Any], paging: Paging, output: OutputFormat
    ) -> None:
        """One page (with a hint when there are more) or, with --all, every page."""
        client, query = get_client(ctx), paging.query(filters)
        path = f"/v1/{self.collection}"
        items, total = list_items(client, path, query, fetch_all=paging.fetch_all)
        if self.row is not None and output is OutputFormat.table:
            items = [self.row(item) for item in items]
        print_list(items, self.columns, output)
        if not paging.fetch_all:
            page_hint(len(items), paging.offset or 0, total, output)

    def show(self, ctx: typer.Context, ref: str, output: OutputFormat) -> None:
        self.printer(self.fetch(ctx, ref), output)

    def create(
        self,
        ctx: typer.Context,
        body: Item,
        wait: bool,
        timeout: float,
        output: OutputFormat,
        ref: str | None = None,
    ) -> None:
        """POST ``body``; ``ref`` is the new object's name as typed, if it has one."""
        answer = get_client(ctx).post(f"/v1/{self.collection}", body)
        self._finish(ctx, answer, ref, wait, timeout, output)

    def update(
        self,
        ctx: typer.Context,
        ref: str,
        body: Item,
        if_match: str | None,
        wait: bool,
        timeout: float,
        output: OutputFormat,
    ) -> None:
        """PATCH the fields given; refused before any request when there are none."""
        if not body:
            raise CliError("nothing to change: give at least one field option (see --help)")
        client = get_client(ctx)
        answer = client.patch(self.path(self.resolve(client, ref)), body, if_match=if_match)
        self._finish(ctx, answer, ref, wait, timeout, output)

    def delete(
        self,
        ctx: typer.Context,
        ref: str,
        if_match: str | None,
        output: OutputFormat,
        wait: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        params: Mapping[str, str] | None = None,
    ) -> None:
        """A sentence in table mode (the API's answer otherwise), once gone with --wait."""
        client = get_client(ctx)
        resolved = self.resolve(client, ref)
        answer = client.delete(self.path(resolved), params=params, if_match=if_match)
        obj = pop_warnings(answer)
        if self.deleted_at_once:
            print_done(f"{self.kind} {ref} deleted", obj, output)
            return
        label = self.label(obj, ref)
        if wait:
            target = self.path(str(obj.get("id", resolved)))
            wait_for(ctx, target, label, timeout=timeout, gone=True)
            print_done(f"{label} deleted", obj, output)
        else:
            status = obj.get("status", "PENDING_DELETE")
            print_done(f"{label}: deletion requested ({status})", obj, output)

    def _finish(
        self,
        ctx: typer.Context,
        answer: Any,
        ref: str | None,
        wait: bool,
        timeout: float,
        output: OutputFormat,
    ) -> None:
        """Print a write's answer or, with --wait, the object once ACTIVE."""
        obj = pop_warnings(answer)
        if wait:
            ident = str(obj["id"])
            label = self.label(obj, ref or ident)
            obj = wait_for(ctx, self.path(ident), label, timeout=timeout) or obj
        self.printer(obj, output)
