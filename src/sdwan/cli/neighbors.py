"""``sdwan neighbor ...``: BGP neighbors, addressed by id, ROUTER/ADDRESS or a unique address."""

from __future__ import annotations

import ipaddress
import sys
import uuid
from typing import Annotated, Any

import typer

from sdwan.cli.client import (
    ApiClient,
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

app = typer.Typer(help="Manage BGP neighbors of routers.", no_args_is_help=True)

COLUMNS = [
    ("ID", "id"),
    ("ROUTER", "router_name"),
    ("ADDRESS", "address"),
    ("PEER ASN", "peer_asn"),
    ("ENABLED", "enabled"),
    ("STATUS", "status"),
]
TIMEOUT = 30.0

RefArg = Annotated[
    str,
    typer.Argument(
        metavar="NEIGHBOR", help="Neighbor id, ROUTER/ADDRESS, or an address unique across routers."
    ),
]
RouterOpt = Annotated[
    str | None, typer.Option("--router", "--host_name", help="Router name or id.")
]
AddressOpt = Annotated[
    str | None, typer.Option("--address", "--neighbor_addr", help="Neighbor IPv4/IPv6 address.")
]
PeerAsnOpt = Annotated[int | None, typer.Option("--peer-asn", "--peer_as", help="Peer AS number.")]
ApiAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--api-address",
        "--mgmt_addr",
        help="The router's gobgpd endpoint; checked against the router's (create only).",
    ),
]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="Free text.")]
LocalAddressOpt = Annotated[
    str | None, typer.Option("--local-address", help="Local address for the session; '' unsets.")
]
HoldTimeOpt = Annotated[int | None, typer.Option("--hold-time", help="0 or 3..65535 seconds.")]
KeepaliveOpt = Annotated[
    int | None,
    typer.Option("--keepalive", "--keepalive-interval", help="Seconds; less than hold time."),
]
PassiveOpt = Annotated[bool | None, typer.Option("--passive/--no-passive")]
MultihopOpt = Annotated[
    int | None, typer.Option("--ebgp-multihop-ttl", help="0..255; 0 turns multihop off.")
]
PasswordStdinOpt = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the TCP-MD5 password from stdin (recommended)."),
]
PasswordOpt = Annotated[
    str | None,
    typer.Option(
        "--password",
        help="TCP-MD5 password; visible to other users in `ps`, prefer --password-stdin. "
        "'' clears it.",
    ),
]
RrClientOpt = Annotated[
    bool | None, typer.Option("--route-reflector-client/--no-route-reflector-client")
]
EnabledOpt = Annotated[
    bool | None, typer.Option("--enabled/--disabled", help="Admin state of the session.")
]
FamilyOpt = Annotated[
    list[str] | None,
    typer.Option("--family", help="ipv4-unicast or ipv6-unicast (repeatable)."),
]


def _path(neighbor_id: str) -> str:
    return resource_path("neighbors", neighbor_id)


