"""``sdwan attachment ...``: policies applied to a router's import or export, for all of
its neighbors or only some."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sdwan.cli import owned
from sdwan.cli.common import (
    TIMEOUT,
    AllOpt,
    DescriptionOpt,
    IfMatchOpt,
    Item,
    LimitOpt,
    OffsetOpt,
    Paging,
    SortOpt,
    StatusOpt,
    TimeoutOpt,
    WaitOpt,
    given,
)
from sdwan.cli.errors import CliError
from sdwan.cli.output import OutputFormat, OutputOpt
from sdwan.cli.owned import Keyed, split_list, with_router
from sdwan.cli.owned_commands import add_show_and_delete

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
RESOURCE = ATTACHMENTS.resource(COLUMNS)
DIRECTIONS = ("import", "export")
DEFAULT_ACTIONS = ("accept", "reject", "none")

RefArg = Annotated[
    str,
    typer.Argument(
        metavar="ATTACHMENT", help="Attachment id, ROUTER/NAME, or a name only one router has."
    ),
]
NewRefArg = Annotated[
    str, typer.Argument(metavar="ROUTER/NAME", help="Router and attachment name.")
]
PolicyOpt = Annotated[
    list[str] | None,
    typer.Option("--policy", help="Policy name (repeatable; applied in the order given)."),
]
NeighborOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--neighbor",
        metavar="ADDR",
        help="Only this neighbor (repeatable; none: every neighbor). On set: replaces the "
        "list; '' alone: every neighbor.",
    ),
]
DefaultActionOpt = Annotated[
    str | None,
    typer.Option(
        "--default-action",
        metavar="accept|reject|none",
        help="For routes no statement decided (none: leave them to what follows).",
    ),
]
PriorityOpt = Annotated[
    int | None, typer.Option("--priority", min=0, max=10000, help="Lower runs first (100).")
]


def _choice(value: str | None, option: str, choices: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if value.lower() not in choices:
        raise CliError(f"{option} must be one of {', '.join(choices)}, got {value!r}")
    return value.lower()


def _table_row(item: Item) -> Item:
    return {**with_router(item), "neighbors": item.get("neighbors") or "all"}


def _fields(
    policy: list[str] | None,
    neighbor: list[str] | None,
    default_action: str | None,
    priority: int | None,
    description: str | None,
) -> dict[str, Any]:
    return given(
        policies=split_list(policy) or None,
        neighbors=split_list(neighbor),
        default_action=_choice(default_action, "--default-action", DEFAULT_ACTIONS),
        priority=priority,
        description=description,
    )


PRINT = owned.viewed(_table_row)


@app.command("create")
def create(
    ctx: typer.Context,
    ref: NewRefArg,
    direction: Annotated[str, typer.Option("--direction", metavar="import|export")],
    policy: PolicyOpt = None,
    neighbor: NeighborOpt = None,
    default_action: DefaultActionOpt = None,
    priority: PriorityOpt = None,
    description: DescriptionOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Apply policies to a router's import or export."""
    router, name = ATTACHMENTS.split_new(ref)
    fields = _fields(policy, neighbor, default_action, priority, description)
    if "policies" not in fields:
        raise CliError("give at least one --policy")
    body = {
        "router": router,
        "name": name,
        "direction": _choice(direction, "--direction", DIRECTIONS),
        **fields,
    }
    owned.create(ctx, RESOURCE, body, wait, timeout, output, PRINT)


@app.command("list")
def list_(
    ctx: typer.Context,
    router: Annotated[str | None, typer.Option("--router", help="Only this router.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Only this name.")] = None,
    direction: Annotated[
        str | None, typer.Option("--direction", metavar="import|export", help="Only this one.")
    ] = None,
    status: StatusOpt = None,
    sort: SortOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    all_: AllOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List attachments."""
    filters = given(
        router=router, name=name, direction=_choice(direction, "--direction", DIRECTIONS)
    )
    paging = Paging(status, sort, limit, offset, all_)
    RESOURCE.list_(ctx, filters, paging, output, _table_row)


@app.command("set")
def set_(
    ctx: typer.Context,
    ref: RefArg,
    policy: PolicyOpt = None,
    neighbor: NeighborOpt = None,
    default_action: DefaultActionOpt = None,
    priority: PriorityOpt = None,
    description: DescriptionOpt = None,
    if_match: IfMatchOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Change an attachment (only the options given; --policy and --neighbor replace lists).

    The direction cannot change: delete and create instead.
    """
    body = _fields(policy, neighbor, default_action, priority, description)
    if policy is not None and "policies" not in body:
        raise CliError("--policy: an attachment needs at least one policy")
    owned.update(ctx, RESOURCE, ref, body, if_match, wait, timeout, output, PRINT)


add_show_and_delete(
    app,
    RESOURCE,
    RefArg,
    PRINT,
    show_help="Show one attachment.",
    delete_help="Delete an attachment (its policies stop applying).",
)
