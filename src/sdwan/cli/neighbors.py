"""``sdwan neighbor ...``: BGP neighbors, addressed by id, ROUTER/ADDRESS or a unique address."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping
from typing import Any

import typer

from sdwan.cli.client import ApiClient
from sdwan.cli.commands import (
    DESCRIPTION,
    ROUTER_FILTER,
    Args,
    Filter,
    ResourceCommands,
    argument,
    option,
)
from sdwan.cli.errors import CliError
from sdwan.cli.live import duration
from sdwan.cli.output import cell
from sdwan.cli.resource import Item, Resource
from sdwan.cli.values import given, read_secret

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

REF = argument("NEIGHBOR", "Neighbor id, ROUTER/ADDRESS, or an address unique across routers.")
ROUTER = option("router", str | None, "--router", "--host_name", help="Router name or id.")
ADDRESS = option(
    "address", str | None, "--address", "--neighbor_addr", help="Neighbor IPv4/IPv6 address."
)
API_ADDRESS = option(
    "api_address",
    str | None,
    "--api-address",
    "--mgmt_addr",
    help="The router's gobgpd endpoint; checked against the router's (create only).",
)
# what set can change; create takes them too, after --router, --address and --api-address
FIELDS = (
    option("peer_asn", int | None, "--peer-asn", "--peer_as", help="Peer AS number."),
    DESCRIPTION,
    option(
        "local_address",
        str | None,
        "--local-address",
        help="Local address for the session; '' unsets.",
    ),
    option("hold_time", int | None, "--hold-time", help="0 or 3..65535 seconds."),
    option(
        "keepalive",
        int | None,
        "--keepalive",
        "--keepalive-interval",
        help="Seconds; less than hold time.",
    ),
    option("passive", bool | None, "--passive/--no-passive"),
    option(
        "ebgp_multihop_ttl",
        int | None,
        "--ebgp-multihop-ttl",
        help="0..255; 0 turns multihop off.",
    ),
    option(
        "password_stdin",
        bool,
        "--password-stdin",
        default=False,
        help="Read the TCP-MD5 password from stdin (recommended).",
    ),
    option(
        "password",
        str | None,
        "--password",
        help="TCP-MD5 password; visible to other users in `ps`, prefer --password-stdin. "
        "'' clears it.",
    ),
    option(
        "route_reflector_client",
        bool | None,
        "--route-reflector-client/--no-route-reflector-client",
    ),
    option("enabled", bool | None, "--enabled/--disabled", help="Admin state of the session."),
    option(
        "family", list[str] | None, "--family", help="ipv4-unicast or ipv6-unicast (repeatable)."
    ),
)


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


def _body(args: Args) -> Item:
    """The fields given; ``--local-address ''`` is JSON null (no explicit local address)."""
    body = given(
        router=args.get("router"),
        address=args.get("address"),
        peer_asn=args["peer_asn"],
        api_address=args.get("api_address"),
        description=args["description"],
        local_address=args["local_address"],
        hold_time=args["hold_time"],
        keepalive_interval=args["keepalive"],
        passive=args["passive"],
        ebgp_multihop_ttl=args["ebgp_multihop_ttl"],
        password=read_secret(args["password"], args["password_stdin"], "password"),
        route_reflector_client=args["route_reflector_client"],
        enabled=args["enabled"],
        families=args["family"] or None,
    )
    if body.get("local_address") == "":
        body["local_address"] = None
    return body


def _name(neighbor: Mapping[str, Any]) -> str | None:
    """``ROUTER/ADDRESS``, or its id when the object lacks them."""
    if not neighbor:
        return None
    router = neighbor.get("router_name") or neighbor.get("router")
    if router and neighbor.get("address"):
        return f"{router}/{neighbor['address']}"
    return str(neighbor.get("id", "?"))


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


NEIGHBORS = Resource(
    "neighbors", "neighbor", COLUMNS, name_of=_name, resolve=resolve, row=_table_row
)
commands = ResourceCommands(app, NEIGHBORS, REF)

commands.add_create(
    "Add a BGP neighbor to a router.",
    [ROUTER.required(), ADDRESS.required(), FIELDS[0].required(), API_ADDRESS, *FIELDS[1:]],
    _body,
)
commands.add_list(
    "List neighbors.",
    [
        ROUTER_FILTER,
        Filter(
            option("address", str | None, "--address", help="Only this address."),
            lambda address: _canonical_ip(address, address) if address else None,
        ),
    ],
)
commands.add_show("Show one neighbor.")
commands.add_set(
    "Change a neighbor (only the options given; the address cannot change).", FIELDS, _body
)
commands.add_delete("Delete a neighbor (gobgpd drops the session).")
