"""The caller, as the service layer sees it, whatever authenticated it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sdwan.errors import PermissionDenied

DEFAULT_PROJECT = "default"


class Role(StrEnum):
    ADMIN = "admin"  # everything, every project
    MEMBER = "member"  # read and write within its project
    READER = "reader"  # read only

    @property
    def rank(self) -> int:
        return {"reader": 0, "member": 1, "admin": 2}[self.value]


def weaker(a: Role, b: Role) -> Role:
    return a if a.rank <= b.rank else b


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    project_id: str | None  # None: every project (admin)
    user_id: str | None = None  # None: an API key not bound to a user (bootstrap, Keystone)
    token_id: str | None = None  # the token that authenticated this request (logout)
    source: str = ""  # the client's address, for the audit log

    def require_write(self) -> None:
        if self.role == Role.READER:
            raise PermissionDenied(f"{self.name} has the reader role: read-only")

    def require_admin(self) -> None:
        if self.role != Role.ADMIN:
            raise PermissionDenied(f"{self.name} has the {self.role} role: admin only")

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def write_project(self) -> str:
        """The project new resources are created in."""
        return self.project_id or DEFAULT_PROJECT
