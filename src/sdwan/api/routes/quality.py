"""Path quality: /v1/sla-classes (declared: routes/site_owned.py builds them) and an
uplink's stored quality, /v1/uplinks/{uplink_id}/quality/history."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from sdwan.api.deps import PrincipalDep, ServicesDep
from sdwan.api.queries import Time, parse_time
from sdwan.api.routes.site_owned import SiteResource, build_router
from sdwan.schemas.quality import (
    ClassQuality,
    HistoryPoint,
    QualityHistory,
    SlaClassCreate,
    SlaClassPublic,
    SlaClassUpdate,
    UplinkQuality,
    WindowFigures,
)
from sdwan.service.sla_classes import SlaClassInfo
from sdwan.service.uplink_quality import HISTORY_LIMIT, MAX_HISTORY_LIMIT
from sdwan.store.quality_repo import UplinkQualityRecord


def sla_class_public(info: SlaClassInfo, _warnings: list[str]) -> SlaClassPublic:
    return SlaClassPublic(**asdict(info.record), used_by=info.used_by)


def quality_public(record: UplinkQualityRecord, stale: bool) -> UplinkQuality:
    return UplinkQuality(
        state=record.state,
        since=record.since,
        local_address=record.local_address,
        interface=record.interface,
        short=WindowFigures.model_validate(record.short),
        long=WindowFigures.model_validate(record.long),
        classes={
            name: ClassQuality.model_validate({**item, "since": item.get("since") or None})
            for name, item in sorted(record.classes.items())
        },
        agent=record.agent,
        reported_at=record.reported_at,
        stale=stale,
    )


SLA_CLASSES = SiteResource[SlaClassInfo](
    path="/v1/sla-classes",
    tag="sla-classes",
    name="sla_class",
    ident="key",
    service=lambda s: s.intent.sla_classes,
    create=SlaClassCreate,
    update=SlaClassUpdate,
    public=SlaClassPublic,
    to_public=sla_class_public,
    filters=("name", "project"),
    docs={
        "create": "Declare an SLA class: limits on loss, latency and jitter (at least one) "
        "and the time rules of steering on it.",
        "list": "List SLA classes (admins: of one project with ``project``).",
        "show": "One SLA class, by id or name, with the intents steered on it.",
        "update": "Change its limits (null lifts one; one must remain), hold-down, minimum "
        "interval or description; the probe agents get the new limits.",
        "delete": "Delete an SLA class no intent names (409 naming them otherwise).",
    },
)

history = APIRouter(prefix="/v1/uplinks", tags=["uplinks"])


@history.get("/{uplink_id}/quality/history")
def uplink_quality_history(
    uplink_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    resolution: Annotated[
        int | None,
        Query(
            ge=1,
            le=86400,
            description="seconds per point; default: the finest stored "
            "that reaches back to `since`",
        ),
    ] = None,
    since: Annotated[str | None, Time("ISO 8601 with a time zone, inclusive")] = None,
    until: Annotated[str | None, Time("ISO 8601 with a time zone, exclusive")] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_HISTORY_LIMIT, description="the newest points up to this many")
    ] = HISTORY_LIMIT,
) -> QualityHistory:
    """The uplink's measured quality over time, downsampled into points of `resolution`
    seconds (means and maxima of the probe agent's summaries, seconds dead), oldest
    first, the newest last. Retention bounds how far back each resolution reaches."""
    found = services.intent.uplinks.history(
        principal,
        uplink_id,
        resolution=resolution,
        since=parse_time("since", since),
        until=parse_time("until", until),
        limit=limit,
    )
    return QualityHistory(
        uplink=found.uplink_id,
        site_name=found.site_name,
        name=found.name,
        resolution=found.resolution,
        resolutions=found.resolutions,
        items=[
            HistoryPoint(
                start=b.bucket_start,
                **{
                    k: v
                    for k, v in asdict(b).items()
                    if k not in ("uplink_id", "resolution", "bucket_start")
                },
            )
            for b in found.buckets
        ],
    )


routers = [build_router(SLA_CLASSES), history]
