"""``sdwan intent ...``: path intents, their plan and their verification.

An intent is named ``SITE/NAME`` (or by id). ``--prefer`` gives the tiers in order, one
option per tier; uplinks sharing a tier are separated by commas (equal cost)."""

from __future__ import annotations

from typing import Any

import typer

from sdwan.cli.client import get_client
from sdwan.cli.commands import (
    DESCRIPTION,
    OUTPUT,
    PAGING,
    SITE_FILTER,
    Args,
    ResourceCommands,
    argument,
    command,
    option,
)
from sdwan.cli.errors import CliError
from sdwan.cli.output import OutputFormat, print_data, print_object, print_table
from sdwan.cli.resource import Item, Resource
from sdwan.cli.sites import in_site, prefix_member, split_site_ref
from sdwan.cli.values import given

app = typer.Typer(
    help="Manage path intents: which uplinks a site uses, and check them.", no_args_is_help=True
)

COLUMNS = [
    ("SITE", "site_name"),
    ("NAME", "name"),
    ("DESTINATION", "to"),
    ("TIERS", "tier_text"),
    ("SLA", "sla_class"),
    ("STATUS", "status"),
    ("VERDICT", "verdict"),
    ("DETAIL", "verdict_detail"),
]
REF = argument("SITE/NAME", "Intent SITE/NAME or id.")
# what create, set and plan take
FIELDS = (
    option(
        "to_prefix",
        list[str] | None,
        "--to-prefix",
        help="Destination prefix (repeatable; P[,ge=N][,le=M]).",
    ),
    option("to_site", str | None, "--to-site", help="Destination: that site."),
    option("to_any", bool, "--to-any", default=False, help="Destination: every route."),
    option(
        "prefer",
        list[str] | None,
        "--prefer",
        metavar="UPLINK[,UPLINK]",
        help="A tier, primary first (repeat per tier).",
    ),
    option(
        "prefer_cost",
        bool,
        "--prefer-cost",
        default=False,
        help="Tiers by uplink cost (equal costs share).",
    ),
    option(
        "return_",
        str | None,
        "--return",
        metavar="none|prepend|med",
        help="Shape how the world reaches the site.",
    ),
    option(
        "return_prepend",
        int | None,
        "--return-prepend",
        min=1,
        max=8,
        help="Own AS per tier below.",
    ),
    option(
        "return_community",
        list[str] | None,
        "--return-community",
        help="Community for the backup uplinks (repeatable).",
    ),
    option(
        "sla", str | None, "--sla", metavar="CLASS", help="Steer on this SLA class (sdwan sla)."
    ),
    DESCRIPTION,
)
NO_SLA = option(
    "no_sla", bool, "--no-sla", default=False, help="Steer on no SLA class (reachability only)."
)


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


def _fields(args: Args) -> Item:
    fields = given(
        destination=_destination(args["to_prefix"], args["to_site"], args["to_any"]),
        prefer=_prefer(args["prefer"], args["prefer_cost"]),
        return_path=_return_path(args["return_"], args["return_prepend"], args["return_community"]),
        sla_class=args["sla"],
        description=args["description"],
    )
    if args.get("no_sla"):
        if args["sla"] is not None:
            raise CliError("give either --sla or --no-sla")
        fields["sla_class"] = None  # null clears it
    return fields


def _create_body(args: Args) -> Item:
    site, name = split_site_ref(args["ref"], "intent")
    fields = _fields(args)
    if "destination" not in fields or "prefer" not in fields:
        raise CliError("give a destination (--to-prefix/--to-site/--to-any) and --prefer")
    return {"site": site, "name": name, **fields}


def _set_body(args: Args) -> Item:
    fields = _fields(args)
    if not fields:
        raise CliError("nothing to change: give at least one option (see --help)")
    return fields


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


