"""/metrics in the Prometheus text format, behind the same bearer token as the API
(Prometheus sends one with ``authorization: {credentials: ...}``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from sdwan.api.deps import PrincipalDep, ServicesDep

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(principal: PrincipalDep, services: ServicesDep) -> PlainTextResponse:
    """Sessions by state, prefixes, reconcile runs/durations/errors, drift, reachability,
    each uplink's measured quality. Members and readers get only their project's
    routers' series."""
    return PlainTextResponse(
        services.live.metrics_text(principal), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
