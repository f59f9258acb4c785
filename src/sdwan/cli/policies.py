"""``sdwan policy ...``: routing policies, each an ordered list of statements.

Statements come from a file (``-f``: YAML or JSON, a list of statements or a mapping
with ``statements:``, as ``policy show -o yaml`` prints it; ``-f -`` reads stdin), or for
the common one-statement case from options (``--match-prefix-set``, ``--action``,
``--next-hop``, ``--local-pref``, ...).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

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
from sdwan.cli.output import OutputFormat, OutputOpt, print_object
from sdwan.cli.owned import Keyed, fetch, with_router

app = typer.Typer(help="Manage routing policies (ordered statements).", no_args_is_help=True)

COLUMNS = [
    ("ID", "id"),
    ("ROUTER", "router_name"),
    ("NAME", "name"),
    ("STATEMENTS", "statement_names"),
    ("STATUS", "status"),
]
POLICIES = Keyed("policies", "policy")
RESOURCE = POLICIES.resource(COLUMNS)
MATCHES = ("any", "all", "invert")
COMMUNITY_OPS = ("add", "remove", "replace")

RefArg = Annotated[
    str,
    typer.Argument(metavar="POLICY", help="Policy id, ROUTER/NAME, or a name only one router has."),
]
NewRefArg = Annotated[str, typer.Argument(metavar="ROUTER/NAME", help="Router and policy name.")]
FileOpt = Annotated[
    str | None,
    typer.Option(
        "-f",
        "--file",
        metavar="FILE",
        help="YAML/JSON: a list of statements, or a mapping with 'statements:'; - is stdin.",
    ),
]
StatementOpt = Annotated[
    str | None, typer.Option("--statement", metavar="NAME", help="Statement name (default s1).")
]
PrefixSetOpt = Annotated[
    str | None,
    typer.Option(
        "--match-prefix-set", metavar="SET[:any|all|invert]", help="Match this prefix set."
    ),
]
NeighborSetOpt = Annotated[
    str | None,
    typer.Option(
        "--match-neighbor-set", metavar="SET[:any|all|invert]", help="Match this neighbor set."
    ),
]
CommunitySetOpt = Annotated[
    str | None,
    typer.Option(
        "--match-community-set", metavar="SET[:any|all|invert]", help="Match this community set."
    ),
]
ActionOpt = Annotated[
    str | None,
    typer.Option(
        "--action", metavar="accept|reject|next", help="Route disposition (default next)."
    ),
]
NextHopOpt = Annotated[
    str | None,
    typer.Option("--next-hop", metavar="self|unchanged|ADDR", help="Set the next hop."),
]
LocalPrefOpt = Annotated[
    int | None, typer.Option("--local-pref", min=0, max=4294967295, help="Set LOCAL_PREF.")
]
MedOpt = Annotated[
    str | None,
    typer.Option("--med", metavar="N|+N|-N", help="Set MED to N, or add/subtract N."),
]
PrependOpt = Annotated[
    int | None,
    typer.Option("--prepend", min=1, max=16, help="Prepend the router's own AS N times."),
]
CommunityOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--community",
        metavar="add|remove|replace:C",
        help="Community action, e.g. add:65001:100 or add:no-export (repeatable, one verb).",
    ),
]


def read_document(path: str) -> Any:
    """A YAML (or JSON) file, or stdin for ``-``."""
    where = "stdin" if path == "-" else path
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CliError(f"{where} is not valid YAML/JSON: {exc}") from None


def statements_from(document: Any, where: str) -> tuple[list[Any], str | None]:
    """The statements (and a description, if the mapping has one) of a policy file."""
    description = None
    if isinstance(document, dict):
        if "statements" not in document:
            raise CliError(f"{where}: a mapping needs a 'statements:' list")
        description = document.get("description")
        document = document["statements"]
    if not isinstance(document, list) or not document:
        raise CliError(f"{where}: expected a non-empty list of statements")
    for index, statement in enumerate(document):
        if not isinstance(statement, dict):
            raise CliError(f"{where}: statement {index + 1} is not a mapping")
    return document, description if isinstance(description, str) else None


def _set_match(text: str, option: str) -> dict[str, str]:
    name, _, match = text.partition(":")
    if not name or (match and match not in MATCHES):
        raise CliError(f"{option}: expected SET or SET:any|all|invert, got {text!r}")
    return {"name": name, "match": match} if match else {"name": name}


def _med(text: str) -> dict[str, int]:
    op = {"+": "add", "-": "subtract"}.get(text[:1], "set")
    digits = text[1:] if op != "set" else text
    if not digits.isdigit():
        raise CliError(f"--med: expected N, +N or -N, got {text!r}")
    return {op: int(digits)}


def _communities(values: list[str]) -> dict[str, list[str]]:
    ops: dict[str, list[str]] = {}
    for value in values:
        op, _, community = value.partition(":")
        if op not in COMMUNITY_OPS or not community:
            raise CliError(f"--community: expected add|remove|replace:COMMUNITY, got {value!r}")
        ops.setdefault(op, []).append(community)
    if len(ops) > 1:
        raise CliError("--community: one statement takes one verb (add, remove or replace)")
    return ops


def quick_statement(
    name: str | None = None,
    prefix_set: str | None = None,
    neighbor_set: str | None = None,
    community_set: str | None = None,
    action: str | None = None,
    next_hop: str | None = None,
    local_pref: int | None = None,
    med: str | None = None,
    prepend: int | None = None,
    community: list[str] | None = None,
) -> dict[str, Any] | None:
    """The one statement the options describe; None when no option was given."""
    if action is not None and action.lower() not in ("accept", "reject", "next"):
        raise CliError(f"--action must be accept, reject or next, got {action!r}")
    conditions = given(
        prefix_set=_set_match(prefix_set, "--match-prefix-set") if prefix_set else None,
        neighbor_set=_set_match(neighbor_set, "--match-neighbor-set") if neighbor_set else None,
        community_set=(
            _set_match(community_set, "--match-community-set") if community_set else None
        ),
    )
    actions = given(
        disposition=action.lower() if action else None,
        next_hop=next_hop,
        local_pref=local_pref,
        med=_med(med) if med is not None else None,
        as_path_prepend={"asn": "own", "times": prepend} if prepend is not None else None,
        communities=_communities(community) if community else None,
    )
    if name is None and not conditions and not actions:
        return None
    return given(name=name, conditions=conditions or None, actions=actions or None)


def statements_body(
    file: str | None, quick: dict[str, Any] | None, description: str | None
) -> dict[str, Any]:
    """``statements`` (and ``description``) from -f or from the statement options."""
    if file is not None and quick is not None:
        raise CliError("give either -f FILE or the statement options (--statement, --action, ...)")
    if file is not None:
        statements, from_file = statements_from(
            read_document(file), "stdin" if file == "-" else file
        )
        return given(statements=statements, description=description or from_file)
    if quick is not None:
        return given(statements=[quick], description=description)
    return given(description=description)


def _statement_names(item: Item) -> str:
    statements = item.get("statements") or []
    return ", ".join(str(s.get("name") or "?") for s in statements if isinstance(s, dict))


def _table_row(item: Item) -> Item:
    return {**with_router(item), "statement_names": _statement_names(item)}


@app.command("create")
def create(
    ctx: typer.Context,
    ref: NewRefArg,
    file: FileOpt = None,
    statement: StatementOpt = None,
    match_prefix_set: PrefixSetOpt = None,
    match_neighbor_set: NeighborSetOpt = None,
    match_community_set: CommunitySetOpt = None,
    action: ActionOpt = None,
    next_hop: NextHopOpt = None,
    local_pref: LocalPrefOpt = None,
    med: MedOpt = None,
    prepend: PrependOpt = None,
    community: CommunityOpt = None,
    description: DescriptionOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create a policy from -f FILE, or one statement from the options."""
    router, name = POLICIES.split_new(ref)
    quick = quick_statement(
        statement,
        match_prefix_set,
        match_neighbor_set,
        match_community_set,
        action,
        next_hop,
        local_pref,
        med,
        prepend,
        community,
    )
    body = statements_body(file, quick, description)
    if "statements" not in body:
        raise CliError("give -f FILE, or statement options (--action, --next-hop, ...)")
    body = {"router": router, "name": name, **body}
    owned.create(ctx, RESOURCE, body, wait, timeout, output, print_policy)


