"""``sdwan rollout list|show|confirm`` and what ``sdwan apply --stages`` uses to follow
a rollout to its end (docs/rollout.md)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Annotated, Any

import typer
import yaml

from sdwan.cli.client import ApiClient, get_client
from sdwan.cli.errors import CliError
from sdwan.cli.output import OutputFormat, OutputOpt, page_hint, print_list
from sdwan.cli.progress import Progress

app = typer.Typer(help="Staged and confirmed changes: where they stand.", no_args_is_help=True)
COLUMNS = [
    ("ID", "id"),
    ("STATE", "state"),
    ("SOURCE", "source"),
    ("AUTHOR", "author"),
    ("WAVE", "wave_text"),
    ("BASE", "base_revision"),
    ("DETAIL", "detail"),
]
FINAL = ("done", "rolled_back", "failed")
POLL = 0.5  # seconds between two looks at a rollout being followed
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h)?$")
_UNIT = {"s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str | None, option: str) -> float | None:
    """``90``, ``90s``, ``5m``, ``1h`` -> seconds."""
    if text is None:
        return None
    match = _DURATION.match(text.strip())
    if match is None:
        raise CliError(f"{option}: a duration such as 90s, 5m or 1h, got {text!r}")
    return float(match.group(1)) * _UNIT[match.group(2)]


def parse_check(text: str) -> dict[str, str]:
    """``rib_has:R1:198.51.100.0/24`` -> the API's check (the server checks the rest)."""
    kind, _, rest = text.partition(":")
    router, _, prefix = rest.partition(":")
    if kind not in ("rib_has", "rib_lacks") or not router or not prefix:
        raise CliError(
            f"--check: {text!r}: expected rib_has:ROUTER:PREFIX or rib_lacks:ROUTER:PREFIX"
        )
    return {"kind": kind, "router": router, "prefix": prefix}


def _row(rollout: dict[str, Any]) -> dict[str, Any]:
    waves = len(rollout.get("waves") or [])
    return dict(rollout, wave_text=f"{min(rollout['wave'] + 1, waves)}/{waves}")


@app.command("list")
def list_rollouts(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option("--state", help="Only in this state.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Rollouts, newest first."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if state is not None:
        params["state"] = state
    page = get_client(ctx).get("/v1/rollouts", params) or {}
    items = [_row(r) for r in page.get("items") or []]
    print_list(items, COLUMNS, output)
    page_hint(len(items), offset, int(page.get("total", len(items))), output)


@app.command("show")
def show(
    ctx: typer.Context,
    rollout_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="The rollout.")],
    output: OutputOpt = OutputFormat.table,
) -> None:
    """One rollout: its waves, where it stands, and what failed."""
    found = get_client(ctx).get(f"/v1/rollouts/{rollout_id}") or {}
    if output is not OutputFormat.table:
        _dump(found, output)
        return
    print_rollout(found)


@app.command("confirm")
def confirm(
    ctx: typer.Context,
    rollout_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="The rollout.")],
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Keep a change that awaits confirmation (else it is rolled back in time)."""
    found = get_client(ctx).post(f"/v1/rollouts/{rollout_id}/confirm", {})
    if output is not OutputFormat.table:
        _dump(found, output)
        return
    typer.echo(f"Rollout {rollout_id} confirmed: the change is kept.")


def print_rollout(found: dict[str, Any]) -> None:
    typer.echo(
        f"rollout {found['id']}  {found['state']}  {found['source']}  by {found['author']}  "
        f"from revision {found['base_revision']}"
    )
    if found.get("message"):
        typer.echo(f"    {found['message']}")
    typer.echo(f"    {found['detail']}")
    revisions = found.get("wave_revisions") or []
    for index, wave in enumerate(found.get("waves") or []):
        made = f"  revision {revisions[index]}" if index < len(revisions) else ""
        typer.echo(f"  wave {index + 1}: {', '.join(wave) or '(sites)'}{made}")
    if found.get("confirm_by") and found["state"] == "awaiting_confirm":
        typer.echo(f"  confirm by {found['confirm_by']}: sdwan rollout confirm {found['id']}")
    if found.get("rollback_revision"):
        typer.echo(f"  rolled back as revision {found['rollback_revision']}")
    for failure in found.get("failures") or []:
        typer.echo(f"  ! {failure.get('router') or '-'}: {failure['check']}: {failure['detail']}")
        if failure.get("observed") is not None or failure.get("predicted") is not None:
            typer.echo(
                f"      observed {json.dumps(failure.get('observed'))}, "
                f"predicted {json.dumps(failure.get('predicted'))}"
            )


def follow(
    client: ApiClient,
    rollout_id: int,
    *,
    quiet: bool,
    timeout: float,
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    """Polls the rollout until it ends (or, awaiting confirmation, waits there), with a
    progress bar of its waves; the rollout as last read."""
    deadline = time.monotonic() + timeout
    found: dict[str, Any] = client.get(f"/v1/rollouts/{rollout_id}")
    waves = len(found.get("waves") or [])
    with Progress(f"rollout {rollout_id}", total=waves, quiet=quiet) as bar:
        while True:
            done = len(found.get("wave_revisions") or [])
            if found["state"] in ("awaiting_confirm", "done"):
                done = waves
            bar.update(done, f"{found['state']}: {found['detail']}"[:80])
            if found["state"] in (*FINAL, "awaiting_confirm"):
                return found
            if time.monotonic() >= deadline:
                raise CliError(
                    f"rollout {rollout_id} is still {found['state']} after {timeout:g} s "
                    f"(sdwan rollout show {rollout_id})"
                )
            sleep(POLL)
            found = client.get(f"/v1/rollouts/{rollout_id}")


def _dump(found: Any, output: OutputFormat) -> None:
    typer.echo(
        json.dumps(found, indent=2)
        if output is OutputFormat.json
        else yaml.safe_dump(found, sort_keys=False)
    )
