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
            help="SQLite file (default: SDWAN_DATABASE_URL, else ~/.local/share/sdwan/sdwan.db)."
        ),
    ] = None,
    reconcile_interval: Annotated[
        float | None,
        typer.Option(help="Seconds between full read-backs of every gobgpd (default 30)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Reconcile passes run at once, whatever the fleet's size (SDWAN_WORKERS, "
            "default 8).",
        ),
    ] = None,
) -> None:
    """Serve the REST API and the dashboard (/ui/) on 127.0.0.1:9998 and keep every gobgpd
    converged."""
    from sdwan.config import load_settings
    from sdwan.server import serve as run

    run(
        load_settings(
            db=db, host=host, port=port, reconcile_interval=reconcile_interval, workers=workers
        )
    )
