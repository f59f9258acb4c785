"""``sdwan site ...`` and ``sdwan uplink ...``: the places an intent talks about.

A site is named by its name (or id); an uplink by ``SITE/NAME`` or its id."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sdwan.cli.client import ApiClient, get_client
from sdwan.cli.common import (
    AllOpt,
    DescriptionOpt,
    IfMatchOpt,
    Item,
    LimitOpt,
    OffsetOpt,
    Paging,
    Resource,
    SortOpt,
    given,
)
from sdwan.cli.errors import CliError
from sdwan.cli.output import OutputFormat, OutputOpt, pop_warnings, print_done, print_object
from sdwan.cli.owned import is_uuid, split_list

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
SiteArg = Annotated[str, typer.Argument(metavar="SITE", help="Site name or id.")]
UplinkArg = Annotated[str, typer.Argument(metavar="SITE/NAME", help="Uplink SITE/NAME or id.")]
RouterOpt = Annotated[
    list[str] | None,
    typer.Option("--router", help="A router of the site (repeatable; on set: the whole list)."),
]
PrefixOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--prefix", help="A prefix the site owns, e.g. 198.51.100.0/24 or 10.0.0.0/8,le=24."
    ),
]
FibOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--fib-agent",
        metavar="ROUTER=unix:///PATH",
        help="Where that router's FIB agent serves its status (default: <gobgpd socket>.fib).",
    ),
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


def _site_row(item: Item) -> Item:
    return {
        **item,
        "router_names": [r.get("router_name") or r.get("router") for r in item.get("routers", [])],
        "prefix_list": [p.get("prefix") for p in item.get("prefixes", [])],
    }


def _site_label(obj: Any, ref: str) -> str:
    return f"site {obj.get('name') or ref}"


SITES = Resource("sites", SITE_COLUMNS, _site_label)


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


@site_app.command("create")
def site_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME")],
    router: RouterOpt = None,
    prefix: PrefixOpt = None,
    next_hop_self: Annotated[
        bool,
        typer.Option(help="Routers rewrite the next hop to themselves towards iBGP neighbors."),
    ] = True,
    fib_agent: FibOpt = None,
    description: DescriptionOpt = None,
    project: Annotated[str | None, typer.Option(help="Admins: the project.")] = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create a site."""
    body = given(
        name=name,
        routers=_members(router, fib_agent),
        prefixes=[prefix_member(p) for p in prefix] if prefix else None,
        next_hop_self=next_hop_self,
        description=description,
        project=project,
    )
    print_object(pop_warnings(get_client(ctx).post("/v1/sites", body)), output)


