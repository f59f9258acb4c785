"""``sdwan intent ...``: path intents, their plan and their verification.

An intent is named ``SITE/NAME`` (or by id). ``--prefer`` gives the tiers in order, one
option per tier; uplinks sharing a tier are separated by commas (equal cost)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sdwan.cli.client import get_client, wait_for
from sdwan.cli.common import (
    TIMEOUT,
    AllOpt,
    DescriptionOpt,
    IfMatchOpt,
    Item,
    LimitOpt,
    OffsetOpt,
    Paging,
    Resource,
    SortOpt,
    TimeoutOpt,
    WaitOpt,
    given,
)
from sdwan.cli.errors import CliError
from sdwan.cli.output import (
    OutputFormat,
    OutputOpt,
    pop_warnings,
    print_data,
    print_done,
    print_object,
    print_table,
)
from sdwan.cli.sites import prefix_member, resolve_owned, split_ref

app = typer.Typer(
    help="Manage path intents: which uplinks a site uses, and check them.", no_args_is_help=True
)

COLUMNS = [
    ("SITE", "site_name"),
    ("NAME", "name"),
    ("DESTINATION", "to"),
    ("TIERS", "tier_text"),
    ("STATUS", "status"),
    ("VERDICT", "verdict"),
    ("DETAIL", "verdict_detail"),
]
INTENTS = Resource(
    "intents",
    COLUMNS,
    lambda obj, ref: f"intent {obj.get('site_name', '')}/{obj.get('name') or ref}",
    lambda client, ref: resolve_owned(client, "intents", "intent", ref),
)
RefArg = Annotated[str, typer.Argument(metavar="SITE/NAME", help="Intent SITE/NAME or id.")]
ToPrefixOpt = Annotated[
    list[str] | None,
    typer.Option("--to-prefix", help="Destination prefix (repeatable; P[,ge=N][,le=M])."),
]
ToSiteOpt = Annotated[str | None, typer.Option("--to-site", help="Destination: that site.")]
ToAnyOpt = Annotated[bool, typer.Option("--to-any", help="Destination: every route.")]
PreferOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--prefer", metavar="UPLINK[,UPLINK]", help="A tier, primary first (repeat per tier)."
    ),
]
PreferCostOpt = Annotated[
    bool, typer.Option("--prefer-cost", help="Tiers by uplink cost (equal costs share).")
]
ReturnOpt = Annotated[
    str | None,
    typer.Option(
        "--return", metavar="none|prepend|med", help="Shape how the world reaches the site."
    ),
]
ReturnPrependOpt = Annotated[
    int | None, typer.Option("--return-prepend", min=1, max=8, help="Own AS per tier below.")
]
ReturnCommunityOpt = Annotated[
    list[str] | None,
    typer.Option("--return-community", help="Community for the backup uplinks (repeatable)."),
]


def _destination(prefixes: list[str] | None, site: str | None, any_: bool) -> dict[str, Any] | None:
    chosen = [x for x in (prefixes, site, any_ or None) if x]
    if len(chosen) > 1:
        raise CliError("give one of --to-prefix, --to-site, --to-any")
    if prefixes:
        return {"type": "prefixes", "prefixes": [prefix_member(p) for p in prefixes]}
    if site:
        return {"type": "site", "site": site}
    return {"type": "any"} if any_ else None


def _prefer(tiers: list[str] | None, by_cost: bool) -> Any:
    if tiers and by_cost:
        raise CliError("give either --prefer or --prefer-cost")
    if by_cost:
        return "cost"
    if tiers:
        return [[u.strip() for u in tier.split(",") if u.strip()] for tier in tiers]
    return None


def _return_path(
    method: str | None, prepend: int | None, communities: list[str] | None
) -> dict[str, Any] | None:
    if method is None and prepend is None and communities is None:
        return None
    if method is not None and method not in ("none", "prepend", "med"):
        raise CliError(f"--return must be none, prepend or med, got {method!r}")
    return given(method=method or "prepend", prepend=prepend, communities=communities)


def _fields(**kw: Any) -> dict[str, Any]:
    return given(
        destination=_destination(kw["to_prefix"], kw["to_site"], kw["to_any"]),
        prefer=_prefer(kw["prefer"], kw["prefer_cost"]),
        return_path=_return_path(kw["return_"], kw["return_prepend"], kw["return_community"]),
        description=kw["description"],
    )


def _row(item: Item) -> Item:
    destination = item.get("destination") or {}
    to = {
        "any": "every route",
        "site": f"site {destination.get('site')}",
        "prefixes": ", ".join(p["prefix"] for p in destination.get("prefixes", [])),
    }.get(destination.get("type", ""), "")
    state = item.get("verification") or {}
    return {
        **item,
        "to": to,
        "tier_text": " > ".join(",".join(t) for t in item.get("tiers", [])),
        "verdict": state.get("verdict", "-"),
        "verdict_detail": state.get("detail", ""),
    }


def print_paths(paths: list[dict[str, Any]], *, now: bool) -> None:
    headers = ["ROUTER", "PREFIX", "STATE", *(["NOW"] if now else []), "PREDICTED", "WHY"]
    rows = []
    for path in paths:
        predicted = path.get("predicted") or {}
        why = predicted.get("why")
        why_text = why[0] if isinstance(why, list) and why else (why or "")
        current = path.get("current") or path.get("actual") or {}
        shown = current.get("uplink") or current.get("neighbor") or "-"
        rows.append(
            [
                path.get("router"),
                path.get("prefix"),
                str(path.get("state")) + (f": {path['reason']}" if path.get("reason") else ""),
                *([shown + (" (moves)" if path.get("moves") else "")] if now else []),
                predicted.get("via") or "no path",
                why_text,
            ]
        )
    print_table(headers, rows)


def print_prediction(plan: dict[str, Any]) -> None:
    prediction = plan.get("prediction", plan)
    for router, why in (prediction.get("unreachable") or {}).items():
        typer.echo(f"  ! {router} unreachable: {why}")
    typer.echo(f"prediction: {prediction.get('verdict')}  {prediction.get('detail', '')}")
    print_paths(prediction.get("paths") or [], now=True)


def _print_plan(plan: dict[str, Any], output: OutputFormat) -> None:
    if output is not OutputFormat.table:
        print_data(plan, output)
        return
    typer.echo(f"intent {plan['site']}/{plan['intent']}: {plan['action']}")
    for item in plan.get("objects") or []:
        typer.echo(f"{item['router']}")
        for change in item["changes"]:
            typer.echo(f"  {change}")
        for effect in item["effects"]:
            typer.echo(f"  ! {effect}")
    print_prediction(plan)


def _show(obj: Item, output: OutputFormat) -> None:
    if output is not OutputFormat.table:
        print_data(obj, output)
        return
    row = _row(obj)
    keep = ("id", "site_name", "name", "to", "tier_text", "return_path", "status", "status_detail")
    print_object({k: row.get(k) for k in keep}, output)
    state = obj.get("verification")
    if state:
        checked = f"version {state['intent_version']}"
        if state["intent_version"] != obj.get("version"):
            checked += f", not yet {obj.get('version')}"
        typer.echo(
            f"verification ({checked}): {state['verdict']} since {state['since']}  "
            f"{state['detail']}"
        )
        print_paths(state.get("paths") or [], now=False)
    for item in obj.get("generated") or []:
        typer.echo(
            f"  generated {item['kind']} {item['router_name']}/{item['name']}: {item['status']}"
        )


@app.command("create")
def create(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="SITE/NAME")],
    to_prefix: ToPrefixOpt = None,
    to_site: ToSiteOpt = None,
    to_any: ToAnyOpt = False,
    prefer: PreferOpt = None,
    prefer_cost: PreferCostOpt = False,
    return_: ReturnOpt = None,
    return_prepend: ReturnPrependOpt = None,
    return_community: ReturnCommunityOpt = None,
    description: DescriptionOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create an intent (its policy objects are generated on the site's routers)."""
    site, name = split_ref(ref, "intent")
    fields = _fields(**locals())
    if "destination" not in fields or "prefer" not in fields:
        raise CliError("give a destination (--to-prefix/--to-site/--to-any) and --prefer")
    answer = pop_warnings(
        get_client(ctx).post("/v1/intents", {"site": site, "name": name, **fields})
    )
    if wait:
        answer = (
            wait_for(ctx, INTENTS.path(answer["id"]), f"intent {ref}", timeout=timeout) or answer
        )
    _show(answer, output)


