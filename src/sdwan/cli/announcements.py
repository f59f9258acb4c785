"""``sdwan announcement ...``: prefixes a router originates, with their path attributes.

Announcements are addressed by id, ``ROUTER/PREFIX`` (``GoBGP-1/198.18.0.0/16``), or a
prefix only one router announces."""

from __future__ import annotations

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
from sdwan.cli.owned import (
    CLEAR,
    Keyed,
    canonical_prefix,
    optional_int,
    split_list,
    with_router,
)
from sdwan.cli.owned_commands import add_show_and_delete

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
RESOURCE = ANNOUNCEMENTS.resource(COLUMNS)
ORIGINS = ("igp", "egp", "incomplete")

RefArg = Annotated[
    str,
    typer.Argument(
        metavar="ANNOUNCEMENT",
        help="Announcement id, ROUTER/PREFIX, or a prefix only one router announces.",
    ),
]
NewRefArg = Annotated[
    str,
    typer.Argument(metavar="ROUTER/PREFIX", help="Router and prefix, e.g. GoBGP-1/198.18.0.0/16."),
]
NextHopOpt = Annotated[
    str | None,
    typer.Option(
        "--next-hop", metavar="ADDR", help="Next hop (default: the router itself; '' on set)."
    ),
]
OriginOpt = Annotated[
    str | None, typer.Option("--origin", metavar="igp|egp|incomplete", help="ORIGIN (igp).")
]
MedOpt = Annotated[
    str | None, typer.Option("--med", metavar="N", help="MED; 'none' on set removes it.")
]
LocalPrefOpt = Annotated[
    str | None,
    typer.Option("--local-pref", metavar="N", help="LOCAL_PREF; 'none' on set removes it."),
]
CommunityOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--community",
        metavar="C",
        help="ASN:VALUE or a well-known name (repeatable; on set replaces the list, '' empties).",
    ),
]
LargeCommunityOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--large-community",
        metavar="A:B:C",
        help="Large community (repeatable; on set replaces the list, '' empties).",
    ),
]
PrependOpt = Annotated[
    int | None,
    typer.Option("--prepend", min=0, max=16, help="Prepend the router's own AS N times."),
]


def _origin(origin: str | None) -> str | None:
    if origin is None:
        return None
    if origin.lower() not in ORIGINS:
        raise CliError(f"--origin must be one of {', '.join(ORIGINS)}, got {origin!r}")
    return origin.lower()


def _fields(
    next_hop: str | None,
    origin: str | None,
    med: str | None,
    local_pref: str | None,
    community: list[str] | None,
    large_community: list[str] | None,
    prepend: int | None,
    description: str | None,
) -> dict[str, Any]:
    """The body; a cleared --next-hop/--med/--local-pref is JSON null."""
    body = given(
        next_hop=next_hop,
        origin=_origin(origin),
        med=optional_int(med, "--med"),
        local_pref=optional_int(local_pref, "--local-pref"),
        communities=split_list(community),
        large_communities=split_list(large_community),
        as_path_prepend=prepend,
        description=description,
    )
    for key in ("med", "local_pref"):
        if body.get(key) is CLEAR:
            body[key] = None
    if body.get("next_hop") == "":
        body["next_hop"] = None
    return body


def _table_row(item: Item) -> Item:
    return {**with_router(item), "next_hop": item.get("next_hop") or "self"}


PRINT = owned.viewed(_table_row)


@app.command("create")
def create(
    ctx: typer.Context,
    ref: NewRefArg,
    next_hop: NextHopOpt = None,
    origin: OriginOpt = None,
    med: MedOpt = None,
    local_pref: LocalPrefOpt = None,
    community: CommunityOpt = None,
    large_community: LargeCommunityOpt = None,
    prepend: PrependOpt = None,
    description: DescriptionOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Announce a prefix from a router."""
    router, prefix = ANNOUNCEMENTS.split_new(ref)
    fields = _fields(
        next_hop, origin, med, local_pref, community, large_community, prepend, description
    )
    body = {
        "router": router,
        "prefix": prefix,
        **{k: v for k, v in fields.items() if v is not None},
    }
    owned.create(ctx, RESOURCE, body, wait, timeout, output, PRINT)


@app.command("list")
def list_(
    ctx: typer.Context,
    router: Annotated[str | None, typer.Option("--router", help="Only this router.")] = None,
    prefix: Annotated[str | None, typer.Option("--prefix", help="Only this prefix.")] = None,
    status: StatusOpt = None,
    sort: SortOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    all_: AllOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List announcements."""
    filters = given(router=router, prefix=canonical_prefix(prefix) if prefix else None)
    paging = Paging(status, sort, limit, offset, all_)
    RESOURCE.list_(ctx, filters, paging, output, _table_row)


@app.command("set")
def set_(
    ctx: typer.Context,
    ref: RefArg,
    next_hop: NextHopOpt = None,
    origin: OriginOpt = None,
    med: MedOpt = None,
    local_pref: LocalPrefOpt = None,
    community: CommunityOpt = None,
    large_community: LargeCommunityOpt = None,
    prepend: PrependOpt = None,
    description: DescriptionOpt = None,
    if_match: IfMatchOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Change an announcement's attributes (only the options given; the prefix cannot change)."""
    body = _fields(
        next_hop, origin, med, local_pref, community, large_community, prepend, description
    )
    owned.update(ctx, RESOURCE, ref, body, if_match, wait, timeout, output, PRINT)


add_show_and_delete(
    app,
    RESOURCE,
    RefArg,
    PRINT,
    show_help="Show one announcement.",
    delete_help="Withdraw and delete an announcement.",
)
