"""Schemas of the identity endpoints: login, users, projects, roles, tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from sdwan.auth.principal import Role
from sdwan.schemas.common import Description, Input, Name

RoleName = Literal["admin", "member", "reader"]
Password = str  # never echoed back; length is checked by the service (422)


class LoginRequest(Input):
    username: str = Field(min_length=1, max_length=63)
    password: Password = Field(min_length=1, max_length=1024)
    project: str | None = Field(default=None, description="optional with one role")


class LoginAnswer(BaseModel):
    token: str = Field(description="shown once; send as 'Authorization: Bearer <token>'")
    token_id: str
    expires_at: datetime
    user: str
    project: str
    role: Role


class WhoAmI(BaseModel):
    name: str
    role: Role
    project: str | None = Field(description="null: every project (admin)")
    user_id: str | None
    token_id: str | None


AllowEntries = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=128)]],
    Field(
        max_length=100,
        description="gobgpd API addresses this project's routers may use, on top of the "
        "server's list: '*', unix:/socket/dir/ or a network (192.0.2.0/24); null: only the "
        "server's list applies",
    ),
]


WebhookAllowEntries = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=128)]],
    Field(
        max_length=100,
        description="addresses this project's webhooks may post to, on top of the server's "
        "SDWAN_WEBHOOK_ALLOW: '*' or a network (192.0.2.0/24); null: only the server's list",
    ),
]


class ProjectCreate(Input):
    name: Name
    description: Description = ""
    api_address_allow: AllowEntries | None = None
    webhook_allow: WebhookAllowEntries | None = None


class ProjectUpdate(Input):
    description: Description | None = None
    api_address_allow: AllowEntries | None = None
    webhook_allow: WebhookAllowEntries | None = None


class ProjectPublic(BaseModel):
    name: str
    description: str
    created_at: datetime
    api_address_allow: list[str] | None
    webhook_allow: list[str] | None


class UserCreate(Input):
    name: Name
    password: Password = Field(max_length=1024)


class PasswordChange(Input):
    password: Password = Field(max_length=1024)
    current_password: str | None = Field(
        default=None, max_length=1024, description="required when changing your own"
    )
    revoke_api_keys: bool = Field(
        default=False, description="also revoke the user's API keys (its sessions always end)"
    )


class RoleAssignment(BaseModel):
    user: str
    user_id: str
    project: str
    role: Role
    created_at: datetime


class UserPublic(BaseModel):
    id: str
    name: str
    roles: list[RoleAssignment]
    created_at: datetime
    updated_at: datetime


class RoleGrant(Input):
    user: str = Field(min_length=1, max_length=63)
    project: Name
    role: RoleName


class TokenCreate(Input):
    name: Name
    role: RoleName | None = Field(default=None, description="default: member (admins), yours")
    project: str | None = Field(default=None, max_length=64)
    expires_in: int | None = Field(default=None, ge=60, le=10 * 365 * 86400, description="s")


class TokenPublic(BaseModel):
    id: str
    name: str
    kind: str
    role: Role
    project: str | None
    user_id: str | None
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="shown once")
