"""``sdwan site ...`` and ``sdwan uplink ...``: the places an intent talks about.

A site is named by its name (or id); an uplink by ``SITE/NAME`` or its id. The API
applies their writes at once: no --wait."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from sdwan.cli.client import ApiClient
from sdwan.cli.commands import (
    DESCRIPTION,
    PAGING,
    REQUIRED,
    SITE_FILTER,
    Args,
    ResourceCommands,
    argument,
    option,
)
from sdwan.cli.errors import CliError
from sdwan.cli.resource import Item, Resource, name_field
from sdwan.cli.values import given, is_uuid, split_list
from sdwan.domain.intent import TRANSPORTS

site_app = typer.Typer(
    help="Manage sites: routers and the prefixes they own.", no_args_is_help=True
)
uplink_app = typer.Typer(
    help="Manage uplinks: named roles on neighbors of site routers.", no_args_is_help=True
)

SITE_COLUMNS = [
    ("NAME", "name"),
    ("ROUTERS", "router_names"),
    ("PREFIXES", "prefix_list"),
    ("UPLINKS", "uplinks"),
    ("INTENTS", "intents"),
    ("STATUS", "status"),
]
UPLINK_COLUMNS = [
    ("SITE", "site_name"),
    ("NAME", "name"),
    ("ROUTER", "router_name"),
    ("NEIGHBOR", "neighbor"),
    ("TRANSPORT", "transport"),
    ("COST", "cost"),
    ("MBPS", "bandwidth_mbps"),
    ("USED BY", "used_by"),
]


def prefix_member(text: str) -> dict[str, Any]:
    """``P`` or ``P,ge=N,le=M`` -> a prefix member."""
    prefix, *ranges = [part.strip() for part in text.split(",")]
    member: dict[str, Any] = {"prefix": prefix}
    for item in ranges:
        key, _, value = item.partition("=")
        if key not in ("ge", "le") or not value.isdigit():
            raise CliError(f"--prefix {text!r}: expected PREFIX[,ge=N][,le=M]")
        member[key] = int(value)
    return member


def split_site_ref(ref: str, kind: str) -> tuple[str, str]:
    """``SITE/NAME`` of an uplink or intent -> (site, name)."""
    site, sep, name = ref.partition("/")
    if not sep or not site or not name:
        raise CliError(f"{ref!r}: expected SITE/NAME (the {kind}'s site and name)")
    return site, name


def in_site(collection: str, kind: str) -> Callable[[ApiClient, str], str]:
    """A resolver of ``SITE/NAME`` (or an id, as is) to the id, for uplinks and intents."""

    def resolve(client: ApiClient, ref: str) -> str:
        if is_uuid(ref):
            return ref
        site, name = split_site_ref(ref, kind)
        page = client.get(f"/v1/{collection}", {"site": site, "name": name}) or {}
        items = page.get("items") or []
        if not items:
            raise CliError(f"no {kind} {name} in site {site}", status=404)
        return str(items[0]["id"])

    return resolve


# --- sites -----------------------------------------------------------------------------

ROUTERS = option(
    "router",
    list[str] | None,
    "--router",
    help="A router of the site (repeatable; on set: the whole list).",
)
PREFIXES = option(
    "prefix",
    list[str] | None,
    "--prefix",
    help="A prefix the site owns, e.g. 198.51.100.0/24 or 10.0.0.0/8,le=24.",
)
FIB_AGENTS = option(
    "fib_agent",
    list[str] | None,
    "--fib-agent",
    metavar="ROUTER=unix:///PATH",
    help="Where that router's FIB agent serves its status (default: <gobgpd socket>.fib).",
)


def _members(router: list[str] | None, fib: list[str] | None) -> list[dict[str, Any]] | None:
    agents: dict[str, str] = {}
    for entry in fib or []:
        name, sep, address = entry.partition("=")
        if not sep or not address:
            raise CliError(f"--fib-agent {entry!r}: expected ROUTER=unix:///path")
        agents[name] = address
    if router is None:
        if agents:
            raise CliError("--fib-agent needs the site's --router list with it")
        return None
    unknown = set(agents) - set(router)
    if unknown:
        raise CliError(f"--fib-agent names {sorted(unknown)[0]}, which is not a --router")
    return [{"router": r, **({"fib_agent": agents[r]} if r in agents else {})} for r in router]


def _site_create_body(args: Args) -> Item:
    prefixes = args["prefix"]
    return given(
        name=args["name"],
        routers=_members(args["router"], args["fib_agent"]),
        prefixes=[prefix_member(p) for p in prefixes] if prefixes else None,
        next_hop_self=args["next_hop_self"],
        description=args["description"],
        project=args["project"],
    )


def _site_set_body(args: Args) -> Item:
    """--router and --prefix replace the lists; '' alone empties them."""
    prefixes = split_list(args["prefix"])
    return given(
        routers=_members(split_list(args["router"]), args["fib_agent"]),
        prefixes=[prefix_member(p) for p in prefixes] if prefixes is not None else None,
        next_hop_self=args["next_hop_self"],
        description=args["description"],
    )


def _site_row(item: Item) -> Item:
    return {
        **item,
        "router_names": [r.get("router_name") or r.get("router") for r in item.get("routers", [])],
        "prefix_list": [p.get("prefix") for p in item.get("prefixes", [])],
    }


SITES = Resource(
    "sites",
    "site",
    SITE_COLUMNS,
    name_of=name_field,
    row=_site_row,
    applied_at_once=True,
    deleted_at_once=True,
)
sites = ResourceCommands(site_app, SITES, argument("SITE", "Site name or id.", name="site"))
sites.add_create(
    "Create a site.",
    [
        argument("NAME", name="name"),
        ROUTERS,
        PREFIXES,
        option(
            "next_hop_self",
            bool,
            default=True,
            help="Routers rewrite the next hop to themselves towards iBGP neighbors.",
        ),
        FIB_AGENTS,
        DESCRIPTION,
        option("project", str | None, help="Admins: the project."),
    ],
    _site_create_body,
)
sites.add_list("List sites.", paging=PAGING)
sites.add_show("Show a site.")
sites.add_set(
    "Change a site (--router and --prefix replace the lists; '' alone empties them).",
    [
        ROUTERS,
        PREFIXES,
        option("next_hop_self", bool | None, help="See create."),
        FIB_AGENTS,
        DESCRIPTION,
    ],
    _site_set_body,
)
sites.add_delete("Delete a site with its uplinks and intents (their policy leaves the routers).")


# --- uplinks ---------------------------------------------------------------------------

UPLINK_FIELDS = (
    option(
        "transport",
        str | None,
        "--transport",
        help=f"{', '.join(TRANSPORTS[:-1])} or {TRANSPORTS[-1]}.",
    ),
    option("cost", int | None, "--cost", min=0, max=65535, help="Lower is cheaper."),
    option(
        "bandwidth", int | None, "--bandwidth", min=1, help="Megabits per second (informational)."
    ),
    DESCRIPTION,
)


def _uplink_fields(args: Args) -> Item:
    return given(
        transport=args["transport"],
        cost=args["cost"],
        bandwidth_mbps=args["bandwidth"],
        description=args["description"],
    )


def _uplink_create_body(args: Args) -> Item:
    site, name = split_site_ref(args["ref"], "uplink")
    where = {"site": site, "name": name, "router": args["router"], "neighbor": args["neighbor"]}
    return {**where, **_uplink_fields(args)}


UPLINKS = Resource(
    "uplinks",
    "uplink",
    UPLINK_COLUMNS,
    resolve=in_site("uplinks", "uplink"),
    applied_at_once=True,
    deleted_at_once=True,
)
uplinks = ResourceCommands(uplink_app, UPLINKS, argument("SITE/NAME", "Uplink SITE/NAME or id."))
uplinks.add_create(
    "Give a neighbor of a site router an uplink role.",
    [
        argument("SITE/NAME"),
        option("router", str, "--router", default=REQUIRED, help="The site router it is on."),
        option("neighbor", str, "--neighbor", default=REQUIRED, help="The neighbor's address."),
        *UPLINK_FIELDS,
    ],
    _uplink_create_body,
)
uplinks.add_list("List uplinks.", [SITE_FILTER], paging=PAGING)
uplinks.add_show("Show an uplink.")
uplinks.add_set("Change an uplink's transport, cost or bandwidth.", UPLINK_FIELDS, _uplink_fields)
uplinks.add_delete("Delete an uplink no intent names.")
