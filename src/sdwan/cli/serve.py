"""`sdwan serve`: run the REST API and the reconciler (the server side of the CLI;
the only command that does not talk to the API)."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (SDWAN_HOST).")] = None,
    port: Annotated[
        int | None, typer.Option(help="Listen port (SDWAN_PORT, default 9998).")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            help="SQLite file, or a PostgreSQL URL postgresql+psycopg://user@host/dbname for "
            "several replicas (default: SDWAN_DATABASE_URL, else "
            "~/.local/share/sdwan/sdwan.db)."
        ),
    ] = None,
    reconcile_interval: Annotated[
        float | None,
        typer.Option(help="Seconds between full read-backs of every gobgpd (default 60)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Reconcile passes run at once, whatever the fleet's size (SDWAN_WORKERS, "
            "default 8).",
        ),
    ] = None,
    tls_cert: Annotated[
        str | None,
        typer.Option(help="Serve HTTPS with this PEM certificate (chain) (SDWAN_TLS_CERT)."),
    ] = None,
    tls_key: Annotated[
        str | None, typer.Option(help="The certificate's PEM private key (SDWAN_TLS_KEY).")
    ] = None,
    replica_name: Annotated[
        str | None,
        typer.Option(
            help="This replica's name, unique among the replicas on one PostgreSQL "
            "(SDWAN_REPLICA_NAME, default host:port)."
        ),
    ] = None,
    lease_seconds: Annotated[
        float | None,
        typer.Option(
            help="PostgreSQL replicas: seconds a router's lease lasts without renewal; a "
            "dead replica's routers move within twice this (SDWAN_LEASE_SECONDS, default 5)."
        ),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            metavar="text|json",
            help="Log lines for people (text) or one JSON object per line (SDWAN_LOG_FORMAT, "
            "default text).",
        ),
    ] = None,
    dev: Annotated[
        bool,
        typer.Option(
            "--dev", help="Development only: allow a short SDWAN_ADMIN_TOKEN (SDWAN_DEV_MODE=1)."
        ),
    ] = False,
) -> None:
    """Serve the REST API and the dashboard (/ui/) on 127.0.0.1:9998 and keep every gobgpd
    converged."""
    from sdwan.cli.errors import CliError
    from sdwan.config import load_settings
    from sdwan.server import serve as run

    try:
        settings = load_settings(
            db=db,
            host=host,
            port=port,
            reconcile_interval=reconcile_interval,
            workers=workers,
            dev_mode=dev,
            tls_cert=tls_cert,
            tls_key=tls_key,
            replica_name=replica_name,
            lease_seconds=lease_seconds,
            log_format=log_format,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    run(settings)
