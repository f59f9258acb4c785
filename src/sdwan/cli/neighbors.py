"""``sdwan neighbor ...``: BGP neighbors, addressed by id, ROUTER/ADDRESS or a unique address."""

from __future__ import annotations

import ipaddress
import sys
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

import typer

from sdwan.cli.client import ApiClient
from sdwan.cli.common import (
    TIMEOUT,
    AllOpt,
    DescriptionOpt,
    IfMatchOpt,
    Item,
    LimitOpt,
    OffsetOpt,
    Paging,
    Resource,
    SortOpt,
    StatusOpt,
    TimeoutOpt,
    WaitOpt,
    given,
)
from sdwan.cli.errors import CliError
from sdwan.cli.live import duration
from sdwan.cli.output import OutputFormat, OutputOpt, cell

app = typer.Typer(help="Manage BGP neighbors of routers.", no_args_is_help=True)

COLUMNS = [
    ("ID", "id"),
    ("ROUTER", "router_name"),
    ("ADDRESS", "address"),
    ("PEER ASN", "peer_asn"),
    ("ENABLED", "enabled"),
    ("STATUS", "status"),
    ("SESSION", "session_state"),
    ("UP/DOWN", "session"),
    ("UPTIME", "uptime"),
    ("RCVD/ACPT/ADV", "prefixes"),
]

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


def _fields(**options: Any) -> dict[str, Any]:
    body = given(**options)
    if body.get("local_address") == "":
        body["local_address"] = None  # JSON null: no explicit local address
    return body


def _label(neighbor: Mapping[str, Any], ref: str) -> str:
    if not neighbor:
        return f"neighbor {ref}"
    router = neighbor.get("router_name") or neighbor.get("router")
    if router and neighbor.get("address"):
        return f"neighbor {router}/{neighbor['address']}"
    return f"neighbor {neighbor.get('id', '?')}"


def _table_row(neighbor: Item) -> Item:
    """The ROUTER column falls back to the router's id; live columns formatted."""
    received, accepted = neighbor.get("prefixes_received"), neighbor.get("prefixes_accepted")
    advertised = neighbor.get("prefixes_advertised")
    counts = [received, accepted, advertised]
    return {
        **neighbor,
        "router_name": neighbor.get("router_name") or neighbor.get("router"),
        "uptime": duration(neighbor.get("uptime")),
        "prefixes": "" if counts == [None] * 3 else "/".join(cell(c) or "-" for c in counts),
    }


NEIGHBORS = Resource("neighbors", COLUMNS, _label, resolve)


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
    NEIGHBORS.create(ctx, body, wait, timeout, output)


@app.command("list")
def list_(
    ctx: typer.Context,
    router: Annotated[str | None, typer.Option("--router", help="Only this router.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="Only this address.")] = None,
    status: StatusOpt = None,
    sort: SortOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    all_: AllOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List neighbors."""
    filters = {"router": router, "address": _canonical_ip(address, address) if address else None}
    paging = Paging(status, sort, limit, offset, all_)
    NEIGHBORS.list_(ctx, filters, paging, output, _table_row)


@app.command("show")
def show(ctx: typer.Context, ref: RefArg, output: OutputOpt = OutputFormat.table) -> None:
    """Show one neighbor."""
    NEIGHBORS.show(ctx, ref, output)


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
        local_address=local_address,
    )
    NEIGHBORS.update(ctx, ref, body, if_match, wait, timeout, output)


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
    NEIGHBORS.delete(ctx, ref, if_match, wait, timeout, output)
