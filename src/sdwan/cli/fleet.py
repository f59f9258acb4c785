"""``sdwan apply -f fleet.yaml`` and ``sdwan export``: the whole fleet as one file."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from sdwan.cli.client import ApiClient, get_client, get_state
from sdwan.cli.converge import wait_converged
from sdwan.cli.errors import CliError
from sdwan.cli.intents import print_prediction
from sdwan.cli.output import OutputFormat, OutputOpt
from sdwan.cli.rollouts import follow, parse_check, parse_duration, print_rollout


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice (plain PyYAML keeps the last silently)."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise CliError(f"line {key_node.start_mark.line + 1}: key {key!r} appears twice")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_document(path: str) -> Any:
    text = sys.stdin.read() if path == "-" else _read(path)
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise CliError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror}") from None


def value_text(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def print_plan(result: dict[str, Any]) -> None:
    changes = result["changes"]
    if not changes:
        typer.echo("No changes: the store already matches the file.")
        return
    signs = {"create": "+", "update": "~", "delete": "-"}
    for change in changes:
        typer.echo(
            f"{signs[change['action']]} {change['kind']} {change['router']}/{change['key']}"
            if change["kind"] not in ("router", "site")
            else f"{signs[change['action']]} {change['kind']} {change['key']}"
        )
        for name, (old, new) in change["fields"].items():
            typer.echo(f"    {name}: {value_text(old)} -> {value_text(new)}")
    counts = {a: sum(c["action"] == a for c in changes) for a in ("create", "update", "delete")}
    typer.echo(
        f"\n{counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete."
    )
    if result["effects"]:
        typer.echo("BGP sessions:")
        for effect in result["effects"]:
            typer.echo(f"  ! {effect}")
    for prediction in result.get("predictions") or []:
        typer.echo(f"\nintent {prediction['site']}/{prediction['intent']}:")
        print_prediction(prediction)


def apply(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Option("-f", "--file", help="Fleet file (YAML or JSON; - for stdin).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune", help="Delete what the file does not mention, within the routers it names."
        ),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Then wait until every router and neighbor it created or changed is "
            "pushed (ACTIVE), with a progress bar; fails on ERROR.",
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0, help="Seconds --wait waits.")
    ] = 300.0,
    message: Annotated[
        str | None, typer.Option("-m", "--message", help="Why (the revision's message).")
    ] = None,
    stages: Annotated[
        str | None,
        typer.Option(
            "--stages",
            help="Apply in waves, each gated by a health check: routers reached after "
            "each wave, e.g. 1,10%,100% (docs/rollout.md); rolled back as a whole on a "
            "failed gate.",
        ),
    ] = None,
    confirm_within: Annotated[
        str | None,
        typer.Option(
            "--confirm-within",
            help="Roll back unless `sdwan rollout confirm ID` comes within this long "
            "(90s, 5m, 1h).",
        ),
    ] = None,
    gate_timeout: Annotated[
        float,
        typer.Option("--gate-timeout", min=1, help="Seconds a wave's gate waits for it to apply."),
    ] = 60.0,
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check",
            help="A custom gate check, repeatable: rib_has:ROUTER:PREFIX (the prefix must "
            "be in the router's RIB after each wave) or rib_lacks:ROUTER:PREFIX.",
        ),
    ] = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Converge the store to a fleet file in one transaction (see docs/fleet-file.md)."""
    if message is not None:
        get_state(ctx).message = message
    document = load_document(file)
    path = "/v1/fleet/plan" if dry_run else "/v1/fleet/apply"
    client, sleep = get_client(ctx), get_state(ctx).sleep
    body: dict[str, Any] = {"fleet": document, "prune": prune}
    within = parse_duration(confirm_within, "--confirm-within")
    if not dry_run and (stages is not None or within is not None):
        body["stages"] = [s.strip() for s in stages.split(",") if s.strip()] if stages else None
        body["confirm_within"], body["gate_timeout"] = within, gate_timeout
        body["checks"] = [parse_check(text) for text in check or []]
    elif check:
        raise CliError("--check: only with --stages or --confirm-within (a rollout's gate)")
    result = client.post(path, body)
    if result.get("rollout") is not None:
        _roll_out(client, result, output, timeout=timeout, sleep=sleep)
        return
    waiting = wait and result["applied"]
    if output is not OutputFormat.table:
        typer.echo(
            json.dumps(result, indent=2)
            if output is OutputFormat.json
            else yaml.safe_dump(result, sort_keys=False)
        )
        if waiting:  # no bar for machines: the exit status tells
            wait_converged(client, result["changes"], timeout=timeout, quiet=True, sleep=sleep)
        return
    print_plan(result)
    if dry_run and result["changes"]:
        typer.echo("\nDry run: nothing was changed. Run without --dry-run to apply.")
    elif waiting:
        typer.echo(f"\n{_applied(result)}. Waiting for the routers ...")
        wait_converged(client, result["changes"], timeout=timeout, quiet=False, sleep=sleep)
        typer.echo("Pushed to the routers: every one created or changed is ACTIVE.")
    elif result["applied"]:
        typer.echo(
            f"\n{_applied(result)}. The reconciler pushes it to the "
            "routers now (`sdwan router list` shows their status; --wait waits for it)."
        )


def _roll_out(
    client: ApiClient,
    result: dict[str, Any],
    output: OutputFormat,
    *,
    timeout: float,
    sleep: Callable[[float], None],
) -> None:
    """Follows the rollout the apply started to its end; fails (exit 1) when it was
    rolled back or failed."""
    table = output is OutputFormat.table
    if table:
        print_plan(result)
        typer.echo(f"\nRollout {result['rollout']} started.")
    found = follow(client, int(result["rollout"]), quiet=not table, timeout=timeout, sleep=sleep)
    if not table:
        typer.echo(
            json.dumps(found, indent=2)
            if output is OutputFormat.json
            else yaml.safe_dump(found, sort_keys=False)
        )
    else:
        print_rollout(found)
    if found["state"] in ("rolled_back", "failed"):
        raise CliError(
            f"rollout {found['id']} {found['state'].replace('_', ' ')}: {found['detail']}"
        )
    if table and found["state"] == "awaiting_confirm":
        typer.echo(f"Applied: keep it with `sdwan rollout confirm {found['id']}`.")


def _applied(result: dict[str, Any]) -> str:
    """The first words after an apply: "Applied as revision N", or "Applied" when
    nothing changed (no revision)."""
    number = result.get("revision")
    return "Applied" if number is None else f"Applied as revision {number}"


def export(
    ctx: typer.Context,
    router: Annotated[
        list[str] | None, typer.Option("--router", help="Only this router (repeatable).")
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("-o", "--output", help="yaml (default) or json.")
    ] = OutputFormat.yaml,
) -> None:
    """Write the desired state as a fleet file (passwords are never exported)."""
    params = {"router": router} if router else None
    document = get_client(ctx).get("/v1/fleet/export", params=params)
    if output is OutputFormat.json:
        typer.echo(json.dumps(document, indent=2))
    else:
        typer.echo(yaml.safe_dump(document, sort_keys=False), nl=False)
