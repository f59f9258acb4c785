"""``sdwan rib ...``: RIB views, printed the way ``gobgp global rib`` prints them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
import yaml

from sdwan.cli.client import ApiClient, get_client, resource_path
from sdwan.cli.neighbors import RefArg as NeighborArg
from sdwan.cli.neighbors import resolve as resolve_neighbor
from sdwan.cli.output import OutputFormat, OutputOpt, note

app = typer.Typer(help="Show routes: global RIB, adj-RIB-in, adj-RIB-out.", no_args_is_help=True)

RouterArg = Annotated[str, typer.Argument(metavar="ROUTER", help="Router name or id.")]
FamilyOpt = Annotated[
    str | None, typer.Option("--family", "-a", help="ipv4-unicast or ipv6-unicast.")
]
PrefixOpt = Annotated[
    str | None, typer.Option("--prefix", help="Only this prefix (an address: its longest match).")
]
LongerOpt = Annotated[bool, typer.Option("--longer", help="With --prefix: every prefix inside it.")]
AllOpt = Annotated[bool, typer.Option("--all", help="Every page (default: the first page).")]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, max=1000, help="Prefixes a page.")]
AfterOpt = Annotated[str | None, typer.Option("--after", help="Start after this page cursor.")]

_ORIGIN = {"igp": "i", "egp": "e", "incomplete": "?"}
_SEGMENT = {
    "sequence": ("", " ", ""),
    "set": ("{", ",", "}"),
    "confed-sequence": ("(", " ", ")"),
    "confed-set": ("[", ",", "]"),
}


def format_age(seconds: int | None) -> str:
    """gobgp's age: ``00:01:23``, or ``1d 02:03:04`` from a day on."""
    if seconds is None:
        return ""
    days, rest = divmod(max(0, seconds), 86400)
    hours, rest = divmod(rest, 3600)
    clock = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{days}d {clock}" if days else clock


