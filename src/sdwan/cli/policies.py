"""``sdwan policy ...``: routing policies, each an ordered list of statements.

Statements come from a file (``-f``: YAML or JSON, a list of statements or a mapping
with ``statements:``, as ``policy show -o yaml`` prints it; ``-f -`` reads stdin), or for
the common one-statement case from options (``--match-prefix-set``, ``--action``,
``--next-hop``, ``--local-pref``, ...).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
import yaml

from sdwan.cli.commands import (
    DESCRIPTION,
    NAME_FILTER,
    ROUTER_FILTER,
    Args,
    Param,
    ResourceCommands,
    argument,
    option,
)
from sdwan.cli.errors import CliError
from sdwan.cli.output import OutputFormat, print_object
from sdwan.cli.owned import Keyed, with_router
from sdwan.cli.resource import Item
from sdwan.cli.values import given

app = typer.Typer(help="Manage routing policies (ordered statements).", no_args_is_help=True)

COLUMNS = [
    ("ID", "id"),
    ("ROUTER", "router_name"),
    ("NAME", "name"),
    ("STATEMENTS", "statement_names"),
    ("STATUS", "status"),
]
POLICIES = Keyed("policies", "policy")
MATCHES = ("any", "all", "invert")
COMMUNITY_OPS = ("add", "remove", "replace")
SET_KINDS = ("prefix", "neighbor", "community")  # --match-KIND-set

REF = argument("POLICY", "Policy id, ROUTER/NAME, or a name only one router has.")
NEW_REF = argument("ROUTER/NAME", "Router and policy name.")


def _match_set(kind: str) -> Param:
    return option(
        f"match_{kind}_set",
        str | None,
        f"--match-{kind}-set",
        metavar="SET[:any|all|invert]",
        help=f"Match this {kind} set.",
    )


# -f, or the options of one statement (quick_statement), and --description
FIELDS = (
    option(
        "file",
        str | None,
        "-f",
        "--file",
        metavar="FILE",
        help="YAML/JSON: a list of statements, or a mapping with 'statements:'; - is stdin.",
    ),
    option(
        "statement", str | None, "--statement", metavar="NAME", help="Statement name (default s1)."
    ),
    *(_match_set(kind) for kind in SET_KINDS),
    option(
        "action",
        str | None,
        "--action",
        metavar="accept|reject|next",
        help="Route disposition (default next).",
    ),
    option(
        "next_hop",
        str | None,
        "--next-hop",
        metavar="self|unchanged|ADDR",
        help="Set the next hop.",
    ),
    option("local_pref", int | None, "--local-pref", min=0, max=4294967295, help="Set LOCAL_PREF."),
    option("med", str | None, "--med", metavar="N|+N|-N", help="Set MED to N, or add/subtract N."),
    option(
        "prepend",
        int | None,
        "--prepend",
        min=1,
        max=16,
        help="Prepend the router's own AS N times.",
    ),
    option(
        "community",
        list[str] | None,
        "--community",
        metavar="add|remove|replace:C",
        help="Community action, e.g. add:65001:100 or add:no-export (repeatable, one verb).",
    ),
    DESCRIPTION,
)


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


def quick_statement(args: Args) -> dict[str, Any] | None:
    """The one statement the options describe; None when no option was given."""
    action = args["action"]
    if action is not None and action.lower() not in ("accept", "reject", "next"):
        raise CliError(f"--action must be accept, reject or next, got {action!r}")
    conditions = {
        f"{kind}_set": _set_match(args[f"match_{kind}_set"], f"--match-{kind}-set")
        for kind in SET_KINDS
        if args[f"match_{kind}_set"]
    }
    med, prepend, community = args["med"], args["prepend"], args["community"]
    actions = given(
        disposition=action.lower() if action else None,
        next_hop=args["next_hop"],
        local_pref=args["local_pref"],
        med=_med(med) if med is not None else None,
        as_path_prepend={"asn": "own", "times": prepend} if prepend is not None else None,
        communities=_communities(community) if community else None,
    )
    name = args["statement"]
    if name is None and not conditions and not actions:
        return None
    return given(name=name, conditions=conditions or None, actions=actions or None)


def statements_body(args: Args) -> dict[str, Any]:
    """``statements`` (and ``description``) from -f or from the statement options."""
    file, quick, description = args["file"], quick_statement(args), args["description"]
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


def _create_body(args: Args) -> Item:
    router, name = POLICIES.split_new(args["ref"])
    body = statements_body(args)
    if "statements" not in body:
        raise CliError("give -f FILE, or statement options (--action, --next-hop, ...)")
    return {"router": router, "name": name, **body}


def _statement_names(item: Item) -> str:
    statements = item.get("statements") or []
    return ", ".join(str(s.get("name") or "?") for s in statements if isinstance(s, dict))


def _table_row(item: Item) -> Item:
    return {**with_router(item), "statement_names": _statement_names(item)}


def print_policy(obj: Item, output: OutputFormat) -> None:
    """The fields (statement names only), then ``statements:`` as YAML; or the object."""
    if output is not OutputFormat.table:
        print_object(obj, output)
        return
    print_object({**obj, "statements": _statement_names(obj)}, output)
    statements = obj.get("statements") or []
    text = yaml.safe_dump({"statements": statements}, sort_keys=False, default_flow_style=False)
    typer.echo(text, nl=False)


RESOURCE = POLICIES.resource(COLUMNS, row=_table_row, printer=print_policy)
commands = ResourceCommands(app, RESOURCE, REF)
commands.add_create(
    "Create a policy from -f FILE, or one statement from the options.",
    [NEW_REF, *FIELDS],
    _create_body,
)
commands.add_list("List policies.", [ROUTER_FILTER, NAME_FILTER])
commands.add_show("Show one policy; in table form its statements follow as YAML.")
commands.add_set(
    "Replace a policy's statements (from -f FILE or the options) and/or its description.",
    FIELDS,
    statements_body,
)
commands.add_delete("Delete a policy (refused while an attachment uses it).")
