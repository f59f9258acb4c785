"""Query parameters shared by the list endpoints: bounded, so that no value reaches the
database as an integer it cannot hold (SQLite's are 64-bit); out of range is a 422
naming the parameter."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query

from sdwan.domain import values
from sdwan.errors import InvalidInput

MAX_OFFSET = 10**9
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")]
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="items per page")]
AsnQuery = Annotated[int | None, Query(ge=values.ASN_MIN, le=values.ASN_MAX)]


def Time(description: str) -> Any:
    """A query parameter holding a time (``parse_time`` reads it)."""
    return Query(description=description, json_schema_extra={"format": "date-time"})


def parse_time(name: str, text: str | None) -> datetime | None:
    """An ISO 8601 time with a time zone (2026-01-01T00:00:00Z), nothing else."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise InvalidInput(
            f"{name}: expected an ISO 8601 time with a time zone, e.g. 2026-01-01T00:00:00Z",
            field=name,
        )
    return value
