"""`sdwan serve`: the REST API and the reconciler in one process."""

from __future__ import annotations

import gc
import logging
import sys
from typing import Any

import uvicorn

from sdwan import logs
from sdwan.api.app import create_app
from sdwan.config import Settings
from sdwan.errors import StartupRefused
from sdwan.runtime import build_runtime


def serve(settings: Settings) -> None:
    logs.configure(settings.log_format, logging.INFO)
    # Controller workers, watch streams and the live writer share the GIL: a switch
    # interval shorter than the default 5 ms keeps a worker's gRPC loop from waiting
    # behind a watch stream that is parsing a burst of events.
    sys.setswitchinterval(0.001)
    try:
        runtime = build_runtime(settings)
        runtime.register()  # replicas: a name given twice is refused here, not later
    except StartupRefused as exc:
        print(f"sdwan serve: {exc.message}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    if runtime.generated_admin_token:
        print(
            "Generated the bootstrap admin token (shown once, stored hashed):\n"
            f"  export SDWAN_TOKEN={runtime.generated_admin_token}",
            file=sys.stderr,
            flush=True,
        )
    app = create_app(runtime)
    tune_garbage_collector()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    scheme = "https" if settings.tls_cert is not None else "http"
    store = "PostgreSQL" if runtime.cluster.replicated else "SQLite"
    serving = (
        f"API {scheme}://{host}:{settings.port}/v1/, "
        f"dashboard {scheme}://{host}:{settings.port}/ui/ ({store}; replica {settings.replica})"
    )
    if settings.log_format == "json":  # a collector reads it: one event like the others
        logging.getLogger("sdwan.server").info(serving)
    else:
        print(f"sdwan serve: {serving}", file=sys.stderr, flush=True)
    uvicorn.run(app, **uvicorn_options(settings))


def tune_garbage_collector() -> None:
    """Fewer and cheaper cycle collections. The objects made at start-up (modules, the
    app, the schemas: about a million) are never garbage, yet every full collection
    walked them all: three of 0.15 s each during a 10 000-neighbor bulk create, in a
    3 s request (measured). Frozen, they are left out; and a young generation of
    50 000 objects instead of 700 lets a bulk request's short-lived objects die by
    reference counting before any collection looks at them (the bulk create: 2.5 s
    -> 1.6 s). Only garbage in reference cycles waits longer; memory stays flat."""
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the API: HTTPS with a certificate, and X-Forwarded-For
    believed only from the reverse proxies the operator named (the audit log's
    source and the login throttle depend on the client address)."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        "log_config": None,  # its loggers propagate to ours (logs.configure): one format
        "access_log": False,
        "timeout_graceful_shutdown": 3,  # open event streams never end on their own
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": list(settings.trusted_proxies) or None,
        "server_header": False,
    }
    if settings.tls_cert is not None and settings.tls_key is not None:
        options["ssl_certfile"] = str(settings.tls_cert)
        options["ssl_keyfile"] = str(settings.tls_key)
    return options
