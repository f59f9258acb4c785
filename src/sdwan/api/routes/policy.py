"""/v1/defined-sets, /v1/policies, /v1/policy-attachments, /v1/announcements"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from sdwan.api.routes.owned import OwnedResource, build_router
from sdwan.schemas import policy as schemas
from sdwan.store.records import DefinedSetRecord

RESOURCES: tuple[OwnedResource[Any], ...] = (
    OwnedResource[DefinedSetRecord](
        path="/v1/defined-sets",
        kind="defined set",
        service=lambda s: s.sets,
        create=schemas.DefinedSetCreate,
        update=schemas.DefinedSetUpdate,
        public=schemas.DefinedSetPublic,
        filters=("name", "type"),
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
    ),
)

routers: list[APIRouter] = [build_router(resource) for resource in RESOURCES]
