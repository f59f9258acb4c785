"""``sdwan router ...``: GoBGP routers (one gobgpd each), addressed by name or id."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sdwan.cli.client import (
    CliError,
    IfMatchOpt,
    TimeoutOpt,
    WaitOpt,
    get_client,
    list_items,
    resource_path,
    wait_for,
)
from sdwan.cli.output import (
    OutputFormat,
    OutputOpt,
    page_hint,
    pop_warnings,
    print_done,
    print_list,
    print_object,
)

app = typer.Typer(help="Manage routers (gobgpd instances).", no_args_is_help=True)

COLUMNS = [
    ("ID", "id"),
    ("NAME", "name"),
    ("ROUTER ID", "router_id"),
    ("ASN", "asn"),
    ("API ADDRESS", "api_address"),
    ("STATUS", "status"),
]

RefArg = Annotated[str, typer.Argument(metavar="ROUTER", help="Router name or id.")]
NameOpt = Annotated[str | None, typer.Option("--name", "--host_name", help="Router name (unique).")]
RouterIdOpt = Annotated[
    str | None, typer.Option("--router-id", "--router_id", help="BGP router ID (IPv4 dotted).")
]
AsnOpt = Annotated[int | None, typer.Option("--asn", "--local_as", help="Local AS number.")]
ApiAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--api-address",
        "--mgmt_addr",
        help="gobgpd gRPC endpoint: host[:port] (port 50051 by default) or unix:///path.",
    ),
]
ListenPortOpt = Annotated[
    int | None, typer.Option("--listen-port", help="BGP port; -1: do not listen.")
]
ListenAddressOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--listen-address",
        help="Address to listen on (repeatable; default all). On set, '' clears the list.",
    ),
]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="Free text.")]
TIMEOUT = 30.0


def _path(ref: str) -> str:
    return resource_path("routers", ref)


def _fields(
    name: str | None,
    router_id: str | None,
    asn: int | None,
    api_address: str | None,
    listen_port: int | None,
    listen_address: list[str] | None,
    description: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "router_id": router_id,
        "asn": asn,
        "api_address": api_address,
        "listen_port": listen_port,
        "description": description,
    }
    if listen_address is not None:
        body["listen_addresses"] = [address for address in listen_address if address]
    return {key: value for key, value in body.items() if value is not None}


def _finish(
    ctx: typer.Context, answer: Any, wait: bool, timeout: float, output: OutputFormat
) -> None:
    router = pop_warnings(answer)
    if wait:
        label = f"router {router.get('name', router.get('id'))}"
        router = wait_for(ctx, _path(str(router["id"])), label, timeout=timeout) or router
    print_object(router, output)


@app.command("create")
def create(
    ctx: typer.Context,
    name: NameOpt,
    router_id: RouterIdOpt,
    asn: AsnOpt,
    api_address: ApiAddressOpt,
    listen_port: ListenPortOpt = None,
    listen_address: ListenAddressOpt = None,
    description: DescriptionOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create a router (the orchestrator starts BGP on its gobgpd)."""
    body = _fields(name, router_id, asn, api_address, listen_port, listen_address, description)
    answer = get_client(ctx).post("/v1/routers", body)
    _finish(ctx, answer, wait, timeout, output)


@app.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", help="Only this name.")] = None,
    asn: Annotated[int | None, typer.Option("--asn", help="Only this AS number.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    sort: Annotated[
        str | None, typer.Option("--sort", help="Field(s) to sort by; -field descends.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, max=1000)] = None,
    offset: Annotated[int | None, typer.Option("--offset", min=0)] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Fetch every page (--limit is the page size).")
    ] = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List routers."""
    params = {
        "name": name,
        "asn": asn,
        "status": status.upper() if status else None,
        "sort": sort,
        "limit": limit,
        "offset": offset,
    }
    query = {key: value for key, value in params.items() if value is not None}
    items, total = list_items(get_client(ctx), "/v1/routers", query, fetch_all=all_)
    print_list(items, COLUMNS, output)
    if not all_:
        page_hint(len(items), offset or 0, total, output)


@app.command("show")
def show(ctx: typer.Context, ref: RefArg, output: OutputOpt = OutputFormat.table) -> None:
    """Show one router."""
    print_object(get_client(ctx).get(_path(ref)) or {}, output)


@app.command("set")
def set_(
    ctx: typer.Context,
    ref: RefArg,
    name: NameOpt = None,
    router_id: RouterIdOpt = None,
    asn: AsnOpt = None,
    api_address: ApiAddressOpt = None,
    listen_port: ListenPortOpt = None,
    listen_address: ListenAddressOpt = None,
    description: DescriptionOpt = None,
    if_match: IfMatchOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Change a router's fields (only those given)."""
    body = _fields(name, router_id, asn, api_address, listen_port, listen_address, description)
    if not body:
        raise CliError("nothing to change: give at least one field option (see --help)")
    answer = get_client(ctx).patch(_path(ref), body, if_match=if_match)
    _finish(ctx, answer, wait, timeout, output)


@app.command("delete")
def delete(
    ctx: typer.Context,
    ref: RefArg,
    cascade: Annotated[
        bool, typer.Option("--cascade", help="Also delete the router's neighbors.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Remove it from the store without waiting for its gobgpd."),
    ] = False,
    if_match: IfMatchOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Delete a router (its gobgpd is left stopped)."""
    params = {key: "true" for key, on in (("cascade", cascade), ("force", force)) if on}
    answer = get_client(ctx).delete(_path(ref), params=params, if_match=if_match)
    router = pop_warnings(answer)
    label = f"router {router.get('name', ref)}"
    if wait:
        target = _path(str(router.get("id", ref)))
        wait_for(ctx, target, label, timeout=timeout, gone=True)
        print_done(f"{label} deleted", router, output)
    else:
        status = router.get("status", "PENDING_DELETE")
        print_done(f"{label}: deletion requested ({status})", router, output)
