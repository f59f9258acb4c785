"""``sdwan policyinfo ...``: the original Gohan client's one-statement policy, per neighbor.

``exist New`` creates policy POLICY_NAME with one statement and applies it to one
neighbor; ``exist Existing`` applies an existing policy to one more neighbor. Records are
addressed by id, or ``HOST_NAME/POLICY_NAME[/NEIGHBOR]`` when that names only one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Annotated, Any

import typer

from sdwan.cli.client import POLL_INTERVAL, ApiClient, get_client, get_state, wait_for
from sdwan.cli.common import TIMEOUT, TimeoutOpt, WaitOpt, given
from sdwan.cli.errors import CliError
from sdwan.cli.output import OutputFormat, OutputOpt, print_done, print_list, print_object
from sdwan.cli.owned import is_uuid

app = typer.Typer(
    help="The original's policyinfo: one policy statement applied to one neighbor.",
    no_args_is_help=True,
)

PATH = "/v1/policyinfo"
COLUMNS = [
    ("ID", "id"),
    ("HOST NAME", "host_name"),
    ("POLICY NAME", "policy_name"),
    ("STATEMENT NAME", "statement_name"),
    ("STATEMENT ACTION", "statement_action"),
    ("ROUTE DISPOSITION", "route_disposition"),
    ("APPLY DIRECTION", "apply_direction"),
    ("APPLY NEIGHBOR", "apply_neighbor"),
    ("EXIST", "exist"),
    ("STATUS", "status"),
]

RefArg = Annotated[
    str,
    typer.Argument(
        metavar="POLICYINFO", help="Record id, or HOST_NAME/POLICY_NAME[/NEIGHBOR] if unique."
    ),
]
HostNameOpt = Annotated[str, typer.Option("--host_name", "--host-name", help="Router name or id.")]
PolicyNameOpt = Annotated[str, typer.Option("--policy_name", "--policy-name", help="Policy name.")]
StatementNameOpt = Annotated[
    str | None,
    typer.Option("--statement_name", "--statement-name", help="Statement name (statement1)."),
]
StatementActionOpt = Annotated[
    str | None,
    typer.Option(
        "--statement_action",
        "--statement-action",
        help='"next-hop self", "next-hop ADDR", "local-pref N", "med N|+N|-N", '
        '"as-prepend [ASN] N", "community add|remove|replace C[,C]" or "none" (exist New).',
    ),
]
DispositionOpt = Annotated[
    str | None,
    typer.Option("--route_disposition", "--route-disposition", help="accept (default) or reject."),
]
DirectionOpt = Annotated[
    str, typer.Option("--apply_direction", "--apply-direction", help="import or export.")
]
NeighborOpt = Annotated[
    str, typer.Option("--apply_neighbor", "--apply-neighbor", help="The neighbor's address.")
]
ExistOpt = Annotated[
    str | None,
    typer.Option(
        "--exist",
        help="New (create the policy, default) or Existing (apply it to one more neighbor).",
    ),
]
MgmtAddrOpt = Annotated[
    str | None,
    typer.Option(
        "--mgmt_addr", "--mgmt-addr", help="The router's gobgpd endpoint; checked against it."
    ),
]


def _choice(value: str | None, option: str, choices: tuple[str, ...]) -> str | None:
    """Case-insensitive; the API's spelling of the choice."""
    if value is None:
        return None
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise CliError(f"{option} must be one of {', '.join(choices)}, got {value!r}")


def _label(record: Mapping[str, Any], ref: str) -> str:
    if not record.get("policy_name"):
        return f"policyinfo {ref}"
    return (
        f"policyinfo {record.get('host_name')}/{record['policy_name']} "
        f"({record.get('apply_direction')} {record.get('apply_neighbor')})"
    )