@site_app.command("list")
def site_list(
    ctx: typer.Context,
    sort: SortOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    all_: AllOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List sites."""
    SITES.list_(ctx, {}, Paging(None, sort, limit, offset, all_), output, _site_row)


@site_app.command("show")
def site_show(ctx: typer.Context, site: SiteArg, output: OutputOpt = OutputFormat.table) -> None:
    """Show a site."""
    SITES.show(ctx, site, output)


@site_app.command("set")
def site_set(
    ctx: typer.Context,
    site: SiteArg,
    router: RouterOpt = None,
    prefix: PrefixOpt = None,
    next_hop_self: Annotated[bool | None, typer.Option(help="See create.")] = None,
    fib_agent: FibOpt = None,
    description: DescriptionOpt = None,
    if_match: IfMatchOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Change a site (--router and --prefix replace the lists; '' alone empties them)."""
    prefixes = split_list(prefix)
    body = given(
        routers=_members(split_list(router), fib_agent),
        prefixes=[prefix_member(p) for p in prefixes] if prefixes is not None else None,
        next_hop_self=next_hop_self,
        description=description,
    )
    SITES.update(ctx, site, body, if_match, False, 0.0, output)


@site_app.command("delete")
def site_delete(
    ctx: typer.Context,
    site: SiteArg,
    if_match: IfMatchOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Delete a site with its uplinks and intents (their policy leaves the routers)."""
    client = get_client(ctx)
    answer = client.delete(SITES.path(site), if_match=if_match)
    print_done(f"site {site} deleted", pop_warnings(answer), output)


# --- uplinks ---------------------------------------------------------------------------


def split_ref(ref: str, kind: str) -> tuple[str, str]:
    site, sep, name = ref.partition("/")
    if not sep or not site or not name:
        raise CliError(f"{ref!r}: expected SITE/NAME (the {kind}'s site and name)")
    return site, name


def resolve_owned(client: ApiClient, collection: str, kind: str, ref: str) -> str:
    """The id of ``SITE/NAME`` (or an id, as is)."""
    if is_uuid(ref):
        return ref
    site, name = split_ref(ref, kind)
    page = client.get(f"/v1/{collection}", {"site": site, "name": name}) or {}
    items = page.get("items") or []
    if not items:
        raise CliError(f"no {kind} {name} in site {site}", status=404)
    return str(items[0]["id"])


UPLINKS = Resource(
    "uplinks",
    UPLINK_COLUMNS,
    lambda obj, ref: f"uplink {obj.get('site_name', '')}/{obj.get('name') or ref}",
    lambda client, ref: resolve_owned(client, "uplinks", "uplink", ref),
)
CostOpt = Annotated[int | None, typer.Option("--cost", min=0, max=65535, help="Lower is cheaper.")]
TransportOpt = Annotated[
    str | None,
    typer.Option("--transport", help="internet, mpls, lte, 5g, satellite, private or other."),
]
BandwidthOpt = Annotated[
    int | None, typer.Option("--bandwidth", min=1, help="Megabits per second (informational).")
]


@uplink_app.command("create")
def uplink_create(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="SITE/NAME")],
    router: Annotated[str, typer.Option("--router", help="The site router it is on.")],
    neighbor: Annotated[str, typer.Option("--neighbor", help="The neighbor's address.")],
    transport: TransportOpt = None,
    cost: CostOpt = None,
    bandwidth: BandwidthOpt = None,
    description: DescriptionOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Give a neighbor of a site router an uplink role."""
    site, name = split_ref(ref, "uplink")
    body = given(
        site=site,
        name=name,
        router=router,
        neighbor=neighbor,
        transport=transport,
        cost=cost,
        bandwidth_mbps=bandwidth,
        description=description,
    )
    print_object(pop_warnings(get_client(ctx).post("/v1/uplinks", body)), output)


@uplink_app.command("list")
def uplink_list(
    ctx: typer.Context,
    site: Annotated[str | None, typer.Option("--site", help="Only this site's.")] = None,
    sort: SortOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    all_: AllOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List uplinks."""
    UPLINKS.list_(ctx, given(site=site), Paging(None, sort, limit, offset, all_), output)


@uplink_app.command("show")
def uplink_show(ctx: typer.Context, ref: UplinkArg, output: OutputOpt = OutputFormat.table) -> None:
    """Show an uplink."""
    UPLINKS.show(ctx, ref, output)


@uplink_app.command("set")
def uplink_set(
    ctx: typer.Context,
    ref: UplinkArg,
    transport: TransportOpt = None,
    cost: CostOpt = None,
    bandwidth: BandwidthOpt = None,
    description: DescriptionOpt = None,
    if_match: IfMatchOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Change an uplink's transport, cost or bandwidth."""
    body = given(transport=transport, cost=cost, bandwidth_mbps=bandwidth, description=description)
    UPLINKS.update(ctx, ref, body, if_match, False, 0.0, output)


@uplink_app.command("delete")
def uplink_delete(
    ctx: typer.Context,
    ref: UplinkArg,
    if_match: IfMatchOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Delete an uplink no intent names."""
    client = get_client(ctx)
    answer = client.delete(UPLINKS.path(UPLINKS.resolve(client, ref)), if_match=if_match)
    print_done(f"uplink {ref} deleted", pop_warnings(answer), output)
