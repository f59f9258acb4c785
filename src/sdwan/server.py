"""`sdwan serve`: the REST API and the reconciler in one process."""

from __future__ import annotations

import logging
import sys

import uvicorn

from sdwan.api.app import create_app
from sdwan.config import Settings
from sdwan.runtime import build_runtime


def serve(settings: Settings) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Reconciler workers, watch streams and the live writer share the GIL: a switch
    # interval shorter than the default 5 ms keeps a worker's gRPC loop from waiting
    # behind a watch stream that is parsing a burst of events.
    sys.setswitchinterval(0.001)
    runtime = build_runtime(settings)
    if runtime.generated_admin_token:
        print(
            "Generated the bootstrap admin token (shown once, stored hashed):\n"
            f"  export SDWAN_TOKEN={runtime.generated_admin_token}",
            file=sys.stderr,
            flush=True,
        )
    app = create_app(runtime)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(
        f"sdwan serve: API http://{host}:{settings.port}/v1/, "
        f"dashboard http://{host}:{settings.port}/ui/",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,  # open event streams never end on their own
    )
