"""The Keystone backend: a token sent as ``X-Auth-Token`` is validated against
Keystone v3 (``GET /v3/auth/tokens`` with the service's own token, through
keystoneauth1). The token's project becomes our project ``keystone-<project id>``
(by id, never by name: names repeat across domains and could shadow a built-in
project; created here on first sight, its description names the Keystone project
and domain), its roles our role (the strongest of admin > member/_member_ > reader;
none of them: 403). Only Keystone's admin role on the one configured admin project
(``admin_project_id``) makes a global admin; admin elsewhere is a member of that
project. Answers are cached for ``cache_ttl`` seconds (never past the token's own
expiry); Keystone not answering is 503, never access."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from sdwan.auth.principal import Principal, Role
from sdwan.errors import AuthBackendUnavailable, NotAuthenticated, PermissionDenied
from sdwan.store import identity_repo
from sdwan.store.identity_repo import ProjectRecord
from sdwan.store.repo import now

ROLE_MAP = {
    "admin": Role.ADMIN,
    "member": Role.MEMBER,
    "_member_": Role.MEMBER,
    "reader": Role.READER,
}


@dataclass(frozen=True)
class KeystoneConfig:
    url: str  # e.g. http://127.0.0.1:5000 (with or without /v3)
    username: str  # the service user that may validate tokens
    password: str
    project: str
    user_domain: str = "Default"
    project_domain: str = "Default"
    cache_ttl: float = 30.0
    timeout: float = 5.0
    cache_size: int = 10_000
    admin_project_id: str | None = None  # the only project whose admins are our admins

    @property
    def v3(self) -> str:
        base = self.url.rstrip("/")
        return base if base.endswith("/v3") else base + "/v3"


def project_name(keystone_project_id: str) -> str:
    """Our project for a Keystone project: its id, never its name."""
    return f"keystone-{keystone_project_id}"[:64]


def map_role(names: list[str]) -> Role | None:
    mapped = [ROLE_MAP[n] for n in names if n in ROLE_MAP]
    return max(mapped, key=lambda r: r.rank) if mapped else None


class KeystoneAuthenticator:
    def __init__(
        self,
        config: KeystoneConfig,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._engine = engine
        self._clock = clock
        plugin = v3.Password(
            auth_url=config.v3,
            username=config.username,
            password=config.password,
            project_name=config.project,
            user_domain_name=config.user_domain,
            project_domain_name=config.project_domain,
        )
        self._session = ks_session.Session(auth=plugin, timeout=config.timeout)
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()
        self.validations = 0  # calls that reached Keystone (tests check the cache)

    def authenticate(self, token: str, *, source: str = "") -> Principal:
        key = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > self._clock():
                self._cache.move_to_end(key)
                return _with_source(hit[1], source)
        principal, expires_in = self._validate(token)
        ttl = min(self._config.cache_ttl, expires_in)
        if ttl > 0:  # 0: every request asks Keystone
            with self._lock:
                self._cache[key] = (self._clock() + ttl, principal)
                while len(self._cache) > self._config.cache_size:
                    self._cache.popitem(last=False)
        return _with_source(principal, source)

    def _validate(self, token: str) -> tuple[Principal, float]:
        self.validations += 1
        try:
            answer = self._session.get(
                f"{self._config.v3}/auth/tokens",
                headers={"X-Subject-Token": token},
                raise_exc=False,
            )
        except ks_exc.ConnectFailure as exc:
            raise AuthBackendUnavailable(
                f"Keystone at {self._config.url} is unreachable: {_short(exc)}"
            ) from None
        except ks_exc.RequestTimeout:
            raise AuthBackendUnavailable(
                f"Keystone at {self._config.url} did not answer in time"
            ) from None
        except ks_exc.Unauthorized:
            raise AuthBackendUnavailable(
                "Keystone refused sdwan's service credentials (SDWAN_KEYSTONE_*): cannot "
                "validate tokens"
            ) from None
        except ks_exc.ClientException as exc:
            raise AuthBackendUnavailable(f"Keystone error: {_short(exc)}") from None
        if answer.status_code in (401, 404):
            raise NotAuthenticated("invalid or expired Keystone token")
        if answer.status_code != 200:
            raise AuthBackendUnavailable(
                f"Keystone answered {answer.status_code} validating a token"
            )
        body: Mapping[str, Any] = answer.json().get("token") or {}
        return self._principal(body)

    def _principal(self, body: Mapping[str, Any]) -> tuple[Principal, float]:
        user = (body.get("user") or {}).get("name") or "?"
        scope = body.get("project") or {}
        project_id = scope.get("id")
        project = scope.get("name")
        expires_at = body.get("expires_at")
        remaining = self._config.cache_ttl
        if expires_at:
            expiry = datetime.fromisoformat(str(expires_at).replace("Z", "+00:00"))
            remaining = (expiry - now()).total_seconds()
            if remaining <= 0:
                raise NotAuthenticated("Keystone token expired")
        if not project_id:
            raise NotAuthenticated("the Keystone token is not scoped to a project")
        role = map_role([r.get("name", "") for r in body.get("roles") or []])
        if role is None:
            raise PermissionDenied(
                f"{user} has no admin, member or reader role in Keystone project {project}"
            )
        if role == Role.ADMIN and project_id != self._config.admin_project_id:
            role = Role.MEMBER  # an admin of its own project, not of every project
        ours = project_name(str(project_id))
        domain = (scope.get("domain") or {}).get("name") or "?"
        self._ensure_project(ours, f"Keystone project {project} (domain {domain})")
        principal = Principal(
            name=f"keystone:{user}",
            role=role,
            project_id=None if role == Role.ADMIN else ours,
        )
        return principal, remaining

    def _ensure_project(self, name: str, description: str) -> None:
        try:
            with self._engine.begin() as conn:
                if identity_repo.project_exists(conn, name):
                    return
                project = ProjectRecord(
                    name=name, description=description, created_at=now(), api_address_allow=None
                )
                identity_repo.insert_project(conn, project=project)
        except IntegrityError:
            pass  # created concurrently by another request


def _with_source(principal: Principal, source: str) -> Principal:
    return Principal(
        principal.name, principal.role, principal.project_id, principal.user_id, None, source
    )


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]
