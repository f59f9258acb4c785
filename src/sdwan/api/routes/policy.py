"""/v1/defined-sets, /v1/policies, /v1/policy-attachments, /v1/announcements"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from sdwan.api.routes.owned import OwnedResource, build_router
from sdwan.domain.policy import SetType, check_members
from sdwan.errors import InvalidInput
from sdwan.schemas import policy as schemas
from sdwan.store.records import DefinedSetRecord


def _set_to_row(body: dict[str, Any]) -> dict[str, Any]:
    body["set_type"] = body.pop("type")
    return body


def _set_from_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "type": row["set_type"]}


def _set_update(row: DefinedSetRecord, changes: dict[str, Any]) -> dict[str, Any]:
    if changes.get("members") is not None:
        try:
            changes["members"] = check_members(SetType(row.set_type), changes["members"])
        except ValueError as exc:
            raise InvalidInput(f"members: {exc}", field="members") from None
    return changes


RESOURCES: tuple[OwnedResource[Any], ...] = (
    OwnedResource[DefinedSetRecord](
        path="/v1/defined-sets",
        kind="defined set",
        service=lambda s: s.sets,
        create=schemas.DefinedSetCreate,
        update=schemas.DefinedSetUpdate,
        public=schemas.DefinedSetPublic,
        filters=("name", "type"),
        to_row=_set_to_row,
        from_row=_set_from_row,
        prepare_update=_set_update,
    ),
    OwnedResource(
        path="/v1/policies",
        kind="policy",
        service=lambda s: s.policies,
        create=schemas.PolicyCreate,
        update=schemas.PolicyUpdate,
        public=schemas.PolicyPublic,
        filters=("name",),
    ),
    OwnedResource(
        path="/v1/policy-attachments",
        kind="policy attachment",
        service=lambda s: s.attachments,
        create=schemas.AttachmentCreate,
        update=schemas.AttachmentUpdate,
        public=schemas.AttachmentPublic,
        filters=("name", "direction"),
    ),
    OwnedResource(
        path="/v1/announcements",
        kind="announcement",
        service=lambda s: s.announcements,
        create=schemas.AnnouncementCreate,
        update=schemas.AnnouncementUpdate,
        public=schemas.AnnouncementPublic,
        filters=("prefix",),
        nullable=("next_hop", "med", "local_pref"),
    ),
)

routers: list[APIRouter] = [build_router(resource) for resource in RESOURCES]
