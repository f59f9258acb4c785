"""What a reconcile pass tells beyond status: events for status changes and drift,
and the words that name the drift. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sdwan.domain.conditions import REPAIRED_PREFIX, REPORT_ONLY_PREFIX
from sdwan.domain.status import Status
from sdwan.events.model import DRIFT_DETECTED, DRIFT_REPAIRED, STATUS_CHANGED, Event
from sdwan.store.records import NeighborRecord, RouterRecord
from sdwan.store.status_rows import ConditionsUpdate


def drift_summary(drift: Mapping[str, str]) -> str:
    """A router's differences in one line: the first five and how many more."""
    texts = list(drift.values())
    return "; ".join(texts[:5]) + (f"; and {len(texts) - 5} more" if len(texts) > 5 else "")


def router_drift_detail(drift: Mapping[str, str], repair: bool) -> str:
    return f"{REPAIRED_PREFIX if repair else REPORT_ONLY_PREFIX}: {drift_summary(drift)}"


def drift_event(router: RouterRecord, drift: Mapping[str, str], repair: bool) -> Event:
    kind = DRIFT_REPAIRED if repair else DRIFT_DETECTED
    return Event(
        kind,
        "router",
        router.id,
        router.name,
        f"router {router.name}: {router_drift_detail(drift, repair)}",
        {"differences": dict(drift), "drift_mode": "repair" if repair else "report"},
        router.project_id,
    )


def neighbor_status_events(
    router: RouterRecord,
    neighbors: Sequence[NeighborRecord],
    updates: Sequence[ConditionsUpdate],
    deleted: Sequence[tuple[str, int]],
) -> list[Event]:
    addresses = {n.id: n.address for n in neighbors}

    def event(neighbor_id: str, text: str, data: dict[str, Any]) -> Event:
        text = f"neighbor {router.name}/{addresses[neighbor_id]}: {text}"
        return Event(
            STATUS_CHANGED, "neighbor", neighbor_id, router.name, text, data, router.project_id
        )

    events = [
        event(
            neighbor_id,
            status + (f" ({detail})" if detail else ""),
            {"status": status, "status_detail": detail, "version": version},
        )
        for neighbor_id, version, status, detail, _conditions in updates
    ]
    events += [
        event(
            neighbor_id,
            "deleted from gobgpd and the store",
            {"status": "DELETED", "version": version},
        )
        for neighbor_id, version in deleted
    ]
    return events


def router_status_event(router: RouterRecord, status: Status, detail: str) -> Event:
    text = f"router {router.name}: {status}" + (f" ({detail})" if detail else "")
    return Event(
        STATUS_CHANGED,
        "router",
        router.id,
        router.name,
        text,
        {"status": str(status), "status_detail": detail, "version": router.version},
        router.project_id,
    )