def _canonical_ip(text: str, ref: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise CliError(f"{ref!r} is not a neighbor id, ROUTER/ADDRESS or IP address") from None


def resolve(client: ApiClient, ref: str) -> str:
    """The id of the neighbor ``ref`` names (id, ROUTER/ADDRESS or unique bare address)."""
    try:
        return str(uuid.UUID(ref))
    except ValueError:
        pass
    if "/" in ref:
        router, address_text = ref.rsplit("/", 1)  # router names and addresses hold no '/'
        if not router:
            raise CliError(f"{ref!r}: expected ROUTER/ADDRESS")
        address = _canonical_ip(address_text, ref)
        page = client.get("/v1/neighbors", {"router": router, "address": address, "limit": 2})
        items = (page or {}).get("items") or []
        if not items:
            raise CliError(f"no neighbor {address} on router {router}", status=404)
        return str(items[0]["id"])
    address = _canonical_ip(ref, ref)
    page = client.get("/v1/neighbors", {"address": address, "limit": 100}) or {}
    items = page.get("items") or []
    if not items:
        raise CliError(f"no neighbor with address {address}", status=404)
    if len(items) > 1 or int(page.get("total", 1)) > 1:
        routers = sorted({str(item.get("router_name") or item.get("router")) for item in items})
        raise CliError(
            f"address {address} is a neighbor of several routers ({', '.join(routers)}); "
            f"use ROUTER/ADDRESS, e.g. {routers[0]}/{address}"
        )
    return str(items[0]["id"])


def _password(password: str | None, from_stdin: bool) -> str | None:
    if password is not None and from_stdin:
        raise CliError("give either --password or --password-stdin, not both")
    if not from_stdin:
        return password
    secret = sys.stdin.read()
    return secret.removesuffix("\n").removesuffix("\r")


def _fields(**given: Any) -> dict[str, Any]:
    body = {key: value for key, value in given.items() if value is not None}
    if body.get("local_address") == "":
        body["local_address"] = None  # JSON null: no explicit local address
    return body


def _label(neighbor: dict[str, Any]) -> str:
    router = neighbor.get("router_name") or neighbor.get("router")
    if router and neighbor.get("address"):
        return f"neighbor {router}/{neighbor['address']}"
    return f"neighbor {neighbor.get('id', '?')}"


def _finish(
    ctx: typer.Context, answer: Any, wait: bool, timeout: float, output: OutputFormat
) -> None:
    neighbor = pop_warnings(answer)
    if wait:
        target = _path(str(neighbor["id"]))
        neighbor = wait_for(ctx, target, _label(neighbor), timeout=timeout) or neighbor
    print_object(neighbor, output)


@app.command("create")
def create(
    ctx: typer.Context,
    router: RouterOpt,
    address: AddressOpt,
    peer_asn: PeerAsnOpt,
    api_address: ApiAddressOpt = None,
    description: DescriptionOpt = None,
    local_address: LocalAddressOpt = None,
    hold_time: HoldTimeOpt = None,
    keepalive: KeepaliveOpt = None,
    passive: PassiveOpt = None,
    ebgp_multihop_ttl: MultihopOpt = None,
    password_stdin: PasswordStdinOpt = False,
    password: PasswordOpt = None,
    route_reflector_client: RrClientOpt = None,
    enabled: EnabledOpt = None,
    family: FamilyOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Add a BGP neighbor to a router."""
    body = _fields(
        router=router,
        address=address,
        peer_asn=peer_asn,
        api_address=api_address,
        description=description,
        local_address=local_address,
        hold_time=hold_time,
        keepalive_interval=keepalive,
        passive=passive,
        ebgp_multihop_ttl=ebgp_multihop_ttl,
        password=_password(password, password_stdin),
        route_reflector_client=route_reflector_client,
        enabled=enabled,
        families=family or None,
    )
    answer = get_client(ctx).post("/v1/neighbors", body)
    _finish(ctx, answer, wait, timeout, output)


@app.command("list")
def list_(
    ctx: typer.Context,
    router: Annotated[str | None, typer.Option("--router", help="Only this router.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="Only this address.")] = None,
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
    """List neighbors."""
    params = {
        "router": router,
        "address": _canonical_ip(address, address) if address else None,
        "status": status.upper() if status else None,
        "sort": sort,
        "limit": limit,
        "offset": offset,
    }
    query = {key: value for key, value in params.items() if value is not None}
    items, total = list_items(get_client(ctx), "/v1/neighbors", query, fetch_all=all_)
    if output is OutputFormat.table:  # the ROUTER column falls back to the router's id
        items = [
            {**item, "router_name": item.get("router_name") or item.get("router")} for item in items
        ]
    print_list(items, COLUMNS, output)
    if not all_:
        page_hint(len(items), offset or 0, total, output)


@app.command("show")
def show(ctx: typer.Context, ref: RefArg, output: OutputOpt = OutputFormat.table) -> None:
    """Show one neighbor."""
    client = get_client(ctx)
    print_object(client.get(_path(resolve(client, ref))) or {}, output)


@app.command("set")
def set_(
    ctx: typer.Context,
    ref: RefArg,
    peer_asn: PeerAsnOpt = None,
    description: DescriptionOpt = None,
    local_address: LocalAddressOpt = None,
    hold_time: HoldTimeOpt = None,
    keepalive: KeepaliveOpt = None,
    passive: PassiveOpt = None,
    ebgp_multihop_ttl: MultihopOpt = None,
    password_stdin: PasswordStdinOpt = False,
    password: PasswordOpt = None,
    route_reflector_client: RrClientOpt = None,
    enabled: EnabledOpt = None,
    family: FamilyOpt = None,
    if_match: IfMatchOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Change a neighbor (only the options given; the address cannot change)."""
    body = _fields(
        peer_asn=peer_asn,
        description=description,
        hold_time=hold_time,
        keepalive_interval=keepalive,
        passive=passive,
        ebgp_multihop_ttl=ebgp_multihop_ttl,
        password=_password(password, password_stdin),
        route_reflector_client=route_reflector_client,
        enabled=enabled,
        families=family or None,
    )
    if local_address is not None:
        body["local_address"] = local_address or None
    if not body:
        raise CliError("nothing to change: give at least one field option (see --help)")
    client = get_client(ctx)
    answer = client.patch(_path(resolve(client, ref)), body, if_match=if_match)
    _finish(ctx, answer, wait, timeout, output)


@app.command("delete")
def delete(
    ctx: typer.Context,
    ref: RefArg,
    if_match: IfMatchOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Delete a neighbor (gobgpd drops the session)."""
    client = get_client(ctx)
    neighbor_id = resolve(client, ref)
    neighbor = pop_warnings(client.delete(_path(neighbor_id), if_match=if_match))
    label = _label(neighbor) if neighbor else f"neighbor {ref}"
    if wait:
        wait_for(ctx, _path(neighbor_id), label, timeout=timeout, gone=True)
        print_done(f"{label} deleted", neighbor, output)
    else:
        status = neighbor.get("status", "PENDING_DELETE")
        print_done(f"{label}: deletion requested ({status})", neighbor, output)
