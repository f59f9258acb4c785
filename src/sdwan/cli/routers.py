"""``sdwan router ...``: GoBGP routers (one gobgpd each), addressed by name or id."""

from __future__ import annotations

from pathlib import Path

import typer

from sdwan.cli.commands import (
    DESCRIPTION,
    NAME_FILTER,
    Args,
    Filter,
    ResourceCommands,
    argument,
    option,
)
from sdwan.cli.errors import CliError
from sdwan.cli.live import duration
from sdwan.cli.resource import Item, Resource, name_field
from sdwan.cli.values import given

app = typer.Typer(help="Manage routers (gobgpd instances).", no_args_is_help=True)

COLUMNS = [
    ("ID", "id"),
    ("NAME", "name"),
    ("ROUTER ID", "router_id"),
    ("ASN", "asn"),
    ("API ADDRESS", "api_address"),
    ("STATUS", "status"),
    ("GOBGPD", "gobgpd"),
    ("OWNER", "owner"),
]

REF = argument("ROUTER", "Router name or id.")
# the fields, as create and set take them (create requires the first four)
FIELDS = (
    option("name", str | None, "--name", "--host_name", help="Router name (unique)."),
    option(
        "router_id",
        str | None,
        "--router-id",
        "--router_id",
        help="BGP router ID (IPv4 dotted).",
    ),
    option("asn", int | None, "--asn", "--local_as", help="Local AS number."),
    option(
        "api_address",
        str | None,
        "--api-address",
        "--mgmt_addr",
        help="gobgpd gRPC endpoint: host[:port] (port 50051 by default) or unix:///path.",
    ),
    option("listen_port", int | None, "--listen-port", help="BGP port; -1: do not listen."),
    option(
        "listen_address",
        list[str] | None,
        "--listen-address",
        help="Address to listen on (repeatable; default all). On set, '' clears the list.",
    ),
    DESCRIPTION,
    option(
        "drift_mode",
        str | None,
        "--drift-mode",
        help="repair (default) or report: what to do with drift.",
    ),
    option(
        "tls",
        bool | None,
        "--tls/--no-tls",
        help="Talk to gobgpd's gRPC API over TLS (gobgpd --tls).",
    ),
    option(
        "tls_ca",
        str | None,
        "--tls-ca",
        metavar="FILE",
        help="PEM CA certificate(s) to trust for gobgpd's TLS (default: the server's "
        "SDWAN_GOBGPD_CA_FILE, else the system's roots). On set, '' clears it.",
    ),
    option(
        "tls_server_name",
        str | None,
        "--tls-server-name",
        help="The name on gobgpd's certificate, if not the address's host. On set, '' clears.",
    ),
)


def _read_pem(path: str) -> str:
    try:
        return Path(path).expanduser().read_text()
    except OSError as exc:
        raise CliError(f"--tls-ca: cannot read {path}: {exc.strerror}") from None


def _body(args: Args) -> Item:
    """The fields given; '' clears the TLS CA or name (null), a CA file is sent as PEM."""
    listen = args["listen_address"]
    body = given(
        name=args["name"],
        router_id=args["router_id"],
        asn=args["asn"],
        api_address=args["api_address"],
        listen_port=args["listen_port"],
        description=args["description"],
        listen_addresses=[address for address in listen if address] if listen is not None else None,
        drift_mode=args["drift_mode"],
        tls=args["tls"],
    )
    if args["tls_ca"] is not None:
        body["tls_ca"] = _read_pem(args["tls_ca"]) if args["tls_ca"] else None
    if args["tls_server_name"] is not None:
        body["tls_server_name"] = args["tls_server_name"] or None
    return body


def _table_row(router: Item) -> Item:
    """GOBGPD: up (with its uptime) or unreachable; empty before the first contact."""
    reachable = router.get("reachable")
    state = "" if reachable is None else ("up" if reachable else "unreachable")
    if reachable and router.get("gobgpd_uptime") is not None:
        state += f" {duration(router['gobgpd_uptime'])}"
    return {**router, "gobgpd": state}


ROUTERS = Resource("routers", "router", COLUMNS, name_of=name_field, row=_table_row)
commands = ResourceCommands(app, ROUTERS, REF)

commands.add_create(
    "Create a router (the orchestrator starts BGP on its gobgpd).",
    [*(field.required() for field in FIELDS[:4]), *FIELDS[4:]],
    _body,
)
commands.add_list(
    "List routers.",
    [NAME_FILTER, Filter(option("asn", int | None, "--asn", help="Only this AS number."))],
)
commands.add_show("Show one router.")
commands.add_set("Change a router's fields (only those given).", FIELDS, _body)
commands.add_delete(
    "Delete a router (its gobgpd is left stopped).",
    [
        option(
            "cascade", bool, "--cascade", default=False, help="Also delete the router's neighbors."
        ),
        option(
            "force",
            bool,
            "--force",
            default=False,
            help="Remove it from the store without waiting for its gobgpd.",
        ),
    ],
    query=lambda args: {key: "true" for key in ("cascade", "force") if args[key]},
)