def print_sla(sla: dict[str, Any]) -> None:
    """Which uplinks meet the intent's SLA class now, and what the steering would move."""
    limits = ", ".join(
        f"{k.split('_')[0]} {v:g} {'%' if k == 'loss_pct' else 'ms'}"
        for k, v in (sla.get("limits") or {}).items()
        if v is not None
    )
    typer.echo(f"SLA class {sla.get('class')} ({limits}):")
    rows = []
    for item in sla.get("uplinks") or []:
        figures = [
            f"{item[k]:.1f}{unit}" if item.get(k) is not None else "-"
            for k, unit in (("loss_pct", " %"), ("latency_ms", " ms"), ("jitter_ms", " ms"))
        ]
        now = "demoted" if item.get("demoted") else "in its tier"
        after = "demoted" if item.get("demoted_after") else "in its tier"
        state = str(item.get("class_state")) + (f": {item['reason']}" if item.get("reason") else "")
        rows.append([item.get("uplink"), item.get("state"), *figures, state, now, after])
    headers = ["UPLINK", "STATE", "LOSS", "LATENCY", "JITTER", "CLASS", "NOW", "AFTER"]
    print_table(headers, rows)
    for move in sla.get("moves") or []:
        typer.echo(f"  would {move['kind']} {move['uplink']}: {move['reason']}")
    typer.echo("  tiers used: " + " > ".join(",".join(t) for t in sla.get("tiers") or []))
    if sla.get("note"):
        typer.echo(f"  ! {sla['note']}")


def print_prediction(plan: dict[str, Any]) -> None:
    prediction = plan.get("prediction", plan)
    for router, why in (prediction.get("unreachable") or {}).items():
        typer.echo(f"  ! {router} unreachable: {why}")
    if prediction.get("sla"):
        print_sla(prediction["sla"])
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


def print_intent(obj: Item, output: OutputFormat) -> None:
    """The fields, the last verification path by path, and the generated objects."""
    if output is not OutputFormat.table:
        print_data(obj, output)
        return
    row = _row(obj)
    keep = (
        "id",
        "site_name",
        "name",
        "to",
        "tier_text",
        "sla_class",
        "return_path",
        "status",
        "status_detail",
    )
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


INTENTS = Resource(
    "intents",
    "intent",
    COLUMNS,
    resolve=in_site("intents", "intent"),
    row=_row,
    printer=print_intent,
    deleted_at_once=True,
)
commands = ResourceCommands(app, INTENTS, REF)
commands.add_create(
    "Create an intent (its policy objects are generated on the site's routers).",
    [argument("SITE/NAME"), *FIELDS],
    _create_body,
)
commands.add_list("List intents with their verdicts.", [SITE_FILTER], paging=PAGING)
commands.add_show(
    "Show an intent: tiers, generated objects, and the last verification path by path."
)
commands.add_set(
    "Change an intent: its objects are replaced at once (soft resets, no session reset).",
    [*FIELDS, NO_SLA],
    _set_body,
)


def _plan(ctx: typer.Context, args: Args) -> None:
    ref, output = args["ref"], args["output"]
    fields = _fields(args)
    client = get_client(ctx)
    if not fields:
        ident = INTENTS.resolve(client, ref)
        _print_plan(client.get(f"{INTENTS.path(ident)}/plan") or {}, output)
        return
    site, name = split_site_ref(ref, "intent") if "/" in ref else (None, None)
    current: Item = {}
    try:
        current = INTENTS.fetch(ctx, ref)
    except CliError as exc:
        if exc.status != 404 or site is None:
            raise
    body: dict[str, Any] = {
        "site": current.get("site_name", site),
        "name": current.get("name", name),
        **{
            k: current[k]
            for k in ("destination", "prefer", "return_path", "sla_class")
            if current.get(k) is not None
        },
        **fields,
    }
    _print_plan(client.post("/v1/intents/plan", body) or {}, output)


command(
    app,
    "plan",
    """What a change would do (the options of create/set), or, without options, what
    the intent does now: each router's predicted best path, why, and the one it uses.""",
    [REF, *FIELDS, NO_SLA, OUTPUT],
    _plan,
)
commands.add_delete("Delete an intent: its policy objects leave the routers.")
