"""``sdwan history`` (the revision log, one revision's diff) and ``sdwan rollback``
(back to a revision's desired state: planned, shown, then applied with the plan's
If-Match, so what is applied is what was shown)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
import yaml

from sdwan.cli.client import get_client, get_state
from sdwan.cli.errors import CliError
from sdwan.cli.fleet import print_plan, value_text
from sdwan.cli.output import OutputFormat, OutputOpt, page_hint, print_list
from sdwan.cli.values import given

app = typer.Typer(
    help="The revision log: every change to the desired state.",
    no_args_is_help=False,
    invoke_without_command=True,
)
COLUMNS = [
    ("REV", "number"),
    ("AT", "at"),
    ("AUTHOR", "author"),
    ("SOURCE", "source"),
    ("CHANGES", "change_count"),
    ("MESSAGE", "message"),
]
SIGNS = {"create": "+", "update": "~", "delete": "-"}

RouterOpt = Annotated[str | None, typer.Option("--router", help="Only this router's.")]
SiteOpt = Annotated[str | None, typer.Option("--site", help="Only this site's.")]


@app.callback()
def history(
    ctx: typer.Context,
    router: RouterOpt = None,
    site: SiteOpt = None,
    project: Annotated[str | None, typer.Option("--project", help="Admins: one project's.")] = None,
    author: Annotated[str | None, typer.Option("--author", help="Who made them.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="api, fleet or rollback.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="ISO 8601 time.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """The revisions, newest first (`sdwan history show REV`: one with its diff)."""
    if ctx.invoked_subcommand is not None:
        return
    params = given(
        router=router, site=site, project=project, author=author, source=source, since=since
    )
    page = get_client(ctx).get("/v1/revisions", {**params, "limit": limit, "offset": offset})
    items = list((page or {}).get("items") or [])
    if output is OutputFormat.table:
        items = [dict(r, message=_first_line(r["message"])) for r in items]
    print_list(items, COLUMNS, output)
    page_hint(len(items), offset, int((page or {}).get("total", len(items))), output)


@app.command("show")
def show(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(metavar="REV", min=1, help="The revision.")],
    output: OutputOpt = OutputFormat.table,
) -> None:
    """One revision: who, when, why, and what it changed, field by field."""
    found = get_client(ctx).get(f"/v1/revisions/{number}") or {}
    if output is not OutputFormat.table:
        _dump(found, output)
        return
    rollback = f" (rollback to {found['rollback_of']})" if found.get("rollback_of") else ""
    typer.echo(
        f"revision {found['number']}  {found['at']}  {found['author']}  {found['source']}{rollback}"
    )
    if found.get("message"):
        for line in str(found["message"]).splitlines():
            typer.echo(f"    {line}")
    typer.echo("")
    for change in found.get("changes") or []:
        typer.echo(f"{SIGNS.get(change['action'], '?')} {change['kind']} {change['name']}")
        for name, (old, new) in change["fields"].items():
            if change["action"] == "create":
                typer.echo(f"    {name}: {value_text(new)}")
            elif change["action"] == "update":
                typer.echo(f"    {name}: {value_text(old)} -> {value_text(new)}")


def rollback(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(metavar="REV", min=1, help="The revision.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    router: Annotated[
        list[str] | None, typer.Option("--router", help="Only this router's (repeatable).")
    ] = None,
    site: Annotated[
        list[str] | None, typer.Option("--site", help="Only this site's (repeatable).")
    ] = None,
    message: Annotated[
        str | None, typer.Option("-m", "--message", help="Why (the new revision's message).")
    ] = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Bring the desired state back to what it was right after revision REV (of some
    routers or sites only, if given): the plan is shown, then applied as a new
    revision, refused if anything changed in between."""
    if message is not None:
        get_state(ctx).message = message
    client = get_client(ctx)
    path = f"/v1/revisions/{number}/rollback"
    body = {"routers": router or [], "sites": site or []}
    plan = client.request("POST", path, params={"dry_run": "true"}, body=body)
    if dry_run or not plan["changes"]:
        _report(plan, output, applied=False)
        if output is OutputFormat.table and plan["changes"]:
            typer.echo("\nDry run: nothing was changed. Run without --dry-run to apply.")
        return
    result = client.request("POST", path, body=body, if_match=str(plan["latest"]))
    _report(result, output, applied=True)


def _report(result: dict[str, Any], output: OutputFormat, *, applied: bool) -> None:
    if output is not OutputFormat.table:
        _dump(result, output)
        return
    if not result["changes"]:
        typer.echo(
            f"No changes: the desired state is already as at revision {result['rollback_of']}."
        )
        return
    print_plan(result)
    if applied:
        if result.get("revision") is None:
            raise CliError("the rollback changed nothing")
        typer.echo(
            f"\nApplied as revision {result['revision']}. The reconciler pushes it to the "
            "routers now (`sdwan router list` shows their status)."
        )


def _dump(data: Any, output: OutputFormat) -> None:
    if output is OutputFormat.json:
        typer.echo(json.dumps(data, indent=2))
    else:
        typer.echo(yaml.safe_dump(data, sort_keys=False), nl=False)


def _first_line(text: str) -> str:
    lines = text.splitlines()
    return lines[0] + (" ..." if len(lines) > 1 else "") if lines else ""
