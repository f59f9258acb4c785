"""/v1/auth (login, logout, whoami), /v1/users, /v1/projects, /v1/role-assignments,
/v1/tokens (API keys)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from sdwan.api.deps import PrincipalDep, ServicesDep, client_address
from sdwan.auth.principal import Role
from sdwan.errors import InvalidInput
from sdwan.schemas.identity import (
    LoginAnswer,
    LoginRequest,
    PasswordChange,
    ProjectCreate,
    ProjectPublic,
    ProjectUpdate,
    RoleAssignment,
    RoleGrant,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserCreate,
    UserPublic,
    WhoAmI,
)
from sdwan.service.credentials import token_public
from sdwan.service.identity import UserView
from sdwan.store.identity_repo import ProjectRecord

router = APIRouter(tags=["identity"])


@router.post("/v1/auth/login")
async def login(body: LoginRequest, request: Request, services: ServicesDep) -> LoginAnswer:
    """A session token for a user's role in a project (open: no token needed). At
    most two logins are checked at once (scrypt); others wait, or get 429."""
    async with request.app.state.limits.logins.hold():
        answer = await run_in_threadpool(
            services.identity.login,
            body.username,
            body.password,
            body.project,
            source=client_address(request),
        )
    return LoginAnswer(**asdict(answer))


@router.post("/v1/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: PrincipalDep, services: ServicesDep) -> Response:
    """Revoke the token of this request."""
    services.identity.logout(principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/auth/whoami")
def whoami(principal: PrincipalDep) -> WhoAmI:
    return WhoAmI(
        name=principal.name,
        role=principal.role,
        project=principal.project_id,
        user_id=principal.user_id,
        token_id=principal.token_id,
    )


@router.post("/v1/projects", status_code=status.HTTP_201_CREATED)
def create_project(
    body: ProjectCreate, principal: PrincipalDep, services: ServicesDep
) -> ProjectPublic:
    return _project(
        services.identity.create_project(
            principal, body.name, body.description, body.api_address_allow, body.webhook_allow
        )
    )


@router.patch("/v1/projects/{name}")
def update_project(
    name: str, body: ProjectUpdate, principal: PrincipalDep, services: ServicesDep
) -> ProjectPublic:
    """Admins: change the description or the project's allowlists of gobgpd API
    addresses and webhook addresses (``null``: only the server's list applies)."""
    changes = body.model_dump(exclude_unset=True)
    if "description" in changes and changes["description"] is None:
        raise InvalidInput("description: may not be null", field="description")
    return _project(services.identity.update_project(principal, name, **changes))


@router.get("/v1/projects")
def list_projects(principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    items = [_project(p) for p in services.identity.list_projects(principal)]
    return {"items": items, "total": len(items)}


@router.delete("/v1/projects/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_project(name: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    services.identity.delete_project(principal, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/v1/users", status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, principal: PrincipalDep, services: ServicesDep) -> UserPublic:
    return _user(services.identity.create_user(principal, body.name, body.password))


@router.get("/v1/users")
def list_users(principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    items = [_user(u) for u in services.identity.list_users(principal)]
    return {"items": items, "total": len(items)}


@router.get("/v1/users/{key}")
def show_user(key: str, principal: PrincipalDep, services: ServicesDep) -> UserPublic:
    return _user(services.identity.get_user(principal, key))


@router.put("/v1/users/{key}/password", status_code=status.HTTP_204_NO_CONTENT)
def set_password(
    key: str, body: PasswordChange, principal: PrincipalDep, services: ServicesDep
) -> Response:
    """Admins set anyone's; users change their own with ``current_password``. Ends
    the user's login sessions (and its API keys with ``revoke_api_keys``)."""
    services.identity.set_password(
        principal,
        key,
        body.password,
        current=body.current_password,
        revoke_api_keys=body.revoke_api_keys,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/v1/users/{key}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(key: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    services.identity.delete_user(principal, key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/role-assignments")
def list_roles(
    principal: PrincipalDep,
    services: ServicesDep,
    user: Annotated[str | None, Query()] = None,
    project: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    items = [
        RoleAssignment(**asdict(r))
        for r in services.identity.list_roles(principal, user=user, project=project)
    ]
    return {"items": items, "total": len(items)}


@router.put("/v1/role-assignments", status_code=status.HTTP_200_OK)
def grant_role(body: RoleGrant, principal: PrincipalDep, services: ServicesDep) -> RoleAssignment:
    """Give a user a role in a project (replaces the role it had there)."""
    return RoleAssignment(
        **asdict(services.identity.grant(principal, body.user, body.project, Role(body.role)))
    )


@router.delete("/v1/role-assignments", status_code=status.HTTP_204_NO_CONTENT)
def revoke_role(
    principal: PrincipalDep,
    services: ServicesDep,
    user: Annotated[str, Query()],
    project: Annotated[str, Query()],
) -> Response:
    services.identity.revoke_role(principal, user, project)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/v1/tokens", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, principal: PrincipalDep, services: ServicesDep) -> TokenCreated:
    """An API key for automation; the token is in this answer only."""
    created = services.identity.create_api_key(
        principal,
        name=body.name,
        role=Role(body.role) if body.role else None,
        project=body.project,
        expires_in=body.expires_in,
    )
    return TokenCreated(**token_public(created.record), token=created.token)


@router.get("/v1/tokens")
def list_tokens(
    principal: PrincipalDep,
    services: ServicesDep,
    active: Annotated[bool, Query(description="only unrevoked, unexpired")] = False,
) -> dict[str, Any]:
    """Admins see every token, others their own (never the secret)."""
    found = services.identity.list_tokens(principal, active=active)
    items = [TokenPublic(**token_public(t)) for t in found]
    return {"items": items, "total": len(items)}


@router.delete("/v1/tokens/{token_id}")
def revoke_token(token_id: str, principal: PrincipalDep, services: ServicesDep) -> TokenPublic:
    return TokenPublic(**token_public(services.identity.revoke_token(principal, token_id)))


def _project(record: ProjectRecord) -> ProjectPublic:
    return ProjectPublic(**asdict(record))


def _user(view: UserView) -> UserPublic:
    user = view.record
    return UserPublic(
        id=user.id,
        name=user.name,
        roles=[RoleAssignment(**asdict(role)) for role in view.roles],
        created_at=user.created_at,
        updated_at=user.updated_at,
    )
