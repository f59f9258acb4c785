"""``sdwan router ...``: GoBGP routers (one gobgpd each), addressed by name or id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from sdwan.cli.common import (
    TIMEOUT,
    AllOpt,
    DescriptionOpt,
    IfMatchOpt,
    LimitOpt,
    OffsetOpt,
    Paging,
    Resource,
    SortOpt,
    StatusOpt,
    TimeoutOpt,
    WaitOpt,
    given,
)
from sdwan.cli.errors import CliError
from sdwan.cli.live import duration
from sdwan.cli.output import OutputFormat, OutputOpt

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
DriftModeOpt = Annotated[
    str | None,
    typer.Option("--drift-mode", help="repair (default) or report: what to do with drift."),
]

RefArg = Annotated[str, typer.Argument(metavar="ROUTER", help="Router name or id.")]
NameOpt = Annotated[str | None, typer.Option("--name", "--host_name", help="Router name (unique).")]
RouterIdOpt = Annotated[
    str | None, typer.Option("--router-id", "--router_id", help="BGP router ID (IPv4 dotted).")
]
AsnOpt = Annotated[int | None, typer.Option("--asn", "--local_as", help="Local AS number.")]
ApiAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--api-address",
        "--mgmt_addr",
        help="gobgpd gRPC endpoint: host[:port] (port 50051 by default) or unix:///path.",
    ),
]
ListenPortOpt = Annotated[
    int | None, typer.Option("--listen-port", help="BGP port; -1: do not listen.")
]
ListenAddressOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--listen-address",
        help="Address to listen on (repeatable; default all). On set, '' clears the list.",
    ),
]


TlsOpt = Annotated[
    bool | None,
    typer.Option("--tls/--no-tls", help="Talk to gobgpd's gRPC API over TLS (gobgpd --tls)."),
]
TlsCaOpt = Annotated[
    str | None,
    typer.Option(
        "--tls-ca",
        metavar="FILE",
        help="PEM CA certificate(s) to trust for gobgpd's TLS (default: the server's "
        "SDWAN_GOBGPD_CA_FILE, else the system's roots). On set, '' clears it.",
    ),
]
TlsServerNameOpt = Annotated[
    str | None,
    typer.Option(
        "--tls-server-name",
        help="The name on gobgpd's certificate, if not the address's host. On set, '' clears.",
    ),
]


@dataclass(frozen=True)
class TlsOptions:
    tls: bool | None = None
    ca_file: str | None = None
    server_name: str | None = None

    def fields(self) -> dict[str, Any]:
        """'' clears the CA or the name (null); a CA file is read and sent as PEM."""
        body: dict[str, Any] = given(tls=self.tls)
        if self.ca_file is not None:
            body["tls_ca"] = _read_pem(self.ca_file) if self.ca_file else None
        if self.server_name is not None:
            body["tls_server_name"] = self.server_name or None
        return body


def _read_pem(path: str) -> str:
    try:
        return Path(path).expanduser().read_text()
    except OSError as exc:
        raise CliError(f"--tls-ca: cannot read {path}: {exc.strerror}") from None


def _label(router: Mapping[str, Any], ref: str) -> str:
    return f"router {router.get('name', ref)}"


ROUTERS = Resource("routers", COLUMNS, _label)


def _table_row(router: dict[str, Any]) -> dict[str, Any]:
    """GOBGPD: up (with its uptime) or unreachable; empty before the first contact."""
    reachable = router.get("reachable")
    state = "" if reachable is None else ("up" if reachable else "unreachable")
    if reachable and router.get("gobgpd_uptime") is not None:
        state += f" {duration(router['gobgpd_uptime'])}"
    return {**router, "gobgpd": state}


def _fields(
    name: str | None,
    router_id: str | None,
    asn: int | None,
    api_address: str | None,
    listen_port: int | None,
    listen_address: list[str] | None,
    description: str | None,
    drift_mode: str | None = None,
    tls: TlsOptions | None = None,
) -> dict[str, Any]:
    listen_addresses = None
    if listen_address is not None:
        listen_addresses = [address for address in listen_address if address]
    return given(
        name=name,
        router_id=router_id,
        asn=asn,
        api_address=api_address,
        listen_port=listen_port,
        description=description,
        listen_addresses=listen_addresses,
        drift_mode=drift_mode,
    ) | (tls.fields() if tls is not None else {})


@app.command("create")
def create(
    ctx: typer.Context,
    name: NameOpt,
    router_id: RouterIdOpt,
    asn: AsnOpt,
    api_address: ApiAddressOpt,
    listen_port: ListenPortOpt = None,
    listen_address: ListenAddressOpt = None,
    description: DescriptionOpt = None,
    drift_mode: DriftModeOpt = None,
    tls: TlsOpt = None,
    tls_ca: TlsCaOpt = None,
    tls_server_name: TlsServerNameOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create a router (the orchestrator starts BGP on its gobgpd)."""
    body = _fields(
        name, router_id, asn, api_address, listen_port, listen_address, description, drift_mode,
        TlsOptions(tls, tls_ca, tls_server_name),
    )  # fmt: skip
    ROUTERS.create(ctx, body, wait, timeout, output)


@app.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", help="Only this name.")] = None,
    asn: Annotated[int | None, typer.Option("--asn", help="Only this AS number.")] = None,
    status: StatusOpt = None,
    sort: SortOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    all_: AllOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List routers."""
    paging = Paging(status, sort, limit, offset, all_)
    ROUTERS.list_(ctx, {"name": name, "asn": asn}, paging, output, _table_row)


@app.command("show")
def show(ctx: typer.Context, ref: RefArg, output: OutputOpt = OutputFormat.table) -> None:
    """Show one router."""
    ROUTERS.show(ctx, ref, output)


@app.command("set")
def set_(
    ctx: typer.Context,
    ref: RefArg,
    name: NameOpt = None,
    router_id: RouterIdOpt = None,
    asn: AsnOpt = None,
    api_address: ApiAddressOpt = None,
    listen_port: ListenPortOpt = None,
    listen_address: ListenAddressOpt = None,
    description: DescriptionOpt = None,
    drift_mode: DriftModeOpt = None,
    tls: TlsOpt = None,
    tls_ca: TlsCaOpt = None,
    tls_server_name: TlsServerNameOpt = None,
    if_match: IfMatchOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Change a router's fields (only those given)."""
    body = _fields(
        name, router_id, asn, api_address, listen_port, listen_address, description, drift_mode,
        TlsOptions(tls, tls_ca, tls_server_name),
    )  # fmt: skip
    ROUTERS.update(ctx, ref, body, if_match, wait, timeout, output)


@app.command("delete")
def delete(
    ctx: typer.Context,
    ref: RefArg,
    cascade: Annotated[
        bool, typer.Option("--cascade", help="Also delete the router's neighbors.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Remove it from the store without waiting for its gobgpd."),
    ] = False,
    if_match: IfMatchOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = TIMEOUT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Delete a router (its gobgpd is left stopped)."""
    params = {key: "true" for key, on in (("cascade", cascade), ("force", force)) if on}
    ROUTERS.delete(ctx, ref, if_match, wait, timeout, output, params)
