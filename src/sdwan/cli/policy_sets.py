"""``sdwan defined-set ...``: prefix, neighbor, community, large-community and as-path sets.

Prefix-set members are written ``PREFIX[,ge=N][,le=N]`` (``198.18.0.0/16,ge=24,le=28``:
the prefixes inside 198.18.0.0/16 of length 24 to 28); that is also how tables show them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

import typer

from sdwan.cli.commands import (
    DESCRIPTION,
    NAME_FILTER,
    REQUIRED,
    ROUTER_FILTER,
    Args,
    Filter,
    ResourceCommands,
    argument,
    command,
    option,
    wait_and_timeout,
)
from sdwan.cli.errors import CliError
from sdwan.cli.output import brief
from sdwan.cli.owned import Keyed, with_router
from sdwan.cli.resource import Item
from sdwan.cli.values import canonical_prefix, choice, given

app = typer.Typer(
    help="Manage defined sets (prefix, neighbor, community, large-community, as-path).",
    no_args_is_help=True,
)

TYPES = ("prefix", "neighbor", "community", "large-community", "as-path")
COLUMNS = [
    ("ID", "id"),
    ("ROUTER", "router_name"),
    ("NAME", "name"),
    ("TYPE", "type"),
    ("MEMBERS", "members"),
    ("STATUS", "status"),
]
SETS = Keyed("defined-sets", "defined set")

REF = argument("SET", "Set id, ROUTER/NAME, or a name only one router has.")
NEW_REF = argument("ROUTER/NAME", "Router and set name.")
MEMBER = option(
    "member",
    list[str] | None,
    "--member",
    help="A member (repeatable): PREFIX[,ge=N][,le=N] for prefix sets, an address or "
    "prefix for neighbor sets, ASN:VALUE (or a regex) for community sets, A:B:C for "
    "large-community sets, a regex for as-path sets. On set: replaces the list.",
)


def parse_prefix_member(text: str) -> dict[str, Any]:
    """``198.18.0.0/16,ge=24,le=28`` -> ``{"prefix": ..., "ge": 24, "le": 28}``."""
    prefix, *ranges = [part.strip() for part in text.split(",")]
    member: dict[str, Any] = {"prefix": canonical_prefix(prefix)}
    for bound in ranges:
        key, _, value = bound.partition("=")
        if key not in ("ge", "le") or key in member or not value.isdigit():
            raise CliError(f"prefix member {text!r}: expected PREFIX[,ge=N][,le=N]")
        member[key] = int(value)
    return member


def format_member(member: Any) -> str:
    """A member as typed on the command line."""
    if isinstance(member, Mapping):
        text = str(member.get("prefix"))
        for key in ("ge", "le"):
            if member.get(key) is not None:
                text += f",{key}={member[key]}"
        return text
    return str(member)


def _parse_member(set_type: str, text: str) -> Any:
    text = text.strip()
    if set_type == "prefix":
        return parse_prefix_member(text)
    if set_type == "neighbor":
        try:  # canonical, to compare with the stored members on --remove-member
            network = ipaddress.ip_network(text, strict=True)
        except ValueError:
            return text  # the server explains what is wrong
        return str(network.network_address) if "/" not in text else str(network)
    return text


def _members(set_type: str, values: list[str] | None) -> list[Any] | None:
    if values is None:
        return None
    return [_parse_member(set_type, value) for value in values if value.strip()]


def _table_row(item: Item) -> Item:
    members = [format_member(member) for member in item.get("members") or []]
    return {**with_router(item), "members": brief(members)}


def _table_view(item: Item) -> Item:
    members = [format_member(member) for member in item.get("members") or []]
    return {**item, "members": "\n".join(members)}


def _create_body(args: Args) -> Item:
    router, name = SETS.split_new(args["ref"])
    kind = choice(args["set_type"], "--type", TYPES) or ""
    members = _members(kind, args["member"]) or []
    return given(
        router=router, name=name, type=kind, members=members, description=args["description"]
    )


RESOURCE = SETS.resource(COLUMNS, row=_table_row, table_view=_table_view)
commands = ResourceCommands(app, RESOURCE, REF)
commands.add_create(
    "Create a defined set on a router.",
    [
        NEW_REF,
        option("set_type", str, "--type", default=REQUIRED, help=" | ".join(TYPES)),
        MEMBER,
        DESCRIPTION,
    ],
    _create_body,
)
commands.add_list(
    "List defined sets.",
    [
        ROUTER_FILTER,
        NAME_FILTER,
        Filter(
            option("type", str | None, "--type", help="Only this type: " + " | ".join(TYPES)),
            lambda set_type: choice(set_type, "--type", TYPES),
        ),
    ],
)


def _set(ctx: typer.Context, args: Args) -> None:
    """``set``: --member replaces the list; --add-member/--remove-member read the set and
    write it back guarded by the version read (unless --if-match says another)."""
    member, add, remove = args["member"], args["add_member"], args["remove_member"]
    if member is not None and (add or remove):
        raise CliError("give either --member (the whole list) or --add-member/--remove-member")
    ref, if_match = args["ref"], args["if_match"]
    body: dict[str, Any] = given(description=args["description"])
    if member is not None or add or remove:
        current = RESOURCE.fetch(ctx, ref)
        kind = str(current.get("type"))
        if member is not None:
            body["members"] = _members(kind, member)
        else:
            body["members"] = _edit(current, _members(kind, add), _members(kind, remove))
            if if_match is None:
                if_match = str(current.get("version"))
        ref = str(current["id"])
    wait, timeout = wait_and_timeout(args)
    RESOURCE.update(ctx, ref, body, if_match, wait, timeout, args["output"])


def _edit(current: Item, add: list[Any] | None, remove: list[Any] | None) -> list[Any]:
    members = list(current.get("members") or [])
    label = RESOURCE.label(current, str(current.get("id")))
    for gone in remove or []:
        if gone not in members:
            raise CliError(f"{format_member(gone)} is not a member of {label}")
        members.remove(gone)
    for new in add or []:
        if new not in members:
            members.append(new)
    return members


command(
    app,
    "set",
    """Change a set: --member replaces the members, --add-member/--remove-member edit them.

    ``--member ''`` empties the set. --add-member/--remove-member read the set first and
    write with its version, so a concurrent change is refused rather than lost.
    """,
    commands.set_params(
        [
            MEMBER,
            option(
                "add_member", list[str] | None, "--add-member", help="Add a member (repeatable)."
            ),
            option(
                "remove_member",
                list[str] | None,
                "--remove-member",
                help="Remove a member (repeatable).",
            ),
            DESCRIPTION,
        ]
    ),
    _set,
)
commands.add_show("Show one defined set (members one a line).")
commands.add_delete("Delete a defined set (refused while a policy uses it).")
