"""``sdwan defined-set ...``: prefix, neighbor, community, large-community and as-path sets.

Prefix-set members are written ``PREFIX[,ge=N][,le=N]`` (``198.18.0.0/16,ge=24,le=28``:
the prefixes inside 198.18.0.0/16 of length 24 to 28); that is also how tables show them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated, Any

import typer

from sdwan.cli import owned
from sdwan.cli.common import (
    TIMEOUT,
    AllOpt,
    DescriptionOpt,
    IfMatchOpt,
    Item,
    LimitOpt,
    OffsetOpt,
    Paging,
    SortOpt,
    StatusOpt,
    TimeoutOpt,
    WaitOpt,
    given,
)
from sdwan.cli.errors import CliError
from sdwan.cli.output import OutputFormat, OutputOpt
from sdwan.cli.owned import Keyed, brief, canonical_prefix, fetch, with_router
from sdwan.cli.owned_commands import add_show_and_delete

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
RESOURCE = SETS.resource(COLUMNS)

RefArg = Annotated[
    str, typer.Argument(metavar="SET", help="Set id, ROUTER/NAME, or a name only one router has.")
]
NewRefArg = Annotated[str, typer.Argument(metavar="ROUTER/NAME", help="Router and set name.")]
TypeOpt = Annotated[str, typer.Option("--type", help=" | ".join(TYPES))]
MemberOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--member",
        help="A member (repeatable): PREFIX[,ge=N][,le=N] for prefix sets, an address or "
        "prefix for neighbor sets, ASN:VALUE (or a regex) for community sets, A:B:C for "
        "large-community sets, a regex for as-path sets. On set: replaces the list.",
    ),
]


def _check_type(set_type: str | None) -> str | None:
    if set_type is None:
        return None
    lowered = set_type.lower()
    if lowered not in TYPES:
        raise CliError(f"--type must be one of {', '.join(TYPES)}, got {set_type!r}")
    return lowered


def parse_prefix_member(text: str) -> dict[str, Any]:
    """``198.18.0.0/16,ge=24,le=28`` -> ``{"prefix": ..., "ge": 24, "le": 28}``."""
    prefix, *options = [part.strip() for part in text.split(",")]
    member: dict[str, Any] = {"prefix": canonical_prefix(prefix)}
    for option in options:
        key, _, value = option.partition("=")
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


PRINT = owned.viewed(_table_view)


@app.command("create")
def create(
    ctx: typer.Context,
    ref: NewRefArg,
    set_type: TypeOpt,
    member: MemberOpt = None,
    description: DescriptionOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create a defined set on a router."""
    router, name = SETS.split_new(ref)
    kind = _check_type(set_type) or ""
    body = given(
        router=router,
        name=name,
        type=kind,
        members=_members(kind, member) or [],
        description=description,
    )
    owned.create(ctx, RESOURCE, body, wait, timeout, output, PRINT)


@app.command("list")
def list_(
    ctx: typer.Context,
    router: Annotated[str | None, typer.Option("--router", help="Only this router.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Only this name.")] = None,
    set_type: Annotated[
        str | None, typer.Option("--type", help="Only this type: " + " | ".join(TYPES))
    ] = None,
    status: StatusOpt = None,
    sort: SortOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    all_: AllOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List defined sets."""
    filters = given(router=router, name=name, type=_check_type(set_type))
    paging = Paging(status, sort, limit, offset, all_)
    RESOURCE.list_(ctx, filters, paging, output, _table_row)


@app.command("set")
def set_(
    ctx: typer.Context,
    ref: RefArg,
    member: MemberOpt = None,
    add_member: Annotated[
        list[str] | None, typer.Option("--add-member", help="Add a member (repeatable).")
    ] = None,
    remove_member: Annotated[
        list[str] | None, typer.Option("--remove-member", help="Remove a member (repeatable).")
    ] = None,
    description: DescriptionOpt = None,
    if_match: IfMatchOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Change a set: --member replaces the members, --add-member/--remove-member edit them.

    ``--member ''`` empties the set. --add-member/--remove-member read the set first and
    write with its version, so a concurrent change is refused rather than lost.
    """
    if member is not None and (add_member or remove_member):
        raise CliError("give either --member (the whole list) or --add-member/--remove-member")
    body: dict[str, Any] = given(description=description)
    if member is not None or add_member or remove_member:
        current = fetch(ctx, RESOURCE, ref)
        kind = str(current.get("type"))
        if member is not None:
            body["members"] = _members(kind, member)
        else:
            body["members"] = _edit(
                current, _members(kind, add_member), _members(kind, remove_member)
            )
            if if_match is None:
                if_match = str(current.get("version"))
        ref = str(current["id"])
    owned.update(ctx, RESOURCE, ref, body, if_match, wait, timeout, output, PRINT)


def _edit(current: Item, add: list[Any] | None, remove: list[Any] | None) -> list[Any]:
    members = list(current.get("members") or [])
    label = SETS.label(current, str(current.get("id")))
    for gone in remove or []:
        if gone not in members:
            raise CliError(f"{format_member(gone)} is not a member of {label}")
        members.remove(gone)
    for new in add or []:
        if new not in members:
            members.append(new)
    return members


add_show_and_delete(
    app,
    RESOURCE,
    RefArg,
    PRINT,
    show_help="Show one defined set (members one a line).",
    delete_help="Delete a defined set (refused while a policy uses it).",
)
