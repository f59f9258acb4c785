"""``sdwan policyinfo ...``: the original Gohan client's one-statement policy, per neighbor.

``exist New`` creates policy POLICY_NAME with one statement and applies it to one
neighbor; ``exist Existing`` applies an existing policy to one more neighbor. Records are
addressed by id, or ``HOST_NAME/POLICY_NAME[/NEIGHBOR]`` when that names only one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import typer

from sdwan.cli.client import POLL_INTERVAL, ApiClient, get_client, get_state
from sdwan.cli.commands import (
    OUTPUT,
    REQUIRED,
    TIMEOUT,
    WAIT,
    Args,
    Filter,
    ResourceCommands,
    argument,
    command,
    option,
    wait_and_timeout,
)
from sdwan.cli.errors import CliError
from sdwan.cli.output import print_done
from sdwan.cli.resource import Item, Resource
from sdwan.cli.values import choice, given, is_uuid

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

REF = argument("POLICYINFO", "Record id, or HOST_NAME/POLICY_NAME[/NEIGHBOR] if unique.")
# create's options: the original's spellings (--host_name) and the dashed ones
CREATE_OPTIONS = (
    option(
        "host_name", str, "--host_name", "--host-name", default=REQUIRED, help="Router name or id."
    ),
    option(
        "policy_name", str, "--policy_name", "--policy-name", default=REQUIRED, help="Policy name."
    ),
    option(
        "apply_direction",
        str,
        "--apply_direction",
        "--apply-direction",
        default=REQUIRED,
        help="import or export.",
    ),
    option(
        "apply_neighbor",
        str,
        "--apply_neighbor",
        "--apply-neighbor",
        default=REQUIRED,
        help="The neighbor's address.",
    ),
    option(
        "statement_name",
        str | None,
        "--statement_name",
        "--statement-name",
        help="Statement name (statement1).",
    ),
    option(
        "statement_action",
        str | None,
        "--statement_action",
        "--statement-action",
        help='"next-hop self", "next-hop ADDR", "local-pref N", "med N|+N|-N", '
        '"as-prepend [ASN] N", "community add|remove|replace C[,C]" or "none" (exist New).',
    ),
    option(
        "route_disposition",
        str | None,
        "--route_disposition",
        "--route-disposition",
        help="accept (default) or reject.",
    ),
    option(
        "exist",
        str | None,
        "--exist",
        help="New (create the policy, default) or Existing (apply it to one more neighbor).",
    ),
    option(
        "mgmt_addr",
        str | None,
        "--mgmt_addr",
        "--mgmt-addr",
        help="The router's gobgpd endpoint; checked against it.",
    ),
)


def _name(record: Mapping[str, Any]) -> str | None:
    """``HOST/POLICY (DIRECTION NEIGHBOR)``, when the record says."""
    if not record.get("policy_name"):
        return None
    return (
        f"{record.get('host_name')}/{record['policy_name']} "
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


def _create_body(args: Args) -> Item:
    return given(
        host_name=args["host_name"],
        policy_name=args["policy_name"],
        statement_name=args["statement_name"],
        statement_action=args["statement_action"],
        route_disposition=choice(
            args["route_disposition"], "--route_disposition", ("accept", "reject")
        ),
        apply_direction=choice(args["apply_direction"], "--apply_direction", ("import", "export")),
        apply_neighbor=args["apply_neighbor"],
        exist=choice(args["exist"], "--exist", ("New", "Existing")),
        mgmt_addr=args["mgmt_addr"],
    )


RECORDS = Resource("policyinfo", "policyinfo", COLUMNS, name_of=_name, resolve=resolve)
commands = ResourceCommands(app, RECORDS, REF)
commands.add_create(
    """Create a policy with one statement and apply it to one neighbor (or, with --exist
    Existing, apply an existing policy to one more neighbor).""",
    CREATE_OPTIONS,
    _create_body,
)
commands.add_list(
    "List policyinfo records, oldest first.",
    [
        Filter(
            option("host_name", str | None, "--host_name", "--host-name", help="Only this router.")
        )
    ],
    paging=(),
)
commands.add_show("Show one policyinfo record (its status is that of the attachment it made).")


def _delete(ctx: typer.Context, args: Args) -> None:
    """Like every delete, but --wait waits for the attachment the record made."""
    ref, output = args["ref"], args["output"]
    client = get_client(ctx)
    record = dict(client.delete(RECORDS.path(resolve(client, ref))) or {})
    label = RECORDS.label(record, ref)
    wait, timeout = wait_and_timeout(args)
    if wait:
        _wait_detached(ctx, record, label, timeout)
        print_done(f"{label} deleted", record, output)
    else:
        print_done(
            f"{label}: deletion requested ({record.get('status', 'PENDING_DELETE')})",
            record,
            output,
        )


command(
    app,
    "delete",
    "Remove the policy from that neighbor (and the policy with its last record).",
    [REF, WAIT, TIMEOUT, OUTPUT],
    _delete,
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
