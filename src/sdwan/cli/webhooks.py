"""``sdwan webhook ...``: where events and alerts are POSTed, and what came of it.

A webhook is named by its name (or id). Its secret is write-only: give it with
``--secret-stdin`` (or ``--secret``, which other users see in ``ps``)."""

from __future__ import annotations

import typer

from sdwan.cli.alerts import SEVERITIES, by_name
from sdwan.cli.client import get_client, list_items
from sdwan.cli.commands import (
    DESCRIPTION,
    LIMIT,
    NAME_FILTER,
    OFFSET,
    OUTPUT,
    PAGING,
    Args,
    ResourceCommands,
    argument,
    command,
    option,
)
from sdwan.cli.errors import CliError
from sdwan.cli.output import page_hint, print_list
from sdwan.cli.resource import Item, Resource, name_field
from sdwan.cli.values import choice, given, read_secret, split_list

app = typer.Typer(help="Manage webhooks: events and alerts POSTed to a URL.", no_args_is_help=True)

COLUMNS = [
    ("NAME", "name"),
    ("URL", "url"),
    ("FORMAT", "format"),
    ("FILTER", "filter_text"),
    ("ENABLED", "enabled"),
    ("PENDING", "pending"),
]
DELIVERY_COLUMNS = [
    ("AT", "at"),
    ("EVENT", "event_id"),
    ("KIND", "event_kind"),
    ("ATTEMPT", "attempt"),
    ("OUTCOME", "outcome"),
    ("STATUS", "status_code"),
    ("MS", "duration_ms"),
    ("ERROR", "error"),
]
FILTER_KEYS = ("kinds", "resource_types", "severities", "rules")


def _row(item: Item) -> Item:
    chosen = item.get("filter") or {}
    text = "; ".join(f"{k}={','.join(chosen[k])}" for k in FILTER_KEYS if chosen.get(k))
    return {**item, "filter_text": text or "everything"}


HOOKS = Resource(
    "webhooks",
    "webhook",
    COLUMNS,
    name_of=name_field,
    resolve=by_name("webhooks", "webhook"),
    row=_row,
    applied_at_once=True,
    deleted_at_once=True,
)
REF = argument("WEBHOOK", "Webhook name or id.")
hooks = ResourceCommands(app, HOOKS, REF)

FIELDS = (
    option("url", str | None, "--url", help="http:// or https:// (an allowed address)."),
    option("secret", str | None, "--secret", help="Signing key (>= 16 characters; see ps)."),
    option("secret_stdin", bool, "--secret-stdin", default=False, help="Read it from stdin."),
    option("format", str | None, "--format", help="native (default) or alertmanager."),
    option("kind", list[str] | None, "--kind", help="Event kind or prefix (alert.*), repeatable."),
    option("resource_type", list[str] | None, "--resource-type", help="Repeatable."),
    option("severity", list[str] | None, "--severity", help="Alerts of this severity."),
    option("rule", list[str] | None, "--rule", help="Alerts of this rule (by name)."),
    option("enabled", bool | None, "--enabled/--disabled", help="Whether it is delivered to."),
    DESCRIPTION,
)


def _filter(args: Args) -> Item | None:
    """The filter options given (None: none); each replaces the filter as a whole."""
    chosen = {
        "kinds": split_list(args["kind"]),
        "resource_types": split_list(args["resource_type"]),
        "severities": split_list(args["severity"]),
        "rules": split_list(args["rule"]),
    }
    if all(v is None for v in chosen.values()):
        return None
    for severity in chosen["severities"] or []:
        choice(severity, "--severity", SEVERITIES)
    return {k: v or [] for k, v in chosen.items()}


def _fields(args: Args) -> Item:
    return given(
        url=args["url"],
        secret=read_secret(args["secret"], args["secret_stdin"], "secret"),
        format=choice(args["format"], "--format", ("native", "alertmanager")),
        filter=_filter(args),
        enabled=args["enabled"],
        description=args["description"],
    )


def _create_body(args: Args) -> Item:
    body = {"name": args["ref"], **_fields(args), **given(project=args["project"])}
    if "secret" not in body:
        raise CliError("a webhook needs a secret: --secret-stdin (or --secret)")
    return body


hooks.add_create(
    "Create a webhook.",
    [
        argument("NAME"),
        *(p.required() if p.name == "url" else p for p in FIELDS),
        option("project", str | None, "--project", help="Admins: the project."),
    ],
    _create_body,
)
hooks.add_list("List webhooks.", [NAME_FILTER], paging=PAGING)
hooks.add_show("Show a webhook (never its secret).")
hooks.add_set("Change a webhook (a filter option replaces the filter).", FIELDS, _fields)
hooks.add_delete("Delete a webhook with its queue and delivery log.")


def _deliveries(ctx: typer.Context, args: Args) -> None:
    client = get_client(ctx)
    hook = HOOKS.resolve(client, args["ref"])
    query = given(limit=args["limit"], offset=args["offset"])
    items, total = list_items(client, f"/v1/webhooks/{hook}/deliveries", query, fetch_all=False)
    print_list(items, DELIVERY_COLUMNS, args["output"])
    page_hint(len(items), args["offset"] or 0, total, args["output"])


command(
    app,
    "deliveries",
    "Show a webhook's delivery log, newest first: one line per attempt.",
    [REF, LIMIT, OFFSET, OUTPUT],
    _deliveries,
)