@app.command("list")
def list_(
    ctx: typer.Context,
    site: Annotated[str | None, typer.Option("--site", help="Only this site's.")] = None,
    sort: SortOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    all_: AllOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List intents with their verdicts."""
    INTENTS.list_(ctx, given(site=site), Paging(None, sort, limit, offset, all_), output, _row)


@app.command("show")
def show(ctx: typer.Context, ref: RefArg, output: OutputOpt = OutputFormat.table) -> None:
    """Show an intent: tiers, generated objects, and the last verification path by path."""
    client = get_client(ctx)
    _show(client.get(INTENTS.path(INTENTS.resolve(client, ref))) or {}, output)


@app.command("set")
def set_(
    ctx: typer.Context,
    ref: RefArg,
    to_prefix: ToPrefixOpt = None,
    to_site: ToSiteOpt = None,
    to_any: ToAnyOpt = False,
    prefer: PreferOpt = None,
    prefer_cost: PreferCostOpt = False,
    return_: ReturnOpt = None,
    return_prepend: ReturnPrependOpt = None,
    return_community: ReturnCommunityOpt = None,
    description: DescriptionOpt = None,
    if_match: IfMatchOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Change an intent: its objects are replaced at once (soft resets, no session reset)."""
    fields = _fields(**locals())
    if not fields:
        raise CliError("nothing to change: give at least one option (see --help)")
    client = get_client(ctx)
    path = INTENTS.path(INTENTS.resolve(client, ref))
    answer = pop_warnings(client.patch(path, fields, if_match=if_match))
    if wait:
        answer = wait_for(ctx, path, f"intent {ref}", timeout=timeout) or answer
    _show(answer, output)


@app.command("plan")
def plan(
    ctx: typer.Context,
    ref: RefArg,
    to_prefix: ToPrefixOpt = None,
    to_site: ToSiteOpt = None,
    to_any: ToAnyOpt = False,
    prefer: PreferOpt = None,
    prefer_cost: PreferCostOpt = False,
    return_: ReturnOpt = None,
    return_prepend: ReturnPrependOpt = None,
    return_community: ReturnCommunityOpt = None,
    description: DescriptionOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """What a change would do (the options of create/set), or, without options, what
    the intent does now: each router's predicted best path, why, and the one it uses."""
    fields = _fields(**locals())
    client = get_client(ctx)
    if not fields:
        ident = INTENTS.resolve(client, ref)
        _print_plan(client.get(f"{INTENTS.path(ident)}/plan") or {}, output)
        return
    site, name = split_ref(ref, "intent") if "/" in ref else (None, None)
    current: Item = {}
    try:
        current = client.get(INTENTS.path(INTENTS.resolve(client, ref))) or {}
    except CliError as exc:
        if exc.status != 404 or site is None:
            raise
    body: dict[str, Any] = {
        "site": current.get("site_name", site),
        "name": current.get("name", name),
        **{k: current[k] for k in ("destination", "prefer", "return_path") if k in current},
        **fields,
    }
    _print_plan(client.post("/v1/intents/plan", body) or {}, output)


@app.command("delete")
def delete(
    ctx: typer.Context,
    ref: RefArg,
    if_match: IfMatchOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Delete an intent: its policy objects leave the routers."""
    client = get_client(ctx)
    answer = client.delete(INTENTS.path(INTENTS.resolve(client, ref)), if_match=if_match)
    print_done(f"intent {ref} deleted", pop_warnings(answer), output)
