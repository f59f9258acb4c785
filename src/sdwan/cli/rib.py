"""``sdwan rib ...``: RIB views, printed the way ``gobgp global rib`` prints them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import typer
import yaml

from sdwan.cli.client import ApiClient, get_client, resource_path
from sdwan.cli.commands import OUTPUT, Args, argument, command, option
from sdwan.cli.neighbors import REF as NEIGHBOR
from sdwan.cli.neighbors import resolve as resolve_neighbor
from sdwan.cli.output import OutputFormat, note

app = typer.Typer(help="Show routes: global RIB, adj-RIB-in, adj-RIB-out.", no_args_is_help=True)

# which routes: show adds --best
ROUTES = (
    option("family", str | None, "--family", "-a", help="ipv4-unicast or ipv6-unicast."),
    option(
        "prefix",
        str | None,
        "--prefix",
        help="Only this prefix (an address: its longest match).",
    ),
    option(
        "longer", bool, "--longer", default=False, help="With --prefix: every prefix inside it."
    ),
)
BEST = option("best", bool, "--best", default=False, help="Best paths only.")
# RIB pages follow a cursor, in prefix order
PAGES = (
    option("all_", bool, "--all", default=False, help="Every page (default: the first page)."),
    option("limit", int | None, "--limit", min=1, max=1000, help="Prefixes a page."),
    option("after", str | None, "--after", help="Start after this page cursor."),
    OUTPUT,
)
QUERY = ("family", "prefix", "longer", "best", "limit", "after")

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


def _print_routes(
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


def _print_rib(ctx: typer.Context, path: str, table: RouteTable, args: Args) -> None:
    params = {key: args[key] for key in QUERY if key in args}
    _print_routes(ctx, path, params, table, args["all_"], args["output"])


def _global_rib(ctx: typer.Context, args: Args) -> None:
    _print_rib(ctx, resource_path("routers", args["router"]) + "/rib", RouteTable(), args)


command(
    app,
    "show",
    "A router's global RIB (like `gobgp global rib`).",
    [
        argument("ROUTER", "Router name or id.", name="router"),
        *ROUTES,
        BEST,
        *PAGES,
    ],
    _global_rib,
)


def _add_adj_rib(name: str, doc: str, show_age: bool) -> None:
    """``rib in`` or ``rib out``: a neighbor's adj-RIB, without the best marker."""

    def run(ctx: typer.Context, args: Args) -> None:
        neighbor_id = resolve_neighbor(get_client(ctx), args["ref"])
        path = resource_path("neighbors", neighbor_id) + f"/rib-{name}"
        _print_rib(ctx, path, RouteTable(show_best=False, show_age=show_age), args)

    command(app, name, doc, [NEIGHBOR, *ROUTES, *PAGES], run)


_add_adj_rib(
    "in", "Routes received from a neighbor (adj-RIB-in, like `gobgp neighbor X adj-in`).", True
)
_add_adj_rib(
    "out", "Routes sent to a neighbor (adj-RIB-out, like `gobgp neighbor X adj-out`).", False
)
