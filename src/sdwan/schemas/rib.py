"""RIB view answers: RoutePublic, RibPagePublic."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from sdwan.gobgp.paths import Route


class AsSegmentPublic(BaseModel):
    type: str = Field(description="sequence, set, confed-sequence or confed-set")
    asns: list[int]


class RoutePublic(BaseModel):
    prefix: str
    family: str
    next_hop: str | None
    as_path: list[AsSegmentPublic]
    origin: str | None = Field(description="igp, egp or incomplete")
    med: int | None
    local_pref: int | None
    communities: list[str] = Field(description='"65001:100" or a well-known name')
    large_communities: list[str] = Field(description='"65001:1:2"')
    received_at: datetime | None
    age: int | None = Field(description="seconds since received_at")
    best: bool = Field(description="the best path (global RIB only)")
    neighbor: str | None = Field(description="the peer it came from; null: originated locally")
    filtered: bool
    stale: bool
    other_attributes: list[str] = Field(description="attribute types not decoded")

    @classmethod
    def of(cls, route: Route) -> RoutePublic:
        return cls(
            **{
                **route.__dict__,
                "as_path": [AsSegmentPublic(type=s.type, asns=list(s.asns)) for s in route.as_path],
                "communities": list(route.communities),
                "large_communities": list(route.large_communities),
                "other_attributes": list(route.other_attributes),
            }
        )


class RibPagePublic(BaseModel):
    items: list[RoutePublic]
    next: str | None = Field(description="cursor for the next page (?after=); null: last page")
    limit: int = Field(description="prefixes per page; all paths of a prefix are on one page")
    family: str
