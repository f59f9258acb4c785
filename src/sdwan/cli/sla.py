"""``sdwan sla ...``: SLA classes, the limits on loss, latency and jitter that intents
steer their uplinks on (``sdwan intent set SITE/NAME --sla gold``).

A class is named by its name (in the caller's project) or its id. The API applies its
writes at once: no --wait."""

from __future__ import annotations

import typer

from sdwan.cli.commands import (
    DESCRIPTION,
    NAME_FILTER,
    PAGING,
    Args,
    Filter,
    Param,
    ResourceCommands,
    argument,
    option,
)
from sdwan.cli.errors import CliError
from sdwan.cli.figures import UNMEASURED, millis, percent, seconds
from sdwan.cli.resource import Item, Resource, name_field
from sdwan.cli.values import given

app = typer.Typer(
    help="Manage SLA classes: loss, latency and jitter limits intents steer on.",
    no_args_is_help=True,
)

COLUMNS = [
    ("NAME", "name"),
    ("LOSS", "loss_text"),
    ("LATENCY", "latency_text"),
    ("JITTER", "jitter_text"),
    ("HOLD-DOWN", "hold_down_text"),
    ("MIN INTERVAL", "min_interval_text"),
    ("USED BY", "used_by"),
]
# option name -> (the API's field, its spelling, its unit, its largest value, its help)
LIMITS = {
    "loss": ("loss_pct", "--loss", "PCT", 100, "Loss limit, % of probes."),
    "latency": ("latency_ms", "--latency", "MS", 60000, "Round-trip time limit, ms."),
    "jitter": ("jitter_ms", "--jitter", "MS", 60000, "Jitter limit (mean |delta RTT|), ms."),
}
LIMIT_OPTIONS = tuple(
    option(name, float | None, spelled, metavar=metavar, min=0, max=most, help=text)
    for name, (_field, spelled, metavar, most, text) in LIMITS.items()
)
TIME_OPTIONS = (
    option(
        "hold_down",
        float | None,
        "--hold-down",
        metavar="SECONDS",
        min=1,
        max=86400,
        help="A demoted uplink returns after meeting the class this long (default 30).",
    ),
    option(
        "min_interval",
        float | None,
        "--min-interval",
        metavar="SECONDS",
        min=1,
        max=86400,
        help="At least this long between two moves of one uplink (default 10).",
    ),
)
LIFT_OPTIONS = tuple(
    option(f"no_{name}", bool, f"--no-{name}", default=False, help=f"Lift the {name} limit.")
    for name in LIMITS
)


def _fields(args: Args) -> Item:
    body = given(
        **{field: args[name] for name, (field, *_rest) in LIMITS.items()},
        hold_down_s=args["hold_down"],
        min_interval_s=args["min_interval"],
        description=args["description"],
    )
    for name, (field, spelled, *_rest) in LIMITS.items():
        if args.get(f"no_{name}"):
            if args[name] is not None:
                raise CliError(f"give either {spelled} or --no-{name}")
            body[field] = None  # null lifts it
    return body


def _create_body(args: Args) -> Item:
    body = {"name": args["name"], **_fields(args), **given(project=args["project"])}
    if not any(field in body for field, *_rest in LIMITS.values()):
        raise CliError("give at least one limit: --loss, --latency or --jitter")
    return body


def _row(item: Item) -> Item:
    return {
        **item,
        "loss_text": percent(item.get("loss_pct")),
        "latency_text": millis(item.get("latency_ms")),
        "jitter_text": millis(item.get("jitter_ms")),
        "hold_down_text": seconds(item.get("hold_down_s")),
        "min_interval_text": seconds(item.get("min_interval_s")),
    }


def limits_text(item: Item) -> str:
    """``loss 1 %, latency 50 ms``: the limits a class sets."""
    parts = [
        f"{label} {shown(item.get(field))}"
        for label, field, shown in (
            ("loss", "loss_pct", percent),
            ("latency", "latency_ms", millis),
            ("jitter", "jitter_ms", millis),
        )
        if shown(item.get(field)) != UNMEASURED
    ]
    return ", ".join(parts)


SLA_CLASSES = Resource(
    "sla-classes",
    "SLA class",
    COLUMNS,
    name_of=name_field,
    row=_row,
    applied_at_once=True,
    deleted_at_once=True,
)
commands = ResourceCommands(app, SLA_CLASSES, argument("NAME", "SLA class name or id."))
PROJECT_FILTER = Filter(option("project", str | None, "--project", help="Admins: this project's."))
NEW_NAME: Param = argument("NAME", name="name")
commands.add_create(
    "Create an SLA class: at least one limit (--loss, --latency, --jitter).",
    [
        NEW_NAME,
        *LIMIT_OPTIONS,
        *TIME_OPTIONS,
        DESCRIPTION,
        option("project", str | None, "--project", help="Admins: the project."),
    ],
    _create_body,
)
commands.add_list("List SLA classes.", [NAME_FILTER, PROJECT_FILTER], paging=PAGING)
commands.add_show("Show an SLA class and the intents steered on it.")
commands.add_set(
    "Change an SLA class (--no-loss etc. lift a limit; one must remain).",
    [*LIMIT_OPTIONS, *LIFT_OPTIONS, *TIME_OPTIONS, DESCRIPTION],
    _fields,
)
commands.add_delete("Delete an SLA class no intent names.")