def resolve(client: ApiClient, ref: str) -> str:
    """The id of the record ``ref`` names."""
    if is_uuid(ref):
        return ref
    host, _, rest = ref.partition("/")
    policy, _, neighbor = rest.partition("/")
    if not host or not policy:
        raise CliError(f"{ref!r}: expected a policyinfo id or HOST_NAME/POLICY_NAME[/NEIGHBOR]")
    items = (client.get(PATH, {"host_name": host}) or {}).get("items") or []
    found = [
        item
        for item in items
        if item.get("policy_name") == policy and neighbor in ("", item.get("apply_neighbor"))
    ]
    if not found:
        raise CliError(f"no policyinfo {rest} on {host}", status=404)
    if len(found) > 1:
        ids = ", ".join(f"{i['id']} ({i['apply_direction']} {i['apply_neighbor']})" for i in found)
        raise CliError(f"{ref} names {len(found)} policyinfo records: {ids}; use an id")
    return str(found[0]["id"])


def _path(record_id: str) -> str:
    return f"{PATH}/{record_id}"


@app.command("create")
def create(
    ctx: typer.Context,
    host_name: HostNameOpt,
    policy_name: PolicyNameOpt,
    apply_direction: DirectionOpt,
    apply_neighbor: NeighborOpt,
    statement_name: StatementNameOpt = None,
    statement_action: StatementActionOpt = None,
    route_disposition: DispositionOpt = None,
    exist: ExistOpt = None,
    mgmt_addr: MgmtAddrOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create a policy with one statement and apply it to one neighbor (or, with --exist
    Existing, apply an existing policy to one more neighbor)."""
    body = given(
        host_name=host_name,
        policy_name=policy_name,
        statement_name=statement_name,
        statement_action=statement_action,
        route_disposition=_choice(route_disposition, "--route_disposition", ("accept", "reject")),
        apply_direction=_choice(apply_direction, "--apply_direction", ("import", "export")),
        apply_neighbor=apply_neighbor,
        exist=_choice(exist, "--exist", ("New", "Existing")),
        mgmt_addr=mgmt_addr,
    )
    record = dict(get_client(ctx).post(PATH, body) or {})
    if wait and record.get("id"):
        found = wait_for(ctx, _path(str(record["id"])), _label(record, ""), timeout=timeout)
        record = found or record
    print_object(record, output)


@app.command("list")
def list_(
    ctx: typer.Context,
    host_name: Annotated[
        str | None, typer.Option("--host_name", "--host-name", help="Only this router.")
    ] = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List policyinfo records, oldest first."""
    page = get_client(ctx).get(PATH, given(host_name=host_name)) or {}
    print_list(list(page.get("items") or []), COLUMNS, output)


@app.command("show")
def show(ctx: typer.Context, ref: RefArg, output: OutputOpt = OutputFormat.table) -> None:
    """Show one policyinfo record (its status is that of the attachment it made)."""
    client = get_client(ctx)
    print_object(client.get(_path(resolve(client, ref))) or {}, output)


@app.command("delete")
def delete(
    ctx: typer.Context,
    ref: RefArg,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Remove the policy from that neighbor (and the policy with its last record)."""
    client = get_client(ctx)
    record = dict(client.delete(_path(resolve(client, ref))) or {})
    label = _label(record, ref)
    if wait:
        _wait_detached(ctx, record, label, timeout)
        print_done(f"{label} deleted", record, output)
    else:
        print_done(
            f"{label}: deletion requested ({record.get('status', 'PENDING_DELETE')})",
            record,
            output,
        )


def _wait_detached(
    ctx: typer.Context, record: Mapping[str, Any], label: str, timeout: float
) -> None:
    """Until the attachment policyinfo made (``pi-POLICY-DIRECTION``) is ACTIVE or gone."""
    client, sleep = get_client(ctx), get_state(ctx).sleep
    name = f"pi-{record.get('policy_name')}-{record.get('apply_direction')}"
    query = {"router": record.get("host_name"), "name": name}
    deadline = time.monotonic() + timeout
    while True:
        items = (client.get("/v1/policy-attachments", query) or {}).get("items") or []
        if not items:
            return
        status, detail = items[0].get("status"), items[0].get("status_detail") or ""
        if status == "ACTIVE":
            return
        if status == "ERROR":
            raise CliError(f"{label}: attachment {name} is in ERROR: {detail or 'no detail'}")
        if time.monotonic() >= deadline:
            raise CliError(
                f"timed out after {timeout:g}s waiting for {label} to be removed "
                f"(attachment {name} is {status})"
            )
        sleep(POLL_INTERVAL)
