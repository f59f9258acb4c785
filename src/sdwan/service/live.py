"""Observed state for the API: sessions, reachability, events, metrics. Read-only."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from sdwan.auth.principal import Principal
from sdwan.domain.session import ESTABLISHED, UNKNOWN, up_down
from sdwan.errors import InvalidInput
from sdwan.events.log import EventLog
from sdwan.metrics import Gauge, Labels, Metrics
from sdwan.service.uow import reading
from sdwan.service.uplink_quality import quality_gauges
from sdwan.store import live_repo

MAX_EVENTS_PAGE = 1000


def _seconds_since(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else max(0, int((now - moment).total_seconds()))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def session_fields(row: Any | None, now: datetime) -> dict[str, Any]:
    """The live fields of a neighbor (``row``: its neighbor_live row, or None)."""
    if row is None:
        state = UNKNOWN
        return {
            "session_state": state,
            "session": up_down(state),
            "admin_down": None,
            "established_since": None,
            "uptime": None,
            "state_since": None,
            "last_down_at": None,
            "last_down_reason": "",
            "flap_count": 0,
            "prefixes_received": None,
            "prefixes_accepted": None,
            "prefixes_advertised": None,
            "remote_router_id": None,
        }
    state = row["session_state"]
    established = row["established_at"] if state == ESTABLISHED else None
    return {
        "session_state": state,
        "session": up_down(state),
        "admin_down": row["admin_down"],
        "established_since": _iso(established),
        "uptime": _seconds_since(established, now),
        "state_since": _iso(row["state_since"]),
        "last_down_at": _iso(row["last_down_at"]),
        "last_down_reason": row["last_down_reason"],
        "flap_count": row["flap_count"],
        "prefixes_received": row["prefixes_received"],
        "prefixes_accepted": row["prefixes_accepted"],
        "prefixes_advertised": row["prefixes_advertised"],
        "remote_router_id": row["remote_router_id"] if state == ESTABLISHED else None,
    }


def router_fields(row: Any | None, now: datetime) -> dict[str, Any]:
    if row is None:
        return {
            "reachable": None,
            "reachable_since": None,
            "gobgpd_up_since": None,
            "gobgpd_uptime": None,
            "last_error": "",
            "drift": [],
        }
    return {
        "reachable": row["reachable"],
        "reachable_since": _iso(row["reachable_since"]),
        "gobgpd_up_since": _iso(row["gobgpd_up_since"]),
        "gobgpd_uptime": _seconds_since(row["gobgpd_up_since"], now),
        "last_error": row["last_error"],
        "drift": list(row["drift"] or []),
    }


Owners = Callable[[Iterable[str]], dict[str, str | None]]


class LiveService:
    def __init__(
        self,
        *,
        engine: Engine,
        events: EventLog,
        metrics: Metrics,
        owners: Owners = lambda ids: dict.fromkeys(ids),
    ) -> None:
        """``owners``: router id -> the replica driving it (service/replicas.py)."""
        self._engine = engine
        self.events_log = events
        self._metrics = metrics
        self._owners = owners

    def sessions(self, neighbor_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = list(neighbor_ids)
        with reading(self._engine) as conn:
            rows = live_repo.sessions_by_id(conn, ids=ids)
        now = datetime.now(UTC)
        return {i: session_fields(rows.get(i), now) for i in ids}

    def routers(self, router_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = list(router_ids)
        with reading(self._engine) as conn:
            rows = live_repo.router_lives(conn, ids=ids)
        owners = self._owners(ids)
        now = datetime.now(UTC)
        return {i: {**router_fields(rows.get(i), now), "owner": owners.get(i)} for i in ids}

    def events(
        self,
        principal: Principal,
        *,
        since: int | None,
        limit: int,
        router: str | None = None,
        kind: str | None = None,
    ) -> list[dict[str, Any]]:
        """After event ``since``, oldest first; None: the newest ``limit`` events."""
        if since is not None and since < 0:
            raise InvalidInput("since: must be an event id (0 or more)", field="since")
        if not 1 <= limit <= MAX_EVENTS_PAGE:
            raise InvalidInput(f"limit: must be 1..{MAX_EVENTS_PAGE}", field="limit")
        return self.events_log.read(
            since=since,
            limit=limit,
            project_id=principal.project_id,
            router_name=router,
            kind=kind,
        )

    def last_event_id(self) -> int:
        return self.events_log.last_id()

    def metrics_text(self, principal: Principal | None = None) -> str:
        """Every series for admins; a project-scoped caller gets only the series
        labelled with one of its project's routers."""
        with reading(self._engine) as conn:
            counts = live_repo.session_counts(conn)
            reachability = live_repo.router_reachability(conn)
            scoped = principal is not None and principal.project_id is not None
            mine = (
                live_repo.router_names(conn, project_id=principal.project_id)
                if principal is not None and principal.project_id is not None
                else set()
            )
            quality = quality_gauges(conn, principal.project_id if principal else None)
        sessions: list[tuple[Labels, float]] = []
        prefixes: dict[str, float] = {}
        for name, state, count, received in counts:
            sessions.append(((("router", name), ("state", state)), count))
            prefixes[name] = prefixes.get(name, 0) + received
        gauges = [
            Gauge("sdwan_bgp_sessions", "BGP sessions by router and FSM state.", sessions),
            Gauge(
                "sdwan_bgp_prefixes_received",
                "Prefixes received from all neighbors of a router.",
                [((("router", n),), v) for n, v in sorted(prefixes.items())],
            ),
            Gauge(
                "sdwan_gobgpd_reachable",
                "1 when the router's gobgpd answers gRPC.",
                [((("router", n),), 1.0 if up else 0.0) for n, up in sorted(reachability)],
            ),
            Gauge(
                "sdwan_event_stream_subscribers",
                "Open GET /v1/events streams.",
                [((), float(self.events_log.subscriber_count))],
            ),
            *quality,
        ]
        if not scoped:
            return self._metrics.render(gauges)
        return self._metrics.render(gauges, keep=lambda labels: dict(labels).get("router") in mine)
