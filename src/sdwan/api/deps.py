"""Typed dependencies: the caller, the services, and the If-Match version."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from sdwan.api.access import note_principal
from sdwan.auth.keystone import KeystoneAuthenticator
from sdwan.auth.principal import Principal
from sdwan.auth.tokens import TokenAuthenticator
from sdwan.errors import InvalidInput, NotAuthenticated
from sdwan.fleet.restore import RestoreService
from sdwan.fleet.service import FleetService
from sdwan.rollout.service import MAX_CONFIRM, RolloutService
from sdwan.service import audit, revision_log
from sdwan.service.alert_services import AlertServices
from sdwan.service.audit import AuditService
from sdwan.service.identity import IdentityService
from sdwan.service.intent_services import IntentServices
from sdwan.service.live import LiveService
from sdwan.service.neighbors import NeighborService
from sdwan.service.owned import OwnedService
from sdwan.service.policyinfo import PolicyInfoService
from sdwan.service.replicas import ReplicaService
from sdwan.service.revisions import RevisionService
from sdwan.service.rib import RibService
from sdwan.service.routers import RouterService
from sdwan.store.records import AnnouncementRecord, AttachmentRecord, DefinedSetRecord, PolicyRecord


@dataclass(frozen=True)
class Services:
    """Every service the API calls, built once by the runtime: the one way a route
    reaches one (``services: ServicesDep``, then ``services.routers``)."""

    routers: RouterService
    neighbors: NeighborService
    rib: RibService
    sets: OwnedService[DefinedSetRecord]
    policies: OwnedService[PolicyRecord]
    attachments: OwnedService[AttachmentRecord]
    announcements: OwnedService[AnnouncementRecord]
    policyinfo: PolicyInfoService
    intent: IntentServices  # sites, uplinks, intents, plans
    alerts: AlertServices  # alert rules, alerts, webhooks
    fleet: FleetService
    revisions: RevisionService  # the revision log: history, one revision's diff
    restore: RestoreService  # rollback to a revision
    rollouts: RolloutService  # staged and confirmed changes
    live: LiveService  # sessions, events, metrics
    replicas: ReplicaService
    identity: IdentityService
    audit: AuditService
    authenticator: TokenAuthenticator
    keystone: KeystoneAuthenticator | None  # with SDWAN_AUTH_BACKEND=keystone only


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


async def authenticate(
    request: Request, services: Services, authorization: str | None, x_auth_token: str | None
) -> Principal:
    """The caller: a Keystone token in X-Auth-Token (with SDWAN_AUTH_BACKEND=keystone)
    or one of ours as a Bearer token (API keys, the bootstrap admin token, logins)."""
    source = client_address(request)
    keystone = services.keystone
    if x_auth_token is not None and not authorization:
        if keystone is None:
            raise NotAuthenticated(
                "X-Auth-Token is for the Keystone backend, which is not enabled: send "
                "'Authorization: Bearer <token>'"
            )
        if not x_auth_token.strip():
            raise NotAuthenticated("empty X-Auth-Token")
        return await run_in_threadpool(keystone.authenticate, x_auth_token.strip(), source=source)
    if not authorization:
        hint = "X-Auth-Token: <keystone token>' or '" if keystone is not None else ""
        raise NotAuthenticated(f"missing credentials: send '{hint}Authorization: Bearer <token>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("malformed Authorization header: expected 'Bearer <token>'")
    return await run_in_threadpool(
        services.authenticator.authenticate, token.strip(), source=source
    )


async def get_principal(
    request: Request,
    services: ServicesDep,
    # described as the contract's security schemes (api/contract.py), not as parameters
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_auth_token: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """The caller (see ``authenticate``). Async on purpose: the audit actor it sets (a
    context variable) then reaches the endpoint, which FastAPI runs in a worker
    thread with a copy of this context (a sync dependency's own thread would lose it)."""
    principal = await authenticate(request, services, authorization, x_auth_token)
    audit.current_actor.set(principal)
    note_principal(principal)
    revision_log.current_message.set(change_message(request))
    revision_log.current_confirm.set(confirm_within(request))
    return principal


def confirm_within(request: Request) -> float | None:
    """Seconds within which a write must be confirmed (``sdwan rollout confirm``) or is
    rolled back: the X-Sdwan-Confirm-Within header or the ``confirm_within`` query
    parameter; None when neither is given."""
    where = "X-Sdwan-Confirm-Within"
    text = request.headers.get("x-sdwan-confirm-within")
    if text is None:
        text, where = request.query_params.get("confirm_within"), "confirm_within"
    if text is None:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 1 <= seconds <= MAX_CONFIRM:  # also NaN
        raise InvalidInput(f"{where}: seconds between 1 and {MAX_CONFIRM:g}", field=where)
    return seconds


def change_message(request: Request) -> str:
    """Why a change is made, for its revision: the X-Sdwan-Message header (UTF-8,
    percent-encoded where not plain ASCII) or the ``message`` query parameter; at most
    1000 characters, no control characters but newline and tab."""
    header = request.headers.get("x-sdwan-message")
    where = "X-Sdwan-Message"
    if header is None:
        text, where = request.query_params.get("message", ""), "message"
    else:
        try:
            text = unquote(header, errors="strict")
        except UnicodeDecodeError:
            text = "\x00"  # refused below
    if len(text) > revision_log.MAX_MESSAGE or any(
        unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text
    ):
        raise InvalidInput(
            f"{where}: a message of at most {revision_log.MAX_MESSAGE} characters without "
            "control characters (UTF-8, percent-encoded in the header)",
            field=where,
        )
    return text


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_if_match(if_match: Annotated[str | None, Header()] = None) -> int | None:
    """The version in If-Match ('"3"', 'W/"3"' or '3'); '*' or absent: no check."""
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InvalidInput(
            f'If-Match: expected an ETag like "3", got {if_match!r}', field="If-Match"
        )
    return int(text)


IfMatchDep = Annotated[int | None, Depends(get_if_match)]


def etag(version: int) -> str:
    return f'"{version}"'


DryRunQuery = Annotated[
    bool,
    Query(
        description="run every check (If-Match too), change nothing: the answer shows "
        "the result and its warnings, e.g. whether a BGP session would reset"
    ),
]
