"""``sdwan announcement ...``: prefixes a router originates, with their path attributes.

Announcements are addressed by id, ``ROUTER/PREFIX`` (``GoBGP-1/198.18.0.0/16``), or a
prefix only one router announces."""

from __future__ import annotations

import typer

from sdwan.cli.commands import (
    DESCRIPTION,
    ROUTER_FILTER,
    Args,
    Filter,
    ResourceCommands,
    argument,
    option,
)
from sdwan.cli.owned import Keyed, with_router
from sdwan.cli.resource import Item
from sdwan.cli.values import CLEAR, canonical_prefix, choice, given, optional_int, split_list

app = typer.Typer(help="Manage announcements (prefixes routers originate).", no_args_is_help=True)

COLUMNS = [
    ("ID", "id"),
    ("ROUTER", "router_name"),
    ("PREFIX", "prefix"),
    ("NEXT HOP", "next_hop"),
    ("ORIGIN", "origin"),
    ("MED", "med"),
    ("LOCAL PREF", "local_pref"),
    ("COMMUNITIES", "communities"),
    ("PREPEND", "as_path_prepend"),
    ("STATUS", "status"),
]
ANNOUNCEMENTS = Keyed("announcements", "announcement", key="prefix")
ORIGINS = ("igp", "egp", "incomplete")

REF = argument(
    "ANNOUNCEMENT", "Announcement id, ROUTER/PREFIX, or a prefix only one router announces."
)
NEW_REF = argument("ROUTER/PREFIX", "Router and prefix, e.g. GoBGP-1/198.18.0.0/16.")
FIELDS = (
    option(
        "next_hop",
        str | None,
        "--next-hop",
        metavar="ADDR",
        help="Next hop (default: the router itself; '' on set).",
    ),
    option("origin", str | None, "--origin", metavar="igp|egp|incomplete", help="ORIGIN (igp)."),
    option("med", str | None, "--med", metavar="N", help="MED; 'none' on set removes it."),
    option(
        "local_pref",
        str | None,
        "--local-pref",
        metavar="N",
        help="LOCAL_PREF; 'none' on set removes it.",
    ),
    option(
        "community",
        list[str] | None,
        "--community",
        metavar="C",
        help="ASN:VALUE or a well-known name (repeatable; on set replaces the list, '' empties).",
    ),
    option(
        "large_community",
        list[str] | None,
        "--large-community",
        metavar="A:B:C",
        help="Large community (repeatable; on set replaces the list, '' empties).",
    ),
    option(
        "prepend",
        int | None,
        "--prepend",
        min=0,
        max=16,
        help="Prepend the router's own AS N times.",
    ),
    DESCRIPTION,
)


def _fields(args: Args) -> Item:
    """The attributes given; a cleared --next-hop/--med/--local-pref is JSON null."""
    body = given(
        next_hop=args["next_hop"],
        origin=choice(args["origin"], "--origin", ORIGINS),
        med=optional_int(args["med"], "--med"),
        local_pref=optional_int(args["local_pref"], "--local-pref"),
        communities=split_list(args["community"]),
        large_communities=split_list(args["large_community"]),
        as_path_prepend=args["prepend"],
        description=args["description"],
    )
    for key in ("med", "local_pref"):
        if body.get(key) is CLEAR:
            body[key] = None
    if body.get("next_hop") == "":
        body["next_hop"] = None
    return body


def _create_body(args: Args) -> Item:
    """The router and prefix, and the attributes given (a cleared one is just left out)."""
    router, prefix = ANNOUNCEMENTS.split_new(args["ref"])
    fields = _fields(args)
    return {"router": router, "prefix": prefix, **given(**fields)}


def _table_row(item: Item) -> Item:
    return {**with_router(item), "next_hop": item.get("next_hop") or "self"}


commands = ResourceCommands(app, ANNOUNCEMENTS.resource(COLUMNS, row=_table_row), REF)
commands.add_create("Announce a prefix from a router.", [NEW_REF, *FIELDS], _create_body)
commands.add_list(
    "List announcements.",
    [
        ROUTER_FILTER,
        Filter(
            option("prefix", str | None, "--prefix", help="Only this prefix."),
            lambda prefix: canonical_prefix(prefix) if prefix else None,
        ),
    ],
)
commands.add_set(
    "Change an announcement's attributes (only the options given; the prefix cannot change).",
    FIELDS,
    _fields,
)
commands.add_show("Show one announcement.")
commands.add_delete("Withdraw and delete an announcement.")