def format_as_path(segments: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    for segment in segments:
        start, sep, end = _SEGMENT.get(str(segment.get("type")), ("", " ", ""))
        parts.append(start + sep.join(str(asn) for asn in segment.get("asns") or []) + end)
    return " ".join(parts)


def format_attrs(route: Mapping[str, Any]) -> str:
    """``[{Origin: i} {Med: 10} {LocalPref: 200} {Communities: 65001:100}]``"""
    attrs = []
    if route.get("origin") is not None:
        attrs.append(f"{{Origin: {_ORIGIN.get(route['origin'], '-')}}}")
    if route.get("med") is not None:
        attrs.append(f"{{Med: {route['med']}}}")
    if route.get("local_pref") is not None:
        attrs.append(f"{{LocalPref: {route['local_pref']}}}")
    if route.get("communities"):
        attrs.append(f"{{Communities: {', '.join(route['communities'])}}}")
    if route.get("large_communities"):
        attrs.append(f"{{LargeCommunity: [ {', '.join(route['large_communities'])}]}}")
    for name in route.get("other_attributes") or []:
        attrs.append(f"{{{str(name).removesuffix('Attribute')}}}")
    return "[" + " ".join(attrs) + "]"


def symbol(route: Mapping[str, Any], show_best: bool) -> str:
    text = "S" if route.get("stale") else ""
    if show_best:
        text += "*>" if route.get("best") else "* "
    return text


@dataclass
class RouteTable:
    """gobgp's layout: columns at least 20 wide that grow to fit (they never shrink,
    so a later page only pushes its own rows wider)."""

    show_best: bool = True
    show_age: bool = True
    widths: list[int] = field(default_factory=lambda: [20, 20, 20])

    def _line(self, cells: Sequence[str]) -> str:
        sym, network, next_hop, as_path, age, attrs = cells
        line = f"{sym:<3}{network:<{self.widths[0]}} {next_hop:<{self.widths[1]}} "
        line += f"{as_path:<{self.widths[2]}} "
        if self.show_age:
            line += f"{age:<10} "
        return line + attrs

    def header(self) -> str:
        return self._line(("", "Network", "Next Hop", "AS_PATH", "Age", "Attrs"))

    def rows(self, routes: Sequence[Mapping[str, Any]]) -> list[str]:
        cells = [
            (
                symbol(r, self.show_best),
                str(r.get("prefix", "")),
                str(r.get("next_hop") or "fictitious"),
                format_as_path(r.get("as_path") or []),
                format_age(r.get("age")),
                format_attrs(r),
            )
            for r in routes
        ]
        for row in cells:
            self.widths = [max(w, len(c)) for w, c in zip(self.widths, row[1:4], strict=True)]
        return [self._line(row) for row in cells]


def _pages(
    client: ApiClient, path: str, params: dict[str, Any], fetch_all: bool
) -> Iterator[dict[str, Any]]:
    while True:
        page = client.get(path, params) or {}
        yield page
        cursor = page.get("next")
        if not cursor:
            return
        if not fetch_all:
            note(f"more routes follow: use --all, or --after {cursor}")
            return
        params = {**params, "after": cursor}


def _show(
    ctx: typer.Context,
    path: str,
    params: dict[str, Any],
    table: RouteTable,
    fetch_all: bool,
    output: OutputFormat,
) -> None:
    client = get_client(ctx)
    query = {k: v for k, v in params.items() if v not in (None, False)}
    shown = 0
    if output is OutputFormat.json:
        typer.echo("[", nl=False)
    for page in _pages(client, path, query, fetch_all):
        items = list(page.get("items") or [])
        if output is OutputFormat.table:
            lines = table.rows(items)
            if shown == 0 and lines:
                typer.echo(table.header())
            for line in lines:
                typer.echo(line)
        elif output is OutputFormat.json:
            for item in items:
                sep = "," if shown else ""
                text = json.dumps(item, indent=2, ensure_ascii=False)
                typer.echo(sep + "\n" + "\n".join("  " + ln for ln in text.splitlines()), nl=False)
                shown += 1
            continue
        elif items:
            typer.echo(yaml.safe_dump(items, sort_keys=False), nl=False)
        shown += len(items)
    if output is OutputFormat.json:
        typer.echo("\n]" if shown else "]")
    elif output is OutputFormat.yaml and not shown:
        typer.echo("[]")
    elif output is OutputFormat.table and not shown:
        note("no routes")


@app.command("show")
def show(
    ctx: typer.Context,
    router: RouterArg,
    family: FamilyOpt = None,
    prefix: PrefixOpt = None,
    longer: LongerOpt = False,
    best: Annotated[bool, typer.Option("--best", help="Best paths only.")] = False,
    all_: AllOpt = False,
    limit: LimitOpt = None,
    after: AfterOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """A router's global RIB (like `gobgp global rib`)."""
    params: dict[str, Any] = {"family": family, "prefix": prefix, "longer": longer}
    params |= {"best": best, "limit": limit, "after": after}
    path = resource_path("routers", router) + "/rib"
    _show(ctx, path, params, RouteTable(), all_, output)


def _adj(
    ctx: typer.Context,
    ref: str,
    suffix: str,
    table: RouteTable,
    params: dict[str, Any],
    fetch_all: bool,
    output: OutputFormat,
) -> None:
    neighbor_id = resolve_neighbor(get_client(ctx), ref)
    _show(ctx, resource_path("neighbors", neighbor_id) + suffix, params, table, fetch_all, output)


@app.command("in")
def rib_in(
    ctx: typer.Context,
    ref: NeighborArg,
    family: FamilyOpt = None,
    prefix: PrefixOpt = None,
    longer: LongerOpt = False,
    all_: AllOpt = False,
    limit: LimitOpt = None,
    after: AfterOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Routes received from a neighbor (adj-RIB-in, like `gobgp neighbor X adj-in`)."""
    params = {"family": family, "prefix": prefix, "longer": longer, "limit": limit, "after": after}
    _adj(ctx, ref, "/rib-in", RouteTable(show_best=False), params, all_, output)


@app.command("out")
def rib_out(
    ctx: typer.Context,
    ref: NeighborArg,
    family: FamilyOpt = None,
    prefix: PrefixOpt = None,
    longer: LongerOpt = False,
    all_: AllOpt = False,
    limit: LimitOpt = None,
    after: AfterOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Routes sent to a neighbor (adj-RIB-out, like `gobgp neighbor X adj-out`)."""
    params = {"family": family, "prefix": prefix, "longer": longer, "limit": limit, "after": after}
    _adj(ctx, ref, "/rib-out", RouteTable(show_best=False, show_age=False), params, all_, output)
