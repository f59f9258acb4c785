"""GET /v1/replicas."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReplicaPublic(BaseModel):
    name: str = Field(description="--replica-name (default host:port)")
    address: str = Field(description="where it serves the API")
    version: str
    started_at: str | None
    heartbeat_age: float = Field(description="seconds since its last heartbeat")
    live: bool = Field(description="heartbeat within the lease time: it drives routers")
    routers: int = Field(description="routers it drives now (holds a valid lease on)")
    this: bool = Field(description="the replica that answered this request")


class ReplicaList(BaseModel):
    items: list[ReplicaPublic]
    total: int
