"""What the ``router`` and ``neighbor`` groups share: option types and the command flows.

A command reads its own options, then hands over to its collection's :class:`Resource`,
which talks to the API and prints the answer the same way for every collection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

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

TIMEOUT = 30.0  # seconds --wait waits unless --timeout says otherwise

WaitOpt = Annotated[
    bool,
    typer.Option("--wait", help="Wait until the resource is ACTIVE (gone, for delete) or ERROR."),
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", min=0, help="Seconds --wait waits before failing.")
]
IfMatchOpt = Annotated[
    str | None,
    typer.Option(
        "--if-match", metavar="VERSION", help="Refuse the write (412) unless the version is this."
    ),
]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="Free text.")]
StatusOpt = Annotated[str | None, typer.Option("--status", help="Only this status.")]
SortOpt = Annotated[
    str | None, typer.Option("--sort", help="Field(s) to sort by; -field descends.")
]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, max=1000)]
OffsetOpt = Annotated[int | None, typer.Option("--offset", min=0)]
AllOpt = Annotated[bool, typer.Option("--all", help="Fetch every page (--limit is the page size).")]

Item = dict[str, Any]


def given(**options: Any) -> dict[str, Any]:
    """The options given (those not None), in order: a request body or query of just those."""
    return {key: value for key, value in options.items() if value is not None}


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


@dataclass(frozen=True)
class Resource:
    """One API collection (``routers``, ``neighbors``) as its commands use it.

    ``label(obj, ref)`` names an object in messages (``ref`` where the object says too
    little); ``resolve(client, ref)`` turns the reference typed into the one the API takes.
    """

    collection: str
    columns: Columns
    label: Callable[[Mapping[str, Any], str], str]
    resolve: Callable[[ApiClient, str], str] = _as_typed

    def path(self, ref: str) -> str:
        return resource_path(self.collection, ref)

    def list_(
        self,
        ctx: typer.Context,
        filters: Mapping[str, Any],
        paging: Paging,
        output: OutputFormat,
        table_row: Callable[[Item], Item] | None = None,
    ) -> None:
        """One page (with a hint when there are more) or, with --all, every page."""
        client, query = get_client(ctx), paging.query(filters)
        path = f"/v1/{self.collection}"
        items, total = list_items(client, path, query, fetch_all=paging.fetch_all)
        if table_row is not None and output is OutputFormat.table:
            items = [table_row(item) for item in items]
        print_list(items, self.columns, output)
        if not paging.fetch_all:
            page_hint(len(items), paging.offset or 0, total, output)

    def show(self, ctx: typer.Context, ref: str, output: OutputFormat) -> None:
        client = get_client(ctx)
        print_object(client.get(self.path(self.resolve(client, ref))) or {}, output)

    def create(
        self, ctx: typer.Context, body: Item, wait: bool, timeout: float, output: OutputFormat
    ) -> None:
        answer = get_client(ctx).post(f"/v1/{self.collection}", body)
        self._finish(ctx, answer, wait, timeout, output)

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
        self._finish(ctx, answer, wait, timeout, output)

    def delete(
        self,
        ctx: typer.Context,
        ref: str,
        if_match: str | None,
        wait: bool,
        timeout: float,
        output: OutputFormat,
        params: Mapping[str, str] | None = None,
    ) -> None:
        """A sentence in table mode (the API's answer otherwise), once gone with --wait."""
        client = get_client(ctx)
        resolved = self.resolve(client, ref)
        answer = client.delete(self.path(resolved), params=params, if_match=if_match)
        obj = pop_warnings(answer)
        label = self.label(obj, ref)
        if wait:
            target = self.path(str(obj.get("id", resolved)))
            wait_for(ctx, target, label, timeout=timeout, gone=True)
            print_done(f"{label} deleted", obj, output)
        else:
            status = obj.get("status", "PENDING_DELETE")
            print_done(f"{label}: deletion requested ({status})", obj, output)

    def _finish(
        self, ctx: typer.Context, answer: Any, wait: bool, timeout: float, output: OutputFormat
    ) -> None:
        """Print a write's answer or, with --wait, the object once ACTIVE."""
        obj = pop_warnings(answer)
        if wait:
            ref = str(obj["id"])
            label = self.label(obj, ref)
            obj = wait_for(ctx, self.path(ref), label, timeout=timeout) or obj
        print_object(obj, output)
