"""create_app: the REST API over a backend that the layer above wires (runtime.Runtime
in `sdwan serve`); nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import FastAPI

from sdwan import __version__
from sdwan.api import contract, errors, ui
from sdwan.api.access import AccessLog
from sdwan.api.body_limit import BodyLimit
from sdwan.api.deps import PrincipalDep, Services
from sdwan.api.hsts import StrictTransportSecurity
from sdwan.api.limits import Limits
from sdwan.api.rollout_header import RolloutHeader
from sdwan.api.routes import (
    alerts,
    audit,
    events,
    fleet,
    health,
    identity,
    intents,
    metrics,
    neighbors,
    policy,
    policyinfo,
    quality,
    replicas,
    revisions,
    rib,
    rollouts,
    routers,
)
from sdwan.config import Settings


class ApiBackend(Protocol):
    """What the API runs over: its services, and a lifecycle (the reconciler and the
    watch streams run while the app does)."""

    settings: Settings
    services: Services

    def start(self) -> None: ...

    def stop(self) -> None: ...


def create_app(runtime: ApiBackend) -> FastAPI:
    """The REST API over ``runtime``; it is started and stopped with the app."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        try:
            yield
        finally:
            runtime.stop()

    app = FastAPI(
        title="sdwan: GoBGP fleet orchestrator",
        version=__version__,
        lifespan=lifespan,
        # every endpoint but /healthz needs a token: the schema is served by
        # /v1/openapi.json behind auth instead of FastAPI's open /docs
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.services = runtime.services
    settings = runtime.settings
    app.state.settings = settings
    app.state.limits = Limits.build(
        rib_per_caller=settings.rib_per_caller, streams_per_caller=settings.sse_max_streams
    )
    app.add_middleware(RolloutHeader)  # the rollout a write awaiting confirmation made
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.tls_cert is not None:  # HTTPS served here: browsers must keep to it
        app.add_middleware(StrictTransportSecurity)
    app.add_middleware(AccessLog)  # outermost: ids and times every answer, a 413 too
    errors.install(app)
    app.include_router(health.router)
    app.include_router(routers.router)
    app.include_router(neighbors.router)
    app.include_router(events.router)
    app.include_router(metrics.router)
    app.include_router(rib.router)
    for owned in policy.routers:
        app.include_router(owned)
    app.include_router(policyinfo.router)
    app.include_router(fleet.router)
    app.include_router(revisions.router)
    app.include_router(rollouts.router)
    app.include_router(identity.router)
    app.include_router(audit.router)
    app.include_router(replicas.router)
    for intent_router in (*intents.routers, *quality.routers):
        app.include_router(intent_router)
    for alert_router in alerts.routers:
        app.include_router(alert_router)
    ui.install(app)

    contract.install(app)

    @app.get("/v1/openapi.json", include_in_schema=False)
    def openapi_schema(_principal: PrincipalDep) -> dict[str, Any]:
        """The OpenAPI description of this API."""
        return app.openapi()

    return app
