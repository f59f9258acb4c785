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


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    project_id: str | None  # None: every project (admin)

    def require_write(self) -> None:
        if self.role == Role.READER:
            raise PermissionDenied(f"{self.name} has the reader role: read-only")

    @property
    def write_project(self) -> str:
        """The project new resources are created in."""
        return self.project_id or DEFAULT_PROJECT
