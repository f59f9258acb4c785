"""Typed dependencies: the caller, the services, and the If-Match version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from sdwan.auth.principal import Principal
from sdwan.auth.tokens import TokenAuthenticator
from sdwan.errors import InvalidInput, NotAuthenticated
from sdwan.fleet.service import FleetService
from sdwan.service.children import ChildService
from sdwan.service.neighbors import NeighborService
from sdwan.service.policyinfo import PolicyInfoService
from sdwan.service.rib import RibService
from sdwan.service.routers import RouterService


@dataclass(frozen=True)
class Services:
    routers: RouterService
    neighbors: NeighborService
    authenticator: TokenAuthenticator
    rib: RibService
    sets: ChildService
    policies: ChildService
    attachments: ChildService
    announcements: ChildService
    policyinfo: PolicyInfoService
    fleet: FleetService


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_principal(
    services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    if not authorization:
        raise NotAuthenticated("missing credentials: send 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("malformed Authorization header: expected 'Bearer <token>'")
    return services.authenticator.authenticate(token.strip())


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_if_match(if_match: Annotated[str | None, Header()] = None) -> int | None:
    """The version in If-Match ('"3"', 'W/"3"' or '3'); '*' or absent: no check."""
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InvalidInput(
            f'If-Match: expected an ETag like "3", got {if_match!r}', field="If-Match"
        )
    return int(text)


IfMatchDep = Annotated[int | None, Depends(get_if_match)]


def etag(version: int) -> str:
    return f'"{version}"'
