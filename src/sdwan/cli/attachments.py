"""``sdwan attachment ...``: policies applied to a router's import or export, for all of
its neighbors or only some."""

from __future__ import annotations

import typer

from sdwan.cli.commands import (
    DESCRIPTION,
    NAME_FILTER,
    REQUIRED,
    ROUTER_FILTER,
    Args,
    Filter,
    ResourceCommands,
    argument,
    option,
)
from sdwan.cli.errors import CliError
from sdwan.cli.owned import Keyed, with_router
from sdwan.cli.resource import Item
from sdwan.cli.values import choice, given, split_list

app = typer.Typer(
    help="Manage policy attachments (policies applied on import or export).",
    no_args_is_help=True,
)

COLUMNS = [
    ("ID", "id"),
    ("ROUTER", "router_name"),
    ("NAME", "name"),
    ("DIRECTION", "direction"),
    ("POLICIES", "policies"),
    ("NEIGHBORS", "neighbors"),
    ("DEFAULT ACTION", "default_action"),
    ("PRIORITY", "priority"),
    ("STATUS", "status"),
]
ATTACHMENTS = Keyed("policy-attachments", "attachment")
DIRECTIONS = ("import", "export")
DEFAULT_ACTIONS = ("accept", "reject", "none")

REF = argument("ATTACHMENT", "Attachment id, ROUTER/NAME, or a name only one router has.")
NEW_REF = argument("ROUTER/NAME", "Router and attachment name.")
DIRECTION = option("direction", str, "--direction", default=REQUIRED, metavar="import|export")
FIELDS = (
    option(
        "policy",
        list[str] | None,
        "--policy",
        help="Policy name (repeatable; applied in the order given).",
    ),
    option(
        "neighbor",
        list[str] | None,
        "--neighbor",
        metavar="ADDR",
        help="Only this neighbor (repeatable; none: every neighbor). On set: replaces the "
        "list; '' alone: every neighbor.",
    ),
    option(
        "default_action",
        str | None,
        "--default-action",
        metavar="accept|reject|none",
        help="For routes no statement decided (none: leave them to what follows).",
    ),
    option("priority", int | None, "--priority", min=0, max=10000, help="Lower runs first (100)."),
    DESCRIPTION,
)


def _fields(args: Args) -> Item:
    return given(
        policies=split_list(args["policy"]) or None,
        neighbors=split_list(args["neighbor"]),
        default_action=choice(args["default_action"], "--default-action", DEFAULT_ACTIONS),
        priority=args["priority"],
        description=args["description"],
    )


def _create_body(args: Args) -> Item:
    router, name = ATTACHMENTS.split_new(args["ref"])
    fields = _fields(args)
    if "policies" not in fields:
        raise CliError("give at least one --policy")
    direction = choice(args["direction"], "--direction", DIRECTIONS)
    return {"router": router, "name": name, "direction": direction, **fields}


def _set_body(args: Args) -> Item:
    body = _fields(args)
    if args["policy"] is not None and "policies" not in body:
        raise CliError("--policy: an attachment needs at least one policy")
    return body


def _table_row(item: Item) -> Item:
    return {**with_router(item), "neighbors": item.get("neighbors") or "all"}


commands = ResourceCommands(app, ATTACHMENTS.resource(COLUMNS, row=_table_row), REF)
commands.add_create(
    "Apply policies to a router's import or export.", [NEW_REF, DIRECTION, *FIELDS], _create_body
)
commands.add_list(
    "List attachments.",
    [
        ROUTER_FILTER,
        NAME_FILTER,
        Filter(
            option(
                "direction",
                str | None,
                "--direction",
                metavar="import|export",
                help="Only this one.",
            ),
            lambda direction: choice(direction, "--direction", DIRECTIONS),
        ),
    ],
)
commands.add_set(
    """Change an attachment (only the options given; --policy and --neighbor replace lists).

    The direction cannot change: delete and create instead.
    """,
    FIELDS,
    _set_body,
)
commands.add_show("Show one attachment.")
commands.add_delete("Delete an attachment (its policies stop applying).")
