"""What an event says. ``data`` never holds secrets: callers put field names, not
values, for anything that could be one (a password is reported as ``"password"``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

RESOURCE_CREATED = "resource.created"
RESOURCE_UPDATED = "resource.updated"
RESOURCE_DELETED = "resource.deleted"
STATUS_CHANGED = "status.changed"
SESSION_CHANGED = "session.changed"
ROUTER_REACHABILITY = "router.reachability"
DRIFT_DETECTED = "drift.detected"
DRIFT_REPAIRED = "drift.repaired"


@dataclass(frozen=True)
class Event:
    kind: str
    resource_type: str  # router | neighbor (| the lead's policy resources)
    resource_id: str
    router_name: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    project_id: str | None = None

    def row(self, time: datetime) -> dict[str, Any]:
        return {
            "time": time,
            "kind": self.kind,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "router_name": self.router_name,
            "project_id": self.project_id,
            "message": self.message,
            "data": self.data,
        }