@app.command("list")
def list_(
    ctx: typer.Context,
    router: Annotated[str | None, typer.Option("--router", help="Only this router.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Only this name.")] = None,
    status: StatusOpt = None,
    sort: SortOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    all_: AllOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List policies."""
    paging = Paging(status, sort, limit, offset, all_)
    RESOURCE.list_(ctx, given(router=router, name=name), paging, output, _table_row)


@app.command("show")
def show(ctx: typer.Context, ref: RefArg, output: OutputOpt = OutputFormat.table) -> None:
    """Show one policy; in table form its statements follow as YAML."""
    print_policy(fetch(ctx, RESOURCE, ref), output)


def print_policy(obj: Item, output: OutputFormat) -> None:
    """The fields (statement names only), then ``statements:`` as YAML; or the object."""
    if output is not OutputFormat.table:
        print_object(obj, output)
        return
    print_object({**obj, "statements": _statement_names(obj)}, output)
    statements = obj.get("statements") or []
    text = yaml.safe_dump({"statements": statements}, sort_keys=False, default_flow_style=False)
    typer.echo(text, nl=False)


@app.command("set")
def set_(
    ctx: typer.Context,
    ref: RefArg,
    file: FileOpt = None,
    statement: StatementOpt = None,
    match_prefix_set: PrefixSetOpt = None,
    match_neighbor_set: NeighborSetOpt = None,
    match_community_set: CommunitySetOpt = None,
    action: ActionOpt = None,
    next_hop: NextHopOpt = None,
    local_pref: LocalPrefOpt = None,
    med: MedOpt = None,
    prepend: PrependOpt = None,
    community: CommunityOpt = None,
    description: DescriptionOpt = None,
    if_match: IfMatchOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Replace a policy's statements (from -f FILE or the options) and/or its description."""
    quick = quick_statement(
        statement,
        match_prefix_set,
        match_neighbor_set,
        match_community_set,
        action,
        next_hop,
        local_pref,
        med,
        prepend,
        community,
    )
    body = statements_body(file, quick, description)
    owned.update(ctx, RESOURCE, ref, body, if_match, wait, timeout, output, print_policy)


@app.command("delete")
def delete(
    ctx: typer.Context,
    ref: RefArg,
    if_match: IfMatchOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Delete a policy (refused while an attachment uses it)."""
    RESOURCE.delete(ctx, ref, if_match, wait, timeout, output)
