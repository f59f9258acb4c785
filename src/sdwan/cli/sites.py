"""``sdwan site ...``: the places an intent talks about, and how uplinks and intents
are named in them.

A site is named by its name (or id); an uplink or intent by ``SITE/NAME`` or its id.
The API applies site writes at once: no --wait."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from sdwan.cli.client import ApiClient
from sdwan.cli.commands import (
    DESCRIPTION,
    PAGING,
    Args,
    ResourceCommands,
    argument,
    option,
)
from sdwan.cli.errors import CliError
from sdwan.cli.resource import Item, Resource, name_field
from sdwan.cli.values import given, is_uuid, split_list

site_app = typer.Typer(
    help="Manage sites: routers and the prefixes they own.", no_args_is_help=True
)

SITE_COLUMNS = [
    ("NAME", "name"),
    ("ROUTERS", "router_names"),
    ("PREFIXES", "prefix_list"),
    ("UPLINKS", "uplinks"),
    ("INTENTS", "intents"),
    ("STATUS", "status"),
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
PROBE_AGENTS = option(
    "probe_agent",
    list[str] | None,
    "--probe-agent",
    metavar="ROUTER=unix:///PATH",
    help="Where that router's probe agent listens (default: <gobgpd socket>.probe).",
)


def _agents(entries: list[str] | None, spelled: str) -> dict[str, str]:
    """``ROUTER=unix:///path`` entries of an agent option, by router."""
    agents: dict[str, str] = {}
    for entry in entries or []:
        name, sep, address = entry.partition("=")
        if not sep or not address:
            raise CliError(f"{spelled} {entry!r}: expected ROUTER=unix:///path")
        agents[name] = address
    return agents


def _members(router: list[str] | None, args: Args) -> list[dict[str, Any]] | None:
    """The --router list with each router's agents (--fib-agent, --probe-agent)."""
    agents = {key: _agents(args[key], _spelled(key)) for key in ("fib_agent", "probe_agent")}
    for key, found in agents.items():
        spelled = _spelled(key)
        if router is None and found:
            raise CliError(f"{spelled} needs the site's --router list with it")
        unknown = set(found) - set(router or [])
        if unknown:
            raise CliError(f"{spelled} names {sorted(unknown)[0]}, which is not a --router")
    if router is None:
        return None
    return [
        {"router": r, **{key: found[r] for key, found in agents.items() if r in found}}
        for r in router
    ]


def _spelled(key: str) -> str:
    return "--" + key.replace("_", "-")


def _site_create_body(args: Args) -> Item:
    prefixes = args["prefix"]
    return given(
        name=args["name"],
        routers=_members(args["router"], args),
        prefixes=[prefix_member(p) for p in prefixes] if prefixes else None,
        next_hop_self=args["next_hop_self"],
        description=args["description"],
        project=args["project"],
    )


def _site_set_body(args: Args) -> Item:
    """--router and --prefix replace the lists; '' alone empties them."""
    prefixes = split_list(args["prefix"])
    return given(
        routers=_members(split_list(args["router"]), args),
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
        PROBE_AGENTS,
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
        PROBE_AGENTS,
        DESCRIPTION,
    ],
    _site_set_body,
)
sites.add_delete("Delete a site with its uplinks and intents (their policy leaves the routers).")
