"""Replicas of the orchestrator and which one drives each router.

``SoleReplica``: one process on SQLite (it drives every router when its reconciler
runs). ``ClusterReplicas``: replicas on PostgreSQL, from the replicas table and the
router leases (store/leases.py); times by the database's clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine

from sdwan.auth.principal import Principal
from sdwan.errors import PermissionDenied
from sdwan.service.uow import reading
from sdwan.store import leases, repo


@dataclass(frozen=True)
class ReplicaInfo:
    name: str
    address: str
    version: str
    started_at: datetime | None
    heartbeat_age: float  # seconds since its last heartbeat
    routers: int  # routers it drives now
    live: bool  # heartbeat within the lease time
    this: bool  # the replica that answered


class ReplicaDirectory(Protocol):
    def replicas(self) -> list[ReplicaInfo]: ...
    def owners(self, router_ids: Iterable[str]) -> dict[str, str | None]: ...


class SoleReplica:
    def __init__(
        self, engine: Engine, *, name: str, address: str, version: str, drives: bool
    ) -> None:
        self._engine = engine
        self._info = (name, address, version)
        self._started = datetime.now().astimezone()
        self._drives = drives

    def replicas(self) -> list[ReplicaInfo]:
        count = 0
        if self._drives:
            with reading(self._engine) as conn:
                count = repo.count_routers(conn)
        name, address, version = self._info
        return [ReplicaInfo(name, address, version, self._started, 0.0, count, True, True)]

    def owners(self, router_ids: Iterable[str]) -> dict[str, str | None]:
        owner = self._info[0] if self._drives else None
        return dict.fromkeys(router_ids, owner)


class ClusterReplicas:
    def __init__(self, engine: Engine, *, name: str, lease: float) -> None:
        self._engine = engine
        self._name = name
        self._lease = lease

    def replicas(self) -> list[ReplicaInfo]:
        with reading(self._engine) as conn:
            rows = leases.list_replicas(conn)
        return [
            ReplicaInfo(
                r.name,
                r.address,
                r.version,
                r.started_at,
                round(max(r.heartbeat_age, 0.0), 3),
                r.routers,
                r.heartbeat_age < self._lease,
                r.name == self._name,
            )
            for r in rows
        ]

    def owners(self, router_ids: Iterable[str]) -> dict[str, str | None]:
        ids = list(router_ids)
        with reading(self._engine) as conn:
            held = leases.owners(conn, router_ids=ids)
        return {i: held.get(i) for i in ids}


class ReplicaService:
    def __init__(self, directory: ReplicaDirectory) -> None:
        self.directory = directory

    def list(self, principal: Principal) -> list[ReplicaInfo]:
        """Every replica, live or recently gone; for callers of every project."""
        if principal.project_id is not None:
            raise PermissionDenied(
                f"{principal.name} is limited to project {principal.project_id}: the "
                "replicas serve every project"
            )
        return self.directory.replicas()
