"""Observed state shown beside a resource: not desired state, not in its version/ETag."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SessionLive(BaseModel):
    session_state: str = Field(
        default="UNKNOWN",
        description="IDLE, CONNECT, ACTIVE, OPENSENT, OPENCONFIRM, ESTABLISHED; UNKNOWN "
        "while gobgpd is unreachable or does not have the peer",
    )
    session: str = Field(default="DOWN", description="the original's UP (Established) / DOWN")
    admin_down: bool | None = None
    established_since: str | None = None
    uptime: int | None = Field(default=None, description="seconds Established")
    state_since: str | None = None
    last_down_at: str | None = None
    last_down_reason: str = ""
    flap_count: int = Field(default=0, description="Established -> down, as seen by sdwan")
    prefixes_received: int | None = None
    prefixes_accepted: int | None = None
    prefixes_advertised: int | None = Field(
        default=None,
        description="not collected: gobgpd counts it only by walking the RIB per peer",
    )
    remote_router_id: str | None = Field(
        default=None,
        description="the BGP identifier the peer sent when its session came up; null "
        "while the session is not Established",
    )


class RouterLive(BaseModel):
    reachable: bool | None = Field(default=None, description="gobgpd answers gRPC")
    reachable_since: str | None = None
    gobgpd_up_since: str | None = Field(
        default=None, description="since when this gobgpd instance answers (a restart resets it)"
    )
    gobgpd_uptime: int | None = None
    last_error: str = ""
    drift: list[str] = Field(default_factory=list, description="unrepaired differences (report)")
    owner: str | None = Field(
        default=None,
        description="the replica driving this router (its --replica-name); null while none",
    )
