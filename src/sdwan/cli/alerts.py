"""``sdwan alert ...``: alert rules (``sdwan alert rule ...``) and the alerts they
raise (``sdwan alert list``, ``sdwan alert show``).

A rule is named by its name (or id); an alert by its id. The API applies writes at
once: no --wait."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from sdwan.cli.client import ApiClient
from sdwan.cli.commands import (
    DESCRIPTION,
    NAME_FILTER,
    PAGING,
    REQUIRED,
    Args,
    Filter,
    ResourceCommands,
    add_list,
    argument,
    option,
)
from sdwan.cli.errors import CliError
from sdwan.cli.resource import Item, Resource, name_field
from sdwan.cli.values import choice, given, is_uuid, split_list
from sdwan.domain.alerts import SCOPE_NAMES, AlertKind, Severity

app = typer.Typer(help="Alerts and the rules that raise them.", no_args_is_help=True)
rule_app = typer.Typer(help="Manage alert rules: what to page for.", no_args_is_help=True)
app.add_typer(rule_app, name="rule")

KINDS = tuple(kind.value for kind in AlertKind)
SEVERITIES = tuple(severity.value for severity in Severity)
RULE_COLUMNS = [
    ("NAME", "name"),
    ("KIND", "kind"),
    ("THRESHOLD", "threshold"),
    ("SEVERITY", "severity"),
    ("SCOPE", "scope_text"),
    ("ENABLED", "enabled"),
    ("FIRING", "firing"),
]
ALERT_COLUMNS = [
    ("ID", "id"),
    ("STATE", "state"),
    ("SEVERITY", "severity"),
    ("RULE", "rule_name"),
    ("SUBJECT", "subject_name"),
    ("SINCE", "since"),
    ("FIRED", "fired_at"),
    ("RESOLVED", "resolved_at"),
]


def by_name(collection: str, kind: str) -> Callable[[ApiClient, str], str]:
    """A resolver of a name (or an id, as is) to the id, for rows named once in their
    project (alert rules, webhooks)."""

    def resolve(client: ApiClient, ref: str) -> str:
        if is_uuid(ref):
            return ref
        page = client.get(f"/v1/{collection}", {"name": ref, "limit": 2}) or {}
        items = page.get("items") or []
        if not items:
            raise CliError(f"no {kind} {ref}", status=404)
        if len(items) > 1:
            projects = ", ".join(sorted(str(i.get("project_id")) for i in items))
            raise CliError(f"{kind} {ref} is in several projects ({projects}); use its id")
        return str(items[0]["id"])

    return resolve


def labels(values: list[str] | None, option_name: str = "--label") -> dict[str, str] | None:
    """``KEY=VALUE`` options -> a mapping; None when not given; ``''`` alone: empty."""
    entries = split_list(values)
    if entries is None:
        return None
    found: dict[str, str] = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        if not sep or not key:
            raise CliError(f"{option_name} {entry!r}: expected KEY=VALUE")
        found[key] = value
    return found


# --- rules -----------------------------------------------------------------------------


def _scope_row(item: Item) -> Item:
    scope = item.get("scope") or {}
    text = ", ".join(f"{k}={v}" for k, v in scope.items()) or "-"
    return {**item, "scope_text": text}


RULES = Resource(
    "alert-rules",
    "alert rule",
    RULE_COLUMNS,
    name_of=name_field,
    resolve=by_name("alert-rules", "alert rule"),
    row=_scope_row,
    applied_at_once=True,
    deleted_at_once=True,
)
rules = ResourceCommands(rule_app, RULES, argument("RULE", "Rule name or id."))

SCOPE_OPTIONS = tuple(
    option(name, str | None, f"--{name}", help=f"Only this {name} (scope).") for name in SCOPE_NAMES
)
RULE_FIELDS = (
    option(
        "threshold",
        float | None,
        "--threshold",
        min=0,
        help="Seconds the condition must hold; drift_repairs: repairs an hour still fine.",
    ),
    option("severity", str | None, "--severity", help="critical, warning (default) or info."),
    *SCOPE_OPTIONS,
    option("label", list[str] | None, "--label", metavar="KEY=VALUE", help="Repeatable."),
    option("enabled", bool | None, "--enabled/--disabled", help="Whether it is evaluated."),
    DESCRIPTION,
)


def _scope(args: Args) -> dict[str, str] | None:
    """The scope options given (None: none); ``''`` drops one, so ``--site ''`` alone
    clears the scope."""
    sent = {n: args[n] for n in SCOPE_NAMES if args[n] is not None}
    if not sent:
        return None
    return {n: v for n, v in sent.items() if v}


def _rule_fields(args: Args) -> Item:
    return given(
        threshold=args["threshold"],
        severity=choice(args["severity"], "--severity", SEVERITIES),
        scope=_scope(args),
        labels=labels(args["label"]),
        enabled=args["enabled"],
        description=args["description"],
    )


def _rule_create_body(args: Args) -> Item:
    kind = choice(args["kind"], "--kind", KINDS)
    return {
        "name": args["ref"],
        "kind": kind,
        **_rule_fields(args),
        **given(project=args["project"]),
    }


rules.add_create(
    "Create an alert rule.",
    [
        argument("NAME"),
        option("kind", str, "--kind", default=REQUIRED, help=", ".join(KINDS) + "."),
        *(p.required() if p.name == "threshold" else p for p in RULE_FIELDS),
        option("project", str | None, "--project", help="Admins: the project."),
    ],
    _rule_create_body,
)
rules.add_list(
    "List alert rules.",
    [
        NAME_FILTER,
        Filter(option("kind", str | None, "--kind", help="Only this kind.")),
        Filter(option("severity", str | None, "--severity", help="Only this severity.")),
    ],
    paging=PAGING,
)
rules.add_show("Show an alert rule.")
rules.add_set(
    "Change an alert rule (a scope option replaces the scope; --label the labels).",
    RULE_FIELDS,
    _rule_fields,
)
rules.add_delete("Delete an alert rule (its firing alerts resolve; the history stays).")


# --- alerts ----------------------------------------------------------------------------

ALERTS = Resource("alerts", "alert", ALERT_COLUMNS)


def _state(value: Any) -> str | None:
    return choice(value, "--state", ("firing", "resolved"))


add_list(
    app,
    ALERTS,
    "List alerts, newest first.",
    [
        Filter(option("state", str | None, "--state", help="firing or resolved."), _state),
        Filter(option("severity", str | None, "--severity", help="Only this severity.")),
        Filter(option("kind", str | None, "--kind", help="Only this kind of rule.")),
        Filter(option("rule", str | None, "--rule", help="Only this rule's (by name).")),
        Filter(option("router", str | None, "--router", help="Only this router's.")),
    ],
    paging=PAGING,
)
ResourceCommands(app, ALERTS, argument("ID", "Alert id.")).add_show("Show an alert.")
