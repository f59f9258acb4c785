"""/v1/replicas: the orchestrator's replicas, their heartbeats and router counts."""

from __future__ import annotations

from fastapi import APIRouter

from sdwan.api.deps import PrincipalDep, ServicesDep
from sdwan.schemas.replicas import ReplicaList, ReplicaPublic

router = APIRouter(tags=["replicas"])


@router.get("/v1/replicas")
def list_replicas(principal: PrincipalDep, services: ServicesDep) -> ReplicaList:
    """Every replica (one with SQLite): heartbeat age, live or not, routers it drives.
    Replicas silent for 5 minutes leave the list."""
    items = [
        ReplicaPublic(
            name=r.name,
            address=r.address,
            version=r.version,
            started_at=r.started_at.isoformat() if r.started_at is not None else None,
            heartbeat_age=r.heartbeat_age,
            live=r.live,
            routers=r.routers,
            this=r.this,
        )
        for r in services.replicas.list(principal)
    ]
    return ReplicaList(items=items, total=len(items))
