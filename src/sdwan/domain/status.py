"""Config status of every resource."""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Status(StrEnum):
    PENDING_CREATE = "PENDING_CREATE"
    PENDING_UPDATE = "PENDING_UPDATE"
    PENDING_DELETE = "PENDING_DELETE"
    ACTIVE = "ACTIVE"
    ERROR = "ERROR"


def status_after_update(current: str) -> Status:
    """A change to a resource not yet created on its router stays a create."""
    if current == Status.PENDING_CREATE:
        return Status.PENDING_CREATE
    return Status.PENDING_UPDATE


# what a delete writes: the reconciler removes the object from its router, then the row
DELETING: Mapping[str, str] = MappingProxyType(
    {"status": Status.PENDING_DELETE, "status_detail": ""}
)
