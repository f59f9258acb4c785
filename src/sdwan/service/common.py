"""Pieces every resource service shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sdwan.errors import Conflict, PreconditionFailed, SdwanError

T = TypeVar("T")


class ChangeNotifier(Protocol):
    def router_changed(self, router_id: str, addresses: set[str] | None = None) -> None: ...


class NoNotifier:
    def router_changed(self, router_id: str, addresses: set[str] | None = None) -> None:
        pass


@dataclass(frozen=True)
class ListQuery:
    """What a list asks for, the same for every resource: ``filters`` by the names the
    API uses (``router``, ``site``: an owner by id or name; ``project_id``: an admin's
    project filter), ``sort`` (``-asn,name``) and the page."""

    filters: Mapping[str, Any] = field(default_factory=dict)
    sort: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: list[T], total: int, query: ListQuery) -> Page[T]:
        return cls(items, total, query.limit, query.offset)


@dataclass
class Written(Generic[T]):
    """A resource after a write, with what the caller should know about its effect."""

    record: T
    warnings: list[str] = field(default_factory=list)


def check_version(*, kind: str, key: str, current: int, if_match: int | None) -> None:
    if if_match is not None and if_match != current:
        raise PreconditionFailed(
            f"{kind} {key} is at version {current}, not {if_match}: it changed since you "
            "read it; read it again and retry"
        )


def require_written(written: bool, *, kind: str, key: str, if_match: int | None) -> None:
    """The one concurrent-change rule. Every write of a versioned row is guarded by the
    version it read (``WHERE version = <read>``); ``written`` False means another
    request committed first: ``changed_concurrently``."""
    if not written:
        raise changed_concurrently(kind=kind, key=key, if_match=if_match)


def changed_concurrently(*, kind: str, key: str, if_match: int | None) -> SdwanError:
    """The guarded write found another version than the one read: another request
    (on this replica or another) changed it in between. With If-Match that is the
    caller's 412; without, a 409 to retry."""
    if if_match is not None:
        return PreconditionFailed(
            f"{kind} {key} changed since you read it (another change committed first); "
            "read it again and retry"
        )
    return Conflict(f"{kind} {key} changed concurrently; retry")
