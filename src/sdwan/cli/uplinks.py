"""``sdwan uplink ...``: named roles on neighbors of site routers, how each is measured
(``--probe...``) and what was measured (``list`` and ``show``: the probe agent's last
report; ``history``: the stored points).

An uplink is named ``SITE/NAME`` or by its id. The API applies its writes at once: no
--wait."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import typer

from sdwan.cli.client import get_client
from sdwan.cli.commands import (
    DESCRIPTION,
    OUTPUT,
    PAGING,
    REQUIRED,
    SITE_FILTER,
    Args,
    ResourceCommands,
    argument,
    command,
    option,
)
from sdwan.cli.errors import CliError
from sdwan.cli.figures import UNMEASURED, millis, percent, seconds
from sdwan.cli.output import OutputFormat, note, print_data, print_object, print_table
from sdwan.cli.resource import DEFAULT_TIMEOUT, Item, Resource
from sdwan.cli.sites import in_site, split_site_ref
from sdwan.cli.values import choice, given
from sdwan.domain.intent import TRANSPORTS

app = typer.Typer(
    help="Manage uplinks: named roles on neighbors of site routers, and their quality.",
    no_args_is_help=True,
)

COLUMNS = [
    ("SITE", "site_name"),
    ("NAME", "name"),
    ("ROUTER", "router_name"),
    ("NEIGHBOR", "neighbor"),
    ("TRANSPORT", "transport"),
    ("COST", "cost"),
    ("MBPS", "bandwidth_mbps"),
    ("STATE", "state_text"),
    ("LOSS", "loss_text"),
    ("LATENCY", "latency_text"),
    ("JITTER", "jitter_text"),
    ("USED BY", "used_by"),
]
AUTO = "auto"  # a probe target or rate left to its default

FIELDS = (
    option(
        "transport",
        str | None,
        "--transport",
        help=f"{', '.join(TRANSPORTS[:-1])} or {TRANSPORTS[-1]}.",
    ),
    option("cost", int | None, "--cost", min=0, max=65535, help="Lower is cheaper."),
    option(
        "bandwidth", int | None, "--bandwidth", min=1, help="Megabits per second (informational)."
    ),
    option(
        "probe",
        str | None,
        "--probe",
        metavar="udp|icmp|none",
        help="How it is measured: udp to a probe agent, icmp echo, or not at all.",
    ),
    option(
        "probe_target",
        str | None,
        "--probe-target",
        metavar="ADDR|auto",
        help="The address probed over it (auto: the far site's probe agent).",
    ),
    option("probe_port", int | None, "--probe-port", min=1, max=65535, help="udp: the port."),
    option(
        "probe_rate",
        str | None,
        "--probe-rate",
        metavar="R|auto",
        help="Probes per second, 1-1000 (auto: the agent's default).",
    ),
    DESCRIPTION,
)


def _rate(text: str) -> float | None:
    if text.strip().lower() == AUTO:
        return None
    try:
        rate = float(text)
    except ValueError:
        raise CliError(f"--probe-rate: expected probes per second or auto, got {text!r}") from None
    if not 1 <= rate <= 1000:
        raise CliError(f"--probe-rate: must be from 1 to 1000, got {text}")
    return rate


def _probe(args: Args) -> dict[str, Any]:
    """The probe fields given (a target or rate of ``auto``: null, the default)."""
    given_ = {
        key: args[key]
        for key in ("probe", "probe_target", "probe_port", "probe_rate")
        if args[key] is not None
    }
    probe: dict[str, Any] = {}
    if "probe" in given_:
        probe["method"] = choice(given_["probe"], "--probe", ("udp", "icmp", "none"))
    if "probe_target" in given_:
        target = given_["probe_target"].strip()
        probe["target"] = None if target.lower() == AUTO else target
    if "probe_port" in given_:
        probe["port"] = given_["probe_port"]
    if "probe_rate" in given_:
        probe["rate"] = _rate(given_["probe_rate"])
    return probe


def _fields(args: Args) -> Item:
    return given(
        transport=args["transport"],
        cost=args["cost"],
        bandwidth_mbps=args["bandwidth"],
        description=args["description"],
    )


def _create_body(args: Args) -> Item:
    site, name = split_site_ref(args["ref"], "uplink")
    where = {"site": site, "name": name, "router": args["router"], "neighbor": args["neighbor"]}
    probe = {k: v for k, v in _probe(args).items() if v is not None}
    return {**where, **_fields(args), **({"probe": probe} if probe else {})}


def _row(item: Item) -> Item:
    quality = item.get("quality")
    if not quality:
        return {**item, "state_text": UNMEASURED}
    short = quality.get("short") or {}
    return {
        **item,
        "state_text": quality.get("state", "") + (" (stale)" if quality.get("stale") else ""),
        "loss_text": percent(short.get("loss_pct")),
        "latency_text": millis(short.get("latency_ms")),
        "jitter_text": millis(short.get("jitter_ms")),
    }


def probe_text(probe: Any) -> str:
    if not isinstance(probe, dict):
        return ""
    if probe.get("method") == "none":
        return "none (not measured)"
    rate = probe.get("rate")
    parts = [
        str(probe.get("method")),
        f"target {probe.get('target') or 'auto (the far site agent)'}",
        *([f"port {probe.get('port')}"] if probe.get("method") == "udp" else []),
        f"{rate:g}/s" if isinstance(rate, int | float) else "the agent's rate",
    ]
    return ", ".join(parts)


def print_uplink(obj: Item, output: OutputFormat) -> None:
    """The fields, then what its probe agent measured last, window by window."""
    if output is not OutputFormat.table:
        print_data(obj, output)
        return
    shown = {k: v for k, v in obj.items() if k not in ("quality", "probe")}
    print_object({**shown, "probe": probe_text(obj.get("probe"))}, output)
    quality = obj.get("quality")
    if not quality:
        typer.echo("quality: not reported yet")
        return
    stale = ", stale" if quality.get("stale") else ""
    typer.echo(
        f"quality: {quality.get('state')} since {quality.get('since')} (reported "
        f"{quality.get('reported_at')}{stale}; from {quality.get('local_address') or '?'} "
        f"on {quality.get('interface') or '?'})"
    )
    rows = []
    for window in ("short", "long"):
        figures = quality.get(window) or {}
        rows.append(
            [
                window,
                seconds(figures.get("window_s")),
                f"{figures.get('answered', 0)}/{figures.get('sent', 0)}",
                percent(figures.get("loss_pct")),
                millis(figures.get("latency_ms")),
                millis(figures.get("jitter_ms")),
            ]
        )
    print_table(["WINDOW", "LENGTH", "ANSWERED", "LOSS", "LATENCY", "JITTER"], rows)
    for name, verdict in (quality.get("classes") or {}).items():
        reason = f": {verdict['reason']}" if verdict.get("reason") else ""
        typer.echo(
            f"  SLA class {name}: {verdict.get('state')} since {verdict.get('since')}{reason}"
        )


UPLINKS = Resource(
    "uplinks",
    "uplink",
    COLUMNS,
    resolve=in_site("uplinks", "uplink"),
    row=_row,
    printer=print_uplink,
    applied_at_once=True,
    deleted_at_once=True,
)
REF = argument("SITE/NAME", "Uplink SITE/NAME or id.")
commands = ResourceCommands(app, UPLINKS, REF)
commands.add_create(
    "Give a neighbor of a site router an uplink role.",
    [
        argument("SITE/NAME"),
        option("router", str, "--router", default=REQUIRED, help="The site router it is on."),
        option("neighbor", str, "--neighbor", default=REQUIRED, help="The neighbor's address."),
        *FIELDS,
    ],
    _create_body,
)
commands.add_list(
    "List uplinks with their measured quality (the short window: loss, latency, jitter).",
    [SITE_FILTER],
    paging=PAGING,
)
commands.add_show("Show an uplink and what its probe agent measured last.")


def _set(ctx: typer.Context, args: Args) -> None:
    """The probe options change the uplink's probe setting as it is now (read first; the
    write is guarded by the version read unless --if-match says which)."""
    body, if_match = _fields(args), args["if_match"]
    probe = _probe(args)
    if probe:
        current = UPLINKS.fetch(ctx, args["ref"])
        body["probe"] = {**(current.get("probe") or {}), **probe}
        if_match = if_match or str(current.get("version", ""))
    UPLINKS.update(ctx, args["ref"], body, if_match, False, DEFAULT_TIMEOUT, args["output"])


command(
    app,
    "set",
    "Change an uplink's transport, cost, bandwidth or how it is measured.",
    commands.set_params(FIELDS),
    _set,
)
commands.add_delete("Delete an uplink no intent names.")

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def point_in_time(text: str | None, spelled: str) -> str | None:
    """``90s``, ``15m``, ``1h``, ``2d`` (that long ago) or an ISO 8601 time with a time
    zone, as the API takes it."""
    if text is None:
        return None
    found = _DURATION.match(text.strip())
    if found:
        ago = timedelta(seconds=float(found.group(1)) * _UNITS[found.group(2)])
        return (datetime.now(UTC) - ago).isoformat(timespec="seconds")
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise CliError(
            f"{spelled}: expected a time ago like 90s, 15m, 1h, 2d or an ISO 8601 time with "
            f"a time zone, got {text!r}"
        )
    return when.isoformat()


def _history(ctx: typer.Context, args: Args) -> None:
    client = get_client(ctx)
    ident = UPLINKS.resolve(client, args["ref"])
    query = given(
        since=point_in_time(args["since"], "--since"),
        until=point_in_time(args["until"], "--until"),
        resolution=args["resolution"],
        limit=args["limit"],
    )
    found = client.get(f"{UPLINKS.path(ident)}/quality/history", query) or {}
    if args["output"] is not OutputFormat.table:
        print_data(found, args["output"])
        return
    label = f"uplink {found.get('site_name')}/{found.get('name')}"
    if not found.get("items"):
        note(f"{label}: no measurements stored for that time")
        return
    stored = ", ".join(str(r) for r in found.get("resolutions") or [])
    typer.echo(f"{label}: a point every {found.get('resolution')} s (stored: {stored} s)")
    rows = [
        [
            point.get("start"),
            point.get("reports"),
            percent(point.get("loss_pct")),
            percent(point.get("loss_max_pct")),
            millis(point.get("latency_ms")),
            millis(point.get("latency_max_ms")),
            millis(point.get("jitter_ms")),
            millis(point.get("jitter_max_ms")),
            seconds(point.get("dead_s")),
        ]
        for point in found["items"]
    ]
    headers = ["START", "REPORTS", "LOSS", "LOSS MAX", "LATENCY", "LATENCY MAX", "JITTER"]
    print_table([*headers, "JITTER MAX", "DEAD"], rows)


command(
    app,
    "history",
    "The uplink's measured quality over time (oldest first, the newest last).",
    [
        REF,
        option(
            "since",
            str | None,
            "--since",
            metavar="AGO|TIME",
            help="From then on: 90s, 15m, 1h, 2d ago, or an ISO 8601 time (default: the "
            "newest points).",
        ),
        option("until", str | None, "--until", metavar="AGO|TIME", help="Before then."),
        option(
            "resolution",
            int | None,
            "--resolution",
            min=1,
            max=86400,
            metavar="SECONDS",
            help="Seconds per point (default: the finest stored that reaches back to --since).",
        ),
        option("limit", int | None, "--limit", min=1, max=10000, help="At most this many points."),
        OUTPUT,
    ],
    _history,
)
